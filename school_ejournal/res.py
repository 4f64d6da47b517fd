# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
import functools
import os
import time

from sql.aggregate import Count

from trytond.cache import Cache
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.model import fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.res.user import PasswordError
from trytond.transaction import Transaction, without_check_access

from .validation import RPCGuardMixin, text_problem

# The screen each school role finds after login, when the user has no login
# actions of their own: (role group, action), opened in this order (the
# last one opened is shown)
START_ACTIONS = [
    ('group_parent', 'act_student_form'),
    ('group_student', 'act_student_form'),
    ('group_teacher', 'act_lesson_today'),
    ('group_class_teacher', 'act_lesson_class_today'),
    ('group_deputy_pastoral', 'act_class_form'),
    ('group_deputy_academic', 'act_mark_correction_form'),
    ('group_school_admin', 'act_order_form'),
    ]


# A failed login makes the next attempt of the login wait 2**(n-1) seconds
# after n failures, up to this
LOGIN_WAIT_MAX = 15 * 60
PASSWORD_MIN_LENGTH = 8
# What a parent or student reads of another user (a teacher who filled a
# lesson, asked for a correction): the name, not the login
FAMILY_USER_FIELDS = {
    'id', 'name', 'rec_name', 'active', 'create_date', 'write_date',
    '_timestamp', '_write', '_delete', '__name__',
    }
STAFF_ROLES = {
    'school_admin', 'deputy_academic', 'deputy_pastoral', 'class_teacher',
    'teacher'}


@functools.cache
def common_passwords():
    "Return the set of the commonest passwords (lower case)"
    path = os.path.join(os.path.dirname(__file__), 'common_passwords.txt')
    with open(path, encoding='utf-8') as file:
        return frozenset(
            line.strip() for line in file
            if line.strip() and not line.startswith('#'))


def in_roles(roles):
    "Tell if the user holds one of the school roles (root holds all)"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if not Transaction().user:
        return True
    groups = set(User.get_groups())
    return any(
        ModelData.get_id('school_ejournal', 'group_' + r) in groups
        for r in roles)


