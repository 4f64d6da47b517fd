# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from collections import defaultdict

from sql import Literal

from trytond.backend import MAX_QUERY_PARAMS
from trytond.model import fields
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import ATTENDANCE
from .mark import weighted_average

ATTENDANCE_CODES = {value: code for value, code in ATTENDANCE if value}
MARK_LABELS = {'pass': 'зач', 'fail': 'нз'}


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
        """Return the page: students × lessons with marks and absences,
        topics and homework, and the weighted averages, read with one query
        per table."""
        pool = Pool()
        Period = pool.get('school.period')
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        Mark = pool.get('school.mark')
        Student = pool.get('school.student')
        Date = pool.get('ir.date')
        cursor = Transaction().connection.cursor()

        class_ = teaching.class_
        if period_id:
            period = Period(period_id)
        else:
            period = Period.last_started(
                class_.year, class_.level, Date.today())

        lessons = Lesson.search([
                ('teaching', '=', teaching.id),
                ('period', '=', period.id),
                ('state', '!=', 'cancelled'),
                ], order=[('date', 'ASC'), ('number', 'ASC')])
        lesson_ids = [l.id for l in lessons]

        line = Line.__table__()
        attendance = {}
        student_ids = set()
        for sub_ids in grouped_slice(lesson_ids, MAX_QUERY_PARAMS):
            cursor.execute(*line.select(
                    line.lesson, line.student, line.attendance,
                    where=fields.SQL_OPERATORS['in'](line.lesson, sub_ids)))
            for lesson_id, student_id, status in cursor:
                student_ids.add(student_id)
                if status:
                    attendance[(student_id, lesson_id)] = status

        mark = Mark.__table__()
        marks = defaultdict(list)
        for sub_ids in grouped_slice(lesson_ids, MAX_QUERY_PARAMS):
            cursor.execute(*mark.select(
                    mark.lesson, mark.student, mark.value,
                    where=fields.SQL_OPERATORS['in'](mark.lesson, sub_ids)
                    & (mark.cancelled == Literal(False)),
                    order_by=[mark.id.asc]))
            for lesson_id, student_id, value in cursor:
                student_ids.add(student_id)
                marks[(student_id, lesson_id)].append(
                    MARK_LABELS.get(value, value))
        # The averages of the term grades: the marks of the teaching's
        # lessons of the period
        cursor.execute(*Mark.average_query(
                where=lambda mark, lesson: (lesson.teaching == teaching.id)
                & (lesson.period == period.id)))
        averages = {student: weighted_average(weighted, weights)
            for student, weighted, weights, _ in cursor}

        # The students of the class or subgroup on the lessons' dates, and
        # those who have lines or marks there
        for students in Lesson.students_by_lesson(lesson_ids).values():
            student_ids.update(students)
        students = Student.browse(sorted(student_ids))
        students = sorted(students, key=lambda s: (
                s.last_name, s.first_name, s.middle_name or '', s.id))

        rows = []
        for number, student in enumerate(students, 1):
            cells = []
            for lesson in lessons:
                key = (student.id, lesson.id)
                text = ' '.join(filter(None, [
                            ATTENDANCE_CODES.get(attendance.get(key)),
                            '/'.join(marks.get(key, []))]))
                cells.append(text)
            rows.append({
                    'number': number,
                    'name': student.rec_name,
                    'cells': cells,
                    'average': averages.get(student.id),
                    })
        return {
            'teaching': teaching,
            'class_': class_,
            'subgroup': teaching.subgroup,
            'subject': teaching.subject,
            'teacher': teaching.teacher,
            'period': period,
            'lessons': lessons,
            'rows': rows,
            }
