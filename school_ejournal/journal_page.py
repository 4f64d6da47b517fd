# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The printable class journal page: the grid's data (one source of the
numbers: ``school.lesson.grid_data``) laid out as the paper journal."""
import datetime as dt
from decimal import Decimal
from html import escape

from genshi.core import Markup

from trytond.pool import Pool
from trytond.report import Report

from .common import ATTENDANCE

ATTENDANCE_CODES = {value: code for value, code in ATTENDANCE if value}
MARK_LABELS = {'pass': 'зач', 'fail': 'нз', 'na': 'н/а'}


def _day(value):
    return dt.date.fromisoformat(value) if value else None


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
        """Return the page of the grid's data; the rows' cells and the
        topics as one piece of HTML each (a template event per piece, not
        several per cell; in the tables' bodies, which are not translated:
        the translation filter would escape a piece in the heads)"""
        Lang = Pool().get('ir.lang')
        lang = Lang.get()
        lessons = [{
                'id': l['id'],
                'date': _day(l['date']),
                'number': l['number'],
                'topic': l['topic'],
                'homework': l['homework'],
                'tasks': [str(t['id']) for t in l['tasks']],
                'attendance': data['attendance'].get(str(l['id']), {}),
                } for l in data['lessons']]
        marks = data['marks']
        rows = []
        for number, student in enumerate(data['students'], 1):
            key = str(student['id'])
            cells = []
            for lesson in lessons:
                values = [marks.get(t, {}).get(key) for t in lesson['tasks']]
                cells.append(' '.join(filter(None, [
                                ATTENDANCE_CODES.get(
                                    lesson['attendance'].get(key)),
                                '/'.join(MARK_LABELS.get(v[1], v[1])
                                    for v in values if v)])))
            stats = data['stats'].get(key, {})
            average = stats.get('average')
            grade = stats.get('grade')
            rows.append({
                    'number': number,
                    'name': student['name'],
                    'cells': cells,
                    # One template event per row, not three per cell: the
                    # page of 30 × 40 renders in a third of the time
                    'cells_html': Markup(''.join(
                            '<td class="cell">%s</td>' % escape(c)
                            for c in cells)),
                    'average': (Decimal(str(average)).quantize(
                            Decimal('0.01'))
                        if average is not None else None),
                    'count': stats.get('count') or None,
                    'grade': MARK_LABELS.get(grade, grade),
                    })
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
            'topics_html': topics_html,
            }