def is_family():
    """Tell if the user is only a parent or a student: no staff role and not
    an administrator"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    transaction = Transaction()
    if not transaction.user or not transaction.check_access:
        return False
    groups = set(User.get_groups())
    if ModelData.get_id('res', 'group_admin') in groups:
        return False
    return in_roles({'parent', 'student'}) and not in_roles(STAFF_ROLES)


class User(RPCGuardMixin, metaclass=PoolMeta):
    __name__ = 'res.user'

    _school_scope_cache = Cache(
        'res.user.get_school_scope', context=False)

    school_student = fields.One2Many(
        'school.student', 'user', "Student", readonly=True,
        help="The student who logs in as this user.")
    school_parent = fields.One2Many(
        'school.parent', 'user', "Parent", readonly=True,
        help="The parent who logs in as this user.")
    password_old = fields.Function(fields.Char(
            "Current Password", strip=False,
            help="Your current password, to change it."),
        'get_password_old', setter='set_password_old')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._preferences_fields.append('password_old')

    def get_password_old(self, name):
        return None

    @classmethod
    def set_password_old(cls, users, name, value):
        pass

    # Password policy

    @classmethod
    def validate_password(cls, password, users):
        "Refuse short and common passwords, besides Tryton's own rules"
        super().validate_password(password, users)
        if not isinstance(password, str) or text_problem(password):
            raise PasswordError(gettext(
                    'school_ejournal.msg_guard_password_invalid'))
        if len(password) < PASSWORD_MIN_LENGTH:
            raise PasswordError(gettext(
                    'school_ejournal.msg_guard_password_short',
                    length=PASSWORD_MIN_LENGTH))
        lowered = password.lower()
        if (lowered in common_passwords()
                or len(set(lowered)) < 4
                or lowered in '01234567890123456789'
                or lowered in '98765432109876543210'
                or lowered in 'abcdefghijklmnopqrstuvwxyz'
                or lowered in 'абвгдеёжзийклмнопрстуфхцчшщъыьэюя'):
            raise PasswordError(gettext(
                    'school_ejournal.msg_guard_password_common'))

    @classmethod
    def set_preferences(cls, values):
        "Ask for the current password when the user changes it"
        if isinstance(values, dict) and values.get('password') not in {
                None, '', 'x' * 10}:
            values = values.copy()
            old = values.pop('password_old', None)
            user_id, password_hash, _ = cls._get_login(
                cls(Transaction().user).login)
            valid = (isinstance(old, str) and old and password_hash
                and cls.check_password(old, password_hash)[0])
            if not valid:
                raise PasswordError(gettext(
                        'school_ejournal.msg_guard_password_old'))
        elif isinstance(values, dict):
            values = {k: v for k, v in values.items() if k != 'password_old'}
        super().set_preferences(values)

    # Login throttling

    @classmethod
    def get_login(cls, login, parameters):
        """Refuse a login attempt that comes before the wait its failures
        ask for, at once: Tryton sleeps up to 2**failures seconds at the end
        of the request instead, which holds a worker of the server"""
        pool = Pool()
        LoginAttempt = pool.get('res.user.login.attempt')
        UserDevice = pool.get('res.user.device')
        transaction = Transaction()
        if (not isinstance(login, str) or not isinstance(parameters, dict)
                or text_problem(login) or len(login) > 1024):
            return None
        password = parameters.get('password')
        if password is not None and (
                not isinstance(password, str) or text_problem(password)):
            parameters = {**parameters, 'password': ''}
        cookie = parameters.get('device_cookie')
        device_cookie = UserDevice.get_valid_cookie(
            login, cookie if isinstance(cookie, str) else None)
        if LoginAttempt.wait(login, device_cookie) > 0:
            raise RateLimitException()
        atexit = list(transaction._atexit)
        try:
            return super().get_login(login, parameters)
        finally:
            # drop the sleep Tryton registered for the end of the request
            transaction._atexit[:] = atexit + [
                a for a in transaction._atexit[len(atexit):]
                if a[0] is not time.sleep]

    # What a parent or student may read of other users

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        if is_family():
            user_id = Transaction().user
            for row in result:
                if row['id'] == user_id:
                    continue
                for name in list(row):
                    base = name.split('.', 1)[0].split(':', 1)[0]
                    if base not in FAMILY_USER_FIELDS:
                        field = cls._fields.get(base)
                        row[name] = ([] if field is not None
                            and field._type in {'one2many', 'many2many'}
                            else None)
        return result

    @classmethod
    def search(cls, domain, *args, **kwargs):
        if is_family() and not _family_domain(domain):
            raise AccessError(gettext(
                    'school_ejournal.msg_guard_user_search'))
        return super().search(domain, *args, **kwargs)

    @classmethod
    def search_rec_name(cls, name, clause):
        if is_family():
            return [('name',) + tuple(clause[1:])]
        return super().search_rec_name(name, clause)

    @classmethod
    def default_language(cls):
        "The school's language: the database's, else Russian when loaded"
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        Lang = pool.get('ir.lang')
        codes = [Configuration.get_language(), 'ru']
        langs = Lang.search([
                ('code', 'in', codes),
                ('translatable', '=', True),
                ])
        langs = {l.code: l for l in langs}
        for code in codes:
            if code in langs and (code != 'en' or len(langs) == 1):
                return langs[code].id
        return None

    def get_status_bar(self, name):
        # The school's currency means nothing to its staff
        status = super().get_status_bar(name)
        if self.company:
            status = status.replace(
                ' [%s]' % self.company.currency.code, '')
        return status

    @classmethod
    def _get_preferences(cls, user, context_only=False):
        preferences = super()._get_preferences(
            user, context_only=context_only)
        if 'actions' in preferences and not user.actions:
            preferences['actions'] = (
                preferences['actions'] + cls._school_start_actions(user))
        return preferences

    @classmethod
    def _school_start_actions(cls, user):
        "The ids of the actions that open the user's roles' start screens"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Action = pool.get('ir.action')
        groups = {g.id for g in user.groups}
        actions = []
        for group, action in START_ACTIONS:
            if ModelData.get_id('school_ejournal', group) in groups:
                action_id = Action.get_action_id(
                    ModelData.get_id('school_ejournal', action))
                if action_id not in actions:
                    actions.append(action_id)
        return actions

    @classmethod
    def get_school_scope(cls):
        """Return the ids that the school's record rules are made of:
        classes led (as class teacher) and taught by the user's employees,
        the user's children (as parent) and the user's own student record;
        the parties the user may read (`parties`) and, as class teacher,
        edit (`led_parties`); the users whose names the user may read.
        """
        pool = Pool()
        Class = pool.get('school.class')
        Teaching = pool.get('school.teaching')
        Guardian = pool.get('school.student.guardian')
        Student = pool.get('school.student')
        Parent = pool.get('school.parent')
        user_id = Transaction().user
        scope = cls._school_scope_cache.get(user_id)
        if scope is not None:
            return scope
        employees = cls.get_employees()
        with without_check_access():
            led = Class.search(
                [('class_teacher', 'in', employees)], order=[]
                ) if employees else []
            taught = Teaching.search(
                [('teacher', 'in', employees)], order=[]
                ) if employees else []
            children = Guardian.search(
                [('parent.user', '=', user_id)], order=[])
            selves = Student.search([('user', '=', user_id)], order=[])
            parents = Parent.search([('user', '=', user_id)], order=[])
            parties, led_parties, users = set(), set(), {user_id}
            led_ids = {c.id for c in led}
            classes = led_ids | {t.class_.id for t in taught}
            if children or selves or parents or classes:
                # The names a user of the school may read: the staff's, the
                # family's, and a teacher's students' and (as class
                # teacher) their parents'
                Employee = pool.get('company.employee')
                Company = pool.get('company.company')
                Enrolment = pool.get('school.enrolment')
                parties.update(p.party.id for p in parents)
                parties.update(s.party.id for s in selves)
                parties.update(g.student.party.id for g in children)
                parties.update(g.parent.party.id
                    for s in selves for g in s.guardians)
                companies = cls.get_companies()
                staff = Employee.search(
                    [('company', 'in', companies)], order=[])
                parties.update(e.party.id for e in staff)
                parties.update(c.party.id for c in Company.browse(companies))
                users.update(u.id for e in staff for u in e.users)
                for enrolment in Enrolment.search(
                        [('class_', 'in', list(classes))], order=[]):
                    student = enrolment.student
                    parties.add(student.party.id)
                    if enrolment.class_.id in led_ids:
                        led_parties.add(student.party.id)
                        led_parties.update(
                            g.parent.party.id for g in student.guardians)
                parties |= led_parties
        scope = {
            'employees': tuple(sorted(employees)),
            'led_classes': tuple(sorted({c.id for c in led})),
            'taught_classes': tuple(sorted({t.class_.id for t in taught})),
            'taught_subgroups': tuple(sorted(
                    {t.subgroup.id for t in taught if t.subgroup})),
            'children': tuple(sorted({g.student.id for g in children})),
            'self_students': tuple(sorted({s.id for s in selves})),
            'self_parents': tuple(sorted({p.id for p in parents})),
            'parties': tuple(sorted(parties)),
            'led_parties': tuple(sorted(led_parties)),
            # the user's own and the staff's
            'users': tuple(sorted(users)),
            }
        return cls._school_scope_cache.set(user_id, scope)

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        if mode != 'write' or field_names & {'employees', 'groups'}:
            cls._school_scope_cache.clear()


class UserEmployee(metaclass=PoolMeta):
    __name__ = 'res.user-company.employee'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        super().on_modification(mode, records, field_names=field_names)
        pool.get('res.user')._school_scope_cache.clear()


def _family_domain(domain):
    "Tell if a parent or student may search users with the domain"
    if not isinstance(domain, (list, tuple)):
        return True
    if domain and isinstance(domain[0], str) and domain[0] not in {
            'AND', 'OR'}:
        base = domain[0].split('.', 1)[0]
        return base in FAMILY_USER_FIELDS
    return all(
        _family_domain(d) for d in domain if isinstance(d, (list, tuple)))


class LoginAttempt(metaclass=PoolMeta):
    __name__ = 'res.user.login.attempt'

    @classmethod
    def wait(cls, login, device_cookie=None):
        """Return the seconds the login must still wait before its next
        attempt: 2**(n-1) after n failures, up to LOGIN_WAIT_MAX"""
        login = login[:cls.login.size]
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        where = ((table.login == login)
            & (table.device_cookie == device_cookie)
            & (table.create_date >= cls.delay()))
        cursor.execute(*table.select(Count(), where=where))
        count, = cursor.fetchone()
        if not count:
            return 0
        cursor.execute(*table.select(table.create_date, where=where,
                order_by=[table.create_date.desc], limit=1))
        last, = cursor.fetchone()
        if isinstance(last, str):
            last = dt.datetime.fromisoformat(last)
        wait = min(2 ** (count - 1), LOGIN_WAIT_MAX)
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        return max(0, (last - now).total_seconds() + wait)
