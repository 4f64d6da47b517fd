# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .common import ClosedFieldsMixin
from .exceptions import LessonError, PeriodClosedError
from .timetable import dates_of
from .validation import ValidationMixin

ATTENDANCE = [
    (None, ""),
    ('absent', "Н"),
    ('ill', "Б"),
    ('excused', "УП"),
    ('late', "ОП"),
    ]
ABSENCE_REASONS = {'absent', 'ill', 'excused'}
MARKS = [
    (None, ""),
    ('5', "5"),
    ('4', "4"),
    ('3', "3"),
    ('2', "2"),
    ('1', "1"),
    ('pass', "Pass"),
    ('fail', "Fail"),
    ]
NUMERIC_MARKS = {'1', '2', '3', '4', '5'}


def user_employees():
    return set(Pool().get('res.user').get_employees())


def user_in(*roles):
    "Tell if the user holds one of the school roles"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if Transaction().user == 0:
        return True
    groups = set(User.get_groups())
    return any(
        ModelData.get_id('school_ejournal', 'group_' + r) in groups
        for r in roles)


class PeriodLockMixin:
    "Records of a closed study period cannot change"
    __slots__ = ()

    def _lock_period(self):
        raise NotImplementedError

    @classmethod
    def _lock_periods(cls, records):
        "Return {record: period} of the records"
        return {r: r._lock_period() for r in records}

    @classmethod
    def check_period_open(cls, records, msg='modify'):
        for record, period in cls._lock_periods(records).items():
            if period and period.state == 'closed':
                raise PeriodClosedError(gettext(
                        'school_ejournal.msg_period_closed_%s' % msg,
                        record=record.rec_name, period=period.rec_name))

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        cls.check_period_open(
            records, msg='delete' if mode == 'delete' else 'modify')

    @classmethod
    def validate(cls, records):
        super().validate(records)
        cls.check_period_open(records)


