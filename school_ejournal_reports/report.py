# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The reports of the analysis, of a class's progress and attendance in a
term: figures computed once (from the core's query layer), rendered as HTML
turned into PDF, or written to an XLSX workbook."""
import io
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pygal
# trytond imports weasyprint when it converts the first HTML report of the
# process: about 0.7 s of CPU (Pango through cffi, fontTools), a fifth of the
# analysis PDF's time, paid by the first user who prints.  The reports of
# this module are PDF: import it with the module, when the server loads it.
import weasyprint  # noqa: F401
import xlsxwriter
from genshi.core import Markup
from genshi.input import XML
from pygal.style import Style

from school_ejournal.grade import propose
from school_ejournal.mark import weighted_average
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import file_open
from trytond.transaction import Transaction
from trytond.wizard import (
    Button, StateReport, StateTransition, StateView, Wizard)

GRADE_POINTS = ['5', '4', '3', '2', '1']
# The weights of the marks in the degree of learning (СОУ, В. П. Симонов)
SOU_WEIGHTS = {
    '5': Decimal('1'), '4': Decimal('0.64'), '3': Decimal('0.36'),
    '2': Decimal('0.16'), '1': Decimal('0.07')}
ABSENCE_COLUMNS = ['absent', 'ill', 'excused', 'late']


def percent(part, whole):
    "Return part of whole in percent, to one decimal rounded half up"
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(
        Decimal('0.1'), rounding=ROUND_HALF_UP)


def svg_chart(chart):
    "Return the chart as an SVG stream for a Genshi template"
    chart.config.js = []
    chart.config.disable_xml_declaration = True
    return XML(chart.render(is_unicode=True))


def readable(model, ids):
    "Refuse the report on records the user may not read"
    Model = Pool().get(model)
    with Transaction().set_context(_check_access=True):
        found = Model.search([('id', 'in', list(ids))])
    if len(found) != len(set(ids)):
        raise AccessError(gettext(
                'school_ejournal_reports.msg_report_not_readable'))


class AuditFigures:
    "The remarks a run checked, counted per teacher and per class"
    __slots__ = ()

    @classmethod
    def figures(cls, run, data=None):
        pool = Pool()
        Remark = pool.get('school.audit.remark')
        remarks = Remark.search([('last_run', '=', run.id)],
            order=[('date', 'ASC'), ('id', 'ASC')])
        rules = dict(Remark.fields_get(['rule'])['rule']['selection'])
        states = dict(Remark.fields_get(['state'])['state']['selection'])

        def count(key):
            rows = defaultdict(Counter)
            for remark in remarks:
                name = key(remark)
                state = ('open' if remark.state in {'open', 'reopened'}
                    else remark.state)
                rows[name][state] += 1
                rows[name]['total'] += 1
            return [{'name': n, 'total': c['total'], 'open': c['open'],
                    'fixed': c['fixed'], 'confirmed': c['confirmed']}
                for n, c in sorted(rows.items())]
        none = gettext('school_ejournal_reports.msg_report_none')
        return {
            'run': run,
            'teachers': count(
                lambda r: r.teacher.rec_name if r.teacher else none),
            'classes': count(
                lambda r: r.class_.rec_name if r.class_ else none),
            'remarks': [{
                    'date': r.date,
                    'teacher': r.teacher.rec_name if r.teacher else '',
                    'class_': r.class_.rec_name if r.class_ else '',
                    'rule': rules[r.rule],
                    'text': r.text,
                    'state': states[r.state],
                    'comment': r.comment or '',
                    } for r in remarks],
            }


class ProgressFigures:
    "The term marks of a class per subject and teacher"
    __slots__ = ()

    @classmethod
    def period_of(cls, class_, data):
        pool = Pool()
        Period = pool.get('school.period')
        Date = pool.get('ir.date')
        if data.get('period'):
            return Period(data['period'])
        return Period.last_started(class_.year, class_.level, Date.today())

    @classmethod
    def term_marks(cls, class_, period):
        """Return {teaching: {student: mark}}: the term grade set by the
        teacher, else the one the weighted average proposes, for each
        student listed at a held lesson of the teaching in the term"""
        pool = Pool()
        Mark = pool.get('school.mark')
        Line = pool.get('school.lesson.attendance')
        Grade = pool.get('school.grade')
        Configuration = pool.get('school.configuration')
        config = Configuration(1)
        cursor = Transaction().connection.cursor()

        def where_lesson(lesson):
            return ((lesson.class_ == class_.id)
                & (lesson.period == period.id))
        marks = defaultdict(dict)
        counts = Line.attendance_query(
            where=lambda line, lesson: where_lesson(lesson),
            group_by=('teaching', 'student'))
        cursor.execute(*counts.select(counts.teaching, counts.student,
                group_by=[counts.teaching, counts.student]))
        for teaching, student in cursor:
            marks[teaching][student] = 'na'
        cursor.execute(*Mark.average_query(
                where=lambda mark, lesson: where_lesson(lesson),
                group_by=('teaching', 'student')))
        for teaching, student, weighted, weights, count in cursor:
            marks[teaching][student] = propose(
                weighted_average(weighted, weights), count,
                config.grade_threshold, config.grade_min_marks)
        for grade in Grade.search([
                    ('class_', '=', class_.id),
                    ('period', '=', period.id),
                    ('value', '!=', None),
                    ]):
            marks[grade.teaching.id][grade.student.id] = grade.value
        return marks

    @classmethod
    def figures(cls, class_, data, chart=True):
        "The figures of the class; chart: with the SVG chart (not in XLSX)"
        pool = Pool()
        Teaching = pool.get('school.teaching')
        period = cls.period_of(class_, data)
        rows = []
        totals = Counter()
        marks = cls.term_marks(class_, period)
        # One read of the teachings' subjects, groups and teachers
        teachings = dict(zip(marks, Teaching.browse(list(marks))))
        for teaching_id, students in marks.items():
            teaching = teachings[teaching_id]
            counter = Counter(students.values())
            row = cls.row(counter, len(students))
            row.update({
                    'subject': teaching.subject.rec_name,
                    'group': (teaching.subgroup.name
                        if teaching.subgroup else ''),
                    'teacher': teaching.teacher.rec_name,
                    })
            rows.append(row)
            totals.update(counter)
        rows.sort(key=lambda r: (r['subject'], r['group'], r['teacher']))
        total = cls.row(totals, sum(totals.values()))
        return {
            'class_': class_,
            'period': period,
            'rows': rows,
            'total': total,
            'chart': cls.chart(rows) if chart else None,
            }

    @staticmethod
    def row(counter, students):
        numeric = sum(counter[p] for p in GRADE_POINTS)
        points = sum(int(p) * counter[p] for p in GRADE_POINTS)
        success = sum(counter[p] for p in ['5', '4', '3']) + counter['pass']
        quality = counter['5'] + counter['4']
        sou = sum(SOU_WEIGHTS[p] * counter[p] for p in GRADE_POINTS)
        return {
            'students': students,
            **{p: counter[p] for p in GRADE_POINTS},
            'na': counter['na'] + counter['fail'],
            'success': percent(success, students),
            'quality': percent(quality, students),
            'average': (Decimal(points) / numeric).quantize(
                Decimal('0.01'), rounding=ROUND_HALF_UP)
            if numeric else None,
            'sou': percent(sou, students),
            }

    @staticmethod
    def chart(rows):
        chart = pygal.StackedBar(
            width=800, height=300, legend_at_bottom=True,
            style=Style(background='white', plot_background='white'),
            show_legend=True)
        chart.x_labels = [r['subject'] + (
                ' (%s)' % r['group'] if r['group'] else '') for r in rows]
        for point in reversed(GRADE_POINTS[:4]):
            chart.add('«%s»' % point, [r[point] for r in rows])
        return svg_chart(chart)


class AttendanceFigures:
    "The lessons each student of a class missed in a term, by reason"
    __slots__ = ()

    @classmethod
    def figures(cls, class_, data):
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        Student = pool.get('school.student')
        period = ProgressFigures.period_of(class_, data)
        cursor = Transaction().connection.cursor()
        cursor.execute(*Line.attendance_query(
                where=lambda line, lesson: (lesson.class_ == class_.id)
                & (lesson.period == period.id),
                group_by=('student',)))
        counts = defaultdict(Counter)
        for student, attendance, count in cursor:
            counts[student][attendance] += count
            counts[student]['lessons'] += count
        rows = []
        total = Counter()
        for student_id, counter in counts.items():
            missed = sum(counter[a] for a in ['absent', 'ill', 'excused'])
            rows.append({
                    'student': Student(student_id).rec_name,
                    'lessons': counter['lessons'],
                    **{a: counter[a] for a in ABSENCE_COLUMNS},
                    'missed': missed,
                    'rate': percent(missed, counter['lessons']),
                    })
            total.update(counter)
            total['missed'] += missed
        rows.sort(key=lambda r: r['student'])
        return {
            'class_': class_,
            'period': period,
            'rows': rows,
            'total': {
                'lessons': total['lessons'],
                **{a: total[a] for a in ABSENCE_COLUMNS},
                'missed': total['missed'],
                'rate': percent(total['missed'], total['lessons']),
                },
            }


class _HTMLReport(Report):
    """A report printed from an HTML template (weasyprint): the records'
    figures as pages, refused on records the user may not read, and the
    reports' shared style sheet"""
    _figures = None
    _model = None

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        readable(cls._model, [r.id for r in records])
        context['pages'] = cls._pages(records, data)
        context['format_percent'] = lambda v: '' if v is None else str(v)
        context['style'] = style()
        return context

    @classmethod
    def _pages(cls, records, data):
        return [cls._figures.figures(r, data) for r in records]


def style():
    "The style sheet the HTML reports share"
    global _style
    if _style is None:
        with file_open('school_ejournal_reports/report.css') as file:
            _style = Markup(file.read())
    return _style


_style = None


class AuditReport(_HTMLReport):
    "The journal-keeping analysis per teacher and class"
    __name__ = 'school.audit.report'
    _figures = AuditFigures
    _model = 'school.audit.run'


class ProgressReport(_HTMLReport):
    "The progress of a class in a term"
    __name__ = 'school.report.progress'
    _figures = ProgressFigures
    _model = 'school.class'


class AttendanceReport(_HTMLReport):
    "The attendance of a class in a term"
    __name__ = 'school.report.attendance'
    _figures = AttendanceFigures
    _model = 'school.class'


class _XLSXReport(Report):
    "A report written by xlsxwriter, one sheet per record"
    _figures = None
    _model = None

    @classmethod
    def _execute(cls, records, header, data, action):
        readable(cls._model, [r.id for r in records])
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {'in_memory': True})
        formats = {
            'bold': workbook.add_format({'bold': True}),
            'date': workbook.add_format({'num_format': 'dd.mm.yyyy'}),
            'wrap': workbook.add_format({'text_wrap': True}),
            }
        for index, record in enumerate(records, 1):
            with Transaction().set_context(Transaction().context):
                name = record.rec_name[:24].translate(
                    str.maketrans('[]:*?/\\', '_______'))
                sheet = workbook.add_worksheet('%s %s' % (index, name))
                cls.write_sheet(workbook, sheet, formats, record, data)
        workbook.close()
        return 'xlsx', output.getvalue()

    @staticmethod
    def label(name):
        return gettext('school_ejournal_reports.msg_column_%s' % name)

    @classmethod
    def write_rows(cls, sheet, formats, row, columns, records):
        sheet.write_row(row, 0, [cls.label(c) for c in columns],
            formats['bold'])
        for record in records:
            row += 1
            for col, name in enumerate(columns):
                value = record.get(name)
                if value is None:
                    sheet.write_blank(row, col, None)
                elif isinstance(value, Decimal):
                    sheet.write_number(row, col, float(value))
                elif hasattr(value, 'isoformat'):
                    sheet.write_datetime(row, col, value, formats['date'])
                else:
                    sheet.write(row, col, value)
        return row + 2


