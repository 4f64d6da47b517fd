# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""No role writes a closed field.

Every school model's declared closed fields (``_system_fields`` and
``_fixed_fields`` of ``common.ClosedFieldsMixin``) are written directly, as
a client does (proteus calls go through ``trytond.rpc.RPC.convert``, which
sets ``_check_access`` and strips private context keys, exactly as the
JSON-RPC dispatcher does), by a user of each of the seven roles and by a
user holding all of them; every write is refused and nothing is stored.
A record created by a client with a system field other than its default is
refused too.
"""
import datetime as dt
import re
import unittest
from decimal import Decimal

from proteus import Model, Wizard

from trytond.exceptions import UserError
from trytond.model import ModelSingleton, ModelSQL, ModelView, Workflow, fields
from trytond.tests.test_tryton import drop_db
from trytond.tests.tools import activate_modules, set_user
from trytond.transaction import Transaction

from ..common import ClosedFieldsMixin
from .access_matrix import ROLES
from .tools import create_journal_school, create_user, task_type

CLOSED_MESSAGES = (
    'is kept by the journal itself',
    'is fixed when the record is created',
    )
CREATE_MESSAGE = 'the journal sets it itself'


def build_journal(config):
    """Return {model: record id} of a school with a record of every model
    that declares closed fields, and {role: user} with one user per role
    (the class teacher and the teacher are Петрова, who teaches the
    lesson) plus 'all' holding every role"""
    today = dt.date.today()
    school = create_journal_school(config=config)
    users, teachings = school['users'], school['teachings']
    petrova = school['employees']['petrova']
    company = school['company']
    quarter = school['periods'][2]

    roles = {
        'school_admin': users['sysadmin'],
        'deputy_academic': users['zavuch'],
        'deputy_pastoral': create_user(
            'pastoral', ['deputy_pastoral'], company=company),
        'class_teacher': create_user(
            'class_teacher_only', ['class_teacher'], employee=petrova,
            company=company),
        'teacher': create_user(
            'teacher_only', ['teacher'], employee=petrova, company=company),
        'parent': users['roditel'],
        'student': users['uchenik'],
        'all': create_user('all_roles', ROLES, employee=petrova,
            company=company),
        }

    Lesson = Model.get('school.lesson')
    Substitution = Model.get('school.substitution')
    Mark = Model.get('school.mark')
    Correction = Model.get('school.mark.correction')
    Grade = Model.get('school.grade')
    Plan = Model.get('school.thematic_plan')
    Enrolment = Model.get('school.enrolment')
    Order = Model.get('school.order')

    set_user(users['zavuch'])
    Timetable = Model.get('school.timetable')
    Timetable(period=quarter, teaching=teachings['5А math'], weekday='0',
        number=6).save()
    lesson = Lesson(teaching=teachings['5А math'], date=today, number=1)
    lesson.save()
    other = Lesson(teaching=teachings['6А math'], date=today, number=2)
    other.save()
    substitution = Substitution(lesson=other, substitute=petrova,
        reason='Course')
    substitution.save()

    set_user(users['klass'])
    lesson = Lesson(lesson.id)
    lesson.click('hold')
    lesson.tasks.new(type=task_type('О'))
    lesson.save()
    lesson.lines[0].mark = '5'
    lesson.save()
    mark, = Mark.find([('lesson', '=', lesson.id)])
    correction = Correction(mark=mark, new_value='4', reason='Re-checked')
    correction.save()
    compute = Wizard('school.grade.compute')
    compute.form.teaching = teachings['5А math']
    compute.form.period = quarter
    compute.execute('compute')
    grade = Grade.find([])[0]
    plan = Plan(teaching=teachings['5А math'])
    plan.lines.new(topic='Natural numbers', hours=1)
    plan.save()

    set_user(0)
    # Another school, for the closed companies
    Company = Model.get('company.company')
    Party = Model.get('party.party')
    party = Party(name='Other school')
    party.save()
    Company(party=party, currency=company.currency).save()
    order, = Order.find([], limit=1)
    # The backup's settings as the administrator keeps them
    Backup = Model.get('school.backup.configuration')
    Backup.write([1], {'keep_daily': 7}, {})
    records = {
        'school.lesson': lesson.id,
        'school.lesson.attendance': lesson.lines[0].id,
        'school.lesson.task': lesson.tasks[0].id,
        'school.substitution': substitution.id,
        'school.mark': mark.id,
        'school.mark.correction': correction.id,
        'school.grade': grade.id,
        'school.thematic_plan': plan.id,
        'school.thematic_plan.line': plan.lines[0].id,
        'school.period': quarter.id,
        'school.year': school['year'].id,
        'school.student': school['students']['Анна'].id,
        'school.parent': school['mother'].id,
        'school.enrolment': Enrolment.find([], limit=1)[0].id,
        'school.order': order.id,
        'school.order.line': order.lines[0].id,
        'school.backup.configuration': 1,
        }
    return records, roles


class ClosedFieldsTestCase(unittest.TestCase):
    "Closed fields are refused to every role"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = activate_modules('school_ejournal')
        cls.records, cls.roles = build_journal(cls.config)
        cls.pool = cls.config.pool
        cls.closed = {}
        for name, Class in cls.pool.iterobject():
            if (name.startswith('school.')
                    and issubclass(Class, ClosedFieldsMixin)):
                cls.closed[name] = sorted(
                    Class._system_fields | Class._fixed_fields)

    @classmethod
    def tearDownClass(cls):
        drop_db()
        super().tearDownClass()

    def stored(self, model, id_, field):
        with Transaction().start(self.config.database_name, 0):
            return self.pool.get(model).read([id_], [field])[0][field]

    def other_value(self, model, field, current):
        "Return a value of the field other than current"
        Class = self.pool.get(model)
        ffield = Class._fields[field]
        type_ = ffield._type
        if type_ == 'selection':
            with Transaction().start(self.config.database_name, 0):
                selection = Class.fields_get([field])[field]['selection']
            return next(v for v, _ in selection
                if v is not None and v != current)
        elif type_ == 'many2one':
            Target = Model.get(ffield.model_name)
            set_user(0)
            others = Target.find([('id', '!=', current or -1)], limit=1)
            return others[0].id if others else current
        elif type_ == 'date':
            return (current or dt.date.today()) + dt.timedelta(days=1)
        elif type_ in {'datetime', 'timestamp'}:
            return dt.datetime(2000, 1, 1)
        elif type_ == 'integer':
            return (current or 0) + 7
        elif type_ == 'numeric':
            return (current or Decimal(0)) + Decimal('1.5')
        elif type_ == 'boolean':
            return not current
        elif type_ in {'char', 'text'}:
            return (current or '') + 'x'
        raise NotImplementedError(type_)

    def test_declarations(self):
        """Every workflow state and every stored readonly field is closed,
        and every closed name is a field"""
        self.assertTrue(self.closed)
        for name, Class in self.pool.iterobject():
            if not name.startswith('school.'):
                continue
            # SQL views (table_query) are not written at all
            if (issubclass(Class, ModelSQL)
                    and not callable(Class.table_query)):
                for fname, field in Class._fields.items():
                    if (field.readonly
                            and not isinstance(field, (
                                    fields.Function, fields.One2Many,
                                    fields.Many2Many))
                            and fname not in {
                                'id', 'create_uid', 'create_date',
                                'write_uid', 'write_date'}):
                        with self.subTest(model=name, field=fname):
                            self.assertIn(fname, self.closed.get(name, []))
            if issubclass(Class, Workflow):
                with self.subTest(model=name):
                    self.assertIn(name, self.closed)
                    self.assertIn(
                        Class._transition_state, Class._system_fields)
            for field in self.closed.get(name, []):
                with self.subTest(model=name, field=field):
                    self.assertIn(field, Class._fields)
        self.assertEqual(set(self.closed), set(self.records))

    def test_write(self):
        "No role writes a closed field; nothing is stored"
        for model, names in self.closed.items():
            Target = Model.get(model)
            id_ = self.records[model]
            for field in names:
                current = self.stored(model, id_, field)
                value = self.other_value(model, field, current)
                for role, user in self.roles.items():
                    with self.subTest(model=model, field=field, role=role):
                        set_user(user)
                        with self.assertRaises(UserError) as cm:
                            Target.write(
                                [id_], {field: value}, self.config.context)
                        if role == 'all':
                            # Access granted by some role: the closed field
                            # itself is refused, naming record and field
                            message = cm.exception.message
                            self.assertTrue(any(
                                    m in message for m in CLOSED_MESSAGES),
                                message)
                        self.assertEqual(
                            self.stored(model, id_, field), current)

    def test_create(self):
        "No role creates a record with a system field set"
        for model in self.closed:
            Class = self.pool.get(model)
            Target = Model.get(model)
            for field in sorted(Class._system_fields):
                set_user(0)
                count = Target.search_count([], {})
                for role, user in self.roles.items():
                    with self.subTest(model=model, field=field, role=role):
                        # Not the default the user would get
                        set_user(user)
                        default = Class._defaults.get(field)
                        with Transaction().start(self.config.database_name,
                                user.id, context=self.config.context):
                            default = default() if default else None
                        value = self.other_value(model, field, default)
                        set_user(user)
                        with self.assertRaises(UserError) as cm:
                            Target.create(
                                [{field: value}], self.config.context)
                        self.assertIn(CREATE_MESSAGE, cm.exception.message)
                        set_user(0)
                        self.assertEqual(Target.search_count([], {}), count)

    def test_access_matrix_by_doing(self):
        """Each role reads, writes, creates and deletes each school model
        exactly as the access matrix says: every operation is tried through
        the RPC layer and refused with the model access message where the
        matrix has no grant (a refusal by a record rule or a journal rule,
        or success, means the model access let the call through)"""
        from trytond.model.exceptions import AccessError

        from .access_matrix import MATRIX

        # ir.msg_access_rule_error, in English or Russian (the model's name
        # in the user's language); not a field's access nor a record rule
        denied_message = re.compile(
            r'^(You are not allowed to access "[^".]*"'
            r'|У вас нет доступа к «[^».]*»)\.$')

        def model_denied(error, Class):
            return bool(denied_message.match(error.message))

        records = dict(self.records)
        with Transaction().start(self.config.database_name, 0):
            for model in MATRIX:
                if model not in records:
                    found = self.pool.get(model).search([], limit=1)
                    records[model] = found[0].id if found else None
        for model, grants in MATRIX.items():
            Class = self.pool.get(model)
            Target = Model.get(model)
            id_ = records[model]
            for role in ROLES:
                user = self.roles[role]
                for perm, call in [
                        ('r', lambda: Target.read(
                                [id_], ['id'], self.config.context)),
                        ('w', lambda: Target.write(
                                [id_], {}, self.config.context)),
                        ('c', lambda: Target.create(
                                [{}], self.config.context)),
                        # An id that does not exist: nothing is removed
                        ('d', lambda: Target._proxy.delete(
                                [10 ** 8], self.config.context)),
                        ]:
                    if perm in 'rw' and id_ is None:
                        continue
                    # Relation tables have no RPC methods: clients reach
                    # them through the Many2Many of their models only
                    if not issubclass(Class, ModelView):
                        continue
                    # SQL views (the class week, the marks by subject) are
                    # read only for everyone; a singleton's create writes
                    # its one record
                    if perm != 'r' and callable(Class.table_query):
                        continue
                    if perm == 'c' and issubclass(Class, ModelSingleton):
                        continue
                    with self.subTest(model=model, role=role, perm=perm):
                        set_user(user)
                        denied, message = False, None
                        try:
                            call()
                        except AccessError as error:
                            denied = model_denied(error, Class)
                            message = error.message
                        except Exception as error:
                            message = str(error)
                        self.assertEqual(
                            not denied, perm in grants.get(role, ''),
                            message)
        set_user(0)
