# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

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


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    _school_scope_cache = Cache(
        'res.user.get_school_scope', context=False)

    school_student = fields.One2Many(
        'school.student', 'user', "Student", readonly=True,
        help="The student who logs in as this user.")
    school_parent = fields.One2Many(
        'school.parent', 'user', "Parent", readonly=True,
        help="The parent who logs in as this user.")

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
        the user's children (as parent) and the user's own student record.
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
            parties = set()
            if children or selves or parents:
                # The names a parent or student may read: the family's and
                # the staff's of the school
                Employee = pool.get('company.employee')
                parties.update(p.party.id for p in parents)
                parties.update(s.party.id for s in selves)
                parties.update(g.student.party.id for g in children)
                parties.update(g.parent.party.id
                    for s in selves for g in s.guardians)
                Company = pool.get('company.company')
                companies = cls.get_companies()
                parties.update(e.party.id for e in Employee.search(
                        [('company', 'in', companies)], order=[]))
                parties.update(c.party.id for c in Company.browse(companies))
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
