# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The rules of the journal-keeping analysis, each one set-based query (or
one per month, checkpoint or week) over the core's tables and query layer,
returning findings: dicts of the ids a remark is about, its date and the
parameters of its text."""
import datetime as dt
import math

from sql import Cast, Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce, Least
from sql.functions import Extract, Floor, Function
from sql.operators import Exists

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

ABSENCES = ('absent', 'ill', 'excused')
DAY = 24 * 60 * 60


class _JulianDay(Function):
    __slots__ = ()
    _function = 'JULIANDAY'


class _Date(Function):
    __slots__ = ()
    _function = 'DATE'


def day_number(value):
    """The SQL of the days from 1970-01-01 to the day of the date or time
    (on SQLite by its own date functions: EXTRACT is a Python function
    there, called for each row)"""
    if backend.name == 'sqlite':
        # julianday('1970-01-01') is 2440587.5
        return _JulianDay(_Date(value)) - 2440587.5
    return Floor(Extract('EPOCH', value) / DAY)


def days_between(later, earlier):
    "The SQL of the days from the day of earlier to the day of later"
    return day_number(later) - day_number(earlier)


def month_starts(start, end):
    day = start.replace(day=1)
    while day <= end:
        yield day
        day = (day + dt.timedelta(days=32)).replace(day=1)


class AuditRules:
    """The rules of school.audit.run: a method _rule_<name> per rule of
    RULES, run over the run's window and scope"""
    __slots__ = ()

    @property
    def _today(self):
        "The rules judge only the days that are over, before today"
        return Pool().get('ir.date').today()

    def _lesson_where(self, lesson):
        "The condition on the lessons of the run's school, window and scope"
        condition = ((lesson.company == self.company.id)
            & (lesson.date >= self.start_date)
            & (lesson.date <= self.end_date)
            & (lesson.date < self._today))
        if self.scope == 'class':
            condition &= lesson.class_ == self.class_.id
        elif self.scope == 'teacher':
            condition &= lesson.teacher == self.teacher.id
        return condition

    @staticmethod
    def _lesson_finding(row, **values):
        id_, teacher, class_, subject, period, date = row[:6]
        return dict(lesson=id_, teacher=teacher, class_=class_,
            subject=subject, period=period, date=date, **values)

    @staticmethod
    def _lesson_columns(lesson):
        return [lesson.id, lesson.teacher, lesson.class_, lesson.subject,
            lesson.period, lesson.date]

    def _execute(self, query):
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return cursor.fetchall()

    def _rule_not_filled(self):
        "Lessons past their day not marked held or without topic (homework)"
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Configuration = pool.get('school.configuration')
        homework = Configuration(1).audit_homework
        lesson = Lesson.__table__()
        no_topic = Coalesce(lesson.topic, '') == ''
        no_homework = Coalesce(lesson.homework, '') == ''
        held = lesson.state == 'held'
        missing = no_topic
        if homework:
            missing |= no_homework
        query = lesson.select(
            *self._lesson_columns(lesson), lesson.state, no_topic, no_homework,
            where=self._lesson_where(lesson)
            & ((lesson.state == 'planned') | (held & missing)))
        for row in self._execute(query):
            state, topic, homework_ = row[6:]
            parts = []
            if state == 'planned':
                parts.append('held')
            else:
                if topic:
                    parts.append('topic')
                if homework and homework_:
                    parts.append('homework')
            yield self._lesson_finding(row, params={'missing': parts})

    def _rule_filled_late(self):
        """Held lessons written (topic, homework, tasks, attendance or marks
        through the lesson) after their day; a write that only entered
        marks of written work within the checking norm does not count."""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Mark = pool.get('school.mark')
        lesson = Lesson.__table__()
        mark = Mark.__table__()
        days = days_between(lesson.filled_at, lesson.date)
        same_day = Exists(mark.select(mark.id,
                where=(mark.lesson == lesson.id)
                & (mark.late == Literal(True))
                & (days_between(lesson.filled_at, mark.entered_at) == 0)
                & (days_between(mark.entered_at, lesson.date) >= 1)))
        query = lesson.select(*self._lesson_columns(lesson), days,
            where=self._lesson_where(lesson)
            & (lesson.state == 'held')
            & (lesson.filled_at != Null)
            & (days >= 1)
            & ~same_day)
        for row in self._execute(query):
            yield self._lesson_finding(row, params={'days': int(row[6])})

    def _rule_no_attendance(self):
        "Held lessons past their day without a line of attendance"
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        lesson = Lesson.__table__()
        line = Line.__table__()
        query = lesson.select(*self._lesson_columns(lesson),
            where=self._lesson_where(lesson)
            & (lesson.state == 'held')
            & ~Exists(line.select(line.id, where=line.lesson == lesson.id)))
        for row in self._execute(query):
            yield self._lesson_finding(row)

    def _rule_absences(self):
        """Students who missed (Н, Б, УП) at least the configured share of
        their lessons of a calendar month (up to the run's date)"""
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        Class = pool.get('school.class')
        Configuration = pool.get('school.configuration')
        rate = Configuration(1).audit_absence_rate
        class_ = Class.__table__()
        for month in month_starts(self.start_date, self.end_date):
            month_end = (month + dt.timedelta(days=32)).replace(
                day=1) - dt.timedelta(days=1)
            end = min(month_end, self.end_date, self._today
                - dt.timedelta(days=1))
            if end < month:
                continue

            def where(line, lesson):
                condition = ((lesson.company == self.company.id)
                    & (lesson.date >= month) & (lesson.date <= end))
                if self.scope == 'class':
                    condition &= lesson.class_ == self.class_.id
                return condition
            counts = Line.attendance_query(
                where=where, group_by=('student', 'class_'))
            missed = Sum(Case(
                    (counts.attendance.in_(ABSENCES), counts.count),
                    else_=0))
            total = Sum(counts.count)
            query = counts.join(class_,
                condition=counts.class_ == class_.id
                ).select(
                    counts.student, counts.class_, class_.class_teacher,
                    missed, total,
                    group_by=[
                        counts.student, counts.class_, class_.class_teacher],
                    having=missed * 100 >= total * rate)
            if self.scope == 'teacher':
                query.where = class_.class_teacher == self.teacher.id
            for student, class_id, teacher, missed_, total_ in self._execute(
                    query):
                yield dict(student=student, class_=class_id, teacher=teacher,
                    date=month, params={
                        'month': month.isoformat(),
                        'missed': int(missed_), 'total': int(total_),
                        'percent': int(missed_ * 100 // total_)})

    def _mark_where(self, mark, lesson):
        condition = ((lesson.company == self.company.id)
            & (mark.date >= self.start_date)
            & (mark.date <= self.end_date))
        if self.scope == 'class':
            condition &= lesson.class_ == self.class_.id
        elif self.scope == 'teacher':
            condition &= lesson.teacher == self.teacher.id
        return condition

    def _mark_finding(self, row, **values):
        mark, student, *lesson_row = row[:8]
        return self._lesson_finding(
            lesson_row, mark=mark, student=student, **values)

    def _rule_mark_untyped(self):
        """Marks whose task is missing, of another lesson or of another
        type: the model refuses them, so only data written past it"""
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        Task = pool.get('school.lesson.task')
        mark = Mark.__table__()
        lesson = Lesson.__table__()
        task = Task.__table__()
        query = (mark
            .join(lesson, condition=mark.lesson == lesson.id)
            .join(task, 'LEFT', condition=mark.task == task.id)
            .select(mark.id, mark.student, *self._lesson_columns(lesson),
                where=self._mark_where(mark, lesson)
                & (mark.cancelled == Literal(False))
                & ((task.id == Null) | (task.lesson != mark.lesson)
                    | (task.type != mark.type) | (mark.type == Null))))
        for row in self._execute(query):
            yield self._mark_finding(row)

    def _rule_mark_beyond_norm(self):
        "Marks created more days after their lesson than their type allows"
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        TaskType = pool.get('school.task.type')
        mark = Mark.__table__()
        lesson = Lesson.__table__()
        type_ = TaskType.__table__()
        days = days_between(mark.entered_at, mark.date)
        query = (mark
            .join(lesson, condition=mark.lesson == lesson.id)
            .join(type_, condition=mark.type == type_.id)
            .select(mark.id, mark.student, *self._lesson_columns(lesson),
                days, type_.check_days,
                where=self._mark_where(mark, lesson)
                & (days > type_.check_days)))
        for row in self._execute(query):
            yield self._mark_finding(row, params={
                    'days': int(row[8]), 'norm': row[9]})

    def _rule_mark_corrected(self):
        "Corrections requested of the marks of the window"
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        Correction = pool.get('school.mark.correction')
        mark = Mark.__table__()
        lesson = Lesson.__table__()
        correction = Correction.__table__()
        query = (correction
            .join(mark, condition=correction.mark == mark.id)
            .join(lesson, condition=mark.lesson == lesson.id)
            .select(mark.id, mark.student, *self._lesson_columns(lesson),
                correction.id, correction.old_value, correction.new_value,
                correction.state,
                where=self._mark_where(mark, lesson)))
        for row in self._execute(query):
            correction_id, old, new, state = row[8:]
            yield self._mark_finding(row, correction=correction_id, params={
                    'old': old, 'new': new or '—', 'state': state})

    def _rule_no_substitution(self):
        """Held lessons filled in by a user who is not their teacher, when
        no substitution is recorded; the deputies and the school's
        administrators correct journals without substituting"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Substitution = pool.get('school.substitution')
        UserEmployee = pool.get('res.user-company.employee')
        UserGroup = pool.get('res.user-res.group')
        ModelData = pool.get('ir.model.data')
        lesson = Lesson.__table__()
        substitution = Substitution.__table__()
        user_employee = UserEmployee.__table__()
        user_group = UserGroup.__table__()
        groups = [ModelData.get_id('school_ejournal', 'group_' + g)
            for g in ['school_admin', 'deputy_academic']]
        query = lesson.select(*self._lesson_columns(lesson), lesson.filled_by,
            where=self._lesson_where(lesson)
            & (lesson.state == 'held')
            & (lesson.filled_by != Null)
            & (lesson.filled_by != 0)
            & ~Exists(user_employee.select(user_employee.id,
                    where=(user_employee.user == lesson.filled_by)
                    & (user_employee.employee == lesson.teacher)))
            & ~Exists(user_group.select(user_group.id,
                    where=(user_group.user == lesson.filled_by)
                    & user_group.group.in_(groups)))
            & ~Exists(substitution.select(substitution.id,
                    where=substitution.lesson == lesson.id)))
        for row in self._execute(query):
            yield self._lesson_finding(row, params={'user': row[6]})

    def _accumulation_checkpoints(self):
        """Yield (period, checkpoint, date) of the terms overlapping the
        window: the ends of the 3rd and 4th weeks and of the term, when the
        date is in the window and over"""
        pool = Pool()
        Period = pool.get('school.period')
        periods = Period.search([
                ('year.company', '=', self.company.id),
                ('start_date', '<=', self.end_date),
                ('end_date', '>=', self.start_date),
                ])
        for period in periods:
            for checkpoint, date in [
                    ('week_3', period.start_date + dt.timedelta(days=20)),
                    ('week_4', period.start_date + dt.timedelta(days=27)),
                    ('term', period.end_date),
                    ]:
                if (self.start_date <= date <= self.end_date
                        and date < self._today and date <= period.end_date):
                    yield period, checkpoint, date

    def _accumulation_due(self, checkpoint, hours):
        "Return the marks due at the checkpoint at the weekly hours"
        config = Pool().get('school.configuration')(1)
        whole = int(hours or 0)
        if checkpoint == 'term':
            if whole < 2:
                return config.audit_term_marks_one
            return math.ceil(config.audit_term_marks * whole / 2)
        week = 3 if checkpoint == 'week_3' else 4
        per_two = (config.audit_marks_week_3 if week == 3
            else config.audit_marks_week_4)
        if whole < 2:
            return per_two if config.audit_grace_weeks_one < week else 0
        return per_two * (whole // 2) if config.audit_grace_weeks < week else 0

    def _teaching_hours(self):
        "Return the whole weekly hours of the school's teachings, one query"
        Teaching = Pool().get('school.teaching')
        teaching = Teaching.__table__()
        return sorted({int(h or 0) for h, in self._execute(teaching.select(
                        teaching.hours,
                        where=teaching.company == self.company.id,
                        group_by=[teaching.hours]))})

    def _accumulation_required(self, checkpoint, hours, whole_hours):
        """The SQL of the marks due at the checkpoint for the teaching's
        weekly hours column: a CASE on the whole hours (whole_hours: those
        of the school's teachings)"""
        Teaching = Pool().get('school.teaching')
        # SQLite stores a Numeric as bytes: cast as the field does
        whole = Floor(Coalesce(
                Cast(hours, Teaching.hours.sql_type().base), 0))
        whens = [(whole == h, due) for h, due in (
                (h, self._accumulation_due(checkpoint, h))
                for h in whole_hours) if due]
        return Case(*whens, else_=0) if whens else Literal(0)

    def _rule_accumulation(self):
        """Students with fewer marks of a teaching than required at the
        ends of the 3rd and 4th weeks and of the term (REQUIREMENTS rule 3),
        counted from the term's start among the students listed at the
        teaching's held lessons (a subgroup's for a subgroup's teaching),
        never in classes without marks"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        Mark = pool.get('school.mark')
        Teaching = pool.get('school.teaching')
        Class = pool.get('school.class')
        Level = pool.get('school.level')
        hours = None
        for period, checkpoint, date in self._accumulation_checkpoints():
            if hours is None:
                hours = self._teaching_hours()
            lesson = Lesson.__table__()
            line = Line.__table__()
            mark = Mark.__table__()
            mark_lesson = Lesson.__table__()
            teaching = Teaching.__table__()
            class_ = Class.__table__()
            level = Level.__table__()
            where = ((lesson.company == self.company.id)
                & (lesson.period == period.id)
                & (lesson.state == 'held')
                & (lesson.date <= date))
            if self.scope == 'class':
                where &= lesson.class_ == self.class_.id
            elif self.scope == 'teacher':
                where &= lesson.teacher == self.teacher.id
            attended = Sum(Case(
                    (line.attendance.in_(ABSENCES), 0), else_=1))
            missed = Sum(Case(
                    (line.attendance.in_(ABSENCES), 1), else_=0))
            presence = (line
                .join(lesson, condition=line.lesson == lesson.id)
                .select(line.student, lesson.teaching,
                    attended.as_('attended'), missed.as_('missed'),
                    where=where,
                    group_by=[line.student, lesson.teaching]))
            marks = (mark
                .join(mark_lesson, condition=mark.lesson == mark_lesson.id)
                .select(mark.student, mark_lesson.teaching,
                    Count(mark.id).as_('count'),
                    where=(mark_lesson.period == period.id)
                    & (mark.date <= date)
                    & (mark.cancelled == Literal(False)),
                    group_by=[mark.student, mark_lesson.teaching]))
            required = self._accumulation_required(
                checkpoint, teaching.hours, hours)
            due = Case(
                (presence.missed == 0, required),
                (presence.attended >= 2, Least(1, required)),
                else_=0)
            count = Coalesce(marks.count, 0)
            query = (presence
                .join(teaching, condition=presence.teaching == teaching.id)
                .join(class_, condition=teaching.class_ == class_.id)
                .join(level, condition=class_.level == level.id)
                .join(marks, 'LEFT',
                    condition=(marks.student == presence.student)
                    & (marks.teaching == presence.teaching))
                .select(presence.student, teaching.teacher, teaching.class_,
                    teaching.subject, count, due,
                    where=(level.marks == Literal(True))
                    & (level.number != 1)
                    & (count < due)))
            for student, teacher, class_id, subject, count_, due_ in (
                    self._execute(query)):
                yield dict(student=student, teacher=teacher,
                    class_=class_id, subject=subject, period=period.id,
                    date=date, checkpoint=checkpoint, params={
                        'checkpoint': checkpoint,
                        'count': int(count_), 'due': int(due_)})

    def _control_works(self, start, end):
        "The query of (class, date, subject) with a control work"
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Task = pool.get('school.lesson.task')
        TaskType = pool.get('school.task.type')
        lesson = Lesson.__table__()
        task = Task.__table__()
        type_ = TaskType.__table__()
        where = ((lesson.company == self.company.id)
            & (lesson.date >= start) & (lesson.date <= end)
            & (lesson.state != 'cancelled')
            & (type_.control == Literal(True)))
        if self.scope == 'class':
            where &= lesson.class_ == self.class_.id
        return (task
            .join(lesson, condition=task.lesson == lesson.id)
            .join(type_, condition=task.type == type_.id)
            .select(lesson.class_, lesson.date, lesson.subject,
                where=where,
                group_by=[lesson.class_, lesson.date, lesson.subject]))

    def _rule_control_day(self):
        "Classes with more control works on a day than the limit"
        if self.scope == 'teacher':
            return
        Configuration = Pool().get('school.configuration')
        limit = Configuration(1).audit_control_day
        works = self._control_works(self.start_date, self.end_date)
        query = works.select(works.class_, works.date, Count(Literal(1)),
            group_by=[works.class_, works.date],
            having=Count(Literal(1)) > limit)
        for class_, date, count in self._execute(query):
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            yield dict(class_=class_, date=date,
                params={'count': count, 'limit': limit})

    def _rule_control_week(self):
        """Classes with more control works in a week (Monday to Sunday) than
        the limit, for the weeks that end in the window"""
        if self.scope == 'teacher':
            return
        Configuration = Pool().get('school.configuration')
        limit = Configuration(1).audit_control_week
        monday = self.start_date - dt.timedelta(
            days=self.start_date.weekday())
        while monday <= self.end_date:
            sunday = monday + dt.timedelta(days=6)
            works = self._control_works(monday, sunday)
            query = works.select(works.class_, Count(Literal(1)),
                group_by=[works.class_],
                having=Count(Literal(1)) > limit)
            for class_, count in self._execute(query):
                yield dict(class_=class_, date=monday,
                    params={'count': count, 'limit': limit})
            monday += dt.timedelta(days=7)
