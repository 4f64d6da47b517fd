# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The new school year: the next academic year opened from the last one,
and the closed year read-only."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import ClosedFieldsMixin, system_context, user_in
from .exceptions import PeriodTransitionError, PlanError
from .validation import RPCGuardMixin, ValidationWizardMixin

# The last level of the school: its classes leave by an order of leaving
LAST_LEVEL = 11


def shift_year(date):
    "The same day a year later (the 29th of February becomes the 28th)"
    try:
        return date.replace(year=date.year + 1)
    except ValueError:
        return date.replace(year=date.year + 1, day=28)


class Year(ClosedFieldsMixin, Workflow, metaclass=PoolMeta):
    __name__ = 'school.year'
    _system_fields = frozenset({'state'})

    state = fields.Selection([
            ('open', "Open"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False,
        help="The lessons, marks, grades and plans of a closed year "
        "cannot change.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {('open', 'closed'), ('closed', 'open')}
        cls._buttons.update({
                'close': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'closed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def _check_admin(cls):
        if not user_in('school_admin', 'deputy_academic'):
            raise AccessError(gettext('school_ejournal.msg_year_close_admin'))

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, years):
        """Close the years: once the next year is open and every study
        period is closed, nothing of the year changes any more"""
        cls._check_admin()
        for year in years:
            later = cls.search([
                    ('company', '=', year.company.id),
                    ('start_date', '>', year.end_date),
                    ], limit=1)
            if not later:
                raise PeriodTransitionError(gettext(
                        'school_ejournal.msg_year_close_no_next',
                        year=year.rec_name))
            for period in year.periods:
                if period.state != 'closed':
                    raise PeriodTransitionError(gettext(
                            'school_ejournal.msg_year_close_period_open',
                            year=year.rec_name, period=period.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, years):
        cls._check_admin()


class Period(metaclass=PoolMeta):
    __name__ = 'school.period'

    @classmethod
    def reopen(cls, periods):
        for period in periods:
            if period.year.state == 'closed':
                raise PeriodTransitionError(gettext(
                        'school_ejournal.msg_year_closed_period',
                        period=period.rec_name, year=period.year.rec_name))
        super().reopen(periods)


def _check_year_open(plans):
    for plan in plans:
        year = plan.teaching.class_.year
        if year.state == 'closed':
            raise PlanError(gettext(
                    'school_ejournal.msg_year_closed_plan',
                    plan=plan.rec_name, year=year.rec_name))


class ThematicPlan(metaclass=PoolMeta):
    __name__ = 'school.thematic_plan'

    @classmethod
    def check_modification(cls, mode, plans, values=None, external=False):
        super().check_modification(
            mode, plans, values=values, external=external)
        _check_year_open(plans)


class ThematicPlanLine(metaclass=PoolMeta):
    __name__ = 'school.thematic_plan.line'

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        _check_year_open({l.plan for l in lines})


class Teaching(metaclass=PoolMeta):
    __name__ = 'school.teaching'

    to_check = fields.Boolean(
        "To Check",
        help="Carried from last year by the new-year wizard: check the "
        "teacher and the hours, then uncheck.")


class NewYearStart(RPCGuardMixin, ModelView):
    "Open the New School Year"
    __name__ = 'school.year.new.start'

    from_year = fields.Many2One(
        'school.year', "From Year", required=True,
        help="The academic year just ended; the next one is opened from it.")
    date = fields.Date(
        "Order Date", required=True,
        help="The date of the orders of transfer and of leaving.")
    transfer_number = fields.Char(
        "Transfer Order Number", required=True,
        help="The number of the order moving the students into their "
        "next class from the first day of the new year.")
    leaving_number = fields.Char(
        "Leaving Order Number", required=True,
        help="The number of the order of leaving of the last classes' "
        "graduates.")

    @classmethod
    def default_from_year(cls):
        year = NewYear.last_ended_year()
        return year.id if year else None

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class NewYearPreview(RPCGuardMixin, ModelView):
    "New School Year: Preview"
    __name__ = 'school.year.new.preview'

    summary = fields.Text("What Will Be Created", readonly=True)
    refused = fields.Text("Refused", readonly=True)
    nothing = fields.Boolean("Nothing to Create", readonly=True)


class NewYearDone(RPCGuardMixin, ModelView):
    "New School Year: Done"
    __name__ = 'school.year.new.done'

    summary = fields.Text("Created", readonly=True)


class NewYear(ValidationWizardMixin, Wizard):
    """Open the next academic year from the last: its periods and holidays,
    the classes promoted with their students by an order of transfer, the
    last classes graduated by an order of leaving, class teachers,
    subgroups, curriculum and teaching carried forward to check, thematic
    plans copied as drafts"""
    __name__ = 'school.year.new'

    start = StateView('school.year.new.start',
        'school_ejournal.year_new_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Preview", 'preview', 'tryton-forward', default=True),
            ])
    preview = StateView('school.year.new.preview',
        'school_ejournal.year_new_preview_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Back", 'start', 'tryton-back'),
            Button("Open the Year", 'open_', 'tryton-ok', default=True,
                states={'readonly': Eval('nothing', False)}),
            ])
    open_ = StateTransition()
    done = StateView('school.year.new.done',
        'school_ejournal.year_new_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    @classmethod
    def last_ended_year(cls, company=None):
        """The latest academic year of the school whose study periods have
        all ended"""
        pool = Pool()
        Year = pool.get('school.year')
        Date = pool.get('ir.date')
        today = Date.today()
        if company is None:
            company = Transaction().context.get('company')
        for year in Year.search([('company', '=', company)],
                order=[('start_date', 'DESC')]):
            if year.periods and max(
                    p.end_date for p in year.periods) < today:
                return year
        return None

    def default_preview(self, fields):
        plan = NewYearPlan(self.start)
        summary = plan.summary()
        return {
            'summary': summary or gettext(
                'school_ejournal.msg_new_year_nothing',
                year=plan.new_name),
            'refused': '\n'.join(plan.refused),
            'nothing': not summary,
            }

    def transition_open_(self):
        plan = NewYearPlan(self.start)
        if not plan.summary():
            raise PeriodTransitionError(gettext(
                    'school_ejournal.msg_new_year_nothing',
                    year=plan.new_name))
        plan.apply()
        self.done.summary = plan.summary()
        return 'done'

    def default_done(self, fields):
        return {'summary': self.done.summary}


class NewYearPlan:
    """What opening the year after from_year creates: computed from the
    database, so that running it again finds everything made and creates
    nothing"""

    def __init__(self, start):
        pool = Pool()
        Year = pool.get('school.year')
        Date = pool.get('ir.date')
        if not user_in('school_admin'):
            raise AccessError(gettext('school_ejournal.msg_new_year_admin'))
        self.start = start
        self.old = old = start.from_year
        self.company = old.company
        # The same dates a year later; the students stay in their classes
        # through the summer: a year ending with its lessons (26 May) is
        # extended to the eve of the next
        self.new_start = shift_year(old.start_date)
        self.new_end = shift_year(old.end_date)
        self.old_end = old.end_date
        self.summer_end = max(
            old.end_date, self.new_start - dt.timedelta(days=1))
        self.new_name = '%s/%s' % (self.new_start.year, self.new_end.year)
        if old.periods and max(
                p.end_date for p in old.periods) >= Date.today():
            raise PeriodTransitionError(gettext(
                    'school_ejournal.msg_new_year_not_ended',
                    year=old.rec_name))
        years = Year.search([
                ('company', '=', self.company.id),
                ('start_date', '<=', self.new_end),
                ('end_date', '>=', self.new_start),
                ])
        self.new = years[0] if years else None
        if self.new and self.new.start_date != self.new_start:
            raise PeriodTransitionError(gettext(
                    'school_ejournal.msg_new_year_overlap',
                    year=self.new.rec_name,
                    date=self.new_start.strftime('%d.%m.%Y')))
        if self.new:
            self.new_name = self.new.name
        self.refused = []
        self.compute()

    # The plan: lists of what is missing in the new year

    def compute(self):
        pool = Pool()
        Class = pool.get('school.class')
        Student = pool.get('school.student')
        Level = pool.get('school.level')
        Enrolment = pool.get('school.enrolment')
        OrderLine = pool.get('school.order.line')
        CurriculumLine = pool.get('school.curriculum.line')
        Teaching = pool.get('school.teaching')
        Plan = pool.get('school.thematic_plan')
        old, new = self.old, self.new

        self.periods = list(old.periods)
        self.holidays = list(old.holidays)
        if new:
            have = {(p.kind, p.sequence) for p in new.periods}
            self.periods = [p for p in self.periods
                if (p.kind, p.sequence) not in have]
            if new.holidays:
                self.holidays = []

        levels = {l.number: l for l in Level.search([
                    ('company', '=', self.company.id)])}
        old_classes = Class.search([('year', '=', old.id)],
            order=[('level.number', 'ASC'), ('name', 'ASC')])
        new_classes = {c.name: c for c in Class.search(
                [('year', '=', new.id)])} if new else {}
        self.new_classes = new_classes
        by_class = Enrolment.students_by_class(
            [c.id for c in old_classes], self.new_start)
        # Students named in a leaving order of the year not yet applied
        # stay out
        pending = defaultdict(list)
        for line in OrderLine.search([
                    ('order.company', '=', self.company.id),
                    ('order.kind', '=', 'leaving'),
                    ('order.state', '=', 'draft'),
                    ('date', '>=', old.start_date),
                    ('date', '<=', old.end_date),
                    ]):
            pending[line.student.id].append(line.order)

        # class id: name of the class in the new year
        self.target = {}
        self.classes = []  # (old class, name, level) to create
        self.transfers = []  # (student id, old class, new class name)
        self.leavings = []  # (student id, old class)
        for class_ in old_classes:
            students = sorted(by_class.get(class_.id, []))
            number = class_.level.number
            for student in students:
                if student in pending:
                    self.refused.append(gettext(
                            'school_ejournal.msg_new_year_pending_leaving',
                            student=Student(student).rec_name,
                            class_=class_.rec_name,
                            order=pending[student][0].rec_name))
            students = [s for s in students if s not in pending]
            if number >= LAST_LEVEL:
                self.leavings.extend((s, class_) for s in students)
                continue
            level = levels.get(number + 1)
            if not level:
                self.refused.append(gettext(
                        'school_ejournal.msg_new_year_no_level',
                        class_=class_.rec_name, level=number + 1))
                continue
            name = '%s%s' % (level.number, class_.letter or '')
            # The 9th classes go on only with the students who stay
            if number == 9 and not students and name not in new_classes:
                continue
            self.target[class_.id] = name
            if name not in new_classes and name not in {
                    n for _, n, _ in self.classes}:
                self.classes.append((class_, name, level))
            self.transfers.extend((s, class_, name) for s in students)
        names = set(new_classes) | {n for _, n, _ in self.classes}

        # Subgroups, with their members promoted into the class
        self.subgroups = []  # (old subgroup, key)
        have = set()
        for class_ in new_classes.values():
            for subgroup in class_.subgroups:
                have.add(self._subgroup_key(subgroup, class_.name))
        for class_ in old_classes:
            if class_.id not in self.target:
                continue
            for subgroup in class_.subgroups:
                key = self._subgroup_key(subgroup, self.target[class_.id])
                if key not in have:
                    self.subgroups.append((subgroup, key))
                    have.add(key)

        # Curriculum: {(level id, class name or None, subject, elective):
        # hours} of the new year, what is there and what is copied
        self.curriculum = []
        hours = {}
        if new:
            for line in CurriculumLine.search([('year', '=', new.id)]):
                hours[self._curriculum_key(
                        line, line.class_.name if line.class_ else None)] = (
                    line.hours)
        for line in CurriculumLine.search([('year', '=', old.id)]):
            class_name = line.class_.name if line.class_ else None
            if class_name and class_name not in names:
                self.refused.append(gettext(
                        'school_ejournal.msg_new_year_curriculum_class',
                        line=line.rec_name, class_=class_name))
                continue
            key = self._curriculum_key(line, class_name)
            if key not in hours:
                hours[key] = line.hours
                self.curriculum.append((line, class_name))

        # Teaching, in the hours the new level's curriculum allows
        def allowed(level, class_name, subject, elective):
            own = hours.get((level.id, class_name, subject.id, elective))
            if own is not None:
                return own
            return hours.get((level.id, None, subject.id, elective),
                Decimal(0))

        used = defaultdict(Decimal)
        existing = set()
        if new:
            for teaching in Teaching.search([('class_.year', '=', new.id)]):
                key = self._teaching_key(teaching, teaching.class_.name,
                    self._subgroup_key(teaching.subgroup, teaching.class_.name)
                    if teaching.subgroup else None)
                existing.add(key)
                used[key[1:]] += teaching.hours
        self.teachings = []  # (old teaching, key, hours)
        level_of = {}
        for class_, name, level in self.classes:
            level_of[name] = level
        for name, class_ in new_classes.items():
            level_of[name] = class_.level
        for teaching in Teaching.search([('class_.year', '=', old.id)],
                order=[('class_.level.number', 'ASC'),
                    ('class_.name', 'ASC'), ('subject', 'ASC'),
                    ('id', 'ASC')]):
            name = self.target.get(teaching.class_.id)
            if not name:
                continue
            subgroup = (self._subgroup_key(teaching.subgroup, name)
                if teaching.subgroup else None)
            key = self._teaching_key(teaching, name, subgroup)
            if key in existing:
                continue
            existing.add(key)
            limit = allowed(level_of[name], name, teaching.subject,
                bool(teaching.elective))
            free = limit - used[key[1:]]
            if free <= 0:
                self.refused.append(gettext(
                        'school_ejournal.msg_new_year_teaching_hours',
                        teaching=teaching.rec_name, class_=name,
                        year=self.new_name))
                continue
            given = min(teaching.hours, free)
            used[key[1:]] += given
            self.teachings.append((teaching, key, given))

        # Plans: the last year's plan of the same level and subject
        self.plans = []  # (teaching key, source plan)
        planned = set()
        if new:
            for plan in Plan.search([('teaching.class_.year', '=', new.id)]):
                t = plan.teaching
                planned.add(self._teaching_key(t, t.class_.name,
                        self._subgroup_key(t.subgroup, t.class_.name)
                        if t.subgroup else None))
        sources = defaultdict(list)
        for plan in Plan.search([('teaching.class_.year', '=', old.id)],
                order=[('id', 'ASC')]):
            t = plan.teaching
            if plan.lines:
                sources[(t.class_.level.number, t.subject.id,
                        bool(t.elective))].append(plan)
        keys = [k for _, k, _ in self.teachings]
        keys += [k for k in existing if k not in set(keys)]
        for key in keys:
            if key in planned:
                continue
            teacher, name, subgroup, subject, elective = key
            candidates = sources.get(
                (level_of[name].number, subject, elective), [])
            if not candidates:
                continue
            own = [p for p in candidates if p.teaching.teacher.id == teacher]
            self.plans.append((key, (own or candidates)[0]))

    @staticmethod
    def _subgroup_key(subgroup, class_name):
        return (class_name, subgroup.subject.id,
            (subgroup.period.kind, subgroup.period.sequence)
            if subgroup.period else None, subgroup.name)

    @staticmethod
    def _curriculum_key(line, class_name):
        return (line.level.id, class_name, line.subject.id,
            bool(line.elective))

    @staticmethod
    def _teaching_key(teaching, class_name, subgroup_key):
        return (teaching.teacher.id, class_name, subgroup_key,
            teaching.subject.id, bool(teaching.elective))

    def summary(self):
        "Return the text of what is to be created, empty if nothing"
        lines = []
        if self.summer_end != self.old.end_date:
            lines.append(gettext('school_ejournal.msg_new_year_summer',
                    year=self.old.rec_name,
                    date=self.summer_end.strftime('%d.%m.%Y')))
        if not self.new:
            lines.append(gettext('school_ejournal.msg_new_year_year',
                    year=self.new_name,
                    start=self.new_start.strftime('%d.%m.%Y'),
                    end=self.new_end.strftime('%d.%m.%Y')))
        if self.periods or self.holidays:
            lines.append(gettext('school_ejournal.msg_new_year_periods',
                    periods=len(self.periods), holidays=len(self.holidays)))
        if self.classes:
            lines.append(gettext('school_ejournal.msg_new_year_classes',
                    count=len(self.classes),
                    classes=', '.join('%s → %s' % (c.rec_name, n)
                        for c, n, _ in self.classes)))
        if self.transfers:
            lines.append(gettext('school_ejournal.msg_new_year_transfer',
                    number=self.start.transfer_number,
                    count=len(self.transfers),
                    date=self.new_start.strftime('%d.%m.%Y')))
        if self.leavings:
            classes = sorted({c.rec_name for _, c in self.leavings})
            lines.append(gettext('school_ejournal.msg_new_year_leaving',
                    number=self.start.leaving_number,
                    count=len(self.leavings), classes=', '.join(classes),
                    date=self.old_end.strftime('%d.%m.%Y')))
        for key, count in [
                ('subgroups', len(self.subgroups)),
                ('curriculum', len(self.curriculum)),
                ('teachings', len(self.teachings)),
                ('plans', len(self.plans)),
                ]:
            if count:
                lines.append(gettext(
                        'school_ejournal.msg_new_year_%s' % key,
                        count=count))
        return '\n'.join(lines)

    # Applying the plan

    def apply(self):
        pool = Pool()
        Year = pool.get('school.year')
        Period = pool.get('school.period')
        Holiday = pool.get('school.holiday')
        Class = pool.get('school.class')
        Order = pool.get('school.order')
        Subgroup = pool.get('school.subgroup')
        CurriculumLine = pool.get('school.curriculum.line')
        Teaching = pool.get('school.teaching')
        Plan = pool.get('school.thematic_plan')
        PlanLine = pool.get('school.thematic_plan.line')
        old = self.old

        with system_context():
            if self.summer_end != old.end_date:
                Year.write([old], {'end_date': self.summer_end})
            if not self.new:
                self.new, = Year.create([{
                            'company': self.company.id,
                            'name': self.new_name,
                            'start_date': self.new_start,
                            'end_date': self.new_end,
                            }])
            new = self.new
            Period.copy(self.periods, default={
                    'year': new.id,
                    'state': 'open',
                    'start_date': lambda r: shift_year(r['start_date']),
                    'end_date': lambda r: shift_year(r['end_date']),
                    })
            Holiday.copy(self.holidays, default={
                    'year': new.id,
                    'start_date': lambda r: shift_year(r['start_date']),
                    'end_date': lambda r: shift_year(r['end_date']),
                    })
            periods = {(p.kind, p.sequence): p.id
                for p in Period.search([('year', '=', new.id)])}

            created = Class.create([{
                        'company': self.company.id,
                        'year': new.id,
                        'level': level.id,
                        'letter': old_class.letter,
                        'name': name,
                        'class_teacher': (old_class.class_teacher.id
                            if old_class.class_teacher else None),
                        'room': old_class.room,
                        } for old_class, name, level in self.classes])
            classes = dict(self.new_classes)
            classes.update({c.name: c for c in created})

            # The orders, made and applied as by hand
            orders = []
            if self.transfers:
                orders.append(Order(
                        company=self.company, kind='transfer',
                        number=self.start.transfer_number,
                        date=self.start.date,
                        description=gettext(
                            'school_ejournal.msg_new_year_transfer_text',
                            year=new.rec_name),
                        lines=[{
                                'student': s,
                                'date': self.new_start,
                                'class_': classes[n].id,
                                } for s, _, n in self.transfers]))
            if self.leavings:
                orders.append(Order(
                        company=self.company, kind='leaving',
                        number=self.start.leaving_number,
                        date=self.start.date,
                        description=gettext(
                            'school_ejournal.msg_new_year_leaving_text',
                            year=old.rec_name),
                        lines=[{
                                'student': s,
                                'date': self.old_end,
                                'reason': gettext(
                                    'school_ejournal'
                                    '.msg_new_year_leaving_reason',
                                    level=c.level.number),
                                } for s, c in self.leavings]))
            Order.save(orders)
            Order.apply(orders)

            # Subgroups with the members now in the class
            subgroups = {}
            for class_ in classes.values():
                for subgroup in class_.subgroups:
                    subgroups[self._subgroup_key(
                            subgroup, class_.name)] = subgroup
            with Transaction().set_context(date=self.new_start):
                in_class = {n: {s.id for s in Class(c.id).students}
                    for n, c in classes.items()}
            values = []
            for subgroup, key in self.subgroups:
                class_name, subject, period, name = key
                values.append({
                        'class_': classes[class_name].id,
                        'subject': subject,
                        'period': periods.get(period) if period else None,
                        'name': name,
                        'students': [('add', [s.id for s in subgroup.students
                                    if s.id in in_class[class_name]])],
                        })
            for subgroup, (_, key) in zip(
                    Subgroup.create(values), self.subgroups):
                subgroups[key] = subgroup

            CurriculumLine.create([{
                        'year': new.id,
                        'level': line.level.id,
                        'class_': classes[name].id if name else None,
                        'subject': line.subject.id,
                        'hours': line.hours,
                        'elective': bool(line.elective),
                        } for line, name in self.curriculum])

            teachings = Teaching.create([{
                        'company': self.company.id,
                        'teacher': key[0],
                        'class_': classes[key[1]].id,
                        'subgroup': subgroups[key[2]].id if key[2] else None,
                        'subject': key[3],
                        'elective': key[4],
                        'hours': hours,
                        'to_check': True,
                        } for _, key, hours in self.teachings])
            by_key = {key: t for (_, key, _), t in zip(
                    self.teachings, teachings)}
            for teaching in Teaching.search([('class_.year', '=', new.id)]):
                key = self._teaching_key(teaching, teaching.class_.name,
                    self._subgroup_key(teaching.subgroup, teaching.class_.name)
                    if teaching.subgroup else None)
                by_key.setdefault(key, teaching)

            plans = Plan.create([{'teaching': by_key[key].id}
                    for key, _ in self.plans])
            PlanLine.create([{
                        'plan': plan.id,
                        'sequence': line.sequence,
                        'topic': line.topic,
                        'hours': line.hours,
                        'kind': line.kind,
                        }
                    for plan, (_, source) in zip(plans, self.plans)
                    for line in source.lines])
