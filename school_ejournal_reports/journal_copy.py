# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The hard copy of a class journal at the end of a term («твердая копия
электронного журнала»): every subject's page of the class for the period,
as the teacher's grid shows it, with the lines the staff sign."""
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report

from .report import ProgressFigures, _XLSXReport, readable


class JournalCopyFigures:
    "The pages of a class's journal for a period"

    @classmethod
    def figures(cls, class_, data):
        pool = Pool()
        Teaching = pool.get('school.teaching')
        JournalPage = pool.get('school.journal_page', type='report')
        period = ProgressFigures.period_of(class_, data)
        # The teachings the user may read (record rules), by subject
        teachings = Teaching.search([
                ('class_', '=', class_.id),
                ], order=[('subject.name', 'ASC'), ('subgroup.name', 'ASC'),
                ('id', 'ASC')])
        pages = []
        for teaching in teachings:
            page = JournalPage.page(teaching, period.id if period else None)
            page['subject'] = teaching.subject.rec_name
            pages.append(page)
        return {
            'class_': class_,
            'school': class_.company.rec_name,
            'year': class_.year.rec_name,
            'class_teacher': (class_.class_teacher.rec_name
                if class_.class_teacher else ''),
            'period': period,
            'pages': pages,
            }


class JournalCopy(Report):
    "The hard copy of a class journal for a term, every subject, to sign"
    __name__ = 'school.report.journal_copy'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        readable('school.class', [r.id for r in records])
        context['copies'] = [
            JournalCopyFigures.figures(r, data) for r in records]
        return context


class JournalCopyXLSX(_XLSXReport):
    """The class journal for a term as a workbook: a sheet per class, each
    subject's students × lessons under its heading"""
    __name__ = 'school.report.journal_copy.xlsx'
    _model = 'school.class'

    @classmethod
    def write_sheet(cls, workbook, sheet, formats, record, data):
        copy = JournalCopyFigures.figures(record, data)
        row = 0
        sheet.write(row, 0, gettext(
                'school_ejournal_reports.msg_report_journal_copy_title',
                class_=record.rec_name,
                period=copy['period'].rec_name if copy['period'] else ''),
            formats['bold'])
        row += 2
        for page in copy['pages']:
            sheet.write(row, 0, page['title'], formats['bold'])
            sheet.write(row, 2, page['teacher'])
            row += 1
            dates = [l['date'] for l in page['lessons']]
            sheet.write_row(row, 0,
                [cls.label('number'), cls.label('student')], formats['bold'])
            for col, date in enumerate(dates, 2):
                sheet.write_datetime(row, col, date, formats['date'])
            tail = len(dates) + 2
            sheet.write_row(row, tail, [cls.label('average'),
                    cls.label('marks'), cls.label('grade')], formats['bold'])
            for line in page['rows']:
                row += 1
                sheet.write_row(row, 0, [line['number'], line['name']]
                    + list(line['cells']))
                if line['average'] is not None:
                    sheet.write_number(row, tail, float(line['average']))
                if line['count']:
                    sheet.write_number(row, tail + 1, line['count'])
                if line['grade']:
                    sheet.write(row, tail + 2, line['grade'])
            row += 3
        sheet.set_column(1, 1, 30)