class AuditReportXLSX(_XLSXReport):
    "The journal-keeping analysis per teacher and class as a workbook"
    __name__ = 'school.audit.report.xlsx'
    _model = 'school.audit.run'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        figures = AuditFigures.figures(record)
        sheet.write(0, 0, gettext(
                'school_ejournal_reports.msg_report_audit_title',
                run=record.rec_name), formats['bold'])
        counts = ['name', 'total', 'open', 'fixed', 'confirmed']
        row = cls.write_rows(
            sheet, formats, 2, counts, figures['teachers'])
        row = cls.write_rows(
            sheet, formats, row, counts, figures['classes'])
        cls.write_rows(sheet, formats, row,
            ['date', 'teacher', 'class_', 'rule', 'text', 'state',
                'comment'], figures['remarks'])
        sheet.set_column(0, 0, 30)
        sheet.set_column(4, 4, 60)


class ProgressReportXLSX(_XLSXReport):
    "The progress of a class in a term as a workbook"
    __name__ = 'school.report.progress.xlsx'
    _model = 'school.class'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        figures = ProgressFigures.figures(record, data, chart=False)
        sheet.write(0, 0, gettext(
                'school_ejournal_reports.msg_report_progress_title',
                class_=record.rec_name, period=figures['period'].rec_name),
            formats['bold'])
        total = dict(figures['total'], subject=cls.label('total'))
        cls.write_rows(sheet, formats, 2,
            ['subject', 'group', 'teacher', 'students', '5', '4', '3', '2',
                'na', 'success', 'quality', 'average', 'sou'],
            figures['rows'] + [total])
        sheet.set_column(0, 2, 24)


