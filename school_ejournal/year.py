# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.

from sql import Null

from trytond.i18n import gettext
from trytond.model import (
    Check, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import ClosedFieldsMixin, company_through
from .exceptions import (
    DateError, OverlapError, PeriodClosedError, PeriodTransitionError)
from .validation import ValidationMixin

PERIOD_KINDS = [
    ('quarter', "Quarter"),
    ('half', "Half-year"),
    ]


def overlaps(table, start, end, where):
    "SQL condition: the row's [start_date, end_date] meets [start, end]"
    return (where
        & (table.start_date <= end)
        & ((table.end_date == Null) | (table.end_date >= start)))


class Year(ValidationMixin, ModelSQL, ModelView):
    __name__ = 'school.year'

    company = fields.Many2One(
        'company.company', "School", required=True,
        help="The school the academic year belongs to.")
    name = fields.Char(
        "Name", required=True,
        help="The name of the academic year, as «2026/2027».")
    start_date = fields.Date(
        "Start Date", required=True,
        domain=[('start_date', '<', Eval('end_date', None))],
        help="The first day of the academic year.")
    end_date = fields.Date(
        "End Date", required=True,
        domain=[('end_date', '>', Eval('start_date', None))],
        help="The last day of the academic year.")
    periods = fields.One2Many(
        'school.period', 'year', "Study Periods",
        help="The quarters and half-years of the year.")
    holidays = fields.One2Many(
        'school.holiday', 'year', "Holidays",
        help="The school holidays and non-working days of the year.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('name_unique', Unique(t, t.company, t.name),
                'school_ejournal.msg_year_name_unique'),
            ('dates_check', Check(t, t.start_date < t.end_date),
                'school_ejournal.msg_year_dates'),
            ]
        cls._sql_indexes.add(
            Index(t,
                (t.company, Index.Equality()),
                (t.start_date, Index.Range()),
                (t.end_date, Index.Range())))
        cls._order.insert(0, ('start_date', 'DESC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def validate(cls, years):
        super().validate(years)
        cls.check_overlap(years)

    @classmethod
    def check_overlap(cls, years):
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        for year in years:
            cursor.execute(*table.select(table.id,
                    where=overlaps(table, year.start_date, year.end_date,
                        (table.company == year.company.id)
                        & (table.id != year.id)),
                    limit=1))
            other = cursor.fetchone()
            if other:
                raise OverlapError(gettext(
                        'school_ejournal.msg_year_overlap',
                        year=year.rec_name,
                        other=cls(other[0]).rec_name))

    @classmethod
    def find(cls, company, date=None):
        "Return the academic year of the school at the date, or None"
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        years = cls.search([
                ('company', '=', company),
                ('start_date', '<=', date),
                ('end_date', '>=', date),
                ], limit=1)
        return years[0] if years else None

    def check_date(self, date, record, field):
        "Raise if the date is outside the year"
        if date and not (self.start_date <= date <= self.end_date):
            raise DateError(gettext(
                    'school_ejournal.msg_date_outside_year',
                    record=record.rec_name,
                    field=field,
                    date=date.strftime('%d.%m.%Y'),
                    year=self.rec_name))

    def is_school_day(self, date, level=None):
        "Tell if lessons may take place on the date for the level"
        if not (self.start_date <= date <= self.end_date):
            return False
        week_days = level.week_days if level else 6
        if date.weekday() >= week_days:
            return False
        for holiday in self.holidays:
            if (holiday.start_date <= date <= holiday.end_date
                    and (not holiday.levels
                        or (level and level in holiday.levels))):
                return False
        return True


class _YearDatesMixin:
    "Start and end dates inside the academic year"
    __slots__ = ()

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        if field_names & {'year', 'start_date', 'end_date'}:
            for record in records:
                for name in ['start_date', 'end_date']:
                    record.year.check_date(
                        getattr(record, name), record,
                        cls.fields_get([name])[name]['string'])


class Period(
        ValidationMixin, ClosedFieldsMixin, _YearDatesMixin,
        company_through('year'), Workflow, ModelSQL, ModelView):
    __name__ = 'school.period'
    _system_fields = frozenset({'state'})

    year = fields.Many2One(
        'school.year', "Academic Year", required=True, ondelete='CASCADE',
        help="The academic year the period belongs to.")
    name = fields.Char(
        "Name", required=True, translate=True,
        help="The name of the period, as «1st quarter».")
    kind = fields.Selection(
        PERIOD_KINDS, "Kind", required=True,
        help="Quarters and half-years are used by different class levels.")
    sequence = fields.Integer(
        "Number", required=True,
        help="The number of the period within the year.")
    start_date = fields.Date(
        "Start Date", required=True,
        domain=[('start_date', '<=', Eval('end_date', None))],
        help="The first day of the period.")
    end_date = fields.Date(
        "End Date", required=True,
        domain=[('end_date', '>=', Eval('start_date', None))],
        help="The last day of the period.")
    state = fields.Selection([
            ('open', "Open"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False,
        help="Lessons, marks, attendance and grades of a closed period "
        "cannot change.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.year, t.kind, t.sequence),
                'school_ejournal.msg_period_number_unique'),
            ]
        cls._order = [
            ('year', 'DESC'), ('kind', 'ASC'), ('start_date', 'ASC'),
            ('id', 'ASC')]
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
        for name in ['year', 'name', 'kind', 'sequence', 'start_date',
                'end_date']:
            field = getattr(cls, name)
            field.states = {'readonly': Eval('state') == 'closed'}
            field.depends = set(field.depends) | {'state'}

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def check_modification(cls, mode, periods, values=None, external=False):
        super().check_modification(
            mode, periods, values=values, external=external)
        # A closed period keeps its dates, and so what it locks
        if mode == 'delete' or (mode == 'write' and values.keys() - {'state'}):
            for period in periods:
                if period.state == 'closed':
                    raise PeriodClosedError(gettext(
                            'school_ejournal.msg_period_closed_own',
                            period=period.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, periods):
        "Close the periods: nothing dated in them may change any more"
        for period in periods:
            earlier = cls.search([
                    ('year.company', '=', period.year.company.id),
                    ('kind', '=', period.kind),
                    ('state', '=', 'open'),
                    ('end_date', '<', period.start_date),
                    ], limit=1)
            if earlier:
                raise PeriodTransitionError(gettext(
                        'school_ejournal.msg_period_close_previous_open',
                        period=period.rec_name, other=earlier[0].rec_name))
        from .grade_run import warn_missing_grades
        warn_missing_grades(periods)

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, periods):
        for period in periods:
            later = cls.search([
                    ('year.company', '=', period.year.company.id),
                    ('kind', '=', period.kind),
                    ('state', '=', 'closed'),
                    ('start_date', '>', period.end_date),
                    ], limit=1)
            if later:
                raise PeriodTransitionError(gettext(
                        'school_ejournal.msg_period_reopen_later_closed',
                        period=period.rec_name, other=later[0].rec_name))

    def get_rec_name(self, name):
        return '%s %s' % (self.name, self.year.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('name', *clause[1:]),
            ('year.name', *clause[1:]),
            ]

    @classmethod
    def validate(cls, periods):
        super().validate(periods)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for period in periods:
            cursor.execute(*table.select(table.id,
                    where=overlaps(table, period.start_date, period.end_date,
                        (table.year == period.year.id)
                        & (table.kind == period.kind)
                        & (table.id != period.id)),
                    limit=1))
            other = cursor.fetchone()
            if other:
                raise OverlapError(gettext(
                        'school_ejournal.msg_period_overlap',
                        period=period.rec_name,
                        other=cls(other[0]).rec_name))

    @classmethod
    def find(cls, level, date):
        "Return the period of the class level that holds the date"
        periods = cls.search([
                ('year.company', '=', level.company.id),
                ('kind', '=', level.period_kind),
                ('start_date', '<=', date),
                ('end_date', '>=', date),
                ], limit=1)
        return periods[0] if periods else None

    @classmethod
    def last_started(cls, year, level, date):
        """Return the period of the level in the year holding the date;
        in holidays and summer the one that ended last; before the year,
        its first"""
        domain = [
            ('year', '=', year.id),
            ('kind', '=', level.period_kind),
            ]
        periods = cls.search(domain + [('start_date', '<=', date)],
            order=[('start_date', 'DESC')], limit=1)
        if not periods:
            periods = cls.search(
                domain, order=[('start_date', 'ASC')], limit=1)
        return periods[0] if periods else None


class Holiday(
        ValidationMixin, _YearDatesMixin, company_through('year'), ModelSQL,
        ModelView):
    __name__ = 'school.holiday'

    year = fields.Many2One(
        'school.year', "Academic Year", required=True, ondelete='CASCADE',
        help="The academic year of the holiday.")
    name = fields.Char(
        "Name", required=True,
        help="As «Autumn holidays» or «National Unity Day».")
    kind = fields.Selection([
            ('holiday', "School holidays"),
            ('day_off', "Non-working day"),
            ], "Kind", required=True,
        help="School holidays (каникулы) or a public non-working day.")
    start_date = fields.Date(
        "Start Date", required=True,
        domain=[('start_date', '<=', Eval('end_date', None))],
        help="The first day without lessons.")
    end_date = fields.Date(
        "End Date", required=True,
        domain=[('end_date', '>=', Eval('start_date', None))],
        help="The last day without lessons.")
    levels = fields.Many2Many(
        'school.holiday-school.level', 'holiday', 'level', "Class Levels",
        help="Leave empty when the holiday is for the whole school; "
        "otherwise only these levels have no lessons "
        "(as the extra February holidays of the 1st classes).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('start_date', 'ASC'))

    @classmethod
    def default_kind(cls):
        return 'holiday'


class HolidayLevel(ValidationMixin, ModelSQL):
    __name__ = 'school.holiday-school.level'

    holiday = fields.Many2One(
        'school.holiday', "Holiday", required=True, ondelete='CASCADE')
    level = fields.Many2One(
        'school.level', "Class Level", required=True, ondelete='CASCADE')
