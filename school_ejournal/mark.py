# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import MarkError
from .lesson import MARKS, NUMERIC_MARKS, PeriodLockMixin
from .validation import ValidationMixin


class Mark(ValidationMixin, PeriodLockMixin, ModelSQL, ModelView):
    "A mark of a student for a task of a lesson; never changed in place"
    __name__ = 'school.mark'
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

    def _lock_period(self):
        return self.lesson.period

    @classmethod
    def _lock_periods(cls, marks):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        lessons = {l.id: l for l in Lesson.browse(
                list({m.lesson.id for m in marks}))}
        return {m: lessons[m.lesson.id].period for m in marks}

    def get_rec_name(self, name):
        return '%s %s, %s %s' % (
            self.value_string, self.student.rec_name,
            self.date.strftime('%d.%m.%Y'), self.lesson.subject.rec_name)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Task = pool.get('school.lesson.task')
        Date = pool.get('ir.date')
        today = Date.today()
        # The lesson, date and type come from the task, read once for all
        tasks = {t.id: t for t in Task.browse(
                list({v['task'] for v in vlist if v.get('task')}))}
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            task = tasks.get(values.get('task'))
            if task:
                values['lesson'] = task.lesson.id
                values['date'] = task.lesson.date
                values['type'] = task.type.id
                values['late'] = today > task.lesson.date
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, marks, values=None, external=False):
        super().check_modification(
            mode, marks, values=values, external=external)
        if mode in {'write', 'delete'} and not Transaction().context.get(
                '_school_mark_correction'):
            raise AccessError(gettext(
                    'school_ejournal.msg_mark_change',
                    mark=marks[0].rec_name))

    @classmethod
    def validate(cls, marks):
        pool = Pool()
        Date = pool.get('ir.date')
        Lesson = pool.get('school.lesson')
        super().validate(marks)
        today = Date.today()
        students = Lesson.students_by_lesson({m.lesson for m in marks})
        for mark in marks:
            lesson = mark.lesson
            if not lesson.class_.level.marks:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_no_marks_level',
                        mark=mark.rec_name, class_=lesson.class_.rec_name))
            if lesson.state != 'held':
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_lesson_not_held',
                        mark=mark.rec_name))
            if mark.student.id not in students[lesson.id]:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_student_not_in_lesson',
                        mark=mark.rec_name,
                        group=(lesson.subgroup or lesson.class_).rec_name))
            scale = lesson.subject.scale
            if (scale == 'five') != (mark.value in NUMERIC_MARKS):
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_scale',
                        mark=mark.rec_name))
            if Transaction().context.get('_school_mark_correction'):
                continue
            if today < lesson.date:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_before_lesson',
                        mark=mark.rec_name))
            limit = lesson.date + dt.timedelta(days=mark.type.check_days)
            if today > limit:
                raise MarkError(gettext(
                        'school_ejournal.msg_mark_after_norm',
                        mark=mark.rec_name, type=mark.type.rec_name,
                        days=mark.type.check_days,
                        limit=limit.strftime('%d.%m.%Y')))


class MarkCorrection(ValidationMixin, Workflow, ModelSQL, ModelView):
    "A reasoned request to change or cancel a saved mark"
    __name__ = 'school.mark.correction'

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
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, corrections):
        pool = Pool()
        Mark = pool.get('school.mark')
        with Transaction().set_context(_school_mark_correction=True):
            for correction in corrections:
                if correction.new_value:
                    Mark.write([correction.mark], {
                            'value': correction.new_value})
                else:
                    Mark.write([correction.mark], {'cancelled': True})
        cls.write(corrections, {
                'decided_by': Transaction().user,
                'decided_at': dt.datetime.now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('refused')
    def refuse(cls, corrections):
        cls.write(corrections, {
                'decided_by': Transaction().user,
                'decided_at': dt.datetime.now(),
                })
