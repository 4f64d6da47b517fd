# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import copy

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .validation import ValidationMixin
from .year import PERIOD_KINDS


def _readable(Target, result):
    """Keep in result ({id: target ids}) the targets the user may read: sao
    reads the fields of a form's lists with the form (students.name) and
    fails on the first record it may not read."""
    ids = {i for v in result.values() for i in (v or ())}
    if not ids:
        return result
    with Transaction().set_context(active_test=False):
        readable = {r.id for r in Target.search(
                [('id', 'in', list(ids))], order=[])}
    return {k: tuple(i for i in v if i in readable) if v else v
        for k, v in result.items()}


class ReadableMany2Many(fields.Many2Many):
    "A Many2Many that lists only the records the user may read"

    def get(self, ids, model, name, values=None):
        result = super().get(ids, model, name, values=values)
        if Transaction().check_access:
            result = _readable(self.get_target(), result)
        return result


class ReadableFunction(fields.Function):
    "A Function of a Many2Many that lists only the records the user may read"

    def __copy__(self):
        return ReadableFunction(copy.copy(self._field), self.getter,
            setter=self.setter, searcher=self.searcher,
            getter_with_context=self.getter_with_context,
            loading=self.loading)

    def __deepcopy__(self, memo):
        return ReadableFunction(copy.deepcopy(self._field, memo),
            self.getter, setter=self.setter, searcher=self.searcher,
            getter_with_context=self.getter_with_context,
            loading=self.loading)

    def get(self, ids, model, name, values=None):
        check_access = Transaction().check_access
        result = super().get(ids, model, name, values=values)
        if check_access:
            names = name if isinstance(name, list) else [name]
            for fname in names:
                field = model._fields[fname]
                if getattr(field, '_type', None) != 'many2many':
                    continue
                if isinstance(name, list):
                    result[fname] = _readable(
                        field.get_target(), result[fname])
                else:
                    result = _readable(field.get_target(), result)
        return result


