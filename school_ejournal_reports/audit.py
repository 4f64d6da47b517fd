# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The journal-keeping analysis («Анализ работы с классными журналами»):
runs that apply the rules to a window of the journal as set-based queries
and the remarks they raise, which teachers fix and the next run confirms."""
import datetime as dt
import json
import math
from collections import defaultdict

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce, Least
from sql.functions import Extract, Floor
from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, PYSONEncoder
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import AuditError, RemarkAccessError

SCOPES = [
    ('school', "School"),
    ('class', "Class"),
    ('teacher', "Teacher"),
    ]
WINDOWS = [
    ('week', "Week"),
    ('month', "Month"),
    ('term', "Term"),
    ('half', "Half-year"),
    ('year', "Year"),
    ]
RULES = [
    ('not_filled', "Lesson not filled in"),
    ('filled_late', "Lesson filled in late"),
    ('no_attendance', "Attendance not recorded"),
    ('absences', "Many lessons missed"),
    ('mark_untyped', "Mark without a typed task"),
    ('mark_beyond_norm', "Mark entered beyond the checking norm"),
    ('mark_corrected', "Mark corrected"),
    ('no_substitution', "Substitution not recorded"),
    ('accumulation', "Too few marks"),
    ('control_day', "Control works a day"),
    ('control_week', "Control works a week"),
    ]
SEVERITIES = [
    ('info', "Information"),
    ('warning', "Warning"),
    ('error', "Error"),
    ]
SEVERITY = {
    'not_filled': 'error',
    'filled_late': 'warning',
    'no_attendance': 'error',
    'absences': 'warning',
    'mark_untyped': 'error',
    'mark_beyond_norm': 'error',
    'mark_corrected': 'info',
    'no_substitution': 'warning',
    'accumulation': 'warning',
    'control_day': 'warning',
    'control_week': 'warning',
    }
# Remarks of past facts: nothing done later makes them untrue, so the
# teacher's explanation (fixed) is what the next run confirms
EVENT_RULES = {
    'filled_late', 'absences', 'mark_beyond_norm', 'mark_corrected',
    'control_day', 'control_week'}
ABSENCES = ('absent', 'ill', 'excused')
DAY = 24 * 60 * 60
UNRESOLVED = ('open', 'fixed', 'reopened')


def window_dates(window, date, period=None, year=None):
    "Return the first and last day of the window holding the date"
    if window == 'week':
        start = date - dt.timedelta(days=date.weekday())
    elif window == 'month':
        start = date.replace(day=1)
    elif window == 'term':
        start = period.start_date if period else date.replace(day=1)
    elif window == 'half':
        if date.month >= 9:
            start = year.start_date if year else date.replace(month=9, day=1)
        else:
            start = date.replace(month=1, day=1)
    else:
        start = year.start_date if year else date.replace(
            year=date.year - (date.month < 9), month=9, day=1)
    return start, date


def day_number(value):
    "The SQL of the days from 1970-01-01 to the day of the date or time"
    return Floor(Extract('EPOCH', value) / DAY)


def days_between(later, earlier):
    "The SQL of the days from the day of earlier to the day of later"
    return day_number(later) - day_number(earlier)


def month_starts(start, end):
    day = start.replace(day=1)
    while day <= end:
        yield day
        day = (day + dt.timedelta(days=32)).replace(day=1)


class AuditRun(Workflow, ModelSQL, ModelView):
    "An analysis of the journal keeping over a window"
    __name__ = 'school.audit.run'

    _states = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "School", required=True, states=_states)
    scope = fields.Selection(
        SCOPES, "Scope", required=True, states=_states,
        help="The whole school, one class or one teacher.")
    class_ = fields.Many2One(
        'school.class', "Class",
        states={
            'readonly': _states['readonly'],
            'required': Eval('scope') == 'class',
            'invisible': Eval('scope') != 'class',
            })
    teacher = fields.Many2One(
        'company.employee', "Teacher",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': _states['readonly'],
            'required': Eval('scope') == 'teacher',
            'invisible': Eval('scope') != 'teacher',
            })
    window = fields.Selection(
        WINDOWS, "Window", required=True, states=_states,
        help="The week, month, term, half-year or year up to the date.")
    date = fields.Date(
        "As of", required=True, states=_states,
        help="The last day the analysis covers.")
    start_date = fields.Date("From", readonly=True)
    end_date = fields.Date("To", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", readonly=True, required=True, sort=False)
    ran_at = fields.DateTime("Ran at", readonly=True)
    ran_by = fields.Many2One('res.user', "Ran by", readonly=True)
    remarks = fields.One2Many(
        'school.audit.remark', 'run', "Remarks", readonly=True,
        help="The remarks this run raised first.")
    remark_count = fields.Function(
        fields.Integer("Remarks"), 'get_remark_count')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update({
                'run': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return 'school'

    @classmethod
    def default_window(cls):
        return 'week'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        window = dict(self.fields_get(['window'])['window']['selection'])
        what = (self.class_.rec_name if self.scope == 'class' and self.class_
            else self.teacher.rec_name
            if self.scope == 'teacher' and self.teacher else None)
        name = '%s %s' % (window[self.window], self.date.strftime('%d.%m.%Y'))
        return '%s (%s)' % (name, what) if what else name

    @classmethod
    def get_remark_count(cls, runs, name):
        return {r.id: len(r.remarks) for r in runs}

    @classmethod
    def check_modification(cls, mode, runs, values=None, external=False):
        super().check_modification(
            mode, runs, values=values, external=external)
        if external and mode == 'write' and values.keys() - {'state'}:
            for run in runs:
                if run.state != 'draft':
                    raise AuditError(gettext(
                            'school_ejournal_reports.msg_run_done',
                            run=run.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def run(cls, runs):
        "Apply the rules and write the remarks"
        for run in runs:
            run._run()

    # The analysis

    def _window(self):
        pool = Pool()
        Year = pool.get('school.year')
        Period = pool.get('school.period')
        year = Year.find(self.company.id, self.date)
        period = None
        if self.window == 'term':
            periods = Period.search([
                    ('year.company', '=', self.company.id),
                    ('start_date', '<=', self.date),
                    ('end_date', '>=', self.date - dt.timedelta(days=31)),
                    ], order=[('start_date', 'DESC')], limit=1)
            period = periods[0] if periods else None
        return window_dates(self.window, self.date, period=period, year=year)

    def _run(self):
        pool = Pool()
        Remark = pool.get('school.audit.remark')
        self.start_date, self.end_date = self._window()
        self.ran_at = dt.datetime.now()
        self.ran_by = Transaction().user
        self.save()
        findings = {}
        for rule, _ in RULES:
            method = getattr(self, '_rule_%s' % rule, None)
            if method is None:
                continue
            for finding in method():
                finding['rule'] = rule
                finding.setdefault('severity', SEVERITY[rule])
                findings[Remark.make_key(finding)] = finding
        with without_check_access():
            Remark.update_from(self, findings)

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
                & (days_between(lesson.filled_at, mark.create_date) == 0)
                & (days_between(mark.create_date, lesson.date) >= 1)))
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
        Line = pool.get('school.lesson.line')
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
        Line = pool.get('school.lesson.line')
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
        days = days_between(mark.create_date, mark.date)
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

    def _accumulation_required(self, checkpoint, teaching):
        """The SQL of the marks due at the checkpoint for the teaching
        column: a CASE on the school's teachings grouped by their dues"""
        pool = Pool()
        Teaching = pool.get('school.teaching')
        by_due = defaultdict(list)
        for record in Teaching.search([('company', '=', self.company.id)]):
            by_due[self._accumulation_due(checkpoint, record.hours)].append(
                record.id)
        whens = [(teaching.in_(ids), due)
            for due, ids in sorted(by_due.items()) if due]
        return Case(*whens, else_=0) if whens else Literal(0)

    def _rule_accumulation(self):
        """Students with fewer marks of a teaching than required at the
        ends of the 3rd and 4th weeks and of the term (REQUIREMENTS rule 3),
        counted from the term's start among the students listed at the
        teaching's held lessons (a subgroup's for a subgroup's teaching),
        never in classes without marks"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.line')
        Mark = pool.get('school.mark')
        Teaching = pool.get('school.teaching')
        Class = pool.get('school.class')
        Level = pool.get('school.level')
        for period, checkpoint, date in self._accumulation_checkpoints():
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
            required = self._accumulation_required(checkpoint, teaching.id)
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

    # Scheduled runs

    @classmethod
    def _companies(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        return [Company(company)] if company else Company.search([])

    @classmethod
    def run_scheduled(cls, window, date=None, notify='teachers'):
        "Run the school-wide analysis of the window up to the date"
        pool = Pool()
        Date = pool.get('ir.date')
        date = date or Date.today() - dt.timedelta(days=1)
        runs = []
        for company in cls._companies():
            with Transaction().set_context(company=company.id):
                run = cls(company=company, scope='school', window=window,
                    date=date)
                run.save()
                cls.run([run])
                runs.append(run)
                if notify == 'teachers':
                    run.notify_teachers()
                else:
                    run.notify_deputies()
        return runs

    @classmethod
    def run_weekly(cls):
        "Run the week's analysis and tell each teacher his remarks"
        cls.run_scheduled('week')

    @classmethod
    def run_monthly(cls):
        "On the first of a month, run the last month's for the deputies"
        Date = Pool().get('ir.date')
        if Date.today().day == 1:
            cls.run_scheduled('month', notify='deputies')

    @classmethod
    def run_term(cls):
        "The day after a term ends, run the term's for the deputies"
        pool = Pool()
        Date = pool.get('ir.date')
        Period = pool.get('school.period')
        yesterday = Date.today() - dt.timedelta(days=1)
        for company in cls._companies():
            with Transaction().set_context(company=company.id):
                periods = Period.search([
                        ('year.company', '=', company.id),
                        ('end_date', '=', yesterday),
                        ])
                for period in periods:
                    cls.run_scheduled(
                        'half' if period.kind == 'half' else 'term',
                        date=yesterday, notify='deputies')
                    break

    def _unresolved(self):
        Remark = Pool().get('school.audit.remark')
        return Remark.search([
                ('last_run', '=', self.id),
                ('state', 'in', ['open', 'reopened']),
                ])

    def notify_teachers(self):
        "Notify each teacher's users of their unresolved remarks"
        pool = Pool()
        User = pool.get('res.user')
        Remark = pool.get('school.audit.remark')
        by_teacher = defaultdict(list)
        for remark in self._unresolved():
            if remark.teacher:
                by_teacher[remark.teacher.id].append(remark)
        for teacher, remarks in by_teacher.items():
            for user in User.search([('employees', '=', teacher)]):
                with Transaction().set_context(
                        language=user.language.code
                        if user.language else None):
                    Remark.notify_user(remarks, None,
                        gettext('school_ejournal_reports.msg_notify_label'),
                        gettext(
                            'school_ejournal_reports.msg_notify_teacher',
                            run=self.rec_name, count=len(remarks)),
                        user=user.id)

    def notify_deputies(self):
        "Notify the academic deputies of the run's unresolved remarks"
        pool = Pool()
        User = pool.get('res.user')
        Remark = pool.get('school.audit.remark')
        ModelData = pool.get('ir.model.data')
        remarks = self._unresolved()
        group = ModelData.get_id('school_ejournal', 'group_deputy_academic')
        for user in User.search([('groups', '=', group)]):
            Remark.notify_user(remarks, None,
                gettext('school_ejournal_reports.msg_notify_label'),
                gettext('school_ejournal_reports.msg_notify_deputy',
                    run=self.rec_name, count=len(remarks)),
                user=user.id)


class AuditRemark(Workflow, ModelSQL, ModelView):
    "A remark of the journal-keeping analysis"
    __name__ = 'school.audit.remark'

    company = fields.Many2One('company.company', "School", readonly=True)
    run = fields.Many2One(
        'school.audit.run', "Run", required=True, readonly=True,
        ondelete='CASCADE', help="The run that raised the remark.")
    last_run = fields.Many2One(
        'school.audit.run', "Last Run", readonly=True, ondelete='SET NULL',
        help="The last run that checked the remark.")
    key = fields.Char("Key", readonly=True, required=True)
    rule = fields.Selection(RULES, "Rule", readonly=True, required=True)
    severity = fields.Selection(
        SEVERITIES, "Severity", readonly=True, required=True)
    teacher = fields.Many2One(
        'company.employee', "Teacher", readonly=True,
        help="The teacher who answers for the remark.")
    class_ = fields.Many2One('school.class', "Class", readonly=True)
    subject = fields.Many2One('school.subject', "Subject", readonly=True)
    period = fields.Many2One('school.period', "Study Period", readonly=True)
    lesson = fields.Many2One(
        'school.lesson', "Lesson", readonly=True, ondelete='CASCADE')
    student = fields.Many2One('school.student', "Student", readonly=True)
    mark = fields.Many2One(
        'school.mark', "Mark", readonly=True, ondelete='CASCADE')
    date = fields.Date(
        "Date", readonly=True, required=True,
        help="The day of the lesson, mark, checkpoint, week or month "
        "the remark is about.")
    params = fields.Char("Parameters", readonly=True)
    text = fields.Function(fields.Char("Remark"), 'get_text')
    state = fields.Selection([
            ('open', "Open"),
            ('fixed', "Fixed"),
            ('confirmed', "Confirmed"),
            ('reopened', "Reopened"),
            ], "State", readonly=True, required=True, sort=False,
        help="Open: to be fixed by the teacher. Fixed: the teacher says so; "
        "the next run confirms it or reopens it.")
    comment = fields.Text(
        "Comment",
        states={'readonly': ~Eval('state').in_(['open', 'reopened'])},
        help="What the teacher did about the remark.")
    fixed_by = fields.Many2One('res.user', "Fixed by", readonly=True)
    fixed_at = fields.DateTime("Fixed at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.key, Index.Equality()),
                    (t.state, Index.Equality())),
                Index(t, (t.teacher, Index.Equality()),
                    (t.state, Index.Equality())),
                Index(t, (t.class_, Index.Equality())),
                Index(t, (t.date, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('fixed', 'confirmed'),
            ('fixed', 'reopened'),
            ('open', 'confirmed'),
            ('reopened', 'confirmed'),
            }
        cls._buttons.update({
                'fix': {
                    'invisible': ~Eval('state').in_(['open', 'reopened']),
                    'readonly': ~Bool(Eval('comment')),
                    'depends': ['state', 'comment'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @staticmethod
    def make_key(finding):
        "The identity of a finding across runs"
        return ':'.join(str(finding.get(k) or '') for k in [
                'rule', 'lesson', 'mark', 'correction', 'student', 'class_',
                'subject', 'period', 'checkpoint', 'date'])

    def get_rec_name(self, name):
        return self.text

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('teacher.rec_name', *clause[1:]),
            ('class_.rec_name', *clause[1:]),
            ('student.rec_name', *clause[1:]),
            ]

    def _text_values(self):
        pool = Pool()
        User = pool.get('res.user')
        params = json.loads(self.params or '{}')
        values = {
            'lesson': self.lesson.rec_name if self.lesson else '',
            'student': self.student.rec_name if self.student else '',
            'class_': self.class_.rec_name if self.class_ else '',
            'subject': self.subject.rec_name if self.subject else '',
            'teacher': self.teacher.rec_name if self.teacher else '',
            'date': self.date.strftime('%d.%m.%Y'),
            'mark': '',
            }
        if self.mark:
            values['mark'] = self.mark.value_string
        values.update(params)
        if self.rule == 'not_filled':
            values['missing'] = ', '.join(gettext(
                    'school_ejournal_reports.msg_missing_%s' % m)
                for m in params.get('missing', []))
        elif self.rule == 'absences':
            values['month'] = dt.date.fromisoformat(
                params['month']).strftime('%m.%Y')
        elif self.rule == 'accumulation':
            values['checkpoint'] = gettext(
                'school_ejournal_reports.msg_checkpoint_%s'
                % params['checkpoint'])
        elif self.rule == 'no_substitution':
            values['user'] = User(params['user']).rec_name
        elif self.rule == 'mark_corrected':
            values['state'] = gettext(
                'school_ejournal_reports.msg_correction_%s' % params['state'])
        return values

    def get_text(self, name):
        return gettext(
            'school_ejournal_reports.msg_remark_%s' % self.rule,
            **self._text_values())

    @classmethod
    def update_from(cls, run, findings):
        """Write the findings {key: finding} of the run: raise the new ones,
        reopen or confirm the ones fixed, confirm the ones no longer found
        in the run's window and scope"""
        domain = [
            ('company', '=', run.company.id),
            ('state', 'in', UNRESOLVED),
            ]
        known = cls.search(domain + [('key', 'in', list(findings))])
        scope = [('date', '>=', run.start_date), ('date', '<=', run.end_date)]
        if run.scope == 'class':
            scope.append(('class_', '=', run.class_.id))
        elif run.scope == 'teacher':
            scope.append(('teacher', '=', run.teacher.id))
        gone = cls.search(domain + scope + [
                ('key', 'not in', list(findings))])
        to_reopen, to_confirm, to_keep = [], [], []
        # The figures of a remark found again are the run's
        updates = []
        for remark in known:
            params = json.dumps(
                findings[remark.key].get('params', {}), sort_keys=True)
            updates.extend([[remark], {'params': params}])
            if remark.state == 'fixed':
                if remark.rule in EVENT_RULES:
                    to_confirm.append(remark)
                else:
                    to_reopen.append(remark)
            else:
                to_keep.append(remark)
        to_confirm.extend(gone)
        seen = {r.key for r in known}
        if updates:
            cls.write(*updates)
        cls.write(to_keep, {'last_run': run.id})
        cls.confirm(to_confirm, run)
        cls.reopen(to_reopen, run)
        fields_ = set(cls._fields)
        cls.create([{
                    'company': run.company.id,
                    'run': run.id,
                    'last_run': run.id,
                    'key': key,
                    'params': json.dumps(
                        finding.get('params', {}), sort_keys=True),
                    **{k: v for k, v in finding.items()
                        if k in fields_ and k != 'params'},
                    } for key, finding in findings.items()
                if key not in seen])

    @classmethod
    @Workflow.transition('confirmed')
    def confirm(cls, remarks, run):
        cls.write(remarks, {'last_run': run.id})

    @classmethod
    @Workflow.transition('reopened')
    def reopen(cls, remarks, run):
        cls.write(remarks, {'last_run': run.id})

    @classmethod
    @ModelView.button
    def fix(cls, remarks):
        "The teacher says the remark is dealt with, as the comment tells"
        remarks = [r for r in remarks if r.state in {'open', 'reopened'}]
        for remark in remarks:
            if not remark.comment:
                raise AuditError(gettext(
                        'school_ejournal_reports.msg_remark_fix_comment',
                        remark=remark.rec_name))
        # The state and the stamps are closed to the users' own writes
        with without_check_access():
            cls.write(remarks, {
                    'state': 'fixed',
                    'fixed_by': Transaction().user,
                    'fixed_at': dt.datetime.now(),
                    })
        cls.log(remarks, 'transition', 'state:fixed')

    @classmethod
    def check_modification(cls, mode, remarks, values=None, external=False):
        super().check_modification(
            mode, remarks, values=values, external=external)
        if not external:
            return
        if mode == 'create' or mode == 'delete' or (
                mode == 'write' and values.keys() - {'comment'}):
            raise RemarkAccessError(gettext(
                    'school_ejournal_reports.msg_remark_readonly'))
        if mode == 'write':
            for remark in remarks:
                if remark.state not in {'open', 'reopened'}:
                    raise RemarkAccessError(gettext(
                            'school_ejournal_reports.msg_remark_closed',
                            remark=remark.rec_name))


