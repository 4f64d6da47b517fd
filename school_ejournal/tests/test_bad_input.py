# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Hostile values sent through the RPC layer, each by the role that would
type it: every one is refused with its user error, none reaches the
database and none is answered with another exception (a traceback).

Calls go as trytond/protocols/dispatcher.py makes them: `RPC.convert` of
the method (instantiation of the records, `_check_access` in the context)
in a transaction of the user, then the method decorated by its RPC.
"""
import datetime as dt
import io
import re
import unittest

from proteus import Model

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules, set_user
from trytond.tools import is_instance_method
from trytond.transaction import Transaction

from .clock import school_today
from .tools import create_journal_school

MiB = 1024 * 1024
# The day the tests run on (the clock is moved there): not the machine's
TODAY = school_today()


def rpc_call(model_name, method, *args, context=None):
    "Call the method as the dispatcher does, in the current transaction"
    pool = Pool()
    transaction = Transaction()
    obj = pool.get(model_name, type='wizard' if model_name in {
                'school.thematic_plan.import'} else 'model')
    rpc = obj.__rpc__[method]
    c_args, c_kwargs, transaction.context, _ = rpc.convert(
        obj, *args, dict(context or {}))
    meth = rpc.decorate(getattr(obj, method))
    if rpc.instantiate is None or not is_instance_method(obj, method):
        return rpc.result(meth(*c_args, **c_kwargs))
    inst = c_args.pop(0)
    if hasattr(inst, method):
        return rpc.result(meth(inst, *c_args, **c_kwargs))
    return [rpc.result(meth(i, *c_args, **c_kwargs)) for i in inst]


def message_pattern(msg_id):
    "Return a regular expression matching the message of msg_id"
    pool = Pool()
    Message = pool.get('ir.message')
    module, name = msg_id.split('.')
    with Transaction().set_context(language='en'):
        text = Message.gettext(module, name, 'en')
    parts = re.split(r'%\(\w+\)s', text)
    return re.compile('.*'.join(re.escape(p) for p in parts), re.S)


def xlsx(rows):
    import xlsxwriter
    data = io.BytesIO()
    workbook = xlsxwriter.Workbook(data)
    sheet = workbook.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.close()
    return data.getvalue()


def nested(domain, depth):
    for _ in range(depth):
        domain = [domain]
    return domain


def lesson_write(field, value):
    return ('klass', 'school.lesson', 'write',
        lambda s: ([s['lesson']], {field: value}))


def mark_create(values):
    return ('klass', 'school.mark', 'create', lambda s: ([values(s)],))


def student_write(field, value):
    return ('klass', 'school.student', 'write',
        lambda s: ([s['anna']], {field: value}))


def parent_write(field, value):
    return ('klass', 'school.parent', 'write',
        lambda s: ([s['mother']], {field: value}))


def search(role, model, domain, offset=0, limit=None, order=None):
    return (role, model, 'search',
        lambda s: (domain, offset, limit, order))


def plan_import(data, filename):
    return ('klass', 'school.thematic_plan.import', 'import',
        lambda s: (data, filename))


G = 'school_ejournal.msg_guard_'
EMAIL = 'school_ejournal.msg_email_invalid'
# refused by validation after the SQL ran, in the transaction rolled back
AFTER_SQL = {
    'homework due after the academic year', 'born today',
    'born 40 years ago', 'e-mail a@b', 'e-mail without at',
    'e-mail with a space', "parent's e-mail a@b"}

# (what, (role, model, method, arguments), message id)
CASES = [
    # Text where text is expected, of a sane length, without controls
    ("1 MiB topic", lesson_write('topic', 'x' * MiB), G + 'text_size'),
    ("8 MiB homework", lesson_write('homework', 'x' * 8 * MiB),
        G + 'text_size'),
    ("topic of 256 characters", lesson_write('topic', 'я' * 256),
        G + 'text_size'),
    ("homework of 10,001 characters", lesson_write('homework', 'a' * 10001),
        G + 'text_size'),
    ("NUL byte in the topic", lesson_write('topic', 'a\x00b'),
        G + 'text_control'),
    ("NUL byte in the homework", lesson_write('homework', 'a\x00b'),
        G + 'text_control'),
    ("escape in the topic", lesson_write('topic', '\x1b[2J'),
        G + 'text_control'),
    ("newline in the topic", lesson_write('topic', 'a\nb'),
        G + 'text_control'),
    ("tab in the room", lesson_write('room', 'a\tb'), G + 'text_control'),
    ("bell in the homework", lesson_write('homework', 'a\x07'),
        G + 'text_control'),
    ("DEL in the homework", lesson_write('homework', 'a\x7f'),
        G + 'text_control'),
    ("C1 control in the topic", lesson_write('topic', 'a\x85b'),
        G + 'text_control'),
    ("line separator in the topic", lesson_write('topic', 'a\u2028b'),
        G + 'text_control'),
    ("lone surrogate in the topic", lesson_write('topic', 'a\ud800'),
        G + 'text_encoding'),
    ("lone low surrogate in the homework",
        lesson_write('homework', '\udfff'), G + 'text_encoding'),
    ("number as topic", lesson_write('topic', 12345), G + 'type_text'),
    ("float as topic", lesson_write('topic', 1.5), G + 'type_text'),
    ("list as topic", lesson_write('topic', ['a', 'b']), G + 'type_text'),
    ("dictionary as homework", lesson_write('homework', {'a': 1}),
        G + 'type_text'),
    ("boolean as room", lesson_write('room', True), G + 'type_text'),
    ("bytes as topic", lesson_write('topic', b'abc'), G + 'type_text'),
    # Numbers in their range
    ("lesson number -5", lesson_write('number', -5), G + 'range'),
    ("lesson number 13", lesson_write('number', 13), G + 'range'),
    ("lesson number 2**31", lesson_write('number', 2 ** 31), G + 'range'),
    ("lesson number 10**30", lesson_write('number', 10 ** 30), G + 'range'),
    ("lesson number as text", lesson_write('number', 'one'),
        G + 'type_number'),
    ("lesson number 1.5", lesson_write('number', 1.5), G + 'type_number'),
    ("lesson number true", lesson_write('number', True), G + 'type_number'),
    ("lesson number as list", lesson_write('number', [1]),
        G + 'type_number'),
    # Dates in their range
    ("homework due in 3000",
        lesson_write('homework_due', dt.date(3000, 1, 1)), G + 'range'),
    ("homework due in 1900",
        lesson_write('homework_due', dt.date(1900, 1, 1)), G + 'range'),
    ("homework due after the academic year",
        lesson_write('homework_due', TODAY + dt.timedelta(days=400)),
        G + 'range'),
    ("homework due as text", lesson_write('homework_due', '2026-12-01'),
        G + 'type_date'),
    ("homework due as number", lesson_write('homework_due', 20261201),
        G + 'type_date'),
    ("homework due as date and time",
        lesson_write('homework_due', dt.datetime(2026, 12, 1, 10)),
        G + 'type_date'),
    # Relations and selections
    ("plan topic as text", lesson_write('plan_line', 'abc'),
        G + 'type_record'),
    ("plan topic id 2**40", lesson_write('plan_line', 2 ** 40),
        G + 'type_record'),
    ("plan topic id -1", lesson_write('plan_line', -1), G + 'type_record'),
    # A mark's task is read before the mark is written: not an id, no row
    ("mark for a task given as text", mark_create(
            lambda s: {'task': 'abc', 'student': s['anna'], 'value': '5'}),
        G + 'type_record'),
    ("mark for task id -1", mark_create(
            lambda s: {'task': -1, 'student': s['anna'], 'value': '5'}),
        G + 'type_record'),
    ("mark given as a list", mark_create(lambda s: ['task', 1]),
        G + 'values'),
    ("mark for a task that does not exist", mark_create(
            lambda s: {'task': 10 ** 6, 'student': s['anna'], 'value': '5'}),
        'school_ejournal.msg_mark_task_missing'),
    ("plan topic as list", lesson_write('plan_line', [1]),
        G + 'type_record'),
    ("unknown state", lesson_write('state', 'hacked'), G + 'selection'),
    ("unknown field", lesson_write('no_such_field', 1),
        G + 'unknown_field'),
    ("lines as text", lesson_write('lines', 'all'), G + 'type_actions'),
    ("lines with an unknown action",
        lesson_write('lines', [['drop', [1]]]), G + 'type_actions'),
    ("tasks created from a list",
        lesson_write('tasks', [['create', [['x']]]]), G + 'type_actions'),
    ("task created with a NUL description",
        ('klass', 'school.lesson', 'write', lambda s: ([s['lesson']], {
                    'tasks': [['create', [{'description': 'a\x00'}]]]})),
        G + 'text_control'),
    ("values as a list",
        ('klass', 'school.lesson', 'write', lambda s: ([s['lesson']], [1])),
        G + 'values'),
    ("write without values",
        ('klass', 'school.lesson', 'write', lambda s: ([s['lesson']],)),
        G + 'arguments'),
    # A student's personal data, as the class teacher types it
    ("surname of 100,000 characters",
        student_write('last_name', 'Я' * 10 ** 5),
        G + 'text_size'),
    ("surname as number", student_write('last_name', 42), G + 'type_text'),
    ("surname with NUL", student_write('last_name', 'Ива\x00нова'),
        G + 'text_control'),
    ("first name with a lone surrogate",
        student_write('first_name', '\ud83d'), G + 'text_encoding'),
    ("born in 1900", student_write('birth_date', dt.date(1900, 1, 1)),
        G + 'range'),
    ("born in 3000", student_write('birth_date', dt.date(3000, 1, 1)),
        G + 'range'),
    ("born today", student_write('birth_date', TODAY), G + 'range'),
    ("born 40 years ago",
        student_write('birth_date', TODAY - dt.timedelta(days=40 * 366)),
        G + 'range'),
    ("birth date as text", student_write('birth_date', '01.01.2015'),
        G + 'type_date'),
    ("e-mail a@b", student_write('email', 'a@b'), EMAIL),
    ("e-mail without at", student_write('email', 'anna.example.ru'),
        EMAIL),
    ("e-mail with a space", student_write('email', 'an na@example.ru'),
        EMAIL),
    ("address of 20,000 characters", student_write('address', 'ул. ' * 5000),
        G + 'text_size'),
    ("address with NUL", student_write('address', 'Москва\x00'),
        G + 'text_control'),
    ("unknown health group", student_write('health_group', '9'),
        G + 'selection'),
    ("health group as number", student_write('health_group', 2),
        G + 'type_text'),
    ("SNILS of 1,000 characters", student_write('snils', '1' * 1000),
        G + 'text_size'),
    ("active as text", student_write('active', 'yes'), G + 'type_boolean'),
    ("parent's phone as list", parent_write('phone', ['+7']),
        G + 'type_text'),
    ("parent's e-mail a@b", parent_write('email', 'a@b'), EMAIL),
    ("parent's work of 300 characters", parent_write('work', 'w' * 300),
        G + 'text_size'),
    ("parent created with a NUL surname",
        ('klass', 'school.parent', 'create', lambda s: ([{
                        'last_name': 'А\x00', 'first_name': 'Б'}],)),
        G + 'text_control'),
    ("parent created from a list",
        ('klass', 'school.parent', 'create', lambda s: ([['x']],)),
        G + 'values'),
    ("create without a list",
        ('klass', 'school.parent', 'create', lambda s: ('x',)),
        G + 'arguments'),
    # Searches, as a parent types them
    ("order injection",
        search('roditel', 'school.mark', [], order=[
                ['id; DROP TABLE school_mark', 'ASC']]),
        G + 'order'),
    ("order direction injection",
        search('roditel', 'school.mark', [], order=[
                ['id', 'ASC; DELETE FROM school_mark']]),
        G + 'order'),
    ("order as text", search('roditel', 'school.mark', [], order='id DESC'),
        G + 'order'),
    ("order on an unknown path",
        search('roditel', 'school.lesson', [],
            order=[['teaching.nope', None]]),
        G + 'order'),
    ("order item of three",
        search('roditel', 'school.lesson', [], order=[['id', 'ASC', 'x']]),
        G + 'order'),
    ("domain as text", search('roditel', 'school.lesson', 'id > 0'),
        G + 'domain'),
    ("domain on an unknown field",
        search('roditel', 'school.lesson', [('nope', '=', 1)]),
        G + 'domain'),
    ("domain with an unknown operator",
        search('roditel', 'school.lesson', [('id', 'drop', 1)]),
        G + 'domain'),
    ("domain with an overflowing id",
        search('roditel', 'school.lesson', [('id', '=', 10 ** 30)]),
        G + 'domain'),
    ("domain with a surrogate",
        search('roditel', 'school.lesson', [('topic', 'ilike', '%\ud800%')]),
        G + 'domain'),
    ("domain with a NUL", search('roditel', 'school.lesson', [
                ('topic', '=', 'a\x00')]), G + 'domain'),
    ("domain comparing a number with text",
        search('roditel', 'school.lesson', [('number', '=', 'one')]),
        G + 'domain'),
    ("domain comparing a date with a list",
        search('roditel', 'school.lesson', [('date', '=', [1, 2])]),
        G + 'domain'),
    ("domain nested 100 deep",
        search('roditel', 'school.lesson', nested([('id', '>', 0)], 100)),
        G + 'domain'),
    ("offset -1", search('roditel', 'school.lesson', [], offset=-1),
        G + 'offset'),
    ("limit as text", search('roditel', 'school.lesson', [], limit='all'),
        G + 'offset'),
    ("limit 10**20", search('roditel', 'school.lesson', [], limit=10 ** 20),
        G + 'offset'),
    ("read of ids as text",
        ('roditel', 'school.mark', 'read', lambda s: (['x'], ['value'])),
        G + 'ids'),
    ("read of an overflowing id",
        ('roditel', 'school.mark', 'read', lambda s: ([10 ** 30], ['value'])),
        G + 'ids'),
    ("read of an unknown field",
        ('roditel', 'school.lesson', 'read', lambda s: ([1], ['nope'])),
        G + 'read_fields'),
    ("read of no field names",
        ('roditel', 'school.lesson', 'read', lambda s: ([1], None)),
        G + 'read_fields'),
    ("read of field names as a number",
        ('roditel', 'school.lesson', 'read', lambda s: ([1], [1])),
        G + 'read_fields'),
    ("export of an unknown column",
        ('klass', 'school.student', 'export_data_domain',
            lambda s: ([], ['name', 'class_/nope'])),
        G + 'read_fields'),
    ("export of columns as text",
        ('klass', 'school.student', 'export_data_domain',
            lambda s: ([], 'name')),
        G + 'read_fields'),
    ("button on ids as text",
        ('klass', 'school.lesson', 'hold', lambda s: (['x'],)), G + 'ids'),
    ("delete of a nested list",
        ('klass', 'school.lesson.task', 'delete', lambda s: ([[1]],)),
        G + 'arguments'),
    # A record being edited (on_change)
    ("on_change with a date as text",
        ('klass', 'school.lesson', 'on_change_with',
            lambda s: ({'date': 'tomorrow', 'homework': 'x'}, ['company'])),
        G + 'type_date'),
    ("on_change with a file as a number",
        ('klass', 'school.thematic_plan.import.start', 'on_change_with',
            lambda s: ({'file': 10 ** 12}, ['filename'])),
        G + 'type_binary'),
    ("on_change_with an unknown field",
        ('klass', 'school.lesson', 'on_change_with',
            lambda s: ({'topic': 'x'}, ['no_such_field'])),
        G + 'arguments'),
    # Users and parties
    ("order injection on users",
        search('roditel', 'res.user', [], order=[['login; --', 'ASC']]),
        G + 'order'),
    ("user search with a NUL",
        search('roditel', 'res.user', [('name', 'ilike', '\x00')]),
        G + 'domain'),
    ("party renamed with a NUL",
        ('klass', 'party.party', 'write',
            lambda s: ([s['anna_party']], {'name': 'Анна\x00'})),
        G + 'text_control'),
    ("party renamed with 100,000 characters",
        ('klass', 'party.party', 'write',
            lambda s: ([s['anna_party']], {'name': 'А' * 10 ** 5})),
        G + 'text_size'),
    ("party search with a surrogate",
        search('anglichanka', 'party.party', [('name', 'ilike', '\ud800')]),
        G + 'domain'),
    ("employee search ordered by an injection",
        search('klass', 'company.employee', [], order=[['id', 'DESC;']]),
        G + 'order'),
    # Imports of the thematic plan
    ("fake XLSX", plan_import(b'PK\x03\x04' + b'\x00' * 200, 'plan.xlsx'),
        G + 'import_not_xlsx'),
    ("text named XLSX", plan_import('Тема;1\n'.encode(), 'plan.xlsx'),
        G + 'import_not_xlsx'),
    ("XLSX named CSV", plan_import(xlsx([['Тема', 1]]), 'plan.csv'),
        G + 'import_not_csv'),
    ("CSV in Windows-1251",
        plan_import('Тема;Часы\nДроби;2\n'.encode('cp1251'), 'plan.csv'),
        G + 'import_encoding'),
    ("CSV in UTF-16", plan_import('Тема;1\n'.encode('utf-16'), 'plan.csv'),
        G + 'import_encoding'),
    ("CSV with a NUL byte", plan_import(b'Topic;1\nA\x00;1\n', 'plan.csv'),
        G + 'import_encoding'),
    ("10**9 hours in a CSV",
        plan_import('Дроби;1000000000\n'.encode(), 'plan.csv'),
        G + 'import_cell'),
    ("10**9 hours in an XLSX", plan_import(
            xlsx([['Дроби', 10 ** 9]]), 'plan.xlsx'), G + 'import_cell'),
    ("1e400 hours in a CSV",
        plan_import(b'Topic;Hours\nA;1e400\n', 'plan.csv'),
        'school_ejournal.msg_plan_import_row'),
    ("topic of 1,000 characters in a CSV",
        plan_import(('Т' * 1000 + ';1\n').encode(), 'plan.csv'),
        G + 'import_cell'),
    ("file as a number", plan_import(10 ** 12, 'plan.csv'),
        G + 'type_binary'),
    ("file of 3 MiB", plan_import(b'a;1\n' * (3 * MiB // 4), 'plan.csv'),
        G + 'import_size'),
    ]


class BadInputTestCase(unittest.TestCase):
    "Hostile values through the RPC layer"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        config = activate_modules('school_ejournal')
        school = create_journal_school(config=config)
        Lesson = Model.get('school.lesson')
        Plan = Model.get('school.thematic_plan')
        teaching = school['teachings']['5А math']
        period = school['periods'][2]
        date = min(TODAY, period.end_date)
        while date.weekday() >= 5:
            date -= dt.timedelta(days=1)
        lesson = Lesson(teaching=teaching, date=date, number=1)
        lesson.save()
        set_user(school['users']['klass'], config=config)
        plan = Plan(teaching=teaching)
        plan.save()
        set_user(1, config=config)
        cls.ids = {
            'lesson': lesson.id,
            'plan': plan.id,
            'anna': school['students']['Анна'].id,
            'anna_party': school['students']['Анна'].party.id,
            'mother': school['mother'].id,
            }
        cls.users = {k: u.id for k, u in school['users'].items()}

    @classmethod
    def tearDownClass(cls):
        drop_db()
        super().tearDownClass()

    def fingerprint(self):
        "What the school's tables hold"
        pool = Pool()
        cursor = Transaction().connection.cursor()
        result = {}
        for name in ['school.lesson', 'school.lesson.task',
                'school.lesson.attendance', 'school.student', 'school.parent',
                'school.thematic_plan.line', 'school.mark', 'party.party']:
            Model_ = pool.get(name)
            table = Model_.__table__()
            cursor.execute(*table.select(
                    table.id, table.write_date, order_by=[table.id]))
            result[name] = list(cursor)
        return result

    def call(self, role, model, method, args):
        if model == 'school.thematic_plan.import':
            return self.call_import(role, *args)
        return rpc_call(model, method, *args)

    def call_import(self, role, data, filename):
        context = {
            'active_model': 'school.thematic_plan',
            'active_id': self.ids['plan'],
            'active_ids': [self.ids['plan']],
            }
        session_id, _, _ = rpc_call(
            'school.thematic_plan.import', 'create', context=context)
        rpc_call('school.thematic_plan.import', 'execute', session_id, {
                'start': {'file': data, 'filename': filename},
                }, 'import_', context=context)

    def test_hostile_values(self):
        "Each hostile value is refused with its message and stores nothing"
        self.assertGreaterEqual(len(CASES), 60)
        with Transaction().start(DB_NAME, 0) as transaction:
            before = self.fingerprint()
            patterns = {m: message_pattern(m) for _, _, m in CASES}
            transaction.rollback()
        for what, (role, model, method, args), msg_id in CASES:
            with self.subTest(what):
                with Transaction().start(
                        DB_NAME, self.users[role]) as transaction:
                    try:
                        self.call(role, model, method, args(self.ids))
                    except UserError as exception:
                        self.assertRegex(exception.message, patterns[msg_id])
                        if what not in AFTER_SQL:
                            # refused before any SQL ran
                            self.assertEqual(self.fingerprint(), before)
                    except Exception as exception:
                        self.fail('%s: %r' % (what, exception))
                    else:
                        self.fail('%s: accepted' % what)
                    finally:
                        transaction.rollback()
        with Transaction().start(DB_NAME, 0) as transaction:
            self.assertEqual(self.fingerprint(), before)

    def test_good_values(self):
        "Sane values of the same fields are stored"
        with Transaction().start(
                DB_NAME, self.users['klass']) as transaction:
            rpc_call('school.lesson', 'write', [self.ids['lesson']], {
                    'topic': 'Дроби', 'homework': '№ 12,\n№ 14\t(устно)',
                    'homework_due': self.next_school_day()})
            rpc_call('school.student', 'write', [self.ids['anna']], {
                    'email': 'anna@example.ru',
                    'birth_date': TODAY.replace(year=TODAY.year - 11),
                    })
            lesson, = rpc_call('school.lesson', 'search_read',
                [('topic', 'ilike', '%Дроб%')], 0, 10, [['date', 'DESC']],
                ['topic', 'homework'])
            self.assertEqual(lesson['homework'], '№ 12,\n№ 14\t(устно)')
            transaction.rollback()

    def next_school_day(self):
        Lesson = Pool().get('school.lesson')
        date = Lesson(self.ids['lesson']).date + dt.timedelta(days=1)
        while date.weekday() >= 5:
            date += dt.timedelta(days=1)
        return date

    def test_every_school_model_guarded(self):
        "Every school model and wizard refuses bad input through a mixin"
        from trytond.model import ModelSQL, ModelView

        from ..validation import (
            RPCGuardMixin, ValidationMixin, ValidationWizardMixin)
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            for name, Model_ in pool.iterobject():
                if not name.startswith('school.'):
                    continue
                with self.subTest(model=name):
                    if issubclass(Model_, ModelSQL):
                        self.assertTrue(issubclass(Model_, ValidationMixin))
                    elif issubclass(Model_, ModelView):
                        self.assertTrue(issubclass(Model_, RPCGuardMixin))
            for name, Wizard in pool.iterobject(type='wizard'):
                if name.startswith('school.'):
                    with self.subTest(wizard=name):
                        self.assertTrue(
                            issubclass(Wizard, ValidationWizardMixin))
