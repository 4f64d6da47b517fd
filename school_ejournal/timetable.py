# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt

from sql import Null

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import company_through
from .exceptions import TimetableClashError
from .validation import RPCGuardMixin, ValidationMixin, ValidationWizardMixin

WEEKDAYS = [
    ('0', "Monday"),
    ('1', "Tuesday"),
    ('2', "Wednesday"),
    ('3', "Thursday"),
    ('4', "Friday"),
    ('5', "Saturday"),
    ]


class Bell(ValidationMixin, ModelSQL, ModelView):
    "A lesson of the bell schedule, as «1st lesson 8:30–9:15»"
    __name__ = 'school.bell'

    company = fields.Many2One(
        'company.company', "School", required=True)
    number = fields.Integer(
        "Lesson", required=True,
        domain=[('number', '>=', 0), ('number', '<=', 12)],
        help="The number of the lesson in the day.")
    start = fields.Time("Start", required=True)
    end = fields.Time(
        "End", required=True,
        domain=[('end', '>', Eval('start', None))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_unique', Unique(t, t.company, t.number),
                'school_ejournal.msg_bell_number_unique'),
            ]
        cls._order = [('number', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return '%s. %s–%s' % (
            self.number, self.start.strftime('%H:%M'),
            self.end.strftime('%H:%M'))


class Timetable(
        ValidationMixin, company_through('period'), ModelSQL, ModelView):
    "A weekly lesson of the timetable (расписание) of a study period"
    __name__ = 'school.timetable'

    period = fields.Many2One(
        'school.period', "Study Period", required=True, ondelete='CASCADE',
        help="The period the timetable holds for.")
    teaching = fields.Many2One(
        'school.teaching', "Teaching", required=True, ondelete='CASCADE',
        domain=[('class_.year', '=', Eval('year', -1))],
        help="The class or subgroup, subject and teacher of the lesson.")
    year = fields.Function(
        fields.Many2One('school.year', "Academic Year"),
        'on_change_with_year')
    weekday = fields.Selection(WEEKDAYS, "Weekday", required=True, sort=False)
    number = fields.Integer(
        "Lesson", required=True,
        domain=[('number', '>=', 0), ('number', '<=', 12)],
        help="The number of the lesson in the day (bell schedule).")
    room = fields.Char("Room")
    class_ = fields.Function(
        fields.Many2One('school.class', "Class"), 'get_teaching_field',
        searcher='search_teaching_field')
    subgroup = fields.Function(
        fields.Many2One('school.subgroup', "Subgroup"), 'get_teaching_field',
        searcher='search_teaching_field')
    subject = fields.Function(
        fields.Many2One('school.subject', "Subject"), 'get_teaching_field',
        searcher='search_teaching_field')
    teacher = fields.Function(
        fields.Many2One('company.employee', "Teacher"), 'get_teaching_field',
        searcher='search_teaching_field')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t,
                    (t.period, Index.Equality()),
                    (t.weekday, Index.Equality()),
                    (t.number, Index.Equality())),
                Index(t,
                    (t.weekday, Index.Equality()),
                    (t.number, Index.Equality())),
                })
        cls._order = [
            ('period', 'ASC'), ('weekday', 'ASC'), ('number', 'ASC'),
            ('id', 'ASC')]

    @fields.depends('period', '_parent_period.year')
    def on_change_with_year(self, name=None):
        return self.period.year if self.period else None

    def get_teaching_field(self, name):
        value = getattr(self.teaching, name)
        return value.id if value else None

    @classmethod
    def search_teaching_field(cls, name, clause):
        return [('teaching.' + clause[0], *clause[1:])]

    def get_rec_name(self, name):
        return '%s, %s: %s' % (
            self.fields_get(['weekday'])['weekday']['selection'][
                int(self.weekday)][1],
            self.number, self.teaching.rec_name)

    @classmethod
    def validate(cls, entries):
        super().validate(entries)
        cls.check_clashes(entries)

    @classmethod
    def check_clashes(cls, entries):
        "Refuse two lessons of a teacher, room, class or student at once"
        pool = Pool()
        Teaching = pool.get('school.teaching')
        Period = pool.get('school.period')
        SubgroupStudent = pool.get('school.subgroup-school.student')
        table = cls.__table__()
        teaching = Teaching.__table__()
        period = Period.__table__()
        cursor = Transaction().connection.cursor()
        for entry in entries:
            mine = entry.teaching
            cursor.execute(*table
                .join(teaching, condition=table.teaching == teaching.id)
                .join(period, condition=table.period == period.id)
                .select(table.id, teaching.teacher, teaching.class_,
                    teaching.subgroup, table.room,
                    where=(table.id != entry.id)
                    & (table.weekday == entry.weekday)
                    & (table.number == entry.number)
                    & (period.start_date <= entry.period.end_date)
                    & (period.end_date >= entry.period.start_date)
                    & ((teaching.teacher == mine.teacher.id)
                        | (teaching.class_ == mine.class_.id)
                        | ((table.room == entry.room)
                            & (table.room != Null)
                            & (table.room != '')))))
            for other_id, teacher, class_, subgroup, room in cursor:
                other = cls(other_id)
                if teacher == mine.teacher.id:
                    rule = 'teacher'
                elif entry.room and room == entry.room:
                    rule = 'room'
                elif (mine.subgroup is None or subgroup is None
                        or subgroup == mine.subgroup.id):
                    rule = 'class'
                else:
                    shared = SubgroupStudent.search([
                            ('subgroup', '=', subgroup),
                            ('student', 'in',
                                [s.id for s in mine.subgroup.students]),
                            ], limit=1)
                    if not shared:
                        continue
                    rule = 'subgroup'
                raise TimetableClashError(gettext(
                        'school_ejournal.msg_timetable_clash_%s' % rule,
                        entry=entry.rec_name, other=other.rec_name,
                        period=entry.period.rec_name))

    @classmethod
    def generate_lessons(cls, period, from_date=None):
        """Make the lessons of the period from its timetable, from the date;
        keep every lesson already filled in, and remove the planned, empty
        lessons that the timetable no longer has."""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        Task = pool.get('school.lesson.task')
        from_date = max(period.start_date, from_date or period.start_date)
        wanted = {}
        school_days = {}
        for entry in cls.search([('period', '=', period.id)]):
            class_ = entry.teaching.class_
            key = (class_.level.id, int(entry.weekday))
            if key not in school_days:
                school_days[key] = list(dates_of(period.year, period,
                        class_.level, int(entry.weekday), from_date))
            for date in school_days[key]:
                wanted[(entry.teaching.id, date, entry.number)] = entry
        existing = Lesson.search([
                ('period', '=', period.id),
                ('date', '>=', from_date),
                ])
        have = {(l.teaching.id, l.date, l.number): l for l in existing}
        filled = {l.lesson.id for l in Line.search([
                    ('lesson', 'in', [l.id for l in existing])])}
        filled |= {t.lesson.id for t in Task.search([
                    ('lesson', 'in', [l.id for l in existing])])}
        to_delete = [l for k, l in have.items()
            if k not in wanted and l.state == 'planned'
            and l.id not in filled and not l.topic and not l.homework]
        with Transaction().set_context(_check_access=False):
            Lesson.delete(to_delete)
        to_create = [{
                'teaching': teaching,
                'date': date,
                'number': number,
                'period': period.id,
                'timetable': entry.id,
                'room': entry.room,
                } for (teaching, date, number), entry in sorted(
                    wanted.items(), key=lambda i: i[0][1:])
            if (teaching, date, number) not in have]
        return Lesson.create(to_create)