class AuditRunStart(ModelView):
    "Run the journal-keeping analysis"
    __name__ = 'school.audit.run.start'

    company = fields.Many2One('company.company', "School", required=True)
    scope = fields.Selection(SCOPES, "Scope", required=True)
    class_ = fields.Many2One(
        'school.class', "Class",
        states={
            'required': Eval('scope') == 'class',
            'invisible': Eval('scope') != 'class',
            })
    teacher = fields.Many2One(
        'company.employee', "Teacher",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'required': Eval('scope') == 'teacher',
            'invisible': Eval('scope') != 'teacher',
            })
    window = fields.Selection(WINDOWS, "Window", required=True)
    date = fields.Date("As of", required=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return 'school'

    @classmethod
    def default_window(cls):
        return 'week'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class RunAudit(Wizard):
    "Run the journal-keeping analysis"
    __name__ = 'school.audit.run.wizard'

    start = StateView('school.audit.run.start',
        'school_ejournal_reports.audit_run_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Run", 'run', 'tryton-ok', default=True),
            ])
    run = StateAction('school_ejournal_reports.act_audit_remark')

    def do_run(self, action):
        pool = Pool()
        Run = pool.get('school.audit.run')
        run = Run(
            company=self.start.company,
            scope=self.start.scope,
            class_=self.start.class_ if self.start.scope == 'class' else None,
            teacher=(self.start.teacher
                if self.start.scope == 'teacher' else None),
            window=self.start.window,
            date=self.start.date)
        run.save()
        Run.run([run])
        action['pyson_domain'] = PYSONEncoder().encode(
            [('last_run', '=', run.id)])
        action['name'] += ' — %s' % run.rec_name
        return action, {}
