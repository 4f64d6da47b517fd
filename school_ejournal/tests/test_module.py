# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt

from lxml import etree

from trytond.model import ModelSQL
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests import test_tryton
from trytond.transaction import Transaction

from .access_matrix import MATRIX, ROLES, differing

MODES = ['read', 'write', 'create', 'delete']


class SchoolEjournalTestCase(CompanyTestMixin, test_tryton.ModuleTestCase):
    "Test the school e-journal module"
    module = 'school_ejournal'

    def _user(self, login, roles):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user, = User.create([{
                    'login': login,
                    'groups': [('add', [
                                ModelData.get_id(
                                    'school_ejournal', 'group_' + r)
                                for r in roles])],
                    }])
        return user

    def _holders(self, Model):
        for name in Model.__access__:
            Holder = getattr(Model, name).get_target()
            yield Holder.__name__
            yield from self._holders(Holder)

    def test_access_rows_written(self):
        "Each .xml file holds the access rows of its models, as the matrix"
        self.assertEqual(list(differing()), [])

    @test_tryton.with_transaction()
    def test_access_matrix(self):
        "Each role gets exactly the model access of the matrix"
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')

        school_models = {
            name for name, model in pool.iterobject()
            if name.startswith('school.')
            and issubclass(model, ModelSQL)
            and test_tryton.isregisteredby(model, self.module)}
        self.assertEqual(school_models, set(MATRIX))

        for role in ROLES:
            user = self._user('user_' + role, [role])
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                for model, grants in MATRIX.items():
                    perms = grants.get(role, '')
                    # A record held by another (__access__) is open to
                    # whoever may open its holder
                    for holder in self._holders(pool.get(model)):
                        perms += MATRIX[holder].get(role, '')
                    for mode in MODES:
                        with self.subTest(role=role, model=model, mode=mode):
                            self.assertEqual(
                                ModelAccess.check(
                                    model, mode, raise_exception=False),
                                mode[0] in perms)

    @test_tryton.with_transaction()
    def test_user_without_role(self):
        "A user holding no school role sees no school data"
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        user = self._user('nobody', [])
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            for model in MATRIX:
                for mode in MODES:
                    with self.subTest(model=model, mode=mode):
                        self.assertFalse(ModelAccess.check(
                                model, mode, raise_exception=False))

    @test_tryton.with_transaction()
    def test_school_day(self):
        "Lessons take place on working days outside the holidays"
        pool = Pool()
        Year = pool.get('school.year')
        Level = pool.get('school.level')
        company = create_company()
        with set_company(company):
            first, fifth = Level.create([
                    {'number': 1, 'name': '1', 'week_days': 5},
                    {'number': 5, 'name': '5', 'week_days': 6},
                    ])
            self.assertFalse(first.marks)
            year, = Year.create([{
                        'name': '2026/2027',
                        'start_date': dt.date(2026, 9, 1),
                        'end_date': dt.date(2027, 5, 31),
                        'holidays': [('create', [{
                                        'name': 'Autumn',
                                        'start_date': dt.date(2026, 10, 26),
                                        'end_date': dt.date(2026, 11, 3),
                                        }, {
                                        'name': 'February for 1st classes',
                                        'start_date': dt.date(2027, 2, 15),
                                        'end_date': dt.date(2027, 2, 21),
                                        'levels': [('add', [first.id])],
                                        }])],
                        }])
            saturday = dt.date(2026, 9, 5)
            self.assertFalse(year.is_school_day(saturday, first))
            self.assertTrue(year.is_school_day(saturday, fifth))
            self.assertFalse(year.is_school_day(dt.date(2026, 9, 6), fifth))
            self.assertFalse(year.is_school_day(dt.date(2026, 10, 28), fifth))
            self.assertFalse(year.is_school_day(dt.date(2027, 2, 16), first))
            self.assertTrue(year.is_school_day(dt.date(2027, 2, 16), fifth))
            self.assertFalse(year.is_school_day(dt.date(2027, 6, 1), fifth))

    @test_tryton.with_transaction()
    def test_remind_data_check(self):
        "The monthly reminder reaches the class teacher of unchecked data"
        pool = Pool()
        Year = pool.get('school.year')
        Level = pool.get('school.level')
        Class = pool.get('school.class')
        Student = pool.get('school.student')
        Enrolment = pool.get('school.enrolment')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        Notification = pool.get('res.notification')
        Date = pool.get('ir.date')
        today = Date.today()
        company = create_company()
        with set_company(company):
            party, = Party.create([{'name': 'Петрова'}])
            teacher, = Employee.create([{
                        'party': party.id, 'company': company.id}])
            user = self._user('klass', ['class_teacher'])
            user.employees = [teacher]
            user.save()
            level, = Level.create([{'number': 5, 'name': '5'}])
            year, = Year.create([{
                        'name': 'Now',
                        'start_date': today - dt.timedelta(days=60),
                        'end_date': today + dt.timedelta(days=60),
                        }])
            class_, = Class.create([{
                        'year': year.id, 'level': level.id, 'name': '5А',
                        'class_teacher': teacher.id}])
            checked, unchecked = Student.create([
                    {'last_name': 'А', 'first_name': 'А',
                        'data_checked': today - dt.timedelta(days=3)},
                    {'last_name': 'Б', 'first_name': 'Б'},
                    ])
            Enrolment.create([{
                        'student': s.id, 'class_': class_.id,
                        'start_date': year.start_date,
                        } for s in [checked, unchecked]])

            Student.remind_data_check()

            notification, = Notification.search([('user', '=', user.id)])
            self.assertIn('5А', notification.label)
            self.assertIn('1', notification.description)
            self.assertEqual(
                notification.records, '[%s]' % unchecked.id)

    @test_tryton.with_transaction()
    def test_list_datetime_widget(self):
        "Lists show a DateTime field as a date or a time, as sao needs"
        pool = Pool()
        View = pool.get('ir.ui.view')
        for view in View.search([
                    ('module', '=', self.module),
                    ('type', '=', 'tree'),
                    ]):
            Model = pool.get(view.model)
            for node in etree.fromstring(view.arch).iter('field'):
                field = Model._fields.get(node.get('name'))
                if field is not None and field._type in {
                        'datetime', 'timestamp'}:
                    with self.subTest(view=view.name, field=field.name):
                        self.assertIn(node.get('widget'), {'date', 'time'})

    @test_tryton.with_transaction()
    def test_new_user_language(self):
        "A new user speaks the school's language: Russian once loaded"
        pool = Pool()
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        russian, = Lang.search([('code', '=', 'ru')])
        Lang.write([russian], {'translatable': True})
        user, = User.create([{'login': 'new'}])
        self.assertEqual(user.language, russian)

    @test_tryton.with_transaction()
    def test_start_screens(self):
        "Each school role finds its screen open after login"
        pool = Pool()
        User = pool.get('res.user')
        Action = pool.get('ir.action')
        ModelData = pool.get('ir.model.data')

        def action(xml_id):
            return Action.get_action_id(
                ModelData.get_id('school_ejournal', xml_id))
        for roles, actions in [
                (['teacher'], ['act_lesson_today']),
                (['teacher', 'class_teacher'],
                    ['act_lesson_today', 'act_lesson_class_today']),
                (['deputy_academic'], ['act_mark_correction_form']),
                (['school_admin'], ['act_order_form']),
                (['parent'], ['act_student_form']),
                ]:
            user = self._user('_'.join(roles), roles)
            with self.subTest(roles=roles), \
                    Transaction().set_user(user.id):
                self.assertEqual(User.get_preferences()['actions'],
                    [action(a) for a in actions])
        # Login actions of the user's own replace the role's
        user = self._user('own', ['teacher'])
        user.actions = [action('act_student_form')]
        user.save()
        with Transaction().set_user(user.id):
            self.assertEqual(User.get_preferences()['actions'],
                [action('act_student_form')])
