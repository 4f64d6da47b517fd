# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import ClosedFieldsMixin
from .exceptions import LessonError
from .validation import ValidationMixin


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
