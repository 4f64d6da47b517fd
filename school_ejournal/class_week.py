# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The class teacher's tools: her class's week as students × days, a whole
day's absence reason fixed at once, a student's marks by subject with
weighted averages."""
import datetime as dt
from collections import defaultdict

from sql import Column, Literal, Null
from sql.aggregate import Min

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import ABSENCE_REASONS, ATTENDANCE, user_in
from .exceptions import LessonError
from .mark import weighted_average
from .validation import RPCGuardMixin, ValidationMixin, ValidationWizardMixin

WEEK_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday',
    'saturday']
ATTENDANCE_CODES = dict(ATTENDANCE)
# The reasons a whole day's absences may be given
DAY_REASONS = [
    ('ill', "Б (ill)"),
    ('excused', "УП (excused)"),
    ('absent', "Н (no valid reason)"),
    ]


def _sql_nulls(cls):
    "The columns every table query gives Tryton"
    return [
        cls.create_uid.sql_cast(Literal(Null)).as_('create_uid'),
        cls.create_date.sql_cast(Literal(Null)).as_('create_date'),
        cls.write_uid.sql_cast(Literal(Null)).as_('write_uid'),
        cls.write_date.sql_cast(Literal(Null)).as_('write_date'),
        ]


def week_of(date):
    "Return the Monday and the Saturday of the date's week"
    monday = date - dt.timedelta(days=date.weekday())
    return monday, monday + dt.timedelta(days=5)


class ClassWeekContext(RPCGuardMixin, ModelView):
    "Class Week"
    __name__ = 'school.class.week.context'

    date = fields.Date(
        "Week of", required=True,
        help="Any day of the week to show.")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class ClassWeek(ValidationMixin, ModelSQL, ModelView):
    """A student of a class in a week: each school day's absences and
    marks"""
    __name__ = 'school.class.week'

    student = fields.Many2One('school.student', "Student", readonly=True)
    class_ = fields.Many2One('school.class', "Class", readonly=True)
    monday = fields.Function(fields.Char("Mon"), 'get_days')
    tuesday = fields.Function(fields.Char("Tue"), 'get_days')
    wednesday = fields.Function(fields.Char("Wed"), 'get_days')
    thursday = fields.Function(fields.Char("Thu"), 'get_days')
    friday = fields.Function(fields.Char("Fri"), 'get_days')
    saturday = fields.Function(fields.Char("Sat"), 'get_days')
    absences = fields.Function(
        fields.Integer("Absences",
            help="The lessons of the week the student missed."),
        'get_days')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('class_', 'ASC'), ('student.last_name', 'ASC'),
            ('student.first_name', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _week(cls):
        date = Transaction().context.get('date')
        if isinstance(date, str):
            date = dt.date.fromisoformat(date)
        if not isinstance(date, dt.date):
            date = Pool().get('ir.date').today()
        return week_of(date)

    @classmethod
    def table_query(cls):
        "The enrolments of the week (one row a student and class)"
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        enrolment = Enrolment.__table__()
        monday, saturday = cls._week()
        return enrolment.select(
            enrolment.id.as_('id'), enrolment.student.as_('student'),
            enrolment.class_.as_('class_'), *_sql_nulls(cls),
            where=(enrolment.start_date <= saturday)
            & ((enrolment.end_date == Null)
                | (enrolment.end_date >= monday)))

    def get_rec_name(self, name):
        return self.student.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('student.rec_name', *clause[1:])]

    @classmethod
    def get_days(cls, rows, names):
        """Each day's absences (codes with their counts) and marks, from
        one attendance and one marks query"""
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        cursor = Transaction().connection.cursor()
        monday, saturday = cls._week()
        keys = {(r.student.id, r.class_.id) for r in rows}
        students = sorted({s for s, _ in keys})
        absences = defaultdict(list)
        if students:
            cursor.execute(*Line.attendance_query(
                    where=lambda line, lesson: line.student.in_(students)
                    & (lesson.date >= monday) & (lesson.date <= saturday)
                    & (line.attendance != Null),
                    group_by=('student', 'class_', 'date')))
            for student, class_, date, attendance, count in cursor:
                absences[student, class_, _date(date)].append(
                    (attendance, count))
        marks = defaultdict(list)
        if students:
            mark = Mark.__table__()
            lesson = Lesson.__table__()
            cursor.execute(*mark
                .join(lesson, condition=mark.lesson == lesson.id)
                .select(mark.student, lesson.class_, mark.date, mark.value,
                    where=mark.student.in_(students)
                    & (mark.date >= monday) & (mark.date <= saturday)
                    & (mark.cancelled == Literal(False)),
                    order_by=[mark.date, lesson.number, mark.task, mark.id]))
            for student, class_, date, value in cursor:
                marks[student, class_, _date(date)].append(value)
        result = {n: {} for n in names}
        for row in rows:
            key = (row.student.id, row.class_.id)
            missed = 0
            for index, day in enumerate(WEEK_DAYS):
                date = monday + dt.timedelta(days=index)
                codes = sorted(absences.get((*key, date), []),
                    key=lambda a: list(ATTENDANCE_CODES).index(a[0]))
                missed += sum(c for a, c in codes if a in ABSENCE_REASONS)
                if day in result:
                    text = ' '.join(
                        '%s%s' % (ATTENDANCE_CODES[a], '×%s' % c
                            if c > 1 else '') for a, c in codes)
                    values = ' '.join(marks.get((*key, date), []))
                    result[day][row.id] = ' · '.join(
                        filter(None, [text, values])) or None
            if 'absences' in result:
                result['absences'][row.id] = missed
        return result


def _date(value):
    "A date from the database (SQLite answers text)"
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


class DayReasonStart(RPCGuardMixin, ModelView):
    "Absence Reason of a Day"
    __name__ = 'school.attendance.day_reason.start'

    student = fields.Many2One(
        'school.student', "Student", required=True, readonly=True)
    date = fields.Date("Date", required=True)
    reason = fields.Selection(
        DAY_REASONS, "Reason", required=True, sort=False,
        help="Set on every absence of the student that day.")


class DayReason(ValidationWizardMixin, Wizard):
    """Set the reason of all the absences of a student on a day, as a
    certificate or a parent's note gives it"""
    __name__ = 'school.attendance.day_reason'

    start = StateView('school.attendance.day_reason.start',
        'school_ejournal.day_reason_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Set", 'set_', 'tryton-ok', default=True),
            ])
    set_ = StateTransition()

    def default_start(self, fields):
        pool = Pool()
        Date = pool.get('ir.date')
        values = {'reason': 'ill'}
        record = self.record
        if record is None:
            return values
        if self.model.__name__ == 'school.student':
            values['student'] = record.id
        elif self.model.__name__ == 'school.class.week':
            values['student'] = record.student.id
        date = Transaction().context.get('date')
        if isinstance(date, str):
            date = dt.date.fromisoformat(date)
        today = Date.today()
        values['date'] = date or today
        if 'student' in values:
            # The last day of the week, up to today, the student missed
            monday, saturday = week_of(date or today)
            Line = pool.get('school.lesson.attendance')
            lines = Line.search([
                    ('student', '=', values['student']),
                    ('lesson.date', '>=', monday),
                    ('lesson.date', '<=', min(saturday, today)),
                    ('lesson.state', '=', 'held'),
                    ('attendance', 'in', sorted(ABSENCE_REASONS)),
                    ], order=[('lesson.date', 'DESC')], limit=1)
            if lines:
                values['date'] = lines[0].lesson.date
        return values

    def transition_set_(self):
        self.set_reason(self.start.student, self.start.date,
            self.start.reason)
        return 'end'

    @classmethod
    def set_reason(cls, student, date, reason):
        """Set the reason of the student's absences on the date through
        the rules of the attendance (its history keeps the former)"""
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        Enrolment = pool.get('school.enrolment')
        User = pool.get('res.user')
        if reason not in ABSENCE_REASONS:
            raise LessonError(gettext(
                    'school_ejournal.msg_day_reason_reason', reason=reason))
        if not user_in('school_admin', 'deputy_academic', 'deputy_pastoral'):
            class_id = Enrolment.class_by_student([student.id], date)[
                student.id]
            if class_id not in User.get_school_scope()['led_classes']:
                raise AccessError(gettext(
                        'school_ejournal.msg_day_reason_not_led',
                        student=student.rec_name, date=date))
        with check_access():
            lines = Line.search([
                    ('student', '=', student.id),
                    ('lesson.date', '=', date),
                    ('lesson.state', '=', 'held'),
                    ('attendance', 'in', sorted(ABSENCE_REASONS)),
                    ])
            if not lines:
                raise LessonError(gettext(
                        'school_ejournal.msg_day_reason_no_absence',
                        student=student.rec_name, date=date))
            changed = [l for l in lines if l.attendance != reason]
            if changed:
                Line.write(changed, {'attendance': reason})
        return lines


