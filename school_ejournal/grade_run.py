# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The deputy's term grades: computed for a class or the whole school in
one run with a summary; a warning before a period closes with grades
missing."""
from sql import Literal, Null
from sql.aggregate import Count
from sql.conditionals import Coalesce

from trytond.exceptions import UserWarning
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import user_in
from .validation import RPCGuardMixin, ValidationWizardMixin

# Places named in the warning before the others are counted
WHERE_SHOWN = 8


def missing_grades(period):
    """Return [(class, subject, count)] of the students who attended held
    lessons of the period in a subject and have no term grade in it"""
    pool = Pool()
    Lesson = pool.get('school.lesson')
    Line = pool.get('school.lesson.attendance')
    Grade = pool.get('school.grade')
    Class = pool.get('school.class')
    Level = pool.get('school.level')
    Subject = pool.get('school.subject')
    lesson = Lesson.__table__()
    line = Line.__table__()
    grade = Grade.__table__()
    class_ = Class.__table__()
    level = Level.__table__()
    cursor = Transaction().connection.cursor()
    # One row a student and teaching of the levels given marks, then the
    # ones without a grade
    attended = (line
        .join(lesson, condition=line.lesson == lesson.id)
        .join(class_, condition=lesson.class_ == class_.id)
        .join(level, condition=class_.level == level.id)
        .select(lesson.teaching, lesson.class_, lesson.subject, line.student,
            where=(lesson.period == period.id) & (lesson.state == 'held')
            & (level.marks == Literal(True)),
            group_by=[lesson.teaching, lesson.class_, lesson.subject,
                line.student]))
    cursor.execute(*attended
        .join(grade, 'LEFT', condition=(grade.teaching == attended.teaching)
            & (grade.student == attended.student)
            & (grade.period == period.id))
        .select(attended.class_, attended.subject, Count(Literal(1)),
            where=(grade.id == Null) | (Coalesce(grade.value, '') == ''),
            group_by=[attended.class_, attended.subject]))
    rows = list(cursor)
    classes = {c.id: c for c in Class.browse({r[0] for r in rows})}
    subjects = {s.id: s for s in Subject.browse({r[1] for r in rows})}
    return sorted(((classes[c], subjects[s], n) for c, s, n in rows),
        key=lambda r: (r[0].rec_name, r[1].rec_name))


def warn_missing_grades(periods):
    "Warn, once for each period, before closing it with grades missing"
    pool = Pool()
    Warning = pool.get('res.user.warning')
    for period in periods:
        missing = missing_grades(period)
        if not missing:
            continue
        key = Warning.format('school_period_close_missing_grades', [period])
        if Warning.check(key):
            where = ', '.join('%s %s (%s)' % (c.rec_name, s.rec_name, n)
                for c, s, n in missing[:WHERE_SHOWN])
            if len(missing) > WHERE_SHOWN:
                where += gettext('school_ejournal.msg_and_more',
                    count=len(missing) - WHERE_SHOWN)
            raise UserWarning(key, gettext(
                    'school_ejournal.msg_period_close_missing_grades',
                    period=period.rec_name,
                    count=sum(n for _, _, n in missing),
                    places=len(missing), where=where))


class ComputeAllGradesStart(RPCGuardMixin, ModelView):
    "Compute Term Grades of the School"
    __name__ = 'school.grade.compute_all.start'

    period = fields.Many2One(
        'school.period', "Study Period", required=True,
        help="The term whose grades are computed.")
    class_ = fields.Many2One(
        'school.class', "Class",
        domain=[('year', '=', Eval('year', -1))],
        help="Leave empty to compute the grades of the whole school.")
    year = fields.Function(
        fields.Many2One('school.year', "Academic Year"),
        'on_change_with_year')

    @fields.depends('period', '_parent_period.year')
    def on_change_with_year(self, name=None):
        return self.period.year if self.period else None

    @classmethod
    def default_period(cls):
        pool = Pool()
        Period = pool.get('school.period')
        Date = pool.get('ir.date')
        today = Date.today()
        # The term of today, a quarter rather than a half-year (most
        # classes are graded by quarters); in holidays the last ended
        periods = Period.search([
                ('start_date', '<=', today),
                ('state', '=', 'open'),
                ], order=[('start_date', 'DESC'), ('kind', 'DESC')], limit=1)
        return periods[0].id if periods else None


class ComputeAllGradesDone(RPCGuardMixin, ModelView):
    "Term Grades Computed"
    __name__ = 'school.grade.compute_all.done'

    summary = fields.Text("Summary", readonly=True)


class ComputeAllGrades(ValidationWizardMixin, Wizard):
    "Compute the term grades of a class or of the whole school"
    __name__ = 'school.grade.compute_all'

    start = StateView('school.grade.compute_all.start',
        'school_ejournal.grade_compute_all_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Compute", 'compute', 'tryton-ok', default=True),
            ])
    compute = StateTransition()
    done = StateView('school.grade.compute_all.done',
        'school_ejournal.grade_compute_all_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_compute(self):
        self.done.summary = self.run(self.start.period, self.start.class_)
        return 'done'

    def default_done(self, fields):
        return {'summary': self.done.summary}

    @classmethod
    def run(cls, period, class_=None):
        """Compute the grades of every teaching of the period's classes
        (or of class_); return the summary"""
        pool = Pool()
        Grade = pool.get('school.grade')
        Teaching = pool.get('school.teaching')
        if not user_in('school_admin', 'deputy_academic'):
            raise AccessError(gettext(
                    'school_ejournal.msg_grade_compute_all_deputy'))
        # The levels without marks (the 1st classes) have no term grades
        domain = [
            ('class_.year', '=', period.year.id),
            ('class_.level.period_kind', '=', period.kind),
            ('class_.level.marks', '=', True),
            ]
        if class_:
            domain.append(('class_', '=', class_.id))
        grades = Grade.compute_many(
            Teaching.search(domain, order=[('id', 'ASC')]), period)
        return gettext('school_ejournal.msg_grade_compute_all_summary',
            period=period.rec_name,
            where=class_.rec_name if class_ else gettext(
                'school_ejournal.msg_grade_compute_all_school'),
            count=len(grades),
            na=sum(1 for g in grades if g.value == 'na'),
            classes=len({g.class_.id for g in grades}),
            subjects=len({g.subject.id for g in grades}))
