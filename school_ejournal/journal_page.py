# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The printable class journal page: the grid's data (one source of the
numbers: ``school.lesson.grid_data``) laid out as the paper journal."""
import datetime as dt
from decimal import Decimal
from html import escape

from genshi.core import Markup
from genshi.core import escape as genshi_escape
from genshi.filters import Translator

from trytond.pool import Pool
from trytond.report import Report
from trytond.report.report import TranslateFactory
from trytond.transaction import Transaction

from .common import ATTENDANCE

ATTENDANCE_CODES = {value: code for value, code in ATTENDANCE if value}
MARK_LABELS = {'pass': 'зач', 'fail': 'нз', 'na': 'н/а'}


# A row of the marks' table as the template wrote it (one event, not a dozen)
ROW = ('<tr>\n<td>%s</td>\n<td class="name">%s</td>\n%s\n'
    '<td class="average">%s</td>\n<td class="count">%s</td>\n'
    '<td class="grade">%s</td>\n</tr>')


def _text(value):
    "Escape as Genshi's serializer escapes text (quotes kept)"
    return genshi_escape(value, quotes=False)


def _day(value):
    return dt.date.fromisoformat(value) if value else None


class _PageTranslate(TranslateFactory):
    """The report's translations as ``ir.translation.get_report`` gives
    them, its dictionary of the report and language taken once per render
    instead of the language's record and two cache look-ups per text: the
    translation filter asks for every text of the heads, the 40 dates
    too"""

    def __init__(self, report_name, translation):
        super().__init__(report_name, translation)
        self._messages = {}

    def gettext(self, text):
        language = Transaction().language
        messages = self._messages.get(language)
        if messages is None:
            # get_report fills its cache of the report and language
            value = super().gettext(text)
            self._messages[language] = (
                self.translation._translation_report_cache.get(
                    (self.report_name, language)))
            return value
        values = messages.get((text, None))
        # As get_report: the first form or, untranslated, the text
        return values[0] if values else text


class JournalPage(Report):
    "The class journal page of a teaching for a study period"
    __name__ = 'school.journal_page'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['pages'] = [
            cls.page(r, data.get('period')) for r in records]
        return context

    @classmethod
    def _callback_loader(cls, report, template):
        # As Report._callback_loader, with the cheaper look-up above
        if report.translatable:
            translate = _PageTranslate(
                cls.__name__, Pool().get('ir.translation'))
            translator = Translator(translate)
            template.filters.append(translator)
            if hasattr(template, 'add_directives'):
                template.add_directives(Translator.NAMESPACE, translator)
            return translate

    @classmethod
    def format_average(cls, average, lang, formatted):
        """Return the average (2 digits) as ``format_number(average, lang,
        2)`` writes it; ``formatted`` keeps the integer parts formatted
        (the language's grouping and separators read once per integer
        part, not once per student: it parses the grouping each time)"""
        # The same text format_number starts from
        integer, fraction = ('%.*f' % (2, average)).split('.')
        if integer not in formatted:
            # The integer part as it writes it, less its 2 zero digits
            formatted[integer] = cls.format_number(
                Decimal(integer + '.00'), lang, 2)[:-2]
        return formatted[integer] + fraction

    @classmethod
    def page(cls, teaching, period_id=None):
        """Return the page of the teaching for the study period (the last
        started one by default): students × lessons with marks and
        absences, topics and homework, the weighted averages, the number
        of marks and the term grades, all from the grid's data"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        data = Lesson.grid_data(int(teaching.id), period_id)
        return cls.page_of(data)

    @classmethod
    def page_of(cls, data):
        """Return the page of the grid's data; the rows and the topics as
        one piece of HTML each (a template event per table body, not
        several per cell and row; in the tables' bodies, which are not
        translated: the translation filter would escape a piece in the
        heads).  The pieces are written as the template wrote them: the
        same markup and whitespace, the names escaped as Genshi escapes
        text, the averages formatted by the report's ``format_number``"""
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        attendance = data['attendance']
        marks = data['marks']
        lessons = []
        columns = []
        for l in data['lessons']:
            lessons.append({
                    'id': l['id'],
                    'date': _day(l['date']),
                    'number': l['number'],
                    'topic': l['topic'],
                    'homework': l['homework'],
                    'tasks': [str(t['id']) for t in l['tasks']],
                    'attendance': attendance.get(str(l['id']), {}),
                    })
            columns.append((lessons[-1]['attendance'],
                    [marks[str(t['id'])] for t in l['tasks']
                        if str(t['id']) in marks]))
        averages, integers, cells_html = {}, {}, {'': '<td class="cell"></td>'}
        rows = []
        rows_html = []
        for number, student in enumerate(data['students'], 1):
            key = str(student['id'])
            cells = []
            for presence, tasks in columns:
                code = ATTENDANCE_CODES.get(presence.get(key))
                text = '/'.join(MARK_LABELS.get(v[1], v[1])
                    for v in (t.get(key) for t in tasks) if v)
                cells.append(
                    code + ' ' + text if code and text else code or text)
            stats = data['stats'].get(key, {})
            average = stats.get('average')
            if average is not None:
                average = Decimal(str(average)).quantize(Decimal('0.01'))
                if average not in averages:
                    averages[average] = _text(
                        cls.format_average(average, lang, integers))
            grade = stats.get('grade')
            row = {
                'number': number,
                'name': student['name'],
                'cells': cells,
                'average': average,
                'count': stats.get('count') or None,
                'grade': MARK_LABELS.get(grade, grade),
                }
            rows.append(row)
            for cell in cells:
                if cell not in cells_html:
                    cells_html[cell] = '<td class="cell">%s</td>' % escape(
                        cell)
            rows_html.append(ROW % (number, _text(row['name']),
                    ''.join([cells_html[c] for c in cells]),
                    averages[average] if average is not None else '',
                    row['count'] or '', _text(row['grade'] or '')))
        period = data['period']
        topics_html = Markup(''.join(
                '<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                    escape(lang.strftime(l['date'])), l['number'],
                    escape(l['topic'] or ''), escape(l['homework'] or ''))
                for l in lessons))
        return {
            'title': data['teaching']['name'],
            'teacher': data['teaching']['teacher'],
            'period': {
                'name': period['name'],
                'start_date': _day(period['start']),
                'end_date': _day(period['end']),
                },
            'lessons': lessons,
            'rows': rows,
            'rows_html': Markup(''.join(rows_html)),
            'topics_html': topics_html,
            }
