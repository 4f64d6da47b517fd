# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Message threads, notices and class events through the RPC layer, as the
parent, student, teacher or deputy who would do each thing: who starts
which thread, who reads which thread and message, receipts, attachments,
and what a student may write (messages only)."""
import datetime as dt
import unittest

from proteus import Model

from school_ejournal.tests.clock import travel
from school_ejournal.tests.test_bad_input import message_pattern, rpc_call
from school_ejournal.tests.tools import create_journal_school, create_user
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules, set_user
from trytond.transaction import Transaction

M = 'school_ejournal_messaging.'


class ThreadsTestCase(unittest.TestCase):
    "Threads, messages, notices and events per role"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clock = travel()
        cls.clock.__enter__()
        config = activate_modules('school_ejournal_messaging')
        school = create_journal_school(config=config)
        Parent = Model.get('school.parent')
        # Another family: Глеб's father, in 6А (class teacher Сидоров)
        otec = create_user('otec', ['parent'], company=school['company'],
            config=config)
        father = Parent(last_name='Смирнов', first_name='Олег', user=otec)
        father.children.new(student=school['students']['Глеб'],
            relation='father')
        father.save()
        set_user(1)
        cls.users = {k: u.id for k, u in school['users'].items()}
        cls.users['otec'] = otec.id
        cls.students = {k: s.id for k, s in school['students'].items()}
        cls.classes = {k: c.id for k, c in school['classes'].items()}
        cls.mother = school['mother'].id
        cls.father = father.id

        # The threads every test reads, each started by its author
        with cls.as_user('klass') as t:
            cls.to_mother = cls.start('klass', {
                    'subject': 'Анна и контрольная',
                    'kind': 'parent',
                    'parent': cls.mother,
                    'student': cls.students['Анна'],
                    }, 'Анна пропустила контрольную.', attachments=[{
                        'name': 'schedule.txt',
                        'data': b'Retake on Friday',
                        }])
            cls.to_5a = cls.start('klass', {
                    'subject': 'Родительское собрание 5А',
                    'kind': 'class',
                    'class_': cls.classes['5А'],
                    }, 'Собрание в четверг в 18:00.')
            cls.to_staff = cls.start('klass', {
                    'subject': 'Педсовет',
                    'kind': 'staff',
                    }, 'Педсовет в пятницу.')
            t.commit()
        with cls.as_user('uchitel') as t:
            cls.to_father = cls.start('uchitel', {
                    'subject': 'Глеб и олимпиада',
                    'kind': 'parent',
                    'parent': cls.father,
                    'student': cls.students['Глеб'],
                    }, 'Глеб прошёл на олимпиаду.')
            t.commit()
        with cls.as_user('uchenik') as t:
            cls.from_anna = cls.start('uchenik', {
                    'subject': 'Вопрос о проекте',
                    'kind': 'family',
                    'student': cls.students['Анна'],
                    }, 'Можно сдать проект в понедельник?')
            t.commit()

    @classmethod
    def tearDownClass(cls):
        drop_db()
        cls.clock.__exit__(None, None, None)
        super().tearDownClass()

    @classmethod
    def as_user(cls, login):
        return Transaction().start(DB_NAME, cls.users[login])

    @classmethod
    def start(cls, login, values, body, attachments=None):
        message = {'body': body}
        if attachments:
            message['attachments'] = [('create', attachments)]
        thread_id, = rpc_call('school.message.thread', 'create', [{
                    **values, 'messages': [('create', [message])]}])
        return thread_id

    def assertRaisesMessage(self, msg_id, exception=UserError):
        return self.assertRaisesRegex(exception, message_pattern(M + msg_id))

    def visible(self, model, domain=None):
        return {r['id'] for r in rpc_call(model, 'search_read',
                domain or [], 0, None, None, ['id'])}

    def messages_of(self, thread_id):
        with Transaction().set_user(0):
            return [r['id'] for r in rpc_call('school.message', 'search_read',
                    [('thread', '=', thread_id)], 0, None, None, ['id'])]

    # Who reads which thread

    def test_participants_read_their_threads_only(self):
        "Each reads the threads he takes part in, nobody else's"
        expected = {
            'roditel': {self.to_mother, self.to_5a},
            'otec': {self.to_father},
            'uchenik': {self.from_anna},
            'klass': {self.to_mother, self.to_5a, self.to_staff,
                self.from_anna},
            'uchitel': {self.to_staff, self.to_father},
            'anglichanka': {self.to_staff},
            'zavuch': {self.to_staff},
            }
        for login, threads in expected.items():
            with self.subTest(login=login), self.as_user(login) as t:
                self.assertEqual(
                    self.visible('school.message.thread'), threads)
                # The messages, searched directly, are those of his threads
                messages = self.visible('school.message')
                thread_of = {r['id']: r['thread'] for r in rpc_call(
                        'school.message', 'read', list(messages),
                        ['thread'])}
                self.assertEqual(set(thread_of.values()), threads)
                t.rollback()

    def test_parent_cannot_read_another_familys_thread(self):
        "Another family's thread, its messages, participants and files"
        with self.as_user('roditel') as t:
            with self.assertRaises(AccessError):
                rpc_call('school.message.thread', 'read',
                    [self.to_father], ['subject'])
            foreign = self.messages_of(self.to_father)
            self.assertTrue(foreign)
            with self.assertRaises(AccessError):
                rpc_call('school.message', 'read', foreign, ['body'])
            self.assertFalse(self.visible('school.message',
                    [('body', 'ilike', '%олимпиад%')]))
            self.assertFalse(self.visible('school.message.participant',
                    [('thread', '=', self.to_father)]))
            # Nor writes into it
            with self.assertRaisesMessage('msg_message_not_participant'):
                rpc_call('school.message', 'create', [{
                            'thread': self.to_father, 'body': 'Hello'}])
            t.rollback()
        with self.as_user('otec') as t:
            self.assertFalse(self.visible('school.message.attachment'))
            t.rollback()

    def test_student_reads_not_the_parents_threads(self):
        "Анна reads not what her teacher writes to her mother"
        with self.as_user('uchenik') as t:
            with self.assertRaises(AccessError):
                rpc_call('school.message', 'read',
                    self.messages_of(self.to_mother), ['body'])
            t.rollback()

    # Writing

    def test_parent_replies_and_teacher_sees_receipt(self):
        "The mother reads and replies; the teacher sees who read when"
        with self.as_user('roditel') as t:
            first, = self.messages_of(self.to_mother)
            row, = rpc_call('school.message.thread', 'read',
                [self.to_mother], ['unread'])
            self.assertEqual(row['unread'], 1)
            rpc_call('school.message', 'mark_read', [first])
            row, = rpc_call('school.message.thread', 'read',
                [self.to_mother], ['unread'])
            self.assertEqual(row['unread'], 0)
            file, = rpc_call('school.message.attachment', 'search_read',
                [], 0, None, None, ['name', 'data'])
            self.assertEqual(file['data'], b'Retake on Friday')
            reply, = rpc_call('school.message', 'create', [{
                        'thread': self.to_mother,
                        'body': 'Спасибо, придём в пятницу.',
                        }])
            # Sent messages stay as they were
            with self.assertRaisesMessage('msg_message_fixed', AccessError):
                rpc_call('school.message', 'write', [reply],
                    {'body': 'Changed'})
            t.commit()
        with self.as_user('klass') as t:
            receipts = rpc_call('school.message.receipt', 'search_read',
                [('message', '=', first)], 0, None, None,
                ['user_name', 'date'])
            names = {r['user_name'] for r in receipts}
            self.assertIn('roditel', names)
            self.assertIn('klass', names)
            row, = rpc_call('school.message.thread', 'read',
                [self.to_mother], ['unread', 'last_date'])
            self.assertEqual(row['unread'], 1)
            t.rollback()

    def test_new_message_emails_consenting_parents(self):
        "A new message to a parent who agreed to e-mail is in the outbox"
        with self.as_user('klass') as t:
            pool = Pool()
            Parent = pool.get('school.parent')
            Outbox = pool.get('school.message.outbox')
            with Transaction().set_user(0):
                Parent.write([Parent(self.mother)], {
                        'email': 'smirnova@example.ru',
                        'email_consent': True,
                        })
            message, = rpc_call('school.message', 'create', [{
                        'thread': self.to_mother,
                        'body': 'Пересдача в пятницу в 14:00.',
                        }])
            # Глеб's father did not agree to e-mail
            with Transaction().set_user(self.users['uchitel']):
                rpc_call('school.message', 'create', [{
                            'thread': self.to_father,
                            'body': 'Олимпиада в субботу.',
                            }])
            with Transaction().set_user(0):
                rows = Outbox.search([('key', 'like', 'message:%')])
                self.assertEqual(
                    [(r.key, r.recipient, r.channel) for r in rows],
                    [('message:%s:%s' % (message, self.users['roditel']),
                        'smirnova@example.ru', 'email')])
                self.assertIn('Пересдача в пятницу в 14:00.', rows[0].body)
                self.assertIn('Анна и контрольная', rows[0].subject)
            t.rollback()

    def test_who_may_start_which_thread(self):
        "A thread's kind is checked against who starts it"
        cases = [
            ('anglichanka', {'kind': 'class', 'class_': self.classes['6А']},
                'msg_thread_class'),
            ('anglichanka', {'kind': 'parent', 'parent': self.father},
                'msg_thread_parent'),
            ('roditel', {'kind': 'parent', 'parent': self.father},
                'msg_thread_parent'),
            ('roditel', {'kind': 'staff'}, 'msg_thread_not_staff'),
            ('uchenik', {'kind': 'staff'}, 'msg_thread_not_staff'),
            ('roditel', {'kind': 'family',
                    'student': self.students['Глеб']}, 'msg_thread_family'),
            ('klass', {'kind': 'class'}, 'msg_thread_no_target'),
            ('roditel', {'kind': 'family'}, 'msg_thread_no_target'),
            ]
        for login, values, msg_id in cases:
            with self.subTest(login=login, values=values), \
                    self.as_user(login) as t:
                with self.assertRaisesMessage(msg_id):
                    self.start(login, {'subject': 'Test', **values}, 'Hi')
                t.rollback()
        # A deputy writes to any parent
        with self.as_user('zavuch') as t:
            self.start('zavuch', {'subject': 'Test', 'kind': 'parent',
                    'parent': self.father}, 'Hi')
            t.rollback()

    def test_thread_refuses_changes(self):
        "A thread's subject and participants are fixed once sent"
        with self.as_user('klass') as t:
            with self.assertRaisesMessage('msg_thread_fixed', AccessError):
                rpc_call('school.message.thread', 'write', [self.to_5a],
                    {'subject': 'Other'})
            t.rollback()

    def test_messages_are_in_russian(self):
        "Every message and view text of the module has its Russian"
        import os
        import re
        here = os.path.dirname(os.path.dirname(__file__))
        with open(os.path.join(here, 'locale', 'ru.po')) as fp:
            po = fp.read()
        for name in ['thread.xml', 'notice.xml', 'message.xml']:
            with open(os.path.join(here, name)) as fp:
                ids = re.findall(
                    r'model="ir.message" id="(\w+)"', fp.read())
            for msg_id in ids:
                with self.subTest(msg_id=msg_id):
                    self.assertIn(
                        'msgctxt "model:ir.message,text:%s"' % msg_id, po)
        for entry in re.findall(r'msgstr "(.*)"', po):
            # Names Russian staff write in Latin letters
            entry = re.sub(r'\b(SMS|SMTP|HTTP|SMS\.ru)\b', '', entry)
            if entry and not entry.startswith('Content-Type'):
                self.assertTrue(re.search('[а-яА-ЯёЁ]', entry) or not
                    re.search('[a-zA-Z]{3}', entry), entry)

    def test_student_writes_nothing_but_messages(self):
        "A student writes messages; marks, lessons, notices refuse him"
        today = dt.date.today()
        with self.as_user('uchenik') as t:
            rpc_call('school.message', 'create', [{
                        'thread': self.from_anna, 'body': 'Спасибо!'}])
            for model, values in [
                    ('school.notice', {'title': 'X', 'audience': 'staff'}),
                    ('school.class.event', {'title': 'X', 'date': today,
                            'class_': self.classes['5А']}),
                    ('school.mark', {'value': '5'}),
                    ('school.lesson', {'date': today}),
                    ('school.student', {'first_name': 'X',
                            'last_name': 'Y'}),
                    ]:
                with self.subTest(model=model), \
                        self.assertRaises(AccessError):
                    rpc_call(model, 'create', [values])
            lesson_ids = self.visible('school.lesson')
            self.assertTrue(lesson_ids is not None)
            if lesson_ids:
                with self.assertRaises(AccessError):
                    rpc_call('school.lesson', 'write', list(lesson_ids),
                        {'topic': 'X'})
            t.rollback()

    # Notices and class events

    def test_notices_and_events(self):
        "Staff notices for staff; class notices and events for the class"
        today = dt.date.today()
        with self.as_user('zavuch') as t:
            staff_notice, = rpc_call('school.notice', 'create', [{
                        'title': 'Анализ работы с журналами',
                        'audience': 'staff', 'date': today}])
            t.commit()
        with self.as_user('klass') as t:
            notice_5a, = rpc_call('school.notice', 'create', [{
                        'title': 'Экскурсия', 'audience': 'class',
                        'class_': self.classes['5А'], 'date': today}])
            event_5a, = rpc_call('school.class.event', 'create', [{
                        'title': 'Поход в музей', 'date': today,
                        'class_': self.classes['5А'],
                        'description': 'Сбор у школы в 9:00'}])
            t.commit()
        with self.as_user('klass') as t:
            # Not for a class she does not lead
            with self.assertRaises(AccessError):
                rpc_call('school.class.event', 'create', [{
                            'title': 'Чужое', 'date': today,
                            'class_': self.classes['6А']}])
            t.rollback()
        with self.as_user('klass') as t:
            with self.assertRaisesMessage('msg_notice_no_class'):
                rpc_call('school.notice', 'create', [{
                            'title': 'Без класса', 'audience': 'class',
                            'date': today}])
            t.rollback()
        with self.as_user('uchitel') as t:
            event_6a, = rpc_call('school.class.event', 'create', [{
                        'title': 'Олимпиада', 'date': today,
                        'class_': self.classes['6А']}])
            t.commit()
        try:
            for login, notices, events in [
                    ('roditel', {notice_5a}, {event_5a}),
                    ('uchenik', {notice_5a}, {event_5a}),
                    ('otec', set(), {event_6a}),
                    ('anglichanka', {staff_notice, notice_5a},
                        {event_5a, event_6a}),
                    ]:
                with self.subTest(login=login), self.as_user(login) as t:
                    self.assertEqual(self.visible('school.notice'), notices)
                    self.assertEqual(
                        self.visible('school.class.event'), events)
                    t.rollback()
        finally:
            with Transaction().start(DB_NAME, 0) as t:
                rpc_call('school.notice', 'delete', [staff_notice, notice_5a])
                rpc_call('school.class.event', 'delete', [event_5a, event_6a])
                t.commit()
