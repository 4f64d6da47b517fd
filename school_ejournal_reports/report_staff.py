# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The staff's reports: the substitution journal (журнал замены уроков,
T2), the report card of a class (табель, C5), the teachers' weekly hours
against the norm (U3) and the thematic plans' progress (T13)."""
import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import xlsxwriter
from sql import Literal
from sql.aggregate import Count
from sql.conditionals import Coalesce
from sql.functions import Floor

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from .report import (
    ProgressFigures, _HTMLReport, _XLSXReport, percent, readable)
from .rule import day_number
from .rule_plan import approved_plan_hours, plan_hours_query


class SubstitutionFigures:
    "The substitutions given, by month, with the hours of each substitute"
    __slots__ = ()

    @classmethod
    def figures(cls, ids):
        """Return the months of the substitutions of ids: each with its
        rows (date, lesson number, class, subject, absent teacher,
        substitute, reason) and the hours per substitute, from one query"""
        pool = Pool()
        Substitution = pool.get('school.substitution')
        Lesson = pool.get('school.lesson')
        Employee = pool.get('company.employee')
        Class = pool.get('school.class')
        Subject = pool.get('school.subject')
        substitution = Substitution.__table__()
        lesson = Lesson.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*substitution
            .join(lesson, condition=substitution.lesson == lesson.id)
            .select(lesson.date, lesson.number, lesson.class_,
                lesson.subject, substitution.absent_teacher,
                substitution.substitute, substitution.reason,
                where=substitution.id.in_(list(ids) or [-1]),
                order_by=[lesson.date, lesson.number, substitution.id]))
        rows = cursor.fetchall()
        names = {}
        for Model, index in [(Class, 2), (Subject, 3), (Employee, 4),
                (Employee, 5)]:
            records = Model.browse(list({r[index] for r in rows}))
            names.update({(Model.__name__, r.id): r.rec_name
                    for r in records})
        months = defaultdict(lambda: {'rows': [], 'hours': defaultdict(int)})
        for date, number, class_, subject, absent, substitute, reason in rows:
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            month = months[date.replace(day=1)]
            name = names['company.employee', substitute]
            month['rows'].append({
                    'date': date,
                    'number': number,
                    'class_': names['school.class', class_],
                    'subject': names['school.subject', subject],
                    'absent_teacher': names['company.employee', absent],
                    'substitute': name,
                    'reason': reason,
                    'hours': 1,
                    })
            month['hours'][name] += 1
        return [{
                'month': month,
                'rows': values['rows'],
                'hours': sorted(values['hours'].items()),
                'total': len(values['rows']),
                } for month, values in sorted(months.items())]


class SubstitutionReport(_HTMLReport):
    "The substitution journal"
    __name__ = 'school.report.substitution'
    _model = 'school.substitution'

    @classmethod
    def _pages(cls, records, data):
        "The months of the substitutions"
        return SubstitutionFigures.figures([r.id for r in records])


class SubstitutionReportXLSX(_XLSXReport):
    "The substitution journal as a workbook, a sheet per month"
    __name__ = 'school.report.substitution.xlsx'
    _model = 'school.substitution'

    @classmethod
    def _execute(cls, records, header, data, action):
        ids = [r.id for r in records]
        readable(cls._model, ids)
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {'in_memory': True})
        formats = {
            'bold': workbook.add_format({'bold': True}),
            'date': workbook.add_format({'num_format': 'dd.mm.yyyy'}),
            }
        for month in SubstitutionFigures.figures(ids):
            sheet = workbook.add_worksheet(month['month'].strftime('%m.%Y'))
            sheet.write(0, 0, gettext(
                    'school_ejournal_reports.msg_report_substitution_title',
                    month=month['month'].strftime('%m.%Y')), formats['bold'])
            row = cls.write_rows(sheet, formats, 2,
                ['date', 'number', 'class_', 'subject', 'absent_teacher',
                    'substitute', 'reason', 'hours'], month['rows'])
            cls.write_rows(sheet, formats, row, ['substitute', 'hours'],
                [{'substitute': n, 'hours': h} for n, h in month['hours']]
                + [{'substitute': cls.label('total'),
                    'hours': month['total']}])
            sheet.set_column(2, 6, 22)
        workbook.close()
        return 'xlsx', output.getvalue()


def grade_labels():
    "The labels of the grades in the user's language"
    Grade = Pool().get('school.grade')
    return dict(Grade.fields_get(['value'])['value']['selection'])


