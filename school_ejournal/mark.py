# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sql import Literal, Null
from sql.aggregate import Count, Sum

from trytond import backend
from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction

from .common import (
    MARKS, NUMERIC_MARKS, ClosedFieldsMixin, PeriodLockMixin, stamp)
from .exceptions import MarkError
from .validation import ValidationMixin


def points(value):
    "Return the points of a mark's value: 5 for «5», None for a pass"
    return int(value) if value in NUMERIC_MARKS else None


def weighted_average(weighted, weights):
    """Return the weighted average of marks, to two decimals rounded half
    up as school documents do, or None without marks"""
    if not weights:
        return None
    return (Decimal(str(weighted)) / Decimal(str(weights))).quantize(
        Decimal('0.01'), rounding=ROUND_HALF_UP)


class Mark(
        ValidationMixin, ClosedFieldsMixin, PeriodLockMixin, ModelSQL,
        ModelView):
    "A mark of a student for a task of a lesson; never changed in place"
    __name__ = 'school.mark'
    # The lesson, date and type come from the task
    _system_fields = frozenset({
            'lesson', 'date', 'type', 'late', 'cancelled', 'points',
            'entered_at'})
    _fixed_fields = frozenset({'task', 'student', 'value'})
    _lock_period_path = ('lesson', 'period')
    # A mark is created once and changed only through its corrections,
    # which keep who, when, why and both values
    _log = False

    task = fields.Many2One(
        'school.lesson.task', "Task", required=True, readonly=True,
        ondelete='RESTRICT')
    student = fields.Many2One(
        'school.student', "Student", required=True, readonly=True,
        ondelete='RESTRICT')
    value = fields.Selection(
        MARKS, "Mark", required=True, readonly=True, sort=False)
    value_string = value.translated('value')
    points = fields.Integer(
        "Points", readonly=True,
        help="The value of a numeric mark as a number, empty for a pass "
        "or a fail; averages are computed from it.")
    lesson = fields.Many2One(
        'school.lesson', "Lesson", required=True, readonly=True,
        ondelete='RESTRICT')
    date = fields.Date(
        "Date", required=True, readonly=True,
        help="The date of the lesson the mark belongs to.")
    type = fields.Many2One(
        'school.task.type', "Task Type", required=True, readonly=True)
    late = fields.Boolean(
        "Entered Late", readonly=True,
        help="The mark was entered after the day of the lesson, "
        "within the checking norm of its task type.")
    entered_at = fields.Timestamp(
        "Entered at", readonly=True,
        help="When the mark was entered, by the journal's clock; "
        "the analysis judges late entries from it.")
    cancelled = fields.Boolean(
        "Cancelled", readonly=True,
        help="Cancelled by an approved correction.")
    corrections = fields.One2Many(
        'school.mark.correction', 'mark', "Corrections", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.student, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.lesson, Index.Equality())),
                Index(t, (t.task, Index.Equality()),
                    (t.student, Index.Equality())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def __register__(cls, module):
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        table_h = cls.__table_handler__(module)
        fill_points = not table_h.column_exist('points')
        fill_entered = not table_h.column_exist('entered_at')
        super().__register__(module)
        # Migration from 8.0.1: the entry time of the marks saved before is
        # their creation time
        if fill_entered:
            cursor.execute(*table.update(
                    [table.entered_at], [table.create_date]))
        # Migration from 8.0.0: points of the marks saved before
        if fill_points:
            for value in sorted(NUMERIC_MARKS):
                cursor.execute(*table.update(
                        [table.points], [int(value)],
                        where=table.value == value))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if 'value' in values:
            values['points'] = points(values['value'])
        return values

    @classmethod
    def average_query(cls, where=None, group_by=('student',), aggregates=()):
        """Return the SQL query of (*group_by, weighted, weights, count):
        the sums of points × task type weight and of weights, and the number
        of the numeric marks not cancelled, grouped by columns of the mark
        (student, lesson, task, type, date) or of its lesson (teaching,
        class_, subject, period).  where is a function of the (mark,
        lesson) tables returning a condition.  weighted_average() turns the
        sums into the average.  aggregates are more columns, as functions
        of the (mark, lesson) tables, given after the count."""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        TaskType = pool.get('school.task.type')
        mark = cls.__table__()
        lesson = Lesson.__table__()
        type_ = TaskType.__table__()
        columns = [
            getattr(mark if name in {
                    'student', 'lesson', 'task', 'type', 'date'} else lesson,
                name) for name in group_by]
        condition = (mark.cancelled == Literal(False)) & (mark.points != Null)
        if where is not None:
            condition &= where(mark, lesson)
        return (mark
            .join(lesson, condition=mark.lesson == lesson.id)
            .join(type_, condition=mark.type == type_.id)
            .select(
                *(c.as_(n) for c, n in zip(columns, group_by)),
                Sum(type_.weight * mark.points).as_('weighted'),
                Sum(type_.weight).as_('weights'),
                Count(mark.id).as_('count'),
                *(a(mark, lesson) for a in aggregates),
                where=condition,
                group_by=columns))

    def get_rec_name(self, name):
        return '%s %s, %s %s' % (
            self.value_string, self.student.rec_name,
            self.date.strftime('%d.%m.%Y'), self.lesson.subject.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        # The deputy finds the mark to correct by student or subject
        _, operator, value, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('student.name', operator, value, *extra),
            ('lesson.subject.name', operator, value, *extra),
            ]

    @classmethod
    def _complete_values(cls, vlist):
        pool = Pool()
        Task = pool.get('school.lesson.task')
        Lesson = pool.get('school.lesson')
        Date = pool.get('ir.date')
        vlist = super()._complete_values(vlist)
        today = Date.today()
        # Stamped by Python's clock, not the database's (create_date on
        # PostgreSQL), so the entry time follows the journal's clock
        now = dt.datetime.now()
        # The lesson, date and type come from the task: read for all the
        # marks with one query per slice (a task that is not an id is left
        # to the guard, one not found is refused before any SQL)
        task = Task.__table__()
        lesson = Lesson.__table__()
        cursor = Transaction().connection.cursor()
        facts = {}
        task_ids = list({v['task'] for v in vlist
                if isinstance(v, dict) and type(v.get('task')) is int})
        for sub_ids in grouped_slice(task_ids, MAX_QUERY_PARAMS):
            query = (task
                .join(lesson, condition=task.lesson == lesson.id)
                .select(task.id, lesson.id, lesson.date.as_('date'),
                    task.type,
                    where=fields.SQL_OPERATORS['in'](task.id, list(sub_ids))))
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, None, 'DATE', None])
            cursor.execute(*query)
            for task_id, lesson_id, date, type_id in cursor:
                facts[task_id] = (lesson_id, date, type_id)
        missing = set(task_ids) - facts.keys()
        if missing:
            raise MarkError(gettext('school_ejournal.msg_mark_task_missing',
                    task=min(missing)))
        for values in vlist:
            if not isinstance(values, dict):
                continue
            values['entered_at'] = now
            fact = facts.get(values.get('task'))
            if fact:
                values['lesson'], values['date'], values['type'] = fact
                values['late'] = today > fact[1]
        return vlist

    @classmethod
    def check_modification(cls, mode, marks, values=None, external=False):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        super().check_modification(
            mode, marks, values=values, external=external)
        if mode in {'write', 'delete'} and not Transaction().context.get(
                '_school_mark_correction'):
            raise AccessError(gettext(
                    'school_ejournal.msg_mark_change',
                    mark=marks[0].rec_name))
        if mode == 'create' and external:
            lessons = {m.lesson.id for m in cls._lesson_unchecked(marks)}
            if lessons:
                Lesson.check_filler(Lesson.browse(sorted(lessons)))

    @classmethod
    def check_period_open(cls, marks, msg='modify'):
        super().check_period_open(cls._lesson_unchecked(marks), msg=msg)

    @classmethod
    def _lesson_unchecked(cls, marks):
        """Return the marks whose lesson was not checked (period, day,
        teacher) by the write of the lesson or the grid's save they are
        created in"""
        Lesson = Pool().get('school.lesson')
        checked = Lesson._lines_checked()
        if not checked:
            return marks
        return [m for m in marks if m.lesson.id not in checked]

    @classmethod
    def validate(cls, marks):
        pool = Pool()
        Date = pool.get('ir.date')
        Lesson = pool.get('school.lesson')
        super().validate(marks)
        today = Date.today()
        facts = cls._validation_facts(marks)
        students = Lesson.students_by_lesson(
            {f['lesson'] for f in facts.values()})
        cls.check_unique(marks)
        correction = Transaction().context.get('_school_mark_correction')
        # The facts of all the marks are read with one query; a refused
        # mark is named through its record
        for mark in marks:
            fact = facts[mark.id]
            if not fact['level_marks']:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_no_marks_level',
                        mark=mark.rec_name,
                        class_=mark.lesson.class_.rec_name))
            if fact['state'] != 'held':
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_lesson_not_held',
                        mark=mark.rec_name))
            if fact['student'] not in students[fact['lesson']]:
                lesson = mark.lesson
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_student_not_in_lesson',
                        mark=mark.rec_name,
                        group=(lesson.subgroup or lesson.class_).rec_name))
            if (fact['scale'] == 'five') != (fact['value'] in NUMERIC_MARKS):
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_scale',
                        mark=mark.rec_name))
            if correction:
                continue
            if today < fact['date']:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_before_lesson',
                        mark=mark.rec_name))
            limit = fact['date'] + dt.timedelta(days=fact['check_days'])
            if today > limit:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_after_norm',
                        mark=mark.rec_name, type=mark.type.rec_name,
                        days=fact['check_days'],
                        limit=limit.strftime('%d.%m.%Y')))

    @classmethod
    def _validation_facts(cls, marks):
        """Return {mark id: {student, value, lesson, state, date,
        level_marks, scale, check_days}} read with one query per slice:
        the mark, its lesson, the lesson's class level and subject, and
        its task type"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Class = pool.get('school.class')
        Level = pool.get('school.level')
        Subject = pool.get('school.subject')
        TaskType = pool.get('school.task.type')
        mark = cls.__table__()
        lesson = Lesson.__table__()
        class_ = Class.__table__()
        level = Level.__table__()
        subject = Subject.__table__()
        type_ = TaskType.__table__()
        cursor = Transaction().connection.cursor()
        names = ['id', 'student', 'value', 'lesson', 'state', 'date',
            'level_marks', 'scale', 'check_days']
        facts = {}
        for sub_ids in grouped_slice([m.id for m in marks], MAX_QUERY_PARAMS):
            query = (mark
                .join(lesson, condition=mark.lesson == lesson.id)
                .join(class_, condition=lesson.class_ == class_.id)
                .join(level, condition=class_.level == level.id)
                .join(subject, condition=lesson.subject == subject.id)
                .join(type_, condition=mark.type == type_.id)
                .select(mark.id, mark.student, mark.value, lesson.id,
                    lesson.state, lesson.date.as_('date'), level.marks,
                    subject.scale, type_.check_days,
                    where=fields.SQL_OPERATORS['in'](mark.id, list(sub_ids))))
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None] * 5 + ['DATE'])
            cursor.execute(*query)
            for row in cursor:
                facts[row[0]] = dict(zip(names, row))
        return facts

    @classmethod
    def check_unique(cls, marks):
        "Refuse a second mark of a student for a task unless one is cancelled"
        table = cls.__table__()
        other = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice([m.id for m in marks], MAX_QUERY_PARAMS):
            cursor.execute(*table
                .join(other, condition=(table.task == other.task)
                    & (table.student == other.student)
                    & (table.id != other.id))
                .select(table.id,
                    where=fields.SQL_OPERATORS['in'](table.id, sub_ids)
                    & (table.cancelled == Literal(False))
                    & (other.cancelled == Literal(False)),
                    limit=1))
            row = cursor.fetchone()
            if row:
                mark = cls(row[0])
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_second',
                        mark=mark.rec_name, task=mark.task.rec_name))


class MarkCorrection(
        ValidationMixin, ClosedFieldsMixin, Workflow, ModelSQL, ModelView):
    "A reasoned request to change or cancel a saved mark"
    __name__ = 'school.mark.correction'
    _system_fields = frozenset({
            'state', 'old_value', 'requested_by', 'requested_at',
            'decided_by', 'decided_at'})
    _fixed_fields = frozenset({'mark'})

    _states = {'readonly': Eval('state') != 'requested'}

    mark = fields.Many2One(
        'school.mark', "Mark", required=True, ondelete='RESTRICT',
        states=_states)
    old_value = fields.Selection(
        MARKS, "Old Mark", readonly=True, sort=False)
    new_value = fields.Selection(
        MARKS, "New Mark", sort=False, states=_states,
        help="Leave empty to cancel the mark.")
    reason = fields.Text("Reason", required=True, states=_states)
    state = fields.Selection([
            ('requested', "Requested"),
            ('approved', "Approved"),
            ('refused', "Refused"),
            ], "State", readonly=True, required=True, sort=False)
    requested_by = fields.Many2One('res.user', "Requested by", readonly=True)
    requested_at = fields.DateTime("Requested at", readonly=True)
    decided_by = fields.Many2One('res.user', "Decided by", readonly=True)
    decided_at = fields.DateTime("Decided at", readonly=True)
    student = fields.Function(
        fields.Many2One('school.student', "Student"), 'get_mark_field',
        searcher='search_mark_field')
    lesson = fields.Function(
        fields.Many2One('school.lesson', "Lesson"), 'get_mark_field',
        searcher='search_mark_field')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('requested_at', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('requested', 'approved'),
            ('requested', 'refused'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'refuse': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'requested'

    def get_mark_field(self, name):
        return getattr(self.mark, name).id

    @classmethod
    def search_mark_field(cls, name, clause):
        return [('mark.' + clause[0], *clause[1:])]

    def get_rec_name(self, name):
        return '%s → %s' % (self.mark.rec_name, self.new_value or '—')

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Mark = pool.get('school.mark')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values['requested_by'] = Transaction().user
            values['requested_at'] = dt.datetime.now()
            if values.get('mark'):
                values['old_value'] = Mark(values['mark']).value
        return values

    @classmethod
    def validate(cls, corrections):
        super().validate(corrections)
        for correction in corrections:
            if correction.new_value == correction.old_value:
                raise MarkError(gettext(
                        'school_ejournal.msg_correction_same_value',
                        mark=correction.mark.rec_name))
            correction.mark.check_period_open([correction.mark])

    @classmethod
    def check_modification(
            cls, mode, corrections, values=None, external=False):
        super().check_modification(
            mode, corrections, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and values.keys() - {
                    'state', 'decided_by', 'decided_at'}):
            for correction in corrections:
                if correction.state != 'requested':
                    raise AccessError(gettext(
                            'school_ejournal.msg_correction_decided',
                            correction=correction.rec_name))

    @classmethod
    def check_decider(cls, corrections):
        "Refuse a decision by the requester: nobody approves oneself"
        user = Transaction().user
        if not user:
            return
        for correction in corrections:
            if correction.requested_by and correction.requested_by.id == user:
                raise AccessError(gettext(
                        'school_ejournal.msg_correction_own',
                        correction=correction.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @stamp('decided_by', 'decided_at')
    def approve(cls, corrections):
        pool = Pool()
        Mark = pool.get('school.mark')
        cls.check_decider(corrections)
        with Transaction().set_context(_school_mark_correction=True):
            for correction in corrections:
                if correction.new_value:
                    Mark.write([correction.mark], {
                            'value': correction.new_value})
                else:
                    Mark.write([correction.mark], {'cancelled': True})

    @classmethod
    @ModelView.button
    @Workflow.transition('refused')
    @stamp('decided_by', 'decided_at')
    def refuse(cls, corrections):
        cls.check_decider(corrections)