class AttendanceReportXLSX(_XLSXReport):
    "The attendance of a class in a term as a workbook"
    __name__ = 'school.report.attendance.xlsx'
    _model = 'school.class'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        figures = AttendanceFigures.figures(record, data)
        sheet.write(0, 0, gettext(
                'school_ejournal_reports.msg_report_attendance_title',
                class_=record.rec_name, period=figures['period'].rec_name),
            formats['bold'])
        total = dict(figures['total'], student=cls.label('total'))
        cls.write_rows(sheet, formats, 2,
            ['student', 'lessons', 'absent', 'ill', 'excused', 'missed',
                'rate', 'late'],
            figures['rows'] + [total])
        sheet.set_column(0, 0, 30)


class TermReportStart(ModelView):
    "Print a term report of classes"
    __name__ = 'school.report.term.start'

    period = fields.Many2One(
        'school.period', "Study Period", required=True,
        help="The term or half-year the report covers.")
    report = fields.Selection([
            ('progress', "Class Progress"),
            ('attendance', "Class Attendance"),
            ('card', "Report Card"),
            ('journal', "Class Journal Copy"),
            ], "Report", required=True,
        help="The class journal copy is every subject's page of the "
        "class for the period, with the lines the staff sign.")
    format = fields.Selection([
            ('pdf', "PDF"),
            ('xlsx', "XLSX"),
            ], "Format", required=True)

    @classmethod
    def default_report(cls):
        return 'progress'

    @classmethod
    def default_format(cls):
        return 'pdf'


