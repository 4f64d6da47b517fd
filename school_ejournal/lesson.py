# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import contextvars
import datetime as dt
from collections import defaultdict
from contextlib import contextmanager

from sql import Null

from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import (
    ABSENCE_REASONS, ATTENDANCE, MARKS, NUMERIC_MARKS, ClosedFieldsMixin,
    PeriodLockMixin, user_employees, user_in)
from .exceptions import LessonError
from .validation import ValidationMixin

__all__ = [ABSENCE_REASONS, ATTENDANCE, MARKS, NUMERIC_MARKS]


# The lessons a write of lessons has checked for the lines written through
# it (period open, taught by the user): the lines' checks do not repeat
# them per line
_LINES_CHECKED = contextvars.ContextVar(
    'school_lesson_lines_checked', default=None)


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
        'school.thematic_plan.line', "Plan Topic", states=_held_states,
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
        'school.lesson.attendance', 'lesson', "Students",
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

    @classmethod
    def taught_ids(cls, lessons):
        """Return the ids of the lessons (or ids) the user teaches or
        substitutes for, with one query per slice"""
        pool = Pool()
        Substitution = pool.get('school.substitution')
        ids = sorted({int(l) for l in lessons})
        if Transaction().user == 0:
            return set(ids)
        employees = sorted(user_employees())
        if not employees or not ids:
            return set()
        cursor = Transaction().connection.cursor()
        lesson = cls.__table__()
        substitution = Substitution.__table__()
        in_ = fields.SQL_OPERATORS['in']
        substituted = substitution.select(substitution.lesson,
            where=in_(substitution.substitute, employees))
        taught = set()
        for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
            cursor.execute(*lesson.select(lesson.id,
                    where=in_(lesson.id, list(sub_ids))
                    & (in_(lesson.teacher, employees)
                        | in_(lesson.id, substituted))))
            taught.update(i for i, in cursor)
        return taught

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
    def check_filler(cls, lessons, taught=None):
        """Refuse filling in lessons the user neither teaches nor
        substitutes for: the deputy and the administrator fill in another
        teacher's lesson only as its recorded substitute (T2)"""
        if taught is None:
            taught = cls.taught_ids(lessons)
        for lesson in lessons:
            if lesson.id in taught:
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
            # may_teach() of every lesson, with one query
            taught = cls.taught_ids(lessons)
            others = [l for l in lessons if l.id not in taught]
            if others and not user_in('school_admin', 'deputy_academic'):
                raise AccessError(gettext(
                        'school_ejournal.msg_lesson_not_yours',
                        lesson=others[0].rec_name))
        if external and mode == 'write' and values.keys() & cls._fill_fields:
            cls.check_filler(lessons, taught=taught)
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
        checked = cls._lines_checked()
        if checked is not None and mode == 'write':
            if (external and 'lines' in values
                    and not values.keys() & (cls._place_fields | {'period'})):
                # Open (checked above) and taught (check_filler)
                checked.update(l.id for l in lessons)
            else:
                checked.difference_update(l.id for l in lessons)

    @classmethod
    def write(cls, *args):
        with cls._checking_lines():
            super().write(*args)

    @classmethod
    @contextmanager
    def _checking_lines(cls, lesson_ids=()):
        """Within: the lines and marks written for the lessons of
        lesson_ids (and those a write of lessons adds) are not checked
        again for the period lock, the day and the teacher.  Only for a
        caller that has made those checks of the lessons itself, in this
        transaction, as this user"""
        state = (Transaction(), Transaction().user, set(lesson_ids))
        token = _LINES_CHECKED.set(state)
        try:
            yield
        finally:
            _LINES_CHECKED.reset(token)

    @classmethod
    def _lines_checked(cls):
        """Return the set of the ids of the lessons whose write (or the
        grid's save) checked the period lock, the day and the teacher for
        the lines and marks written through it, None outside"""
        state = _LINES_CHECKED.get()
        if state is None:
            return None
        transaction, user, ids = state
        if transaction is not Transaction() or user != transaction.user:
            return None
        return ids

    @classmethod
    @ModelView.button
    @Workflow.transition('held')
    def hold(cls, lessons):
        "Mark the lessons held and list their students"
        pool = Pool()
        Date = pool.get('ir.date')
        Line = pool.get('school.lesson.attendance')
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
        Line = pool.get('school.lesson.attendance')
        Task = pool.get('school.lesson.task')
        Mark = pool.get('school.mark')
        ids = [l.id for l in lessons]
        found = set()
        for Model in [Line, Task, Mark]:
            for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
                table = Model.__table__()
                cursor = Transaction().connection.cursor()
                cursor.execute(*table.select(table.lesson,
                        where=fields.SQL_OPERATORS['in'](
                            table.lesson, sub_ids),
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
        Plan = pool.get('school.thematic_plan')
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
        for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
            cursor.execute(*cls.attendees_query(
                    lambda lesson: fields.SQL_OPERATORS['in'](
                        lesson.id, sub_ids)))
            for lesson_id, student_id in cursor:
                result[lesson_id].append(student_id)
        for students in result.values():
            students.sort()
        return result


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
            for sub_ids in grouped_slice(
                    [t.id for t in types], MAX_QUERY_PARAMS):
                cursor.execute(*mark
                    .join(lesson, condition=mark.lesson == lesson.id)
                    .join(period, condition=lesson.period == period.id)
                    .select(mark.type, period.id,
                        where=fields.SQL_OPERATORS['in'](mark.type, sub_ids)
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
    _system_fields = frozenset({'mark_column'})
    _lock_period_path = ('lesson', 'period')
    # The columns of marks in the lesson's list of students
    MARK_COLUMNS = (1, 2, 3)

    lesson = fields.Many2One(
        'school.lesson', "Lesson", required=True, ondelete='CASCADE')
    type = fields.Many2One(
        'school.task.type', "Type", required=True, ondelete='RESTRICT')
    description = fields.Char(
        "Description", help="As «Dictation: Spring in the forest».")
    mark_column = fields.Integer(
        "Mark Column", readonly=True,
        help="The column of the lesson's list of students that holds the "
        "marks of the task («Mark 1», «Mark 2», «Mark 3»), given when the "
        "task is added and kept when tasks are reordered.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('mark_column_unique', Unique(t, t.lesson, t.mark_column),
                'school_ejournal.msg_task_mark_column_unique'),
            ]
        cls.__access__.add('lesson')

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        fill = not table_h.column_exist('mark_column')
        super().__register__(module)
        # Migration from 8.0.0: the columns were the tasks' positions
        if fill:
            cls._fill_mark_columns()

    @classmethod
    def _fill_mark_columns(cls):
        "Give the tasks of each lesson the columns of their positions"
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(table.id, table.lesson,
                order_by=[table.lesson, table.sequence.asc.nulls_first,
                    table.id]))
        by_column = defaultdict(list)
        lesson, position = None, 0
        for task_id, lesson_id in cursor.fetchall():
            position = position + 1 if lesson_id == lesson else 1
            lesson = lesson_id
            if position in cls.MARK_COLUMNS:
                by_column[position].append(task_id)
        for column, ids in by_column.items():
            for sub_ids in grouped_slice(ids, MAX_QUERY_PARAMS):
                cursor.execute(*table.update([table.mark_column], [column],
                        where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))

    @classmethod
    def _complete_values(cls, vlist):
        "Give each new task the first mark column free in its lesson"
        vlist = super()._complete_values(vlist)
        lessons = sorted({int(v['lesson']) for v in vlist if v.get('lesson')})
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        used = defaultdict(set)
        for sub_ids in grouped_slice(lessons, MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.lesson, table.mark_column,
                    where=fields.SQL_OPERATORS['in'](table.lesson, sub_ids)))
            for lesson_id, column in cursor:
                used[lesson_id].add(column)
        for values in vlist:
            taken = used[int(values.get('lesson') or 0)]
            free = [c for c in cls.MARK_COLUMNS if c not in taken]
            values['mark_column'] = free[0] if free else None
            taken.add(values['mark_column'])
        return vlist

    def get_rec_name(self, name):
        return '%s: %s%s' % (
            self.lesson.rec_name, self.type.code,
            ' — %s' % self.description if self.description else '')

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
