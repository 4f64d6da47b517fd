# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The rules of the analysis on the thematic plan (issue rule 5) and on the
administrative control works against the internal-control schedule (issue
rule 4), each one set-based query over the core's tables."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.operators import Exists

from trytond.backend import MAX_QUERY_PARAMS
from trytond.pool import Pool
from trytond.tools import grouped_slice

from .rule import days_between


def plan_hours_query(teaching_where, year, start_date, as_of):
    """Return the query of (teaching, teacher, class_, subject, period,
    expected, given, lessons) of the teachings (teaching_where: a function
    of the teaching table) with lessons from start_date to as_of: the
    lessons of the calendar of the year up to as_of (cancelled ones too:
    the plan still has to be covered), those held on a topic of the plan,
    and the lessons from start_date"""
    pool = Pool()
    Lesson = pool.get('school.lesson')
    Teaching = pool.get('school.teaching')
    Period = pool.get('school.period')
    lesson = Lesson.__table__()
    teaching = Teaching.__table__()
    period = Period.__table__()
    in_window = (lesson.date >= start_date) & (lesson.date <= as_of)
    given = Sum(Case(
            ((lesson.state == 'held') & (lesson.plan_line != Null), 1),
            else_=0))
    window_lessons = Sum(Case((in_window, 1), else_=0))
    return (lesson
        .join(teaching, condition=lesson.teaching == teaching.id)
        .join(period, condition=lesson.period == period.id)
        .select(teaching.id.as_('teaching'),
            teaching.teacher.as_('teacher'),
            teaching.class_.as_('class_'),
            teaching.subject.as_('subject'),
            Max(period.id).as_('period'),
            Count(lesson.id).as_('expected'),
            given.as_('given'),
            window_lessons.as_('lessons'),
            where=teaching_where(teaching)
            & (lesson.date <= as_of)
            & (period.year == year),
            group_by=[teaching.id, teaching.teacher, teaching.class_,
                teaching.subject],
            having=window_lessons > 0))


def approved_plan_hours():
    "The query of (teaching, hours) of the approved plans"
    pool = Pool()
    Plan = pool.get('school.thematic_plan')
    PlanLine = pool.get('school.thematic_plan.line')
    plan = Plan.__table__()
    line = PlanLine.__table__()
    return (plan
        .join(line, condition=line.plan == plan.id)
        .select(plan.teaching, Sum(line.hours).as_('hours'),
            where=plan.state == 'approved',
            group_by=[plan.teaching]))


