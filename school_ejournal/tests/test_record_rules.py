# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Who may see and touch whom, per record, through the RPC layer: users'
logins, students' personal data, parties; and the login and password
rules."""
import datetime as dt
import time
import unittest

from proteus import Model

from trytond.exceptions import RateLimitException, UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.res.user import PasswordError
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules
from trytond.transaction import Transaction

from .test_bad_input import rpc_call
from .tools import create_journal_school

PERSONAL = ['birth_date', 'snils', 'address', 'health_group']


class RecordRulesTestCase(unittest.TestCase):
    "Record rules and login rules per role"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        config = activate_modules('school_ejournal')
        school = create_journal_school(config=config)
        Student = Model.get('school.student')
        today = dt.date.today()
        for name, student in school['students'].items():
            student = Student(student.id)
            student.birth_date = today.replace(year=today.year - 11)
            student.address = 'Address of %s' % name
            student.health_group = '2'
            student.save()
        cls.users = {k: u.id for k, u in school['users'].items()}
        cls.students = {k: s.id for k, s in school['students'].items()}
        cls.parties = {k: s.party.id for k, s in school['students'].items()}
        cls.parties['petrova'] = school['employees']['petrova'].party.id
        cls.parties['mother'] = school['mother'].party.id
        User = Model.get('res.user')
        admin, = User.find([('login', '=', 'admin')])
        cls.users['admin'] = admin.id

    @classmethod
    def tearDownClass(cls):
        drop_db()
        super().tearDownClass()

    def as_user(self, login):
        return Transaction().start(DB_NAME, self.users[login])

    # Users

    def test_family_reads_no_login(self):
        "A parent or a student reads names of the staff, no other login"
        for login in ['roditel', 'uchenik']:
            with self.subTest(login=login), self.as_user(login) as t:
                rows = rpc_call('res.user', 'search_read', [], 0, None,
                    None, ['login', 'name', 'email', 'groups'])
                ids = {r['id'] for r in rows}
                self.assertIn(self.users[login], ids)
                self.assertIn(self.users['klass'], ids)
                other = 'uchenik' if login == 'roditel' else 'roditel'
                self.assertNotIn(self.users[other], ids)
                for row in rows:
                    if row['id'] == self.users[login]:
                        self.assertEqual(row['login'], login)
                    else:
                        self.assertIsNone(row['login'])
                        self.assertIsNone(row['email'])
                        self.assertEqual(row['groups'], [])
                        self.assertTrue(row['name'])
                with self.assertRaises(AccessError):
                    rpc_call('res.user', 'read',
                        [self.users[other]], ['name'])
                with self.assertRaises(AccessError):
                    rpc_call('res.user', 'search',
                        [('login', 'like', 'kl%')], 0, None, None)
                t.rollback()

    def test_family_reads_who_filled_a_lesson(self):
        "A parent reads the name of the teacher behind a lesson"
        with self.as_user('roditel') as t:
            row, = rpc_call('res.user', 'read', [self.users['klass']],
                ['rec_name', 'login'])
            self.assertEqual(row['rec_name'], 'klass')
            self.assertIsNone(row['login'])
            t.rollback()

    def test_staff_reads_logins(self):
        "The administrator still reads every login"
        with self.as_user('sysadmin') as t:
            rows = rpc_call('res.user', 'search_read',
                [('login', '=', 'roditel')], 0, None, None, ['login'])
            self.assertEqual([r['login'] for r in rows], ['roditel'])
            t.rollback()

    # Personal data

    def read_personal(self, login, student):
        row, = rpc_call('school.student', 'read',
            [self.students[student]], PERSONAL)
        return {k: row[k] for k in PERSONAL}

    def test_class_teacher_reads_own_class_personal_data(self):
        "A class teacher reads the personal data of her class only"
        with self.as_user('klass') as t:
            # Анна is in 5А, which she leads
            self.assertEqual(
                self.read_personal('klass', 'Анна')['health_group'], '2')
            # Дима is in 1А, which she only teaches
            self.assertEqual(
                set(self.read_personal('klass', 'Дима').values()), {None})
            name, = rpc_call('school.student', 'read',
                [self.students['Дима']], ['name'])
            self.assertEqual(name['name'], 'Смирнов Дима')
            # nor through an export
            rows = rpc_call('school.student', 'export_data_domain',
                [('id', '=', self.students['Дима'])],
                ['name', 'birth_date', 'address'])
            (name, birth_date, address), = rows
            self.assertEqual(name, 'Смирнов Дима')
            self.assertFalse(birth_date)
            self.assertFalse(address)
            rows = rpc_call('school.student', 'export_data',
                [self.students['Анна'], self.students['Дима']],
                ['name', 'health_group'], True)
            self.assertEqual(rows[1:], [
                    ['Смирнова Анна', '2'], ['Смирнов Дима', None]])
            # nor through another record
            for model, path in [
                    ('school.enrolment', 'student/birth_date'),
                    ('school.student',
                        'guardians/parent/children/student/snils')]:
                with self.assertRaises(UserError):
                    rpc_call(model, 'export_data_domain', [], [path])
            # Searching by personal data finds her class's students only
            found = rpc_call('school.student', 'search',
                [('health_group', '=', '2')], 0, None, None)
            self.assertEqual(set(found), {
                    self.students[n] for n in ['Анна', 'Борис', 'Вера']})
            found = rpc_call('school.student', 'search',
                [], 0, None, [['birth_date', 'ASC']])
            self.assertNotIn(self.students['Глеб'], found)
            t.rollback()

    def test_others_class_hidden(self):
        "Another class teacher reads none of 5А's personal data"
        with self.as_user('uchitel') as t:
            self.assertEqual(
                self.read_personal('uchitel', 'Глеб')['health_group'], '2')
            with self.assertRaises(AccessError):
                self.read_personal('uchitel', 'Анна')
            t.rollback()

    def test_family_and_deputy_read_personal_data(self):
        "Parents and students read their own; the deputy reads all"
        for login, student in [('roditel', 'Анна'), ('uchenik', 'Анна'),
                ('zavuch', 'Глеб'), ('zavuch', 'Дима')]:
            with self.subTest(login=login, student=student), \
                    self.as_user(login) as t:
                self.assertEqual(
                    self.read_personal(login, student)['health_group'], '2')
                t.rollback()

    # Parties

    def rename(self, login, party):
        rpc_call('party.party', 'write', [self.parties[party]],
            {'name': 'Renamed'})

    def test_parties_renamed_by_class_teacher_and_admin_only(self):
        "Only the administrator and the class teacher rename a party"
        for login, party in [
                ('roditel', 'petrova'),  # a parent renames a teacher
                ('roditel', 'Анна'),  # a parent renames her child
                ('uchenik', 'Анна'),  # a student renames herself
                ('anglichanka', 'Анна'),  # a teacher renames a pupil
                ('uchitel', 'Анна'),  # another class teacher
                ('zavuch', 'Глеб'),  # a deputy
                ('klass', 'petrova'),  # a class teacher renames herself
                ]:
            with self.subTest(login=login, party=party), \
                    self.as_user(login) as t:
                with self.assertRaises(AccessError):
                    self.rename(login, party)
                t.rollback()
        for login, party in [
                ('klass', 'Анна'), ('klass', 'mother'),
                ('sysadmin', 'petrova'), ('sysadmin', 'Глеб')]:
            with self.subTest(login=login, party=party), \
                    self.as_user(login) as t:
                self.rename(login, party)
                t.rollback()

    def test_teacher_reads_parties_of_own_students(self):
        "A teacher reads the names of her students and the staff only"
        with self.as_user('anglichanka') as t:
            found = set(rpc_call('party.party', 'search', [], 0, None, None))
            self.assertIn(self.parties['Анна'], found)
            self.assertIn(self.parties['petrova'], found)
            self.assertNotIn(self.parties['Глеб'], found)
            self.assertNotIn(self.parties['Дима'], found)
            self.assertNotIn(self.parties['mother'], found)
            t.rollback()

    # Login and password

    def test_failed_login_refused_early_without_sleeping(self):
        "A login after a failure is refused at once, not slept on"
        pool_user = 'anglichanka'
        with Transaction().start(DB_NAME, 0) as transaction:
            User = Pool().get('res.user')
            started = time.monotonic()
            self.assertIsNone(
                User.get_login(pool_user, {'password': 'wrong-guess-1'}))
            self.assertFalse(
                [f for f, _, _ in transaction._atexit if f is time.sleep])
            for _ in range(3):
                with self.assertRaises(RateLimitException):
                    User.get_login(pool_user, {'password': 'wrong-guess-2'})
            self.assertLess(time.monotonic() - started, 2)
            # once the wait is over, the login is tried again
            LoginAttempt = Pool().get('res.user.login.attempt')
            table = LoginAttempt.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.update([table.create_date],
                    [dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
                        - dt.timedelta(seconds=5)]))
            self.assertIsNone(
                User.get_login(pool_user, {'password': 'wrong-guess-3'}))
            # malformed logins fail, they raise nothing else
            for login, parameters in [
                    (42, {'password': 'x'}), ('a\x00', {'password': 'x'}),
                    ('klass', None), ('klass', {'password': ['x']})]:
                self.assertIsNone(User.get_login(login, parameters))
            transaction.rollback()

    def test_common_password_refused(self):
        "The commonest passwords are refused"
        with Transaction().start(DB_NAME, self.users['admin']) as t:
            User = Pool().get('res.user')
            user = User(self.users['klass'])
            for password in ['12345678', 'qwerty123', 'Password1',
                    'iloveyou', '1q2w3e4r5t', 'aaaaaaaaaa', '87654321',
                    'йцукенгшщз', 'short']:
                with self.subTest(password=password):
                    with self.assertRaises(PasswordError):
                        User.write([user], {'password': password})
            User.write([user], {'password': 'Ledokol-Zvezda-7'})
            t.rollback()

    def test_own_password_change_asks_old_one(self):
        "Changing one's own password asks for the current one"
        with Transaction().start(DB_NAME, self.users['admin']) as t:
            User = Pool().get('res.user')
            User.write([User(self.users['klass'])],
                {'password': 'Ledokol-Zvezda-7'})
            t.commit()
        try:
            for values in [
                    {'password': 'Novaya-Zvezda-8'},
                    {'password': 'Novaya-Zvezda-8', 'password_old': 'wrong'},
                    {'password': 'Novaya-Zvezda-8', 'password_old': 42},
                    ]:
                with self.subTest(values=values), \
                        self.as_user('klass') as t:
                    with self.assertRaises(UserError) as cm:
                        rpc_call('res.user', 'set_preferences', values)
                    self.assertIsInstance(cm.exception, PasswordError)
                    t.rollback()
            with self.as_user('klass') as t:
                rpc_call('res.user', 'set_preferences', {
                        'password': 'Novaya-Zvezda-8',
                        'password_old': 'Ledokol-Zvezda-7'})
                User = Pool().get('res.user')
                self.assertEqual(User.get_login(
                        'klass', {'password': 'Novaya-Zvezda-8'}),
                    self.users['klass'])
                # other preferences need no password
                rpc_call('res.user', 'set_preferences', {'name': 'Ольга'})
                t.rollback()
        finally:
            with Transaction().start(DB_NAME, 0) as t:
                User = Pool().get('res.user')
                User.write([User(self.users['klass'])], {'password': None})
                t.commit()
