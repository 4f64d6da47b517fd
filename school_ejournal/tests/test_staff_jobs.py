# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The rules of the staff's daily tools, each acted by its role through
proteus (record rules and access checks on): the class teacher's week of
her class and a whole day's absence reason, a student's marks by subject
with weighted averages, the deputy's term grades of the whole school and
the warning before closing a period with grades missing, the
administrator's short form adding a member of staff."""
import datetime as dt
import unittest

from proteus import Model, Wizard

from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules, set_user
from trytond.transaction import Transaction

from ..mark import weighted_average
from .clock import school_today, travel
from .tools import create_journal_school, task_type

TODAY = school_today()


class StaffJobsTestCase(unittest.TestCase):
    "The staff's daily tools and their rules"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The tests' day, not the machine's (the clock fixture moves the
        # tests only)
        with travel():
            cls.make_school()

    @classmethod
    def make_school(cls):
        cls.config = config = activate_modules('school_ejournal')
        school = create_journal_school(config=config)
        cls.school = school
        cls.users = school['users']
        cls.students = school['students']
        Lesson = Model.get('school.lesson')
        # Two held lessons of 5А today: Анна absent from both, Вера from
        # one; marks for Анна and Борис
        lessons = {}
        for key, number, login in [('5А math', 1, 'klass'),
                ('5А English 1', 2, 'anglichanka')]:
            lesson = Lesson(teaching=school['teachings'][key], date=TODAY,
                number=number)
            lesson.save()
            set_user(cls.users[login], config=config)
            lesson = Lesson(lesson.id)
            lesson.click('hold')
            lesson.topic = 'Повторение'
            lesson.tasks.new(type=task_type('С'))
            names = {s.id: n for n, s in cls.students.items()}
            for line in lesson.lines:
                name = names[line.student.id]
                if name == 'Анна':
                    line.attendance = 'absent'
                elif name == 'Вера':
                    line.attendance = 'absent'
                elif name == 'Борис':
                    line.mark = '5' if number == 1 else '3'
            lesson.save()
            set_user(1, config=config)
            lessons[key] = lesson
        # An earlier lesson of 5А: Анна's marks 4 (oral) and 5 (test)
        # (marked that day: oral answers are marked at once)
        earlier = TODAY - dt.timedelta(days=1)
        with travel(earlier):
            cls.hold_earlier(earlier)
        cls.lessons = lessons

    @classmethod
    def hold_earlier(cls, earlier):
        config = cls.config
        Lesson = Model.get('school.lesson')
        school = cls.school
        lesson = Lesson(teaching=school['teachings']['5А math'],
            date=earlier, number=3)
        lesson.save()
        set_user(cls.users['klass'], config=config)
        lesson = Lesson(lesson.id)
        lesson.click('hold')
        lesson.topic = 'Дроби'
        lesson.tasks.new(type=task_type('О'))
        lesson.tasks.new(type=task_type('К'))
        lesson.save()
        lesson = Lesson(lesson.id)
        anna_line, = [l for l in lesson.lines
            if l.student.id == cls.students['Анна'].id]
        anna_line.mark = '4'
        anna_line.mark_2 = '5'
        lesson.save()
        set_user(1, config=config)

    @classmethod
    def tearDownClass(cls):
        drop_db()
        super().tearDownClass()

    def tearDown(self):
        set_user(1, config=self.config)

    def as_user(self, login):
        set_user(self.users[login], config=self.config)

    # The class teacher's week
    def test_class_week(self):
        "The class teacher sees her class's week: absences and marks a day"
        Week = Model.get('school.class.week')
        self.as_user('klass')
        with self.config.set_context(date=TODAY):
            rows = Week.find([])
        self.assertEqual({r.class_.rec_name for r in rows}, {'5А'})
        names = {s.id: n for n, s in self.students.items()}
        by_name = {names[r.student.id]: r for r in rows}
        self.assertEqual(set(by_name), {'Анна', 'Борис', 'Вера'})
        day = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday',
            'saturday'][TODAY.weekday()]
        self.assertEqual(getattr(by_name['Анна'], day), 'Н×2')
        self.assertEqual(getattr(by_name['Вера'], day), 'Н')
        self.assertEqual(getattr(by_name['Борис'], day), '5 3')
        self.assertEqual(by_name['Анна'].absences, 2)
        # Сидоров leads 6А only
        self.as_user('uchitel')
        with self.config.set_context(date=TODAY):
            rows = Week.find([])
        self.assertEqual([r.student.id for r in rows],
            [self.students['Глеб'].id])

    def test_day_reason(self):
        "A whole day's absences get one reason, by the class teacher only"
        Line = Model.get('school.lesson.attendance')

        def reasons(name):
            return sorted(l.attendance for l in Line.find([
                        ('student', '=', self.students[name].id),
                        ('lesson.date', '=', TODAY),
                        ]))
        # Сидоров, class teacher of 6А, may not open Вера of 5А at all;
        # Петрова teaches Дима's 1А but does not lead it: refused, naming
        # him
        Student = Model.get('school.student')
        self.as_user('uchitel')
        with self.assertRaises(AccessError):
            wizard = Wizard('school.attendance.day_reason',
                [Student(self.students['Вера'].id)])
            wizard.form.date = TODAY
            wizard.form.reason = 'excused'
            wizard.execute('set_')
        self.as_user('klass')
        wizard = Wizard('school.attendance.day_reason',
            [Student(self.students['Дима'].id)])
        wizard.form.date = TODAY
        wizard.form.reason = 'ill'
        with self.assertRaises(AccessError) as cm:
            wizard.execute('set_')
        self.assertIn('Смирнов Дима', cm.exception.message)
        self.assertIn('not in a class you lead', cm.exception.message)
        self.assertEqual(reasons('Вера'), ['absent'])

        # Петрова, class teacher of 5А, sets Анна's day as ill from her
        # week, the English lesson she does not teach included
        Week = Model.get('school.class.week')
        with self.config.set_context(date=TODAY):
            anna, = Week.find([('student', '=', self.students['Анна'].id)])
            wizard = Wizard('school.attendance.day_reason', [anna])
        self.assertEqual(wizard.form.date, TODAY)
        wizard.form.reason = 'ill'
        wizard.execute('set_')
        self.assertEqual(reasons('Анна'), ['ill', 'ill'])
        # The history keeps what the teachers entered
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            History = pool.get('school.lesson.attendance')
            table = History.__table_history__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(table.attendance,
                    where=table.student == self.students['Анна'].id))
            self.assertIn('absent', {a for a, in cursor})
        # A day without absence is refused with its reason
        wizard = Wizard('school.attendance.day_reason', [Student(
                    self.students['Борис'].id)])
        wizard.form.date = TODAY
        wizard.form.reason = 'ill'
        with self.assertRaises(UserError) as cm:
            wizard.execute('set_')
        self.assertIn('has no absence', cm.exception.message)

    # A student's marks by subject
    def test_subject_summary(self):
        "The marks by subject carry the weighted average of Mark's query"
        Summary = Model.get('school.student.subject_summary')
        anna = self.students['Анна']
        self.as_user('klass')
        rows = Summary.find([('student', '=', anna.id)])
        math, = [r for r in rows if r.subject.code == 'MATH']
        self.assertEqual(math.marks, '4 5')
        self.assertEqual(math.marks_count, 2)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Mark = pool.get('school.mark')
            cursor = Transaction().connection.cursor()
            cursor.execute(*Mark.average_query(
                    where=lambda mark, lesson: mark.student == anna.id,
                    group_by=('student', 'subject')))
            (_, _, weighted, weights, count), = list(cursor)
        self.assertEqual(math.average, weighted_average(weighted, weights))
        # The mother sees her daughter's; Сидоров (6А) none of 5А's
        set_user(self.users['roditel'], config=self.config)
        self.assertEqual(len(Summary.find([('student', '=', anna.id)])), 1)
        self.as_user('uchitel')
        self.assertEqual(Summary.find([('student', '=', anna.id)]), [])

    # The deputy's term grades
    def test_compute_all_and_close_warning(self):
        "The deputy computes the whole school's grades; closing warns first"
        Period = Model.get('school.period')
        Grade = Model.get('school.grade')
        quarter = self.school['periods'][2]
        # A class teacher may not
        self.as_user('klass')
        with self.assertRaises(AccessError):
            wizard = Wizard('school.grade.compute_all')
            wizard.form.period = Period(quarter.id)
            wizard.execute('compute')

        # Closing without grades: the deputy is warned, with how many
        self.as_user('zavuch')
        first = Period(self.school['periods'][1].id)
        first.click('close')
        period = Period(quarter.id)
        with self.assertRaises(UserWarning) as cm:
            period.click('close')
        self.assertIn('term grades of', cm.exception.message)
        self.assertIn('5А', cm.exception.message)
        self.assertEqual(Period(quarter.id).state, 'open')

        wizard = Wizard('school.grade.compute_all')
        self.assertEqual(wizard.form.period.id, quarter.id)
        wizard.execute('compute')
        summary = wizard.form.summary
        grades = Grade.find([('period', '=', quarter.id)])
        self.assertTrue(grades)
        na = sum(1 for g in grades if g.value == 'na')
        self.assertIn('%s computed' % len(grades), summary)
        self.assertIn('of which %s "н/а"' % na, summary)
        self.assertIn('the whole school', summary)
        wizard.execute('end')
        # Every grade there: the period closes without a question
        period = Period(quarter.id)
        period.click('close')
        self.assertEqual(period.state, 'closed')
        # Open again for the other tests
        period.click('reopen')
        Period(first.id).click('reopen')

    # The administrator's staff form
    def test_add_staff(self):
        "The administrator adds a teacher with login and roles in one step"
        User = Model.get('res.user')
        with Transaction().start(DB_NAME, 0) as transaction:
            Lang = Pool().get('ir.lang')
            russian, = Lang.search([('code', '=', 'ru')])
            Lang.write([russian], {'translatable': True})
            transaction.commit()
        self.as_user('klass')
        with self.assertRaises(AccessError):
            wizard = Wizard('school.staff.add')
            wizard.form.last_name = 'Кузнецова'
            wizard.form.first_name = 'Дарья'
            wizard.form.login = 'kuznecova'
            wizard.execute('add')

        self.as_user('sysadmin')
        wizard = Wizard('school.staff.add')
        wizard.form.last_name = 'Кузнецова'
        wizard.form.first_name = 'Дарья'
        wizard.form.middle_name = 'Олеговна'
        wizard.form.login = 'kuznecova'
        wizard.form.email = 'kuznecova@example.ru'
        wizard.form.class_teacher = True
        wizard.execute('add')
        summary = wizard.form.summary
        self.assertIn('kuznecova', summary)
        password = summary.split('Temporary password: ')[1].split(' ')[0]
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            User_ = pool.get('res.user')
            ModelData = pool.get('ir.model.data')
            user, = User_.search([('login', '=', 'kuznecova')])
            self.assertEqual(user.name, 'Кузнецова Дарья Олеговна')
            self.assertEqual(user.language.code, 'ru')
            self.assertEqual({g.id for g in user.groups}, {
                    ModelData.get_id('school_ejournal', 'group_' + r)
                    for r in ['teacher', 'class_teacher']})
            self.assertEqual(user.employee.party.name, user.name)
            self.assertEqual(user.employee.position, 'teacher')
            self.assertEqual(user.employee.company, user.company)
            # The temporary password of Tryton's reset, valid a day (the
            # login compares it with the database's clock, which the
            # tests' clock does not move on PostgreSQL)
            self.assertEqual(user.password_reset, password)
            self.assertGreater(user.password_reset_expire,
                dt.datetime.now() + dt.timedelta(hours=23))
        # The same login again is refused, nothing half-saved
        wizard = Wizard('school.staff.add')
        wizard.form.last_name = 'Другая'
        wizard.form.first_name = 'Дарья'
        wizard.form.login = 'kuznecova'
        with self.assertRaises(UserError) as cm:
            wizard.execute('add')
        self.assertIn('kuznecova', cm.exception.message)
        Party = Model.get('party.party')
        self.assertEqual(Party.find([('name', 'like', 'Другая%')]), [])
        self.assertEqual(len(User.find([('login', '=', 'kuznecova')])), 1)