class PlanControlRules:
    """Rules 4 and 5 of school.audit.run, next to AuditRules"""
    __slots__ = ()

    def _as_of(self):
        "The last day the state-of-things rules judge: the window's or today"
        return min(self.end_date, self._today - dt.timedelta(days=1))

    def _teaching_where(self, teaching):
        condition = teaching.company == self.company.id
        if self.scope == 'class':
            condition &= teaching.class_ == self.class_.id
        elif self.scope == 'teacher':
            condition &= teaching.teacher == self.teacher.id
        return condition

    @staticmethod
    def _teaching_finding(row, date, **values):
        "A finding about a teaching; checkpoint tells subgroups apart"
        teaching, teacher, class_, subject, period = row[:5]
        return dict(teacher=teacher, class_=class_, subject=subject,
            period=period, date=date, checkpoint='teaching:%s' % teaching,
            **values)

    def _plan_hours_query(self, as_of):
        return plan_hours_query(
            self._teaching_where, self._year_id(), self.start_date, as_of)

    def _year_id(self):
        Year = Pool().get('school.year')
        year = Year.find(self.company.id, self._as_of())
        return year.id if year else -1

    def _rule_plan_behind(self):
        """Teachings whose plan topics held lag behind the lessons of the
        calendar since the year's start by more than the school's hours,
        as of the window's last day over (capped at the plan's hours)"""
        Configuration = Pool().get('school.configuration')
        config = Configuration(1)
        lag = config.audit_plan_lag
        as_of = self._as_of()
        if not config.audit_plans:
            return
        if as_of < self.start_date:
            return
        hours = self._plan_hours_query(as_of)
        plan_hours = approved_plan_hours()
        expected = Case(
            (hours.expected < plan_hours.hours, hours.expected),
            else_=plan_hours.hours)
        query = (hours
            .join(plan_hours, condition=plan_hours.teaching == hours.teaching)
            .select(hours.teaching, hours.teacher, hours.class_,
                hours.subject, hours.period, expected, hours.given,
                where=expected - hours.given > lag))
        for row in self._execute(query):
            expected_, given_ = int(row[5]), int(row[6])
            yield self._teaching_finding(row, as_of, params={
                    'expected': expected_, 'given': given_,
                    'lag': expected_ - given_})

    def _rule_plan_missing(self):
        """Teachings with lessons in the window without an approved plan,
        or whose approved plan's hours differ from the curriculum's"""
        pool = Pool()
        Plan = pool.get('school.thematic_plan')
        PlanLine = pool.get('school.thematic_plan.line')
        Configuration = pool.get('school.configuration')
        as_of = self._as_of()
        if as_of < self.start_date or not Configuration(1).audit_plans:
            return
        plan = Plan.__table__()
        line = PlanLine.__table__()
        hours = self._plan_hours_query(as_of)
        plan_hours = Coalesce(line.select(Sum(line.hours),
                where=line.plan == plan.id), 0)
        query = (hours
            .join(plan, 'LEFT', condition=plan.teaching == hours.teaching)
            .select(hours.teaching, hours.teacher, hours.class_,
                hours.subject, hours.period, plan.id, plan.state,
                plan_hours))
        rows = self._execute(query)
        required = self._required_hours(
            [r[5] for r in rows if r[6] == 'approved'])
        for row in rows:
            plan_id, state, hours_ = row[5], row[6], int(row[7] or 0)
            if not plan_id:
                yield self._teaching_finding(row, as_of, params={
                        'reason': 'none'})
            elif state != 'approved':
                yield self._teaching_finding(row, as_of, params={
                        'reason': 'draft'})
            elif hours_ != required[plan_id]:
                yield self._teaching_finding(row, as_of, params={
                        'reason': 'hours', 'hours': hours_,
                        'required': required[plan_id]})

    def _required_hours(self, plan_ids):
        """Return {plan id: the curriculum's hours} of the plans, as
        ThematicPlan.required_hours computes them (the weekly hours of the
        class's own curriculum line, else of its level's, times the study
        weeks of the level) but with one query for the plans and one for
        the curriculum lines instead of a search per plan"""
        pool = Pool()
        Plan = pool.get('school.thematic_plan')
        Teaching = pool.get('school.teaching')
        Class = pool.get('school.class')
        Level = pool.get('school.level')
        CurriculumLine = pool.get('school.curriculum.line')
        Configuration = pool.get('school.configuration')
        config = Configuration(1)
        plan = Plan.__table__()
        teaching = Teaching.__table__()
        class_ = Class.__table__()
        level = Level.__table__()
        curriculum = CurriculumLine.__table__()
        plans = []
        for sub_ids in grouped_slice(plan_ids, MAX_QUERY_PARAMS):
            plans.extend(self._execute(plan
                    .join(teaching, condition=plan.teaching == teaching.id)
                    .join(class_, condition=teaching.class_ == class_.id)
                    .join(level, condition=class_.level == level.id)
                    .select(plan.id, class_.id, class_.year, class_.level,
                        level.number, teaching.subject,
                        Coalesce(teaching.elective, Literal(False)),
                        where=plan.id.in_(list(sub_ids)))))
        years = sorted({r[2] for r in plans})
        # {(year, level, subject, elective): {class or None: hours}}
        weekly = defaultdict(lambda: defaultdict(Decimal))
        if years:
            for year, level_, class_id, subject, elective, hours in (
                    self._execute(curriculum.select(
                            curriculum.year, curriculum.level,
                            curriculum.class_, curriculum.subject,
                            Coalesce(curriculum.elective, Literal(False)),
                            curriculum.hours,
                            where=curriculum.year.in_(years)))):
                weekly[year, level_, subject, bool(elective)][class_id] += (
                    Decimal(str(hours)))
        required = {}
        for plan_id, class_id, year, level_, number, subject, elective in (
                plans):
            lines = weekly.get((year, level_, subject, bool(elective)), {})
            hours = lines.get(class_id, sum(
                    (h for c, h in lines.items() if c is None), Decimal(0)))
            weeks = config.weeks_first if number == 1 else config.weeks
            required[plan_id] = int(hours * weeks)
        return required

    def _admin_control_works(self, lesson, task, type_):
        "The join of the lessons' tasks of an administrative control type"
        return (task
            .join(lesson, condition=task.lesson == lesson.id)
            .join(type_, condition=(task.type == type_.id)
                & (type_.admin_control == Literal(True))))

    def _rule_admin_control_missing(self):
        """Works of the internal-control schedule (ВШК) whose days of
        tolerance ended in the window with no task of an administrative
        control type in a lesson of the class and subject around the day"""
        pool = Pool()
        Schedule = pool.get('school.control.schedule')
        Lesson = pool.get('school.lesson')
        Task = pool.get('school.lesson.task')
        TaskType = pool.get('school.task.type')
        Teaching = pool.get('school.teaching')
        Configuration = pool.get('school.configuration')
        days = Configuration(1).audit_admin_control_days
        schedule = Schedule.__table__()
        lesson = Lesson.__table__()
        task = Task.__table__()
        type_ = TaskType.__table__()
        teaching = Teaching.__table__()
        # The deadline is the day after the tolerance, in the window and over
        first = self.start_date - dt.timedelta(days=days)
        last = min(self.end_date, self._today - dt.timedelta(days=1)
            ) - dt.timedelta(days=days)
        done = Exists(self._admin_control_works(lesson, task, type_).select(
                task.id,
                where=(lesson.class_ == schedule.class_)
                & (lesson.subject == schedule.subject)
                & (lesson.state != 'cancelled')
                & (days_between(lesson.date, schedule.date) >= -days)
                & (days_between(lesson.date, schedule.date) <= days)))
        teacher_where = ((teaching.class_ == schedule.class_)
            & (teaching.subject == schedule.subject))
        if self.scope == 'teacher':
            teacher_where &= teaching.teacher == self.teacher.id
        teacher = teaching.select(Min(teaching.teacher), where=teacher_where)
        where = ((schedule.company == self.company.id)
            & (schedule.date >= first) & (schedule.date <= last)
            & ~done)
        if self.scope == 'class':
            where &= schedule.class_ == self.class_.id
        query = schedule.select(schedule.id, teacher, schedule.class_,
            schedule.subject, schedule.date, schedule.description,
            where=where)
        for id_, teacher_, class_, subject, date, description in (
                self._execute(query)):
            if self.scope == 'teacher' and not teacher_:
                continue
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            yield dict(teacher=teacher_, class_=class_, subject=subject,
                date=date, checkpoint='schedule:%s' % id_, params={
                    'planned': date.isoformat(), 'days': days,
                    'description': description or ''})

    def _rule_admin_control_unscheduled(self):
        """Tasks of an administrative control type in lessons of the window
        with no work of the schedule for the class and subject around the
        day"""
        pool = Pool()
        Schedule = pool.get('school.control.schedule')
        Lesson = pool.get('school.lesson')
        Task = pool.get('school.lesson.task')
        TaskType = pool.get('school.task.type')
        Configuration = pool.get('school.configuration')
        days = Configuration(1).audit_admin_control_days
        schedule = Schedule.__table__()
        lesson = Lesson.__table__()
        task = Task.__table__()
        type_ = TaskType.__table__()
        planned = Exists(schedule.select(schedule.id,
                where=(schedule.class_ == lesson.class_)
                & (schedule.subject == lesson.subject)
                & (days_between(lesson.date, schedule.date) >= -days)
                & (days_between(lesson.date, schedule.date) <= days)))
        query = self._admin_control_works(lesson, task, type_).select(
            *self._lesson_columns(lesson),
            where=self._lesson_where(lesson)
            & (lesson.state != 'cancelled')
            & ~planned,
            group_by=self._lesson_columns(lesson))
        for row in self._execute(query):
            yield self._lesson_finding(row)
