# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields,
    sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .common import company_through, system_context
from .exceptions import CurriculumError
from .validation import ValidationMixin

HOURS_DIGITS = (4, 1)


def format_hours(hours):
    "Format weekly hours without useless zeros: 5, 0.5, 10"
    return '%g' % float(hours)


class Subject(
        ValidationMixin, sequence_ordered(), DeactivableMixin, ModelSQL,
        ModelView):
    "A school subject, as «Mathematics»"
    __name__ = 'school.subject'

    company = fields.Many2One(
        'company.company', "School", required=True,
        help="The school that teaches the subject.")
    name = fields.Char(
        "Name", required=True, translate=True,
        help="The subject's name as the journal shows it.")
    code = fields.Char(
        "Code", required=True,
        help="A short unique code, as «MATH».")
    short_name = fields.Char(
        "Short Name", help="As «Матем.», for narrow columns.")
    scale = fields.Selection([
            ('five', "Marks 1 to 5"),
            ('pass_fail', "Pass or fail"),
            ], "Marking Scale", required=True,
        help="How the subject is marked.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.company, t.code),
                'school_ejournal.msg_subject_code_unique'),
            ]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scale(cls):
        return 'five'


class CurriculumLine(
        ValidationMixin, company_through('year'), ModelSQL, ModelView):
    "Weekly hours of a subject for a class level (учебный план)"
    __name__ = 'school.curriculum.line'

    year = fields.Many2One(
        'school.year', "Academic Year", required=True, ondelete='CASCADE',
        help="The academic year the curriculum is for.")
    level = fields.Many2One(
        'school.level', "Level", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The class level the hours are for.")
    class_ = fields.Many2One(
        'school.class', "Class",
        domain=[
            ('year', '=', Eval('year', -1)),
            ('level', '=', Eval('level', -1)),
            ],
        help="Fill in only when one class of the level "
        "has other hours than the level's.")
    subject = fields.Many2One(
        'school.subject', "Subject", required=True,
        domain=[('company', '=', Eval('company', -1))])
    hours = fields.Numeric(
        "Hours a Week", digits=HOURS_DIGITS, required=True,
        domain=[('hours', '>', 0), ('hours', '<=', 40)],
        help="The hours of the subject per week.")
    elective = fields.Boolean(
        "Elective", help="An elective course (факультатив).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('subject_unique',
                Unique(t, t.year, t.level, t.class_, t.subject, t.elective),
                'school_ejournal.msg_curriculum_subject_unique'),
            ]
        cls._order = [
            ('year', 'DESC'), ('level', 'ASC'), ('class_', 'ASC NULLS FIRST'),
            ('subject', 'ASC'), ('id', 'ASC')]

    def get_rec_name(self, name):
        return '%s, %s: %s' % (
            (self.class_ or self.level).rec_name, self.subject.rec_name,
            format_hours(self.hours))

    @classmethod
    def hours_for(cls, class_, subject, elective=False):
        "Return the weekly curriculum hours of the subject in the class"
        lines = cls.search([
                ('year', '=', class_.year.id),
                ('level', '=', class_.level.id),
                ('subject', '=', subject.id),
                ('elective', '=', bool(elective)),
                ['OR',
                    ('class_', '=', class_.id),
                    ('class_', '=', None),
                    ],
                ])
        own = [l for l in lines if l.class_]
        return sum((l.hours for l in (own or lines)), Decimal(0))


