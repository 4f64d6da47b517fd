# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

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


class Lesson(ValidationMixin, PeriodLockMixin, Workflow, ModelSQL, ModelView):
    "A lesson of a class or subgroup on a date"
    __name__ = 'school.lesson'

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
        domain = ['OR',
            ('teacher', 'in', employees),
            ('substitutions.substitute', 'in', employees),
            ]
        _, operator, value = clause
        if (operator == '=') != bool(value):
            domain = ['NOT', domain]
        return domain

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
        domain = [('date', '>=', monday), ('date', '<=', sunday)]
        _, operator, value = clause
        if (operator == '=') != bool(value):
            domain = ['NOT', domain]
        return domain

    def may_teach(self):
        "Tell if the user teaches this lesson or substitutes for it"
        employees = user_employees()
        return (Transaction().user == 0
            or self.teacher.id in employees
            or any(s.substitute.id in employees for s in self.substitutions)
            or user_in('school_admin', 'deputy_academic'))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'write' and values.keys() & {
                'topic', 'homework', 'homework_due', 'plan_line',
                'tasks', 'lines'}:
            values['filled_at'] = dt.datetime.now()
            values['filled_by'] = Transaction().user
        return values

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Teaching = pool.get('school.teaching')
        Period = pool.get('school.period')
        # Read the teachings once for all the lessons
        teachings = {t.id: t for t in Teaching.browse(
                list({v['teaching'] for v in vlist if v.get('teaching')}))}
        periods = {}
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            teaching = teachings.get(values.get('teaching'))
            if not teaching:
                continue
            values.update({
                    'class_': teaching.class_.id,
                    'subgroup': teaching.subgroup and teaching.subgroup.id,
                    'subject': teaching.subject.id,
                    'teacher': teaching.teacher.id,
                    'company': teaching.company.id,
                    })
            if values.get('date') and not values.get('period'):
                key = (teaching.class_.level, values['date'])
                if key not in periods:
                    periods[key] = Period.find(*key)
                if periods[key]:
                    values['period'] = periods[key].id
        return super().create(vlist)

    @classmethod
    def validate_fields(cls, lessons, field_names):
        super().validate_fields(lessons, field_names)
        if field_names & {'date', 'period', 'teaching'}:
            for lesson in lessons:
                if not lesson.period or not (
                        lesson.period.start_date <= lesson.date
                        <= lesson.period.end_date):
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
        if mode == 'write' and values.keys() & {
                'date', 'number', 'teaching', 'period', 'class_', 'subgroup',
                'subject', 'teacher'}:
            for lesson in lessons:
                if lesson.state != 'planned':
                    raise LessonError(gettext(
                            'school_ejournal.msg_lesson_move_held',
                            lesson=lesson.rec_name))
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
        pass

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
    def students_by_lesson(cls, lessons):
        "Return {lesson id: [student ids]} of the class or subgroup that day"
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        result = {}
        for lesson in lessons:
            in_class = Enrolment.students_by_class(
                [lesson.class_.id], lesson.date).get(lesson.class_.id, [])
            if lesson.subgroup:
                members = {s.id for s in lesson.subgroup.students}
                in_class = [s for s in in_class if s in members]
            result[lesson.id] = in_class
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


class Task(ValidationMixin, sequence_ordered(), ModelSQL, ModelView):
    "A task done at a lesson, marked with its type"
    __name__ = 'school.lesson.task'

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

    @classmethod
    def check_modification(cls, mode, tasks, values=None, external=False):
        pool = Pool()
        Mark = pool.get('school.mark')
        super().check_modification(
            mode, tasks, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and 'type' in values):
            marks = Mark.search([('task', 'in', [t.id for t in tasks])],
                limit=1)
            if marks:
                raise LessonError(gettext(
                        'school_ejournal.msg_task_has_marks',
                        task=marks[0].task.rec_name))


class LessonLine(ValidationMixin, ModelSQL, ModelView):
    "A student at a lesson: attendance and marks"
    __name__ = 'school.lesson.line'
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
    date = fields.Function(fields.Date("Date"), 'get_lesson_field')

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
        return getattr(self.lesson, name)

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
        lessons = Lesson.browse(list(set(lesson_of.values())))
        Lesson.check_period_open(lessons)
        if not external:
            return
        teaches = {l.id: l.may_teach() for l in lessons}
        if mode == 'delete':
            for line in lines:
                if not teaches[lesson_of[line.id]]:
                    raise AccessError(gettext(
                            'school_ejournal.msg_lesson_not_yours',
                            lesson=line.lesson.rec_name))
        elif mode == 'write':
            for line in lines:
                if teaches[lesson_of[line.id]]:
                    continue
                # The class teacher only corrects the reasons of absences
                if (values.keys() != {'attendance'}
                        or line.attendance not in ABSENCE_REASONS
                        or values['attendance'] not in ABSENCE_REASONS):
                    raise AccessError(gettext(
                            'school_ejournal.msg_attendance_reason_only',
                            line=line.rec_name))


class Substitution(ValidationMixin, ModelSQL, ModelView):
    "A lesson given by another teacher (журнал замены уроков)"
    __name__ = 'school.substitution'

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
