# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import math

from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import ClosedFieldsMixin, PeriodLockMixin, user_employees, user_in
from .exceptions import GradeError
from .mark import weighted_average
from .validation import RPCGuardMixin, ValidationMixin, ValidationWizardMixin

GRADES = [
    (None, ""),
    ('5', "5"),
    ('4', "4"),
    ('3', "3"),
    ('2', "2"),
    ('1', "1"),
    ('pass', "Pass"),
    ('fail', "Fail"),
    ('na', "н/а"),
    ]


def propose(average, count, threshold, min_marks):
    "Return the proposed grade for a weighted average of count marks"
    if average is None or count < min_marks:
        return 'na'
    whole = math.floor(average)
    if average - whole >= threshold:
        whole += 1
    return str(min(max(int(whole), 1), 5))


class Grade(
        ValidationMixin, ClosedFieldsMixin, PeriodLockMixin, ModelSQL,
        ModelView):
    "A term or year grade of a student in a subject"
    __name__ = 'school.grade'
    # Computed from the marks, or copied from the teaching
    _system_fields = frozenset({
            'marks', 'average', 'proposed', 'subject', 'class_'})
    _fixed_fields = frozenset({'teaching', 'student', 'period'})

    _states = {'readonly': Eval('period_state') == 'closed'}

    teaching = fields.Many2One(
        'school.teaching', "Teaching", required=True, readonly=True,
        ondelete='RESTRICT')
    student = fields.Many2One(
        'school.student', "Student", required=True, readonly=True,
        ondelete='RESTRICT')
    subject = fields.Many2One(
        'school.subject', "Subject", required=True, readonly=True)
    class_ = fields.Many2One(
        'school.class', "Class", required=True, readonly=True)
    period = fields.Many2One(
        'school.period', "Study Period", readonly=True,
        help="Empty for the year grade.")
    period_state = fields.Function(
        fields.Selection('get_period_states', "Period State"),
        'on_change_with_period_state')
    marks = fields.Integer(
        "Marks", readonly=True, help="The number of marks in the term.")
    average = fields.Numeric(
        "Weighted Average", digits=(3, 2), readonly=True,
        help="The marks weighted by their task types.")
    proposed = fields.Selection(
        GRADES, "Proposed", readonly=True, sort=False,
        help="The grade the rounding rule gives.")
    value = fields.Selection(
        GRADES, "Grade", sort=False, states=_states,
        help="The grade the teacher sets.")
    comment = fields.Text(
        "Comment", states=_states,
        help="Why the grade differs from the proposed one.")

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('grade_unique', Unique(t, t.teaching, t.student, t.period),
                'school_ejournal.msg_grade_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.student, Index.Equality())))
        cls._order = [('period', 'ASC NULLS LAST'),
            ('student.last_name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_period_states(cls):
        return Pool().get('school.period').fields_get(
            ['state'])['state']['selection']

    @fields.depends('period', '_parent_period.state')
    def on_change_with_period_state(self, name=None):
        return self.period.state if self.period else 'open'

    @classmethod
    def _complete_values(cls, vlist):
        pool = Pool()
        Teaching = pool.get('school.teaching')
        vlist = super()._complete_values(vlist)
        teachings = {t.id: t for t in Teaching.browse(
                list({v['teaching'] for v in vlist if v.get('teaching')}))}
        for values in vlist:
            teaching = teachings.get(values.get('teaching'))
            if teaching:
                values['subject'] = teaching.subject.id
                values['class_'] = teaching.class_.id
        return vlist

    @classmethod
    def check_teacher(cls, teaching):
        "Refuse computing the grades of a teaching to another teacher"
        if (teaching.teacher.id not in user_employees()
                and not user_in('deputy_academic')):
            raise AccessError(gettext(
                    'school_ejournal.msg_grade_not_yours',
                    teaching=teaching.rec_name))

    def get_rec_name(self, name):
        return '%s, %s, %s' % (
            self.student.rec_name, self.subject.rec_name,
            self.period.rec_name if self.period else self.class_.year.name)

    @classmethod
    def validate(cls, grades):
        super().validate(grades)
        for grade in grades:
            if (grade.value and grade.proposed
                    and grade.value != grade.proposed
                    and not (grade.comment or '').strip()):
                raise GradeError(gettext(
                        'school_ejournal.msg_grade_comment',
                        grade=grade.rec_name, proposed=grade.proposed,
                        value=grade.value))

    @classmethod
    def compute(cls, teaching, period):
        """Create or refresh the term grades of the teaching's students for
        the period from the weighted average of their marks."""
        return cls.compute_many([teaching], period)

    @classmethod
    def compute_many(cls, teachings, period):
        """Create or refresh the term grades of the students of the
        teachings for the period: one query for the averages, one for the
        students who attended, one for the grades there are, one save."""
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        Configuration = pool.get('school.configuration')
        config = Configuration(1)
        lesson = Lesson.__table__()
        cursor = Transaction().connection.cursor()
        teachings = {t.id: t for t in teachings}
        stats = {}
        students = set()
        line = Line.__table__()
        for sub_ids in grouped_slice(list(teachings), MAX_QUERY_PARAMS):
            def in_teachings(column, ids=list(sub_ids)):
                return fields.SQL_OPERATORS['in'](column, ids)
            cursor.execute(*Mark.average_query(
                    where=lambda mark, lesson: in_teachings(lesson.teaching)
                    & (lesson.period == period.id),
                    group_by=('teaching', 'student')))
            for teaching, student, weighted, weights, count in cursor:
                stats[teaching, student] = (
                    weighted_average(weighted, weights), count)
            cursor.execute(*line
                .join(lesson, condition=line.lesson == lesson.id)
                .select(lesson.teaching, line.student,
                    where=in_teachings(lesson.teaching)
                    & (lesson.period == period.id)
                    & (lesson.state == 'held'),
                    group_by=[lesson.teaching, line.student]))
            students.update(cursor)
        students.update(stats)
        existing = {(g.teaching.id, g.student.id): g for g in cls.search([
                    ('teaching', 'in', list(teachings)),
                    ('period', '=', period.id),
                    ])}
        to_save = []
        for key in sorted(students):
            teaching = teachings[key[0]]
            average, count = stats.get(key, (None, 0))
            grade = existing.get(key) or cls(
                teaching=teaching, student=key[1], period=period,
                subject=teaching.subject, class_=teaching.class_)
            grade.average = average
            grade.marks = count
            grade.proposed = propose(
                average, count, config.grade_threshold,
                config.grade_min_marks)
            if not getattr(grade, 'value', None):
                grade.value = grade.proposed
            to_save.append(grade)
        cls.save(to_save)
        return to_save

    @classmethod
    def compute_year(cls, teaching):
        "Create or refresh the year grades from the term grades"
        pool = Pool()
        Configuration = pool.get('school.configuration')
        config = Configuration(1)
        terms = cls.search([
                ('teaching', '=', teaching.id),
                ('period', '!=', None),
                ])
        by_student = {}
        for grade in terms:
            by_student.setdefault(grade.student.id, []).append(grade.value)
        existing = {g.student.id: g for g in cls.search([
                    ('teaching', '=', teaching.id),
                    ('period', '=', None),
                    ])}
        to_save = []
        for student, values in sorted(by_student.items()):
            numbers = [int(v) for v in values if v and v.isdigit()]
            average = weighted_average(sum(numbers), len(numbers))
            grade = existing.get(student) or cls(
                teaching=teaching, student=student, period=None,
                subject=teaching.subject, class_=teaching.class_)
            grade.average = average
            grade.marks = len(numbers)
            grade.proposed = propose(
                average, len(numbers), config.grade_threshold, 1)
            if not getattr(grade, 'value', None):
                grade.value = grade.proposed
            to_save.append(grade)
        cls.save(to_save)
        return to_save


class ComputeGradesStart(RPCGuardMixin, ModelView):
    "Compute term grades"
    __name__ = 'school.grade.compute.start'

    teaching = fields.Many2One('school.teaching', "Teaching", required=True)
    period = fields.Many2One(
        'school.period', "Study Period",
        domain=[('year', '=', Eval('year', -1))],
        help="Leave empty to compute the year grades from the term grades.")
    year = fields.Function(
        fields.Many2One('school.year', "Academic Year"),
        'on_change_with_year')

    @fields.depends('teaching', '_parent_teaching.class_')
    def on_change_with_year(self, name=None):
        return self.teaching.class_.year if self.teaching else None


class ComputeGrades(ValidationWizardMixin, Wizard):
    "Compute the term or year grades of a teaching"
    __name__ = 'school.grade.compute'

    start = StateView('school.grade.compute.start',
        'school_ejournal.grade_compute_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Compute", 'compute', 'tryton-ok', default=True),
            ])
    compute = StateTransition()

    def default_start(self, fields):
        if (self.model and self.model.__name__ == 'school.teaching'
                and self.record):
            return {'teaching': self.record.id}
        return {}

    def transition_compute(self):
        pool = Pool()
        Grade = pool.get('school.grade')
        Grade.check_teacher(self.start.teaching)
        if self.start.period:
            Grade.compute(self.start.teaching, self.start.period)
        else:
            Grade.compute_year(self.start.teaching)
        return 'end'