class Lesson(
        ValidationMixin, ClosedFieldsMixin, PeriodLockMixin, Workflow,
        ModelSQL, ModelView):
    "A lesson of a class or subgroup on a date"
    __name__ = 'school.lesson'
    # The class, subject and teacher come from the teaching, the period
    # from the date
    _system_fields = frozenset({
            'state', 'filled_at', 'filled_by', 'company', 'class_',
            'subgroup', 'subject', 'teacher', 'period', 'timetable'})
    # Fields a teacher writes when filling in the lesson
    _fill_fields = frozenset({
            'topic', 'homework', 'homework_due', 'plan_line', 'tasks',
            'lines'})
    # Fields that place the lesson in the journal
    _place_fields = frozenset({'date', 'number', 'teaching'})

    _held_states = {
        'readonly': Eval('state') == 'cancelled',
        }

    company = fields.Many2One('company.company', "School", required=True)
    date = fields.Date(
        "Date", required=True,
        states={'readonly': Eval('state') != 'planned'})
    number = fields.Integer(
        "Lesson", required=True,
        states={'readonly': Eval('state') != 'planned'},
        help="The number of the lesson in the day.")
    teaching = fields.Many2One(
        'school.teaching', "Teaching", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('id', -1) >= 0},
        domain=[('company', '=', Eval('company', -1))],
        help="The class or subgroup, subject and teacher.")
    class_ = fields.Many2One(
        'school.class', "Class", readonly=True, required=True)
    subgroup = fields.Many2One('school.subgroup', "Subgroup", readonly=True)
    subject = fields.Many2One(
        'school.subject', "Subject", readonly=True, required=True)
    teacher = fields.Many2One(
        'company.employee', "Teacher", readonly=True, required=True,
        help="The teacher of the class's timetable.")
    actual_teacher = fields.Function(
        fields.Many2One('company.employee', "Actual Teacher",
            help="The substitute when the lesson was substituted."),
        'get_actual_teacher')
    period = fields.Many2One(
        'school.period', "Study Period", readonly=True, required=True)
    timetable = fields.Many2One(
        'school.timetable', "Timetable", readonly=True,
        ondelete='SET NULL')
    room = fields.Char("Room", states=_held_states)
    plan_line = fields.Many2One(
        'school.plan.line', "Plan Topic", states=_held_states,
        domain=[('plan.teaching', '=', Eval('teaching', -1))],
        help="The topic of the calendar-thematic plan covered.")
    topic = fields.Char(
        "Topic", states=_held_states,
        help="The topic of the lesson as written in the journal.")
    homework = fields.Text("Homework", states=_held_states)
    homework_due = fields.Date(
        "Homework Due", states=_held_states,
        domain=[If(Bool(Eval('homework_due')),
                ('homework_due', '>', Eval('date')), ())])
    state = fields.Selection([
            ('planned', "Planned"),
            ('held', "Held"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    filled_at = fields.DateTime("Filled at", readonly=True)
    filled_by = fields.Many2One('res.user', "Filled by", readonly=True)
    tasks = fields.One2Many(
        'school.lesson.task', 'lesson', "Tasks",
        states={'readonly': Eval('state') != 'held'},
        help="The tasks done at the lesson, each with its type; "
        "marks are given for tasks.")
    lines = fields.One2Many(
        'school.lesson.line', 'lesson', "Students",
        states={'readonly': Eval('state') != 'held'},
        help="Attendance and marks of each student.")
    substitutions = fields.One2Many(
        'school.substitution', 'lesson', "Substitutions", readonly=True)
    mine = fields.Function(
        fields.Boolean("Mine",
            help="The user teaches the lesson or substitutes for it."),
        'get_mine', searcher='search_mine')
    this_week = fields.Function(
        fields.Boolean("This Week",
            help="The lesson takes place this week, Monday to Sunday."),
        'get_this_week', searcher='search_this_week')

    del _held_states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('lesson_unique', Unique(t, t.teaching, t.date, t.number),
                'school_ejournal.msg_lesson_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.date, Index.Range()),
                    (t.class_, Index.Equality())),
                Index(t, (t.teacher, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.teaching, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.period, Index.Equality())),
                })
        cls._order = [('date', 'DESC'), ('number', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('planned', 'held'),
            ('planned', 'cancelled'),
            ('cancelled', 'planned'),
            }
        cls._buttons.update({
                'hold': {
                    'invisible': Eval('state') != 'planned',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'planned',
                    'depends': ['state'],
                    },
                'plan': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'planned'

    @classmethod
    def index_set_field(cls, name):
        index = super().index_set_field(name)
        if name == 'tasks':
            # The marks of a save's lines are given for the tasks it adds
            index -= 1
        return index

    def _lock_period(self):
        return self.period

    def get_rec_name(self, name):
        return '%s, %s: %s, %s' % (
            self.date.strftime('%d.%m.%Y'), self.number,
            (self.subgroup or self.class_).rec_name,
            self.subject.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('class_.name', *clause[1:]),
            ('subject.name', *clause[1:]),
            ('topic', *clause[1:]),
            ]

    @classmethod
    def get_actual_teacher(cls, lessons, name):
        result = {l.id: l.teacher.id for l in lessons}
        for lesson in lessons:
            for substitution in lesson.substitutions:
                result[lesson.id] = substitution.substitute.id
        return result

    @classmethod
    def get_mine(cls, lessons, name):
        employees = user_employees()
        return {l.id: (l.teacher.id in employees
                or any(s.substitute.id in employees
                    for s in l.substitutions))
            for l in lessons}

    @classmethod
    def search_mine(cls, name, clause):
        employees = list(user_employees())
        _, operator, value = clause
        if (operator == '=') == bool(value):
            return ['OR',
                ('teacher', 'in', employees),
                ('substitutions', 'where', [('substitute', 'in', employees)]),
                ]
        return [
            ('teacher', 'not in', employees),
            ('substitutions', 'not where', [('substitute', 'in', employees)]),
            ]

    @classmethod
    def _week(cls):
        today = Pool().get('ir.date').today()
        monday = today - dt.timedelta(days=today.weekday())
        return monday, monday + dt.timedelta(days=6)

    @classmethod
    def get_this_week(cls, lessons, name):
        monday, sunday = cls._week()
        return {l.id: monday <= l.date <= sunday for l in lessons}

    @classmethod
    def search_this_week(cls, name, clause):
        monday, sunday = cls._week()
        _, operator, value = clause
        if (operator == '=') == bool(value):
            return [('date', '>=', monday), ('date', '<=', sunday)]
        return ['OR', ('date', '<', monday), ('date', '>', sunday)]

    def taught_by_user(self):
        "Tell if the user teaches this lesson or substitutes for it"
        employees = user_employees()
        return (Transaction().user == 0
            or self.teacher.id in employees
            or any(s.substitute.id in employees for s in self.substitutions))

    def may_teach(self):
        "Tell if the user teaches this lesson, substitutes or manages it"
        return (self.taught_by_user()
            or user_in('school_admin', 'deputy_academic'))

    @classmethod
    def check_filler(cls, lessons):
        """Refuse filling in lessons the user neither teaches nor
        substitutes for: the deputy and the administrator fill in another
        teacher's lesson only as its recorded substitute (T2)"""
        for lesson in lessons:
            if lesson.taught_by_user():
                continue
            if user_in('school_admin', 'deputy_academic'):
                raise LessonError(gettext(
                        'school_ejournal.msg_lesson_fill_substitution',
                        lesson=lesson.rec_name,
                        teacher=lesson.teacher.rec_name))
            raise AccessError(gettext(
                    'school_ejournal.msg_lesson_not_yours',
                    lesson=lesson.rec_name))

    @classmethod
    def _teaching_values(cls, teaching):
        "Return the values a lesson copies from its teaching"
        return {
            'class_': teaching.class_.id,
            'subgroup': teaching.subgroup and teaching.subgroup.id,
            'subject': teaching.subject.id,
            'teacher': teaching.teacher.id,
            'company': teaching.company.id,
            }

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Teaching = pool.get('school.teaching')
        values = super().preprocess_values(mode, values)
        if mode == 'write' and values.keys() & cls._fill_fields:
            values['filled_at'] = dt.datetime.now()
            values['filled_by'] = Transaction().user
        if mode == 'write' and values.get('teaching'):
            # Another teaching of a planned lesson: no stale class, subject
            # or teacher
            values.update(cls._teaching_values(Teaching(values['teaching'])))
        return values

    @classmethod
    def _complete_values(cls, vlist):
        pool = Pool()
        Teaching = pool.get('school.teaching')
        Period = pool.get('school.period')
        vlist = super()._complete_values(vlist)
        # Read the teachings once for all the lessons
        teachings = {t.id: t for t in Teaching.browse(
                list({v['teaching'] for v in vlist if v.get('teaching')}))}
        periods = {}
        for values in vlist:
            teaching = teachings.get(values.get('teaching'))
            if not teaching:
                continue
            values.update(cls._teaching_values(teaching))
            if values.get('date') and not values.get('period'):
                key = (teaching.class_.level, values['date'])
                if key not in periods:
                    periods[key] = Period.find(*key)
                if periods[key]:
                    values['period'] = periods[key].id
        return vlist

    @classmethod
    def validate_fields(cls, lessons, field_names):
        super().validate_fields(lessons, field_names)
        if field_names & {'date', 'period', 'teaching'}:
            for lesson in lessons:
                if not lesson.period or not (
                        lesson.period.start_date <= lesson.date
                        <= lesson.period.end_date) or (
                        lesson.period.kind
                        != lesson.class_.level.period_kind):
                    raise LessonError(gettext(
                            'school_ejournal.msg_lesson_outside_period',
                            lesson=lesson.rec_name))

    @classmethod
    def check_modification(cls, mode, lessons, values=None, external=False):
        super().check_modification(
            mode, lessons, values=values, external=external)
        if external and mode in {'write', 'delete'}:
            for lesson in lessons:
                if not lesson.may_teach():
                    raise AccessError(gettext(
                            'school_ejournal.msg_lesson_not_yours',
                            lesson=lesson.rec_name))
        if external and mode == 'write' and values.keys() & cls._fill_fields:
            cls.check_filler(lessons)
        if mode == 'write' and values.keys() & cls._place_fields:
            # A lesson keeps its day once it is held or has records
            for lesson in lessons:
                if lesson.state != 'planned':
                    raise LessonError(gettext(
                            'school_ejournal.msg_lesson_move_held',
                            lesson=lesson.rec_name))
            filled = cls.filled(lessons)
            if filled:
                raise LessonError(gettext(
                        'school_ejournal.msg_lesson_move_filled',
                        lesson=filled[0].rec_name))
        if mode == 'write' and values.keys() & {'topic', 'lines', 'tasks'}:
            today = Pool().get('ir.date').today()
            for lesson in lessons:
                if lesson.date > today:
                    raise LessonError(gettext(
                            'school_ejournal.msg_lesson_future',
                            lesson=lesson.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('held')
    def hold(cls, lessons):
        "Mark the lessons held and list their students"
        pool = Pool()
        Date = pool.get('ir.date')
        Line = pool.get('school.lesson.line')
        today = Date.today()
        for lesson in lessons:
            if lesson.date > today:
                raise LessonError(gettext(
                        'school_ejournal.msg_lesson_future',
                        lesson=lesson.rec_name))
        cls.check_filler(lessons)
        students = cls.students_by_lesson(lessons)
        existing = {(l.lesson.id, l.student.id) for l in Line.search([
                    ('lesson', 'in', [l.id for l in lessons]),
                    ])}
        Line.create([{
                    'lesson': lesson.id,
                    'student': student,
                    } for lesson in lessons
                for student in students[lesson.id]
                if (lesson.id, student) not in existing])
        used = {}
        for lesson in sorted(lessons, key=lambda l: (l.date, l.number)):
            if not lesson.plan_line:
                counts = used.setdefault(
                    lesson.teaching.id, lesson.covered_plan_lines())
                lesson.plan_line = lesson.next_plan_line(counts)
                if lesson.plan_line:
                    counts[lesson.plan_line.id] += 1
                    if not lesson.topic:
                        lesson.topic = lesson.plan_line.topic
        cls.save(lessons)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, lessons):
        # A cancelled lesson would keep marks and absences nobody reads
        filled = cls.filled(lessons)
        if filled:
            raise LessonError(gettext(
                    'school_ejournal.msg_lesson_cancel_filled',
                    lesson=filled[0].rec_name))

    @classmethod
    def filled(cls, lessons):
        "Return the lessons that have attendance lines, tasks or marks"
        pool = Pool()
        Line = pool.get('school.lesson.line')
        Task = pool.get('school.lesson.task')
        Mark = pool.get('school.mark')
        ids = [l.id for l in lessons]
        found = set()
        for Model in [Line, Task, Mark]:
            for sub_ids in grouped_slice(ids):
                table = Model.__table__()
                cursor = Transaction().connection.cursor()
                cursor.execute(*table.select(table.lesson,
                        where=reduce_ids(table.lesson, sub_ids),
                        group_by=[table.lesson]))
                found.update(l for l, in cursor)
        return [l for l in lessons if l.id in found]

    @classmethod
    @ModelView.button
    @Workflow.transition('planned')
    def plan(cls, lessons):
        pass

    def covered_plan_lines(self):
        "Return {plan line id: lessons held on it} of the lesson's teaching"
        used = defaultdict(int)
        for lesson in self.search([
                    ('teaching', '=', self.teaching.id),
                    ('state', '=', 'held'),
                    ('plan_line', '!=', None),
                    ('id', '!=', self.id),
                    ]):
            used[lesson.plan_line.id] += 1
        return used

    def next_plan_line(self, used=None):
        "Return the first topic of the plan not covered by held lessons"
        pool = Pool()
        Plan = pool.get('school.plan')
        plans = Plan.search([
                ('teaching', '=', self.teaching.id),
                ('state', '=', 'approved'),
                ], limit=1)
        if not plans:
            return None
        plan, = plans
        if used is None:
            used = self.covered_plan_lines()
        for line in plan.lines:
            if used[line.id] < line.hours:
                return line
        return None

    @classmethod
    def attendees_query(cls, where=None):
        """Return the SQL query of (lesson, student): the students of each
        lesson's class on the lesson's date (by their enrolments), of its
        subgroup only for a subgroup's lesson.  where filters the lessons
        (a condition on the returned query's lesson table, given as a
        function of that table)."""
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        Member = pool.get('school.subgroup-school.student')
        lesson = cls.__table__()
        enrolment = Enrolment.__table__()
        member = Member.__table__()
        condition = (lesson.subgroup == Null) | (member.id != Null)
        if where is not None:
            condition &= where(lesson)
        return (lesson
            .join(enrolment, condition=(enrolment.class_ == lesson.class_)
                & Enrolment._where_date(enrolment, lesson.date))
            .join(member, 'LEFT',
                condition=(member.subgroup == lesson.subgroup)
                & (member.student == enrolment.student))
            .select(lesson.id.as_('lesson'), enrolment.student.as_('student'),
                where=condition,
                group_by=[lesson.id, enrolment.student]))

    @classmethod
    def students_by_lesson(cls, lessons):
        "Return {lesson id: [student ids]} of the class or subgroup that day"
        cursor = Transaction().connection.cursor()
        ids = sorted({int(l) for l in lessons})
        result = {i: [] for i in ids}
        for sub_ids in grouped_slice(ids):
            cursor.execute(*cls.attendees_query(
                    lambda lesson: reduce_ids(lesson.id, sub_ids)))
            for lesson_id, student_id in cursor:
                result[lesson_id].append(student_id)
        for students in result.values():
            students.sort()
        return result

    @classmethod
    def generate(cls, period, from_date=None):
        """Make the lessons of the period from its timetable, from the date;
        keep every lesson already filled in, and remove the planned, empty
        lessons that the timetable no longer has."""
        pool = Pool()
        Timetable = pool.get('school.timetable')
        Line = pool.get('school.lesson.line')
        Task = pool.get('school.lesson.task')
        from_date = max(period.start_date, from_date or period.start_date)
        wanted = {}
        school_days = {}
        for entry in Timetable.search([('period', '=', period.id)]):
            class_ = entry.teaching.class_
            key = (class_.level.id, int(entry.weekday))
            if key not in school_days:
                school_days[key] = list(dates_of(period.year, period,
                        class_.level, int(entry.weekday), from_date))
            for date in school_days[key]:
                wanted[(entry.teaching.id, date, entry.number)] = entry
        existing = cls.search([
                ('period', '=', period.id),
                ('date', '>=', from_date),
                ])
        have = {(l.teaching.id, l.date, l.number): l for l in existing}
        filled = {l.lesson.id for l in Line.search([
                    ('lesson', 'in', [l.id for l in existing])])}
        filled |= {t.lesson.id for t in Task.search([
                    ('lesson', 'in', [l.id for l in existing])])}
        to_delete = [l for k, l in have.items()
            if k not in wanted and l.state == 'planned'
            and l.id not in filled and not l.topic and not l.homework]
        with Transaction().set_context(_check_access=False):
            cls.delete(to_delete)
        to_create = [{
                'teaching': teaching,
                'date': date,
                'number': number,
                'period': period.id,
                'timetable': entry.id,
                'room': entry.room,
                } for (teaching, date, number), entry in sorted(
                    wanted.items(), key=lambda i: i[0][1:])
            if (teaching, date, number) not in have]
        return cls.create(to_create)


class TaskType(ValidationMixin, sequence_ordered(), ModelSQL, ModelView):
    "A type of task marks are given for, as «К» control work"
    __name__ = 'school.task.type'

    code = fields.Char(
        "Code", required=True, size=4,
        help="The short code shown in the journal, as «К».")
    name = fields.Char("Name", required=True, translate=True)
    weight = fields.Numeric(
        "Weight", digits=(4, 2), required=True,
        domain=[('weight', '>', 0)],
        help="The weight of its marks in the weighted average.")
    written = fields.Boolean(
        "Written", help="Written work is checked after the lesson.")
    check_days = fields.Integer(
        "Checking Norm", required=True,
        domain=[('check_days', '>=', 0)],
        help="The days after the lesson within which its marks may still "
        "be entered; 0 means on the day of the lesson.")
    admin_control = fields.Boolean(
        "Administrative Control",
        help="A control work of the internal-control schedule (ВШК).")
    control = fields.Boolean(
        "Control Work",
        help="Counts among the control works of the workload limits.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'school_ejournal.msg_task_type_code_unique'),
            ]

    @classmethod
    def default_weight(cls):
        return 1

    @classmethod
    def default_check_days(cls):
        return 0

    def get_rec_name(self, name):
        return '%s (%s)' % (self.name, self.code)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR', ('code', *clause[1:]), ('name', *clause[1:])]

    @classmethod
    def check_modification(cls, mode, types, values=None, external=False):
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        Period = pool.get('school.period')
        super().check_modification(
            mode, types, values=values, external=external)
        if mode == 'write' and 'weight' in values:
            # The averages and grades of a closed period keep the weights
            # they were computed with
            mark = Mark.__table__()
            lesson = Lesson.__table__()
            period = Period.__table__()
            cursor = Transaction().connection.cursor()
            for sub_ids in grouped_slice([t.id for t in types]):
                cursor.execute(*mark
                    .join(lesson, condition=mark.lesson == lesson.id)
                    .join(period, condition=lesson.period == period.id)
                    .select(mark.type, period.id,
                        where=reduce_ids(mark.type, sub_ids)
                        & (period.state == 'closed'),
                        limit=1))
                row = cursor.fetchone()
                if row:
                    raise LessonError(gettext(
                            'school_ejournal.msg_task_type_weight_closed',
                            type=cls(row[0]).rec_name,
                            period=Period(row[1]).rec_name))


class Task(
        ValidationMixin, ClosedFieldsMixin, PeriodLockMixin,
        sequence_ordered(), ModelSQL, ModelView):
    "A task done at a lesson, marked with its type"
    __name__ = 'school.lesson.task'
    _fixed_fields = frozenset({'lesson'})

    lesson = fields.Many2One(
        'school.lesson', "Lesson", required=True, ondelete='CASCADE')
    type = fields.Many2One(
        'school.task.type', "Type", required=True, ondelete='RESTRICT')
    description = fields.Char(
        "Description", help="As «Dictation: Spring in the forest».")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('lesson')

    def get_rec_name(self, name):
        return '%s: %s%s' % (
            self.lesson.rec_name, self.type.code,
            ' — %s' % self.description if self.description else '')

    def _lock_period(self):
        return self.lesson.period

    @classmethod
    def check_modification(cls, mode, tasks, values=None, external=False):
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        super().check_modification(
            mode, tasks, values=values, external=external)
        if external:
            Lesson.check_filler(
                Lesson.browse(list({t.lesson.id for t in tasks})))
        if mode == 'delete' or (mode == 'write' and 'type' in values):
            marks = Mark.search([('task', 'in', [t.id for t in tasks])],
                limit=1)
            if marks:
                raise LessonError(gettext(
                        'school_ejournal.msg_task_has_marks',
                        task=marks[0].task.rec_name))


class LessonLine(ValidationMixin, ClosedFieldsMixin, ModelSQL, ModelView):
    "A student at a lesson: attendance and marks"
    __name__ = 'school.lesson.line'
    _fixed_fields = frozenset({'lesson', 'student'})
    # Every version is kept in the history table, which serves as the audit
    # trail instead of one ir.model.log row per line and save
    _history = True
    _log = False

    lesson = fields.Many2One(
        'school.lesson', "Lesson", required=True, ondelete='CASCADE',
        readonly=True)
    student = fields.Many2One(
        'school.student', "Student", required=True, readonly=True)
    attendance = fields.Selection(
        ATTENDANCE, "Attendance", sort=False,
        help="Empty: present. Н: absent, Б: ill, УП: excused, ОП: late.")
    mark = fields.Function(
        fields.Selection(MARKS, "Mark 1", sort=False,
            help="The mark for the lesson's first task."),
        'get_marks', setter='set_marks')
    mark_2 = fields.Function(
        fields.Selection(MARKS, "Mark 2", sort=False,
            help="The mark for the lesson's second task."),
        'get_marks', setter='set_marks')
    mark_3 = fields.Function(
        fields.Selection(MARKS, "Mark 3", sort=False,
            help="The mark for the lesson's third task."),
        'get_marks', setter='set_marks')
    date = fields.Function(fields.Date("Date"), 'get_lesson_field',
        searcher='search_lesson_field')
    class_ = fields.Function(
        fields.Many2One('school.class', "Class"), 'get_lesson_field',
        searcher='search_lesson_field')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('student_unique', Unique(t, t.lesson, t.student),
                'school_ejournal.msg_lesson_line_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.student, Index.Equality())))
        cls._order = [('lesson', 'ASC'), ('student.last_name', 'ASC'),
            ('student.first_name', 'ASC'), ('id', 'ASC')]

    def get_lesson_field(self, name):
        value = getattr(self.lesson, name)
        return value.id if isinstance(value, ModelSQL) else value

    @classmethod
    def search_lesson_field(cls, name, clause):
        return [('lesson.' + clause[0], *clause[1:])]

    @classmethod
    def attendance_query(cls, where=None, group_by=('student',)):
        """Return the SQL query of (*group_by, attendance, count): the lines
        of held lessons counted by attendance (None: present).  group_by
        names columns of the line (student, lesson) or of its lesson
        (teaching, class_, subject, period, date); where is a function of
        (line, lesson) tables returning a condition."""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        line = cls.__table__()
        lesson = Lesson.__table__()
        columns = [
            getattr(line if name in {'student', 'lesson'} else lesson, name)
            for name in group_by]
        condition = lesson.state == 'held'
        if where is not None:
            condition &= where(line, lesson)
        return (line
            .join(lesson, condition=line.lesson == lesson.id)
            .select(
                *(c.as_(n) for c, n in zip(columns, group_by)),
                line.attendance.as_('attendance'),
                Count(line.id).as_('count'),
                where=condition,
                group_by=[*columns, line.attendance]))

    def get_rec_name(self, name):
        return '%s — %s' % (self.lesson.rec_name, self.student.rec_name)

    _mark_fields = ['mark', 'mark_2', 'mark_3']

    @classmethod
    def get_marks(cls, lines, names):
        pool = Pool()
        Mark = pool.get('school.mark')
        result = {n: {l.id: None for l in lines} for n in names}
        tasks = {}
        for line in lines:
            tasks[line.lesson.id] = [t.id for t in line.lesson.tasks]
        by_key = {}
        for mark in Mark.search([
                    ('lesson', 'in', list(tasks)),
                    ('cancelled', '=', False),
                    ], order=[]):
            by_key[(mark.task.id, mark.student.id)] = mark.value
        for line in lines:
            for index, name in enumerate(cls._mark_fields):
                if name not in names:
                    continue
                lesson_tasks = tasks[line.lesson.id]
                if index < len(lesson_tasks):
                    result[name][line.id] = by_key.get(
                        (lesson_tasks[index], line.student.id))
        return result

    @classmethod
    def set_marks(cls, lines, name, value):
        cls._save_marks([(lines, {name: value})])

    @classmethod
    def write(cls, *args):
        # Marks of all the lines written at once are created with one call
        # and lines given the same values (as attendance) in one update.
        plain, marks = {}, []
        actions = iter(args)
        for index, (lines, values) in enumerate(zip(actions, actions)):
            mark_values = {
                k: v for k, v in values.items() if k in cls._mark_fields}
            other = {
                k: v for k, v in values.items() if k not in cls._mark_fields}
            if other:
                try:
                    key = tuple(sorted(other.items()))
                    hash(key)
                except TypeError:
                    key = index
                plain.setdefault(key, ([], other))[0].extend(lines)
            if mark_values:
                marks.append((lines, mark_values))
        if plain:
            super().write(*(
                    x for lines, values in plain.values()
                    for x in (lines, values)))
        if marks:
            cls._save_marks(marks)

    @classmethod
    def _lesson_of(cls, lines):
        "Return {line id: lesson id} with one query"
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        lesson_of = {}
        for sub_ids in grouped_slice([l.id for l in lines]):
            cursor.execute(*line.select(line.id, line.lesson,
                    where=reduce_ids(line.id, sub_ids)))
            lesson_of.update(cursor)
        return lesson_of

    @classmethod
    def _save_marks(cls, changes):
        "Create the marks of [(lines, {mark field: value})] in one call"
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        lesson_of = cls._lesson_of([l for lines, _ in changes for l in lines])
        lesson_ids = list(set(lesson_of.values()))
        lessons = {l.id: l for l in Lesson.browse(lesson_ids)}
        existing = {}
        for mark in Mark.search([
                    ('lesson', 'in', lesson_ids),
                    ('cancelled', '=', False),
                    ], order=[]):
            existing[(mark.task.id, mark.student.id)] = mark
        to_create = []
        for lines, values in changes:
            for name, value in values.items():
                index = cls._mark_fields.index(name)
                for line in lines:
                    lesson = lessons[lesson_of[line.id]]
                    tasks = lesson.tasks
                    if index >= len(tasks):
                        if value:
                            raise LessonError(gettext(
                                    'school_ejournal.msg_mark_without_task',
                                    lesson=lesson.rec_name,
                                    student=line.student.rec_name))
                        continue
                    task = tasks[index]
                    mark = existing.get((task.id, line.student.id))
                    if mark:
                        if mark.value != value:
                            raise LessonError(gettext(
                                    'school_ejournal.msg_mark_change',
                                    mark=mark.rec_name))
                    elif value:
                        to_create.append({
                                'task': task.id,
                                'student': line.student.id,
                                'value': value,
                                })
        Mark.create(to_create)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        super().check_modification(
            mode, lines, values=values, external=external)
        lesson_of = cls._lesson_of(lines)
        lessons = {l.id: l for l in Lesson.browse(
                list(set(lesson_of.values())))}
        Lesson.check_period_open(lessons.values())
        if not external:
            return
        if mode in {'create', 'delete'}:
            Lesson.check_filler(lessons.values())
        elif mode == 'write':
            teaches = {i: l.taught_by_user() for i, l in lessons.items()}
            for line in lines:
                if teaches[lesson_of[line.id]]:
                    continue
                # The class teacher and the deputy only correct the reasons
                # of absences
                if (values.keys() != {'attendance'}
                        or line.attendance not in ABSENCE_REASONS
                        or values['attendance'] not in ABSENCE_REASONS):
                    if user_in('school_admin', 'deputy_academic'):
                        Lesson.check_filler([lessons[lesson_of[line.id]]])
                    raise AccessError(gettext(
                            'school_ejournal.msg_attendance_reason_only',
                            line=line.rec_name))

    @classmethod
    def validate_fields(cls, lines, field_names):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        super().validate_fields(lines, field_names)
        if field_names & {'lesson', 'student'}:
            # Attendance is kept for the students of the class or subgroup
            # on the day of the lesson only
            lessons = {l.lesson for l in lines}
            students = Lesson.students_by_lesson(lessons)
            for line in lines:
                lesson = line.lesson
                if line.student.id not in students[lesson.id]:
                    raise LessonError(gettext(
                            'school_ejournal.msg_lesson_line_student',
                            student=line.student.rec_name,
                            lesson=lesson.rec_name,
                            group=(lesson.subgroup or lesson.class_).rec_name))


class Substitution(ValidationMixin, ClosedFieldsMixin, ModelSQL, ModelView):
    "A lesson given by another teacher (журнал замены уроков)"
    __name__ = 'school.substitution'
    _system_fields = frozenset({'recorded_by'})

    lesson = fields.Many2One(
        'school.lesson', "Lesson", required=True, ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))])
    company = fields.Many2One('company.company', "School", required=True)
    absent_teacher = fields.Many2One(
        'company.employee', "Absent Teacher", required=True,
        domain=[('company', '=', Eval('company', -1))])
    substitute = fields.Many2One(
        'company.employee', "Substitute", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('id', '!=', Eval('absent_teacher', -1)),
            ])
    reason = fields.Char(
        "Reason", required=True, help="As «sick leave» or «course».")
    recorded_by = fields.Many2One(
        'res.user', "Recorded by", readonly=True)
    date = fields.Function(fields.Date("Date"), 'get_date',
        searcher='search_date')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('lesson_unique', Unique(t, t.lesson),
                'school_ejournal.msg_substitution_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.substitute, Index.Equality())))
        cls._order = [('lesson.date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('lesson', '_parent_lesson.teacher')
    def on_change_lesson(self):
        if self.lesson:
            self.absent_teacher = self.lesson.teacher

    def get_date(self, name):
        return self.lesson.date

    @classmethod
    def search_date(cls, name, clause):
        return [('lesson.date', *clause[1:])]

    def get_rec_name(self, name):
        return '%s: %s' % (self.lesson.rec_name, self.substitute.rec_name)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values['recorded_by'] = Transaction().user
        return values

    @classmethod
    def validate_fields(cls, substitutions, field_names):
        super().validate_fields(substitutions, field_names)
        if field_names & {'lesson', 'absent_teacher'}:
            for substitution in substitutions:
                lesson = substitution.lesson
                if substitution.absent_teacher != lesson.teacher:
                    raise LessonError(gettext(
                            'school_ejournal.msg_substitution_absent_teacher',
                            lesson=lesson.rec_name,
                            teacher=lesson.teacher.rec_name,
                            absent=substitution.absent_teacher.rec_name))
