# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The new school year, across the year's boundary: the administrator opens
2026/2027 from 2025/2026 on 31 August (preview, then confirm), the school
works on 1 September in the promoted classes, a second run creates nothing,
and once its periods and the year are closed nothing of 2025/2026 changes.

Acted by the roles that do it through proteus (access checks and record
rules on): the administrator (``sysadmin``), the deputy head (``zavuch``),
the class teacher of 5А (``klass``)."""
import datetime as dt
import unittest
from decimal import Decimal

from proteus import Model, Wizard

from trytond.exceptions import UserError, UserWarning
from trytond.modules.company.tests.tools import create_company, get_company
from trytond.tests.test_tryton import drop_db
from trytond.tests.tools import activate_modules, set_user

from .clock import travel
from .tools import create_employee, create_user, enrol, task_type

# The year ends with its lessons, as the demo school's: the wizard extends
# it through the summer, the students stay in their classes until 1 September
OLD_START, OLD_END = dt.date(2025, 9, 1), dt.date(2026, 5, 26)
QUARTERS = [
    (dt.date(2025, 9, 1), dt.date(2025, 10, 26)),
    (dt.date(2025, 11, 5), dt.date(2025, 12, 28)),
    (dt.date(2026, 1, 12), dt.date(2026, 3, 22)),
    (dt.date(2026, 4, 1), dt.date(2026, 5, 26)),
    ]
LESSON_DAY = dt.date(2026, 5, 20)
LAST_DAY = dt.date(2026, 8, 31)
FIRST_DAY = dt.date(2026, 9, 1)


def build_school(config):
    """A school in 2025/2026: levels 5, 6, 7, 9, 10 and 11, classes 5А
    (class teacher Петрова, an English subgroup), 6А, 9А and 11А, their
    curriculum, teaching and thematic plans, and a held lesson of 5А."""
    create_company(config=config)
    company = get_company(config=config)
    Year = Model.get('school.year')
    Period = Model.get('school.period')
    Holiday = Model.get('school.holiday')
    Level = Model.get('school.level')
    Class = Model.get('school.class')
    Subject = Model.get('school.subject')
    Student = Model.get('school.student')
    Subgroup = Model.get('school.subgroup')
    CurriculumLine = Model.get('school.curriculum.line')
    Teaching = Model.get('school.teaching')
    Plan = Model.get('school.thematic_plan')
    Order = Model.get('school.order')
    Bell = Model.get('school.bell')

    year = Year(name='2025/2026', start_date=OLD_START, end_date=OLD_END)
    for number, (start, end) in enumerate(QUARTERS, 1):
        year.periods.append(Period(name='%s quarter' % number,
                kind='quarter', sequence=number, start_date=start,
                end_date=end))
    year.holidays.append(Holiday(name='Autumn holidays',
            start_date=dt.date(2025, 10, 27), end_date=dt.date(2025, 11, 4)))
    year.save()
    for number in range(1, 7):
        Bell(number=number, start=dt.time(8 + number, 0),
            end=dt.time(8 + number, 45)).save()
    levels = {}
    for number in [5, 6, 7, 9, 10, 11]:
        levels[number] = level = Level(number=number,
            name='%s classes' % number)
        level.save()
    math = Subject(code='MATH', name='Mathematics')
    math.save()
    english = Subject(code='ENG', name='English')
    english.save()
    for number, subject, hours in [
            (5, math, 5), (5, english, 3), (6, math, 5), (6, english, 3),
            (7, math, 5), (9, math, 4), (10, math, 4), (11, math, 4)]:
        CurriculumLine(year=year, level=levels[number], subject=subject,
            hours=Decimal(hours)).save()

    petrova = create_employee('Петрова Ольга Ивановна', company)
    sidorov = create_employee('Сидоров Илья Павлович', company)
    ivanova = create_employee('Иванова Нина Сергеевна', company)
    classes = {}
    for name, number in [('5А', 5), ('6А', 6), ('9А', 9), ('11А', 11)]:
        classes[name] = class_ = Class(year=year, level=levels[number],
            letter='А')
        if name == '5А':
            class_.class_teacher = petrova
            class_.room = '21'
        class_.save()

    students = {}
    for first, class_name in [
            ('Анна', '5А'), ('Борис', '5А'), ('Вера', '6А'), ('Глеб', '9А'),
            ('Дима', '9А'), ('Жанна', '9А'), ('Егор', '11А')]:
        students[first] = student = Student(last_name='Смирнов',
            first_name=first)
        student.save()
    for class_name in classes:
        enrol([s for n, s in students.items() if n in {
                        '5А': {'Анна', 'Борис'}, '6А': {'Вера'},
                        '9А': {'Глеб', 'Дима', 'Жанна'},
                        '11А': {'Егор'}}[class_name]],
            classes[class_name], OLD_START, number='1-%s' % class_name)
    group = Subgroup(class_=classes['5А'], subject=english, name='Group 1')
    group.students.append(Student(students['Анна'].id))
    group.save()

    teachings = {}
    for key, teacher, class_name, subject, hours, subgroup in [
            ('5А math', petrova, '5А', math, 5, None),
            ('5А English', ivanova, '5А', english, 3, group),
            ('6А math', sidorov, '6А', math, 5, None),
            ('9А math', sidorov, '9А', math, 4, None),
            ('11А math', sidorov, '11А', math, 4, None)]:
        teachings[key] = teaching = Teaching(teacher=teacher,
            class_=classes[class_name], subject=subject,
            hours=Decimal(hours), subgroup=subgroup)
        teaching.save()
    users = {
        'sysadmin': create_user('sysadmin', ['school_admin'],
            company=company, config=config),
        'zavuch': create_user('zavuch', ['deputy_academic'],
            company=company, config=config),
        'klass': create_user('klass', ['class_teacher', 'teacher'],
            employee=petrova, company=company, config=config),
        }
    # The deputy head writes the plans (the administrator only reads them)
    set_user(users['zavuch'], config=config)
    plans = {}
    for key, topics in [
            ('5А math', ['Natural numbers', 'Fractions']),
            ('6А math', ['Divisibility', 'Ratios', 'Rational numbers'])]:
        plans[key] = plan = Plan(teaching=teachings[key])
        for topic in topics:
            plan.lines.new(topic=topic, hours=1)
        plan.save()
    set_user(1, config=config)

    # Дима leaves after the 9th class by an applied order, Жанна is named
    # in an order not yet applied
    for number, student, state in [
            ('15-о', 'Дима', 'done'), ('16-о', 'Жанна', 'draft')]:
        order = Order(number=number, date=OLD_END, kind='leaving')
        order.lines.new(student=students[student], date=OLD_END,
            reason='Колледж')
        order.save()
        if state == 'done':
            order.click('apply')

    return {
        'company': company, 'year': year, 'levels': levels,
        'classes': classes, 'students': students, 'teachings': teachings,
        'plans': plans, 'users': users, 'math': math, 'english': english,
        'employees': {
            'petrova': petrova, 'sidorov': sidorov, 'ivanova': ivanova},
        }


class NewYearTestCase(unittest.TestCase):
    "The new school year, from 31 August to 1 September"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with travel(dt.date(2025, 9, 1)):
            cls.config = activate_modules('school_ejournal')
            cls.school = build_school(cls.config)
        with travel(LESSON_DAY):
            cls.hold_lesson()

    @classmethod
    def hold_lesson(cls):
        "Петрова holds a lesson of 5А and marks Борис"
        Lesson = Model.get('school.lesson')
        set_user(cls.school['users']['zavuch'], config=cls.config)
        lesson = Lesson(teaching=cls.school['teachings']['5А math'],
            date=LESSON_DAY, number=1)
        lesson.save()
        set_user(cls.school['users']['klass'], config=cls.config)
        lesson = Lesson(lesson.id)
        lesson.click('hold')
        lesson.topic = 'Fractions'
        lesson.tasks.new(type=task_type('О'))
        lesson.save()
        borya = cls.school['students']['Борис']
        line, = [l for l in lesson.lines if l.student.id == borya.id]
        line.mark = '4'
        lesson.save()
        set_user(1, config=cls.config)
        cls.lesson = lesson

    @classmethod
    def tearDownClass(cls):
        drop_db()
        super().tearDownClass()

    def tearDown(self):
        set_user(1, config=self.config)

    def as_user(self, login):
        set_user(self.school['users'][login], config=self.config)

    def wizard(self, transfer='45-у', leaving='46-о'):
        wizard = Wizard('school.year.new')
        wizard.form.transfer_number = transfer
        wizard.form.leaving_number = leaving
        return wizard

    def test_1_open_new_year(self):
        "Preview on 31 August, confirm; the school on 1 September"
        Year = Model.get('school.year')
        old = self.school['year']
        with travel(LAST_DAY):
            # Neither the class teacher nor the deputy opens the year
            for login in ['klass', 'zavuch']:
                self.as_user(login)
                with self.assertRaises(UserError):
                    wizard = self.wizard()
                    wizard.execute('preview')

            self.as_user('sysadmin')
            wizard = self.wizard()
            self.assertEqual(wizard.form.from_year.id, old.id)
            self.assertEqual(wizard.form.date, LAST_DAY)
            wizard.execute('preview')
            summary, refused = wizard.form.summary, wizard.form.refused
            self.assertFalse(wizard.form.nothing)
            self.assertIn('2025/2026 is extended to 31.08.2026', summary)
            self.assertIn('2026/2027, 01.09.2026 to 26.05.2027', summary)
            self.assertIn('periods copied a year later: 4', summary)
            self.assertIn('holidays copied to check: 1', summary)
            self.assertIn('Classes: 3 (5А → 6А, 6А → 7А, 9А → 10А)', summary)
            self.assertIn('Transfer order No. 45-у: 4 students', summary)
            self.assertIn('Leaving order No. 46-о: 1 graduates of 11А, '
                'on 26.05.2026', summary)
            self.assertIn('Subgroups with their members: 1', summary)
            self.assertIn('Curriculum lines: 8', summary)
            self.assertIn('marked to check: 4', summary)
            self.assertIn('copied as drafts: 1', summary)
            self.assertIn('Смирнов Жанна', refused)
            self.assertIn('16-о', refused)
            # Nothing is written by the preview
            self.assertEqual(len(Year.find([])), 1)

            wizard.execute('open_')
            self.assertIn('Classes: 3', wizard.form.summary)
            wizard.execute('end')

        with travel(FIRST_DAY):
            self.check_first_day()

    def check_first_day(self):
        Year = Model.get('school.year')
        Class = Model.get('school.class')
        Enrolment = Model.get('school.enrolment')
        Order = Model.get('school.order')
        Teaching = Model.get('school.teaching')
        Plan = Model.get('school.thematic_plan')
        Period = Model.get('school.period')
        CurriculumLine = Model.get('school.curriculum.line')
        students = self.school['students']
        self.as_user('sysadmin')
        new, = Year.find([('name', '=', '2026/2027')])
        self.assertEqual(
            (new.start_date, new.end_date, new.state),
            (FIRST_DAY, dt.date(2027, 5, 26), 'open'))
        self.assertEqual(Year(self.school['year'].id).end_date, LAST_DAY)
        self.assertEqual(
            [(p.sequence, p.start_date, p.end_date, p.state)
                for p in Period.find([('year', '=', new.id)],
                    order=[('sequence', 'ASC')])],
            [(n, s.replace(year=s.year + 1), e.replace(year=e.year + 1),
                'open') for n, (s, e) in enumerate(QUARTERS, 1)])
        self.assertEqual([(h.start_date, h.end_date) for h in new.holidays],
            [(dt.date(2026, 10, 27), dt.date(2026, 11, 4))])

        classes = {c.name: c for c in Class.find([('year', '=', new.id)])}
        self.assertEqual(sorted(classes), ['10А', '6А', '7А'])
        self.assertEqual(classes['6А'].class_teacher.id,
            self.school['employees']['petrova'].id)
        self.assertEqual(classes['6А'].room, '21')
        self.assertEqual(classes['6А'].level.number, 6)

        def class_on(student, date):
            found = Enrolment.find([
                    ('student', '=', students[student].id),
                    ('start_date', '<=', date),
                    ['OR', ('end_date', '=', None),
                        ('end_date', '>=', date)]])
            return found[0].class_.name if found else None
        for name, before, after in [
                ('Анна', '5А', '6А'), ('Борис', '5А', '6А'),
                ('Вера', '6А', '7А'), ('Глеб', '9А', '10А'),
                ('Дима', None, None), ('Егор', None, None),
                ('Жанна', '9А', '9А')]:
            with self.subTest(student=name):
                self.assertEqual(class_on(name, LAST_DAY), before)
                self.assertEqual(class_on(name, FIRST_DAY), after)
        # The new enrolments start on 1 September by the applied order
        transfer, = Order.find([('number', '=', '45-у')])
        self.assertEqual((transfer.kind, transfer.state, len(transfer.lines)),
            ('transfer', 'done', 4))
        anna, = Enrolment.find([('student', '=', students['Анна'].id),
                ('class_', '=', classes['6А'].id)])
        self.assertEqual((anna.start_date, anna.start_order.id),
            (FIRST_DAY, transfer.id))
        anna, = Enrolment.find([('student', '=', students['Анна'].id),
                ('class_', '=', self.school['classes']['5А'].id)])
        self.assertEqual((anna.end_date, anna.end_order.id),
            (LAST_DAY, transfer.id))
        leaving, = Order.find([('number', '=', '46-о')])
        self.assertEqual((leaving.kind, leaving.state,
                [l.student.id for l in leaving.lines]),
            ('leaving', 'done', [students['Егор'].id]))
        egor, = Enrolment.find([('student', '=', students['Егор'].id)])
        self.assertEqual((egor.end_date, egor.end_order.id),
            (OLD_END, leaving.id))
        # The students of the class today, as the journal lists them
        with self.config.set_context(date=FIRST_DAY):
            self.assertEqual(
                sorted(s.first_name for s in Class(classes['6А'].id).students),
                ['Анна', 'Борис'])

        subgroup, = classes['6А'].subgroups
        self.assertEqual((subgroup.name, subgroup.subject.code,
                [s.first_name for s in subgroup.students]),
            ('Group 1', 'ENG', ['Анна']))
        self.assertEqual(
            len(CurriculumLine.find([('year', '=', new.id)])), 8)
        teachings = Teaching.find([('class_.year', '=', new.id)])
        self.assertEqual(sorted(
                (t.class_.name, t.subject.code, t.teacher.party.name,
                    t.hours, bool(t.subgroup), t.to_check)
                for t in teachings), [
                ('10А', 'MATH', 'Сидоров Илья Павлович', Decimal(4), False,
                    True),
                ('6А', 'ENG', 'Иванова Нина Сергеевна', Decimal(3), True,
                    True),
                ('6А', 'MATH', 'Петрова Ольга Ивановна', Decimal(5), False,
                    True),
                ('7А', 'MATH', 'Сидоров Илья Павлович', Decimal(5), False,
                    True),
                ])
        # 6А's plan is the last year's plan of the 6th class, in draft
        plan, = Plan.find([('teaching.class_.year', '=', new.id)])
        self.assertEqual((plan.teaching.class_.name, plan.state,
                [l.topic for l in plan.lines]),
            ('6А', 'draft', ['Divisibility', 'Ratios', 'Rational numbers']))

        # The class teacher finds her new class and its students
        self.as_user('klass')
        mine = Class.find([('led_by_me', '=', True)])
        self.assertIn('6А', [c.name for c in mine])

    def test_2_again(self):
        "Run again, on 31 August and on 1 September: nothing new"
        Class = Model.get('school.class')
        Order = Model.get('school.order')
        for day in [LAST_DAY, FIRST_DAY]:
            with self.subTest(day=day), travel(day):
                self.as_user('sysadmin')
                count = len(Class.find([])), len(Order.find([]))
                wizard = self.wizard(transfer='47-у', leaving='48-о')
                self.assertEqual(
                    wizard.form.from_year.id, self.school['year'].id)
                wizard.execute('preview')
                self.assertTrue(wizard.form.nothing)
                self.assertEqual(wizard.form.summary,
                    'The academic year 2026/2027 is already open: '
                    'there is nothing new to create.')
                with self.assertRaises(UserError) as cm:
                    wizard.execute('open_')
                self.assertIn('nothing new to create', cm.exception.message)
                self.assertEqual(
                    (len(Class.find([])), len(Order.find([]))), count)

    def test_3_closed_year(self):
        "Once the year is closed, its marks and plans do not change"
        Year = Model.get('school.year')
        Period = Model.get('school.period')
        Lesson = Model.get('school.lesson')
        Plan = Model.get('school.thematic_plan')
        Warning = Model.get('res.user.warning')
        old = self.school['year']
        with travel(FIRST_DAY):
            self.as_user('zavuch')
            year = Year(old.id)
            with self.assertRaises(UserError) as cm:
                year.click('close')
            self.assertIn('is open', cm.exception.message)
            for period in Period.find([('year', '=', old.id)],
                    order=[('start_date', 'ASC')]):
                try:
                    period.click('close')
                except UserWarning as warning:
                    # As the client does when she answers «Yes»
                    Warning.skip(warning.name, False, self.config.context)
                    period.click('close')
            year = Year(old.id)
            year.click('close')
            self.assertEqual(Year(old.id).state, 'closed')
            period = Period.find([('year', '=', old.id)])[0]
            with self.assertRaises(UserError) as cm:
                period.click('reopen')
            self.assertIn('is closed', cm.exception.message)

            # Петрова can no longer mark the lesson of May
            self.as_user('klass')
            lesson = Lesson(self.lesson.id)
            anna = self.school['students']['Анна']
            line, = [l for l in lesson.lines if l.student.id == anna.id]
            line.mark = '5'
            with self.assertRaises(UserError) as cm:
                lesson.save()
            self.assertIn('closed', cm.exception.message)
            # nor change her plan of 2025/2026
            plan = Plan(self.school['plans']['5А math'].id)
            plan.lines[0].topic = 'Whole numbers'
            with self.assertRaises(UserError) as cm:
                plan.save()
            self.assertIn('2025/2026" is closed', cm.exception.message)
            lesson = Lesson(self.lesson.id)
            self.assertEqual(
                sorted((l.student.first_name, l.mark) for l in lesson.lines),
                [('Анна', None), ('Борис', '4')])
            # while the new year's plan stays hers to write
            self.as_user('zavuch')
            plan, = Plan.find([('teaching.class_.year', '!=', old.id)])
            plan.lines.new(topic='Repetition', hours=1)
            plan.save()