class ReportCardFigures:
    """The term grades of the periods of a class's year up to the period
    and the year grades, per student and subject (табель)"""
    __slots__ = ()

    @classmethod
    def figures(cls, class_, data):
        pool = Pool()
        Period = pool.get('school.period')
        Teaching = pool.get('school.teaching')
        Grade = pool.get('school.grade')
        Student = pool.get('school.student')
        period = ProgressFigures.period_of(class_, data)
        periods = Period.search([
                ('year', '=', class_.year.id),
                ('kind', '=', period.kind),
                ('start_date', '<=', period.start_date),
                ], order=[('start_date', 'ASC')])
        labels = grade_labels()
        subjects = {}
        cells = defaultdict(dict)
        for term in periods:
            marks = ProgressFigures.term_marks(class_, term)
            for teaching in Teaching.browse(list(marks)):
                subjects[teaching.subject.id] = teaching.subject.rec_name
                for student, value in marks[teaching.id].items():
                    cells[student][teaching.subject.id, term.id] = value
        for grade in Grade.search([
                    ('class_', '=', class_.id),
                    ('period', '=', None),
                    ('value', '!=', None),
                    ]):
            subjects[grade.subject.id] = grade.subject.rec_name
            cells[grade.student.id][grade.subject.id, None] = grade.value
        terms = [(p.id, p.name) for p in periods] + [
            (None, gettext('school_ejournal_reports.msg_column_year'))]
        order = sorted(subjects, key=lambda s: subjects[s])
        columns = [(s, t) for s in order for t, _ in terms]
        rows = []
        for student in Student.browse(list(cells)):
            values = [cells[student.id].get(c) for c in columns]
            rows.append({
                    'student': student.rec_name,
                    'cells': [labels.get(v, v) if v else '' for v in values],
                    })
        rows.sort(key=lambda r: r['student'])
        return {
            'class_': class_,
            'period': period,
            'subjects': [subjects[s] for s in order],
            'terms': [name for _, name in terms],
            'rows': rows,
            }


class ReportCardReport(_HTMLReport):
    "The report card of a class (табель)"
    __name__ = 'school.report.card'
    _figures = ReportCardFigures
    _model = 'school.class'


class ReportCardReportXLSX(_XLSXReport):
    "The report card of a class as a workbook"
    __name__ = 'school.report.card.xlsx'
    _model = 'school.class'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        figures = ReportCardFigures.figures(record, data)
        sheet.write(0, 0, gettext(
                'school_ejournal_reports.msg_report_card_title',
                class_=record.rec_name, period=figures['period'].rec_name),
            formats['bold'])
        width = len(figures['terms'])
        sheet.write(2, 0, cls.label('student'), formats['bold'])
        for index, subject in enumerate(figures['subjects']):
            sheet.write(2, 1 + index * width, subject, formats['bold'])
            for offset, term in enumerate(figures['terms']):
                sheet.write(3, 1 + index * width + offset, term)
        for row, values in enumerate(figures['rows'], 4):
            sheet.write(row, 0, values['student'])
            for col, value in enumerate(values['cells'], 1):
                if value.isdigit():
                    sheet.write_number(row, col, int(value))
                else:
                    sheet.write(row, col, value)
        sheet.set_column(0, 0, 30)


class WorkloadFigures:
    """The lessons each teacher gave per week of a period (a substitute's
    for the lessons he substituted), against the weekly norm"""
    __slots__ = ()

    @classmethod
    def figures(cls, period, data=None):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Substitution = pool.get('school.substitution')
        Employee = pool.get('company.employee')
        Configuration = pool.get('school.configuration')
        norm = Configuration(1).report_weekly_hours
        lesson = Lesson.__table__()
        substitution = Substitution.__table__()
        monday = period.start_date - dt.timedelta(
            days=period.start_date.weekday())
        teacher = Coalesce(substitution.substitute, lesson.teacher)
        # The Monday's day number is given as an integer: PostgreSQL cannot
        # type EXTRACT of a parameter
        week = Floor((day_number(lesson.date)
                - (monday - dt.date(1970, 1, 1)).days) / 7)
        # Grouped in an outer query: PostgreSQL does not take the week's
        # expression with its parameter in GROUP BY for the one in SELECT
        given = (lesson
            .join(substitution, 'LEFT',
                condition=substitution.lesson == lesson.id)
            .select(teacher.as_('teacher'), week.as_('week'),
                where=(lesson.company == period.year.company.id)
                & (lesson.date >= period.start_date)
                & (lesson.date <= period.end_date)
                & (lesson.state != 'cancelled')))
        cursor = Transaction().connection.cursor()
        cursor.execute(*given.select(given.teacher, given.week,
                Count(Literal(1)),
                group_by=[given.teacher, given.week]))
        hours = defaultdict(dict)
        for teacher_id, week_, count in cursor:
            hours[teacher_id][int(week_)] = count
        weeks = []
        day = monday
        while day <= period.end_date:
            weeks.append(day)
            day += dt.timedelta(days=7)
        rows = []
        for employee in Employee.browse(list(hours)):
            cells = []
            for index in range(len(weeks)):
                value = hours[employee.id].get(index, 0)
                cells.append({
                        'hours': value,
                        'level': cls.level(value, norm),
                        })
            rows.append({
                    'teacher': employee.rec_name,
                    'cells': cells,
                    'over': sum(1 for c in cells if c['hours'] > norm),
                    })
        rows.sort(key=lambda r: r['teacher'])
        return {
            'period': period,
            'norm': norm,
            'weeks': weeks,
            'rows': rows,
            }

    @staticmethod
    def level(hours, norm):
        "The colour class of the hours against the norm"
        if not hours:
            return 'none'
        if hours <= norm:
            return 'normal'
        if hours <= norm * Decimal('1.5'):
            return 'high'
        return 'over'