class SubjectSummary(ValidationMixin, ModelSQL, ModelView):
    """A student's marks in a subject and study period with their weighted
    average"""
    __name__ = 'school.student.subject_summary'

    student = fields.Many2One('school.student', "Student", readonly=True)
    class_ = fields.Many2One('school.class', "Class", readonly=True)
    subject = fields.Many2One('school.subject', "Subject", readonly=True)
    period = fields.Many2One('school.period', "Study Period", readonly=True)
    marks_count = fields.Integer(
        "Number of Marks", readonly=True,
        help="The number of the numeric marks not cancelled.")
    weighted = fields.Numeric("Weighted Points", readonly=True)
    weights = fields.Numeric("Weights", readonly=True)
    average = fields.Function(
        fields.Numeric("Weighted Average", digits=(3, 2),
            help="The marks weighted by their task types."),
        'get_average')
    marks = fields.Function(
        fields.Char("Marks", help="The marks in the order given."),
        'get_marks')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'DESC'), ('subject', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        "Mark.average_query by student, class, subject and period"
        pool = Pool()
        Mark = pool.get('school.mark')
        query = Mark.average_query(
            group_by=('student', 'class_', 'subject', 'period'),
            aggregates=[lambda mark, lesson: Min(mark.id).as_('id')])
        return query.select(
            *(Column(query, n) for n in [
                    'id', 'student', 'class_', 'subject', 'period']),
            Column(query, 'count').as_('marks_count'),
            Column(query, 'weighted'), Column(query, 'weights'),
            *_sql_nulls(cls))

    def get_average(self, name):
        return weighted_average(self.weighted, self.weights)

    def get_rec_name(self, name):
        return '%s, %s' % (self.student.rec_name, self.subject.rec_name)

    @classmethod
    def get_marks(cls, summaries, name):
        "The marks of each row with one query"
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        mark = Mark.__table__()
        lesson = Lesson.__table__()
        cursor = Transaction().connection.cursor()
        students = sorted({s.student.id for s in summaries})
        by_key = defaultdict(list)
        if students:
            cursor.execute(*mark
                .join(lesson, condition=mark.lesson == lesson.id)
                .select(mark.student, lesson.class_, lesson.subject,
                    lesson.period, mark.value,
                    where=mark.student.in_(students)
                    & (mark.cancelled == Literal(False))
                    & (mark.points != Null),
                    order_by=[mark.date, mark.lesson, mark.task, mark.id]))
            for student, class_, subject, period, value in cursor:
                by_key[student, class_, subject, period].append(value)
        return {s.id: ' '.join(by_key.get((
                        s.student.id, s.class_.id, s.subject.id,
                        s.period.id if s.period else None), []))
            for s in summaries}