class Class(ValidationMixin, ModelSQL, ModelView):
    "A class of students for one academic year, as «5А»"
    __name__ = 'school.class'

    company = fields.Many2One(
        'company.company', "School", required=True,
        help="The school of the class.")
    year = fields.Many2One(
        'school.year', "Academic Year", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The academic year the class studies in.")
    level = fields.Many2One(
        'school.level', "Level", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The class level (1 to 11).")
    letter = fields.Char(
        "Letter", size=8,
        help="The letter of the class among the parallel classes, as «А».")
    name = fields.Char(
        "Name", required=True,
        help="The name of the class, as «5А»; unique within the year.")
    class_teacher = fields.Many2One(
        'company.employee', "Class Teacher",
        domain=[('company', '=', Eval('company', -1))],
        help="The class teacher (классный руководитель).")
    room = fields.Char("Room", help="The class's home room.")
    enrolments = fields.One2Many(
        'school.enrolment', 'class_', "Enrolments", readonly=True,
        help="The students enrolled in the class, by orders.")
    subgroups = fields.One2Many(
        'school.subgroup', 'class_', "Subgroups",
        help="The subgroups of the class per subject.")
    # A teacher may open a class she does not teach: its students are
    # those she may read
    students = ReadableFunction(fields.Many2Many(
            'school.student', None, None, "Students",
            help="The students in the class on the date of the context "
            "(today by default)."),
        'get_students')
    student_count = ReadableFunction(
        fields.Integer("Students", help="The number of students today."),
        'get_students')
    led_by_me = fields.Function(
        fields.Boolean("Led by Me",
            help="The user is the class teacher of the class."),
        'get_led_by_me', searcher='search_led_by_me')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.year, t.name),
                'school_ejournal.msg_class_name_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.class_teacher, Index.Equality())))
        cls._order = [
            ('year', 'DESC'), ('level', 'ASC'), ('name', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('level', 'letter', 'name')
    def on_change_with_name(self):
        if self.level and self.level.number:
            return '%s%s' % (self.level.number, self.letter or '')
        return self.name

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def get_students(cls, classes, names):
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        date = Transaction().context.get('date')
        by_class = Enrolment.students_by_class(
            [c.id for c in classes], date)
        result = {}
        if 'students' in names:
            result['students'] = {
                c.id: by_class.get(c.id, []) for c in classes}
        if 'student_count' in names:
            result['student_count'] = {
                c.id: len(by_class.get(c.id, [])) for c in classes}
        return result

    @classmethod
    def get_led_by_me(cls, classes, name):
        led = set(Pool().get('res.user').get_school_scope()['led_classes'])
        return {c.id: c.id in led for c in classes}

    @classmethod
    def search_led_by_me(cls, name, clause):
        led = Pool().get('res.user').get_school_scope()['led_classes']
        _, operator, value = clause
        if (operator == '=') == bool(value):
            return [('id', 'in', led)]
        return [('id', 'not in', led)]

    @classmethod
    def validate_fields(cls, classes, field_names):
        super().validate_fields(classes, field_names)
        if field_names & {'year', 'level', 'company'}:
            for class_ in classes:
                if (class_.year.company != class_.company
                        or class_.level.company != class_.company):
                    raise ValidationError(gettext(
                            'school_ejournal.msg_class_other_school',
                            class_=class_.rec_name))

    @classmethod
    def on_modification(cls, mode, classes, field_names=None):
        pool = Pool()
        User = pool.get('res.user')
        super().on_modification(mode, classes, field_names=field_names)
        if mode != 'write' or 'class_teacher' in field_names:
            User._school_scope_cache.clear()


class Subgroup(ValidationMixin, ModelSQL, ModelView):
    "A part of a class taught a subject separately, as a language group"
    __name__ = 'school.subgroup'

    class_ = fields.Many2One(
        'school.class', "Class", required=True, ondelete='CASCADE',
        help="The class the subgroup is part of.")
    subject = fields.Many2One(
        'school.subject', "Subject", required=True,
        help="The subject the subgroup is taught separately.")
    period = fields.Many2One(
        'school.period', "Study Period",
        domain=[('year', '=', Eval('year', -1))],
        help="Leave empty when the subgroup holds for the whole year.")
    year = fields.Function(
        fields.Many2One('school.year', "Academic Year"),
        'on_change_with_year')
    name = fields.Char(
        "Name", required=True,
        help="As «Group 1» or «English, group of N. Petrova».")
    # A teacher may open the subgroup of a class she does not teach: its
    # students are those she may read
    students = ReadableMany2Many(
        'school.subgroup-school.student', 'subgroup', 'student', "Students",
        help="The students of the subgroup.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.class_, t.subject, t.period, t.name),
                'school_ejournal.msg_subgroup_name_unique'),
            ]

    @fields.depends('class_', '_parent_class_.year')
    def on_change_with_year(self, name=None):
        return self.class_.year if self.class_ else None

    def get_rec_name(self, name):
        return '%s, %s: %s' % (
            self.class_.rec_name, self.subject.rec_name, self.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('name', *clause[1:]),
            ('class_.name', *clause[1:]),
            ('subject.name', *clause[1:]),
            ]

    @classmethod
    def validate(cls, subgroups):
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        super().validate(subgroups)
        for subgroup in subgroups:
            if not subgroup.students:
                continue
            members = set(Enrolment.students_by_class(
                    [subgroup.class_.id], None, anytime=True).get(
                    subgroup.class_.id, []))
            for student in subgroup.students:
                if student.id not in members:
                    raise ValidationError(gettext(
                            'school_ejournal.msg_subgroup_student_class',
                            student=student.rec_name,
                            subgroup=subgroup.rec_name))


class SubgroupStudent(ValidationMixin, ModelSQL):
    __name__ = 'school.subgroup-school.student'

    subgroup = fields.Many2One(
        'school.subgroup', "Subgroup", required=True, ondelete='CASCADE')
    student = fields.Many2One(
        'school.student', "Student", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subgroup')
        t = cls.__table__()
        cls._sql_constraints += [
            ('student_unique', Unique(t, t.subgroup, t.student),
                'school_ejournal.msg_subgroup_student_unique'),
            ]


class Level(ValidationMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'school.level'

    company = fields.Many2One(
        'company.company', "School", required=True,
        help="The school the class level belongs to.")
    number = fields.Integer(
        "Level", required=True,
        domain=[('number', '>=', 1), ('number', '<=', 11)],
        help="The class level, from 1 to 11.")
    name = fields.Char(
        "Name", required=True, translate=True,
        help="As «5th classes».")
    period_kind = fields.Selection(
        PERIOD_KINDS, "Study Periods", required=True,
        help="Whether the level's classes are graded by quarters "
        "or by half-years.")
    week_days = fields.Integer(
        "School Days a Week", required=True,
        domain=[('week_days', 'in', [5, 6])],
        help="A five- or six-day school week.")
    marks = fields.Boolean(
        "Marks", help="Uncheck for levels taught without marks (1st classes).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.company, t.number),
                'school_ejournal.msg_level_number_unique'),
            ]
        cls._order.insert(0, ('number', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_period_kind(cls):
        return 'quarter'

    @classmethod
    def default_week_days(cls):
        return 5

    @classmethod
    def default_marks(cls):
        return True

    @fields.depends('number', 'marks')
    def on_change_number(self):
        if self.number == 1:
            self.marks = False

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        # The 1st classes are taught without marks (T14)
        if mode == 'create' and values.get('number') == 1:
            values.setdefault('marks', False)
        return values