COLOURS = {
    'none': '#ffffff', 'normal': '#c6efce', 'high': '#ffeb9c',
    'over': '#ffc7ce'}


class WorkloadReport(_HTMLReport):
    "The teachers' hours per week of a period as a heat map"
    __name__ = 'school.report.workload'
    _model = 'school.period'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['colours'] = COLOURS
        return context

    @classmethod
    def _pages(cls, records, data):
        return [WorkloadFigures.figures(r) for r in records]


class WorkloadReportXLSX(_XLSXReport):
    "The teachers' hours per week of a period as a workbook"
    __name__ = 'school.report.workload.xlsx'
    _model = 'school.period'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        figures = WorkloadFigures.figures(record)
        colours = {k: workbook.add_format({'bg_color': v})
            for k, v in COLOURS.items()}
        sheet.write(0, 0, gettext(
                'school_ejournal_reports.msg_report_workload_title',
                period=record.rec_name, norm=figures['norm']),
            formats['bold'])
        sheet.write(2, 0, cls.label('teacher'), formats['bold'])
        for col, week in enumerate(figures['weeks'], 1):
            sheet.write(2, col, week.strftime('%d.%m'), formats['bold'])
        for row, values in enumerate(figures['rows'], 3):
            sheet.write(row, 0, values['teacher'])
            for col, cell in enumerate(values['cells'], 1):
                sheet.write_number(
                    row, col, cell['hours'], colours[cell['level']])
        sheet.set_column(0, 0, 30)


class PlanProgressFigures:
    """The hours of each teaching's thematic plan given (held on a topic of
    the plan) against the lessons of the calendar up to a day"""
    __slots__ = ()

    @classmethod
    def figures(cls, period, data=None):
        pool = Pool()
        Date = pool.get('ir.date')
        Teaching = pool.get('school.teaching')
        as_of = min(period.end_date, Date.today() - dt.timedelta(days=1))
        company = period.year.company.id
        hours = plan_hours_query(
            lambda t: t.company == company, period.year.id,
            period.start_date, as_of)
        plans = approved_plan_hours()
        cursor = Transaction().connection.cursor()
        cursor.execute(*hours
            .join(plans, 'LEFT', condition=plans.teaching == hours.teaching)
            .select(hours.teaching, hours.expected, hours.given,
                plans.hours))
        rows = []
        for teaching_id, expected, given, plan in cursor:
            teaching = Teaching(teaching_id)
            expected = int(expected)
            if plan is not None:
                expected = min(expected, int(plan))
            given = int(given)
            rows.append({
                    'teacher': teaching.teacher.rec_name,
                    'class_': (teaching.subgroup.rec_name
                        if teaching.subgroup else teaching.class_.rec_name),
                    'subject': teaching.subject.rec_name,
                    'plan': int(plan) if plan is not None else None,
                    'expected': expected,
                    'given': given,
                    'lag': expected - given,
                    'progress': percent(given, expected),
                    })
        rows.sort(key=lambda r: (r['teacher'], r['class_'], r['subject']))
        return {'period': period, 'date': as_of, 'rows': rows}


class PlanProgressReport(_HTMLReport):
    "The thematic plans' progress per teaching"
    __name__ = 'school.report.plan_progress'
    _model = 'school.period'

    @classmethod
    def _pages(cls, records, data):
        return [PlanProgressFigures.figures(r) for r in records]


class PlanProgressReportXLSX(_XLSXReport):
    "The thematic plans' progress per teaching as a workbook"
    __name__ = 'school.report.plan_progress.xlsx'
    _model = 'school.period'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        figures = PlanProgressFigures.figures(record)
        sheet.write(0, 0, gettext(
                'school_ejournal_reports.msg_report_plan_progress_title',
                period=record.rec_name,
                date=figures['date'].strftime('%d.%m.%Y')), formats['bold'])
        cls.write_rows(sheet, formats, 2,
            ['teacher', 'class_', 'subject', 'plan', 'expected', 'given',
                'lag', 'progress'], figures['rows'])
        sheet.set_column(0, 2, 24)