class GenerateLessonsStart(RPCGuardMixin, ModelView):
    "Generate lessons"
    __name__ = 'school.lesson.generate.start'

    period = fields.Many2One(
        'school.period', "Study Period", required=True,
        help="The lessons of this period are made from its timetable.")
    from_date = fields.Date(
        "From", help="Leave empty to start at the beginning of the period.")


class GenerateLessons(ValidationWizardMixin, Wizard):
    "Generate the lessons of a study period from its timetable"
    __name__ = 'school.lesson.generate'

    start = StateView('school.lesson.generate.start',
        'school_ejournal.lesson_generate_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Generate", 'generate', 'tryton-ok', default=True),
            ])
    generate = StateTransition()

    def default_start(self, fields):
        if (self.model and self.model.__name__ == 'school.period'
                and self.record):
            return {'period': self.record.id}
        return {}

    def transition_generate(self):
        pool = Pool()
        Timetable = pool.get('school.timetable')
        Timetable.generate_lessons(self.start.period, self.start.from_date)
        return 'end'


def dates_of(year, period, level, weekday, from_date=None):
    "Yield the school days of the period that fall on the weekday"
    day = max(period.start_date, from_date or period.start_date)
    day += dt.timedelta(days=(weekday - day.weekday()) % 7)
    while day <= period.end_date:
        if year.is_school_day(day, level):
            yield day
        day += dt.timedelta(days=7)