class Teaching(ValidationMixin, ModelSQL, ModelView):
    "A teacher's hours of a subject in a class or subgroup (нагрузка)"
    __name__ = 'school.teaching'

    company = fields.Many2One(
        'company.company', "School", required=True)
    year = fields.Function(
        fields.Many2One('school.year', "Academic Year"),
        'on_change_with_year', searcher='search_year')
    teacher = fields.Many2One(
        'company.employee', "Teacher", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The teacher who gives the lessons.")
    class_ = fields.Many2One(
        'school.class', "Class", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The class taught.")
    subgroup = fields.Many2One(
        'school.subgroup', "Subgroup",
        domain=[
            ('class_', '=', Eval('class_', -1)),
            ('subject', '=', Eval('subject', -1)),
            ],
        help="Fill in when the teacher teaches only a subgroup of the class.")
    subject = fields.Many2One(
        'school.subject', "Subject", required=True,
        domain=[('company', '=', Eval('company', -1))])
    hours = fields.Numeric(
        "Hours a Week", digits=HOURS_DIGITS, required=True,
        domain=[('hours', '>', 0)],
        help="The teacher's hours a week in this class and subject.")
    elective = fields.Boolean(
        "Elective", help="The hours are those of the elective course.")
    mine = fields.Function(
        fields.Boolean("Mine", help="The user is the teacher."),
        'get_mine', searcher='search_mine')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('teaching_unique',
                Unique(t, t.teacher, t.class_, t.subgroup, t.subject,
                    t.elective),
                'school_ejournal.msg_teaching_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.teacher, Index.Equality())),
                Index(t, (t.class_, Index.Equality()),
                    (t.subject, Index.Equality())),
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('class_', '_parent_class_.year')
    def on_change_with_year(self, name=None):
        return self.class_.year if self.class_ else None

    @classmethod
    def search_year(cls, name, clause):
        return [('class_.' + clause[0], *clause[1:])]

    @classmethod
    def get_mine(cls, teachings, name):
        employees = set(Pool().get('res.user').get_employees())
        return {t.id: t.teacher.id in employees for t in teachings}

    @classmethod
    def search_mine(cls, name, clause):
        employees = Pool().get('res.user').get_employees()
        _, operator, value = clause
        if (operator == '=') == bool(value):
            return [('teacher', 'in', employees)]
        return [('teacher', 'not in', employees)]

    def get_rec_name(self, name):
        if self.subgroup:
            group = self.subgroup.rec_name
        else:
            group = '%s, %s' % (self.class_.rec_name, self.subject.rec_name)
        return '%s — %s' % (group, self.teacher.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('class_.name', *clause[1:]),
            ('subject.name', *clause[1:]),
            ('teacher.party.name', *clause[1:]),
            ]

    @classmethod
    def validate(cls, teachings):
        pool = Pool()
        CurriculumLine = pool.get('school.curriculum.line')
        super().validate(teachings)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        checked = set()
        for teaching in teachings:
            key = (teaching.class_, teaching.subject, teaching.elective,
                teaching.subgroup)
            if key in checked:
                continue
            checked.add(key)
            allowed = CurriculumLine.hours_for(
                teaching.class_, teaching.subject, teaching.elective)
            # Each subgroup has the class's hours; whole-class teaching and
            # each subgroup's teaching are summed separately.
            if teaching.subgroup:
                where_group = table.subgroup == teaching.subgroup.id
            else:
                where_group = table.subgroup == Null
            cursor.execute(*table.select(Sum(table.hours),
                    where=(table.class_ == teaching.class_.id)
                    & (table.subject == teaching.subject.id)
                    & (table.elective == bool(teaching.elective))
                    & where_group))
            total, = cursor.fetchone()
            total = Decimal(str(total or 0))
            if total > allowed:
                raise CurriculumError(gettext(
                        'school_ejournal.msg_teaching_over_curriculum',
                        teaching=teaching.rec_name,
                        hours=format_hours(total),
                        curriculum=format_hours(allowed)))

    @classmethod
    def check_modification(cls, mode, teachings, values=None, external=False):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        super().check_modification(
            mode, teachings, values=values, external=external)
        if mode == 'write' and values.keys() & {
                'class_', 'subgroup', 'subject', 'elective'}:
            # The lessons given stay those of the class and subject taught
            with without_check_access():
                lessons = Lesson.search([
                        ('teaching', 'in', [t.id for t in teachings]),
                        ], order=[('date', 'ASC'), ('id', 'ASC')])
                given = [l for l in lessons if l.state != 'planned']
                given += Lesson.filled(lessons)
            if given:
                raise CurriculumError(gettext(
                        'school_ejournal.msg_teaching_change_given',
                        teaching=given[0].teaching.rec_name,
                        lesson=given[0].rec_name))

    @classmethod
    def on_write(cls, teachings, values):
        pool = Pool()
        Date = pool.get('ir.date')
        Lesson = pool.get('school.lesson')
        callbacks = super().on_write(teachings, values)
        if values.keys() & {'teacher', 'class_', 'subgroup', 'subject'}:
            ids = [t.id for t in teachings]
            # Checked above: when the class or subject changes, no lesson
            # has been given yet
            domain = [('teaching', 'in', ids), ('state', '=', 'planned')]
            if not values.keys() & {'class_', 'subgroup', 'subject'}:
                # Another teacher takes the class over from today; the
                # lessons before stay those of the teacher who had them
                domain.append(('date', '>=', Date.today()))

            def follow():
                with without_check_access(), system_context():
                    lessons = Lesson.search(domain)
                    to_write = []
                    for lesson in lessons:
                        to_write.extend([[lesson],
                                Lesson._teaching_values(lesson.teaching)])
                    if to_write:
                        Lesson.write(*to_write)
            callbacks.append(follow)
        return callbacks

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        super().on_modification(mode, records, field_names=field_names)
        pool.get('res.user')._school_scope_cache.clear()
