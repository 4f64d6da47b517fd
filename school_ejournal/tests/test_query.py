# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The journal's query layer against numbers computed by hand.

One small school: 5А and 5Б in the second quarter (5 Nov – 28 Dec 2026),
mathematics in 5А on Mondays, the holiday of 30 November – 1 December.
Анна, Борис and Вера are in 5А from 1 September; Вера leaves on
10 December; Глеб is in 5Б until 20 November and in 5А from 21 November.
The English group of 5А is Анна and Глеб.
"""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.company.tests import create_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

from ..mark import weighted_average
from .clock import travel

D = dt.date


class JournalQueryTestCase(unittest.TestCase):
    "Test the query layer of the journal"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('school_ejournal')

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # Close the connections: the scenarios drop and restore the database
        drop_db()

    def school(self):
        pool = Pool()
        Year = pool.get('school.year')
        Level = pool.get('school.level')
        Class = pool.get('school.class')
        Subject = pool.get('school.subject')
        Student = pool.get('school.student')
        Enrolment = pool.get('school.enrolment')
        Subgroup = pool.get('school.subgroup')
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        CurriculumLine = pool.get('school.curriculum.line')
        Teaching = pool.get('school.teaching')
        TaskType = pool.get('school.task.type')
        Bell = pool.get('school.bell')
        Timetable = pool.get('school.timetable')

        User = pool.get('res.user')
        company = create_company()
        User.write([User(Transaction().user)], {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
        # For the rest of the test's transaction
        Transaction().set_context(User.get_preferences(context_only=True))
        year, = Year.create([{
                    'name': '2026/2027',
                    'start_date': D(2026, 9, 1), 'end_date': D(2027, 8, 31),
                    'periods': [('create', [{
                                    'name': '1 quarter', 'kind': 'quarter',
                                    'sequence': 1,
                                    'start_date': D(2026, 9, 1),
                                    'end_date': D(2026, 10, 26),
                                    }, {
                                    'name': '2 quarter', 'kind': 'quarter',
                                    'sequence': 2,
                                    'start_date': D(2026, 11, 5),
                                    'end_date': D(2026, 12, 28),
                                    }])],
                    'holidays': [('create', [{
                                    'name': 'Quarantine',
                                    'start_date': D(2026, 11, 30),
                                    'end_date': D(2026, 12, 1),
                                    }])],
                    }])
        q2 = [p for p in year.periods if p.sequence == 2][0]
        level, = Level.create([{'number': 5, 'name': '5'}])
        c5a, c5b = Class.create([
                {'year': year.id, 'level': level.id, 'letter': 'А',
                    'name': '5А'},
                {'year': year.id, 'level': level.id, 'letter': 'Б',
                    'name': '5Б'}])
        math, english = Subject.create([
                {'code': 'МАТ', 'name': 'Mathematics'},
                {'code': 'АНГ', 'name': 'English'}])
        anna, boris, vera, gleb = Student.create([
                {'last_name': 'Смирнова', 'first_name': 'Анна'},
                {'last_name': 'Смирнов', 'first_name': 'Борис'},
                {'last_name': 'Смирнова', 'first_name': 'Вера'},
                {'last_name': 'Смирнов', 'first_name': 'Глеб'}])
        Enrolment.create([
                {'student': anna.id, 'class_': c5a.id,
                    'start_date': D(2026, 9, 1)},
                {'student': boris.id, 'class_': c5a.id,
                    'start_date': D(2026, 9, 1)},
                {'student': vera.id, 'class_': c5a.id,
                    'start_date': D(2026, 9, 1),
                    'end_date': D(2026, 12, 10)},
                {'student': gleb.id, 'class_': c5b.id,
                    'start_date': D(2026, 9, 1),
                    'end_date': D(2026, 11, 20)},
                {'student': gleb.id, 'class_': c5a.id,
                    'start_date': D(2026, 11, 21)},
                ])
        group, = Subgroup.create([{
                    'class_': c5a.id, 'subject': english.id,
                    'name': 'Group 1',
                    'students': [('add', [anna.id, gleb.id])],
                    }])
        party, = Party.create([{'name': 'Петрова Ольга Ивановна'}])
        teacher, = Employee.create([{
                    'party': party.id, 'company': company.id}])
        CurriculumLine.create([
                {'year': year.id, 'level': level.id, 'subject': math.id,
                    'hours': Decimal(5)},
                {'year': year.id, 'level': level.id, 'subject': english.id,
                    'hours': Decimal(3)}])
        math_5a, math_5b, english_5a = Teaching.create([
                {'teacher': teacher.id, 'class_': c5a.id,
                    'subject': math.id, 'hours': Decimal(5)},
                {'teacher': teacher.id, 'class_': c5b.id,
                    'subject': math.id, 'hours': Decimal(5)},
                {'teacher': teacher.id, 'class_': c5a.id,
                    'subgroup': group.id, 'subject': english.id,
                    'hours': Decimal(3)}])
        one, two, five = TaskType.create([
                {'code': 'Х1', 'name': 'Weight 1', 'weight': Decimal(1),
                    'check_days': 60},
                {'code': 'Х2', 'name': 'Weight 2', 'weight': Decimal(2),
                    'check_days': 60},
                {'code': 'Х5', 'name': 'Weight 5', 'weight': Decimal(5),
                    'check_days': 60}])
        Bell.create([{
                    'number': n, 'start': dt.time(8 + n),
                    'end': dt.time(8 + n, 45),
                    } for n in [1, 2, 3]])
        Timetable.create([
                {'period': q2.id, 'teaching': math_5a.id, 'weekday': '0',
                    'number': 1},
                {'period': q2.id, 'teaching': english_5a.id, 'weekday': '0',
                    'number': 2},
                {'period': q2.id, 'teaching': math_5b.id, 'weekday': '0',
                    'number': 3}])
        Timetable.generate_lessons(q2)
        return {
            'period': q2, 'students': {
                s.first_name: s for s in [anna, boris, vera, gleb]},
            'teachings': {
                'math 5А': math_5a, 'math 5Б': math_5b,
                'English 5А': english_5a},
            'types': {'1': one, '2': two, '5': five},
            }

    def lessons(self, teaching):
        Lesson = Pool().get('school.lesson')
        return {l.date: l for l in Lesson.search(
                [('teaching', '=', teaching.id)])}

    def names(self, ids):
        Student = Pool().get('school.student')
        return sorted(s.first_name for s in Student.browse(ids))

    @with_transaction()
    def test_students_of_lessons(self):
        "The students of a lesson: its class or subgroup on its day"
        Lesson = Pool().get('school.lesson')
        school = self.school()
        math = self.lessons(school['teachings']['math 5А'])
        english = self.lessons(school['teachings']['English 5А'])

        # Mondays of the quarter but the holiday of 30 November
        self.assertEqual(sorted(math), [
                D(2026, 11, 9), D(2026, 11, 16), D(2026, 11, 23),
                D(2026, 12, 7), D(2026, 12, 14), D(2026, 12, 21),
                D(2026, 12, 28)])
        students = Lesson.students_by_lesson(
            list(math.values()) + list(english.values()))
        attendees = {
            (lesson.teaching.subject.code, date):
            self.names(students[lesson.id])
            for lessons in [math, english]
            for date, lesson in lessons.items()}
        self.assertEqual(attendees[('МАТ', D(2026, 11, 16))],
            ['Анна', 'Борис', 'Вера'])
        # Глеб came on 21 November
        self.assertEqual(attendees[('МАТ', D(2026, 11, 23))],
            ['Анна', 'Борис', 'Вера', 'Глеб'])
        # Вера left on 10 December
        self.assertEqual(attendees[('МАТ', D(2026, 12, 14))],
            ['Анна', 'Борис', 'Глеб'])
        # The English group: Анна, and Глеб once he is in 5А
        self.assertEqual(attendees[('АНГ', D(2026, 11, 16))], ['Анна'])
        self.assertEqual(attendees[('АНГ', D(2026, 11, 23))],
            ['Анна', 'Глеб'])
        # In 5Б, Глеб until he left
        math_5b = self.lessons(school['teachings']['math 5Б'])
        students = Lesson.students_by_lesson(list(math_5b.values()))
        self.assertEqual(
            self.names(students[math_5b[D(2026, 11, 16)].id]), ['Глеб'])
        self.assertEqual(students[math_5b[D(2026, 11, 23)].id], [])

    def hold_and_mark(self, school, marks, attendance=()):
        """Hold the lessons of marks {(teaching, date): {type: {name:
        value}}} and attendance {(teaching, date): {name: value}} on
        14 December"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Task = pool.get('school.lesson.task')
        Mark = pool.get('school.mark')
        Line = pool.get('school.lesson.attendance')
        students = school['students']
        # The data of the test, written as the system (the journal's rules
        # on who fills lessons are tested by the scenarios)
        with travel(D(2026, 12, 14)), Transaction().set_user(0):
            for (teaching, date), tasks in marks.items():
                lesson = self.lessons(school['teachings'][teaching])[date]
                Lesson.hold([lesson])
                for type_, values in tasks.items():
                    task, = Task.create([{
                                'lesson': lesson.id,
                                'type': school['types'][type_].id}])
                    Mark.create([{
                                'task': task.id,
                                'student': students[name].id,
                                'value': value,
                                } for name, value in values.items()])
            for (teaching, date), values in dict(attendance).items():
                lesson = self.lessons(school['teachings'][teaching])[date]
                for name, value in values.items():
                    line, = Line.search([
                            ('lesson', '=', lesson.id),
                            ('student', '=', students[name].id)])
                    Line.write([line], {'attendance': value})

    def averages(self, school, teaching):
        Mark = Pool().get('school.mark')
        cursor = Transaction().connection.cursor()
        teaching = school['teachings'][teaching]
        period = school['period']
        cursor.execute(*Mark.average_query(
                where=lambda mark, lesson: (lesson.teaching == teaching.id)
                & (lesson.period == period.id)))
        Student = Pool().get('school.student')
        return {Student(s).first_name: (weighted_average(w, ws), c)
            for s, w, ws, c in cursor}

    @with_transaction()
    def test_weighted_averages(self):
        "Weighted averages per student, rounded half up, as grades use them"
        pool = Pool()
        Grade = pool.get('school.grade')
        school = self.school()
        self.hold_and_mark(school, {
                ('math 5А', D(2026, 11, 16)): {
                    '1': {'Анна': '5', 'Борис': '5'},
                    '2': {'Анна': '4', 'Борис': '5'},
                    '5': {'Борис': '2'},
                    },
                ('math 5А', D(2026, 11, 23)): {
                    '1': {'Анна': '3', 'Глеб': '4'},
                    },
                ('math 5Б', D(2026, 11, 16)): {
                    '5': {'Глеб': '2'},
                    },
                ('English 5А', D(2026, 11, 23)): {
                    '2': {'Анна': '5', 'Глеб': '3'},
                    },
                })
        # Анна: (5·1 + 4·2 + 3·1) / 4 = 4; Борис: (5·1 + 5·2 + 2·5) / 8 =
        # 3.125, half up 3.13; Глеб: his 5Б mark is of another teaching
        self.assertEqual(self.averages(school, 'math 5А'), {
                'Анна': (Decimal('4.00'), 3),
                'Борис': (Decimal('3.13'), 3),
                'Глеб': (Decimal('4.00'), 1),
                })
        self.assertEqual(self.averages(school, 'math 5Б'), {
                'Глеб': (Decimal('2.00'), 1),
                })
        self.assertEqual(self.averages(school, 'English 5А'), {
                'Анна': (Decimal('5.00'), 1),
                'Глеб': (Decimal('3.00'), 1),
                })

        # The term grades read the same averages
        grades = Grade.compute(
            school['teachings']['math 5А'], school['period'])
        self.assertEqual(
            {g.student.first_name: (g.average, g.marks) for g in grades
                if g.marks},
            {'Анна': (Decimal('4.00'), 3), 'Борис': (Decimal('3.13'), 3),
                'Глеб': (Decimal('4.00'), 1)})

    @with_transaction()
    def test_marks_stored_as_points(self):
        "Numeric marks keep their points; pass and fail have none"
        Mark = Pool().get('school.mark')
        school = self.school()
        self.hold_and_mark(school, {
                ('math 5А', D(2026, 11, 16)): {
                    '1': {'Анна': '5', 'Борис': '2'}}})
        self.assertEqual(
            sorted((m.value, m.points) for m in Mark.search([])),
            [('2', 2), ('5', 5)])

    @with_transaction()
    def test_attendance_counts(self):
        "Attendance counted by reason per student over held lessons"
        Line = Pool().get('school.lesson.attendance')
        cursor = Transaction().connection.cursor()
        school = self.school()
        self.hold_and_mark(school, {
                ('math 5А', D(2026, 11, 16)): {},
                ('math 5А', D(2026, 11, 23)): {},
                ('math 5А', D(2026, 12, 7)): {},
                }, attendance={
                ('math 5А', D(2026, 11, 16)): {'Вера': 'absent'},
                ('math 5А', D(2026, 11, 23)): {
                    'Вера': 'ill', 'Борис': 'late'},
                ('math 5А', D(2026, 12, 7)): {'Вера': 'ill'},
                })
        teaching = school['teachings']['math 5А']
        cursor.execute(*Line.attendance_query(
                where=lambda line, lesson: lesson.teaching == teaching.id))
        Student = Pool().get('school.student')
        counts = {(Student(s).first_name, a): c for s, a, c in cursor}
        self.assertEqual(counts, {
                ('Анна', None): 3,
                ('Борис', None): 2, ('Борис', 'late'): 1,
                ('Вера', 'absent'): 1, ('Вера', 'ill'): 2,
                ('Глеб', None): 2,
                })
        cursor.execute(*Line.attendance_query(
                where=lambda line, lesson: lesson.teaching == teaching.id,
                group_by=('date',)))
        by_date = {}
        for date, attendance, count in cursor:
            if isinstance(date, str):
                date = D.fromisoformat(date)
            by_date.setdefault(date, {})[attendance] = count
        self.assertEqual(by_date, {
                D(2026, 11, 16): {None: 2, 'absent': 1},
                D(2026, 11, 23): {None: 2, 'ill': 1, 'late': 1},
                D(2026, 12, 7): {None: 3, 'ill': 1},
                })