class TermReport(Wizard):
    "Print a term report of classes"
    __name__ = 'school.report.term'

    start = StateView('school.report.term.start',
        'school_ejournal_reports.report_term_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'choose', 'tryton-print', default=True),
            ])
    choose = StateTransition()
    progress_pdf = StateReport('school.report.progress')
    progress_xlsx = StateReport('school.report.progress.xlsx')
    attendance_pdf = StateReport('school.report.attendance')
    attendance_xlsx = StateReport('school.report.attendance.xlsx')
    card_pdf = StateReport('school.report.card')
    card_xlsx = StateReport('school.report.card.xlsx')
    journal_pdf = StateReport('school.report.journal_copy')
    journal_xlsx = StateReport('school.report.journal_copy.xlsx')

    def default_start(self, fields):
        pool = Pool()
        Period = pool.get('school.period')
        Date = pool.get('ir.date')
        values = {}
        if self.records:
            class_ = self.records[0]
            period = Period.last_started(
                class_.year, class_.level, Date.today())
            if period:
                values['period'] = period.id
        return values

    def transition_choose(self):
        return '%s_%s' % (self.start.report, self.start.format)

    def _data(self, action):
        return action, {
            'ids': [r.id for r in self.records],
            'model': 'school.class',
            'period': self.start.period.id,
            }

    do_progress_pdf = _data
    do_progress_xlsx = _data
    do_attendance_pdf = _data
    do_attendance_xlsx = _data
    do_card_pdf = _data
    do_card_xlsx = _data
    do_journal_pdf = _data
    do_journal_xlsx = _data
