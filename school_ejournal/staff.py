# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The administrator's short form to add a member of staff with a login
and roles in one step: the person, the employee and the user, in the
school's language."""
import datetime as dt

from trytond import config
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.res.user import gen_password
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import user_in
from .exceptions import StaffError
from .validation import RPCGuardMixin, ValidationWizardMixin

# The roles the form offers, in its order
STAFF_ROLES = ['teacher', 'class_teacher', 'deputy_academic',
    'deputy_pastoral', 'school_admin']


class AddStaffStart(RPCGuardMixin, ModelView):
    "Add a Member of Staff"
    __name__ = 'school.staff.add.start'

    last_name = fields.Char("Last Name", required=True, strip=True)
    first_name = fields.Char("First Name", required=True, strip=True)
    middle_name = fields.Char("Patronymic", strip=True)
    position = fields.Selection('get_positions', "Position", required=True)
    login = fields.Char("Login", required=True, strip=True,
        help="The name the person logs in with.")
    email = fields.Char("E-mail")
    teacher = fields.Boolean("Teacher")
    class_teacher = fields.Boolean("Class Teacher")
    deputy_academic = fields.Boolean("Deputy Head, Academic")
    deputy_pastoral = fields.Boolean("Deputy Head, Pastoral")
    school_admin = fields.Boolean("School Administrator")

    @classmethod
    def get_positions(cls):
        return Pool().get('company.employee').fields_get(
            ['position'])['position']['selection']

    @classmethod
    def default_position(cls):
        return 'teacher'

    @classmethod
    def default_teacher(cls):
        return True


class AddStaffDone(RPCGuardMixin, ModelView):
    "Member of Staff Added"
    __name__ = 'school.staff.add.done'

    summary = fields.Text("Summary", readonly=True)


class AddStaff(ValidationWizardMixin, Wizard):
    "Add a member of staff with a login and roles"
    __name__ = 'school.staff.add'

    start = StateView('school.staff.add.start',
        'school_ejournal.staff_add_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Add", 'add', 'tryton-ok', default=True),
            ])
    add = StateTransition()
    done = StateView('school.staff.add.done',
        'school_ejournal.staff_add_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_add(self):
        start = self.start
        user, password = self.add_staff(
            start.last_name, start.first_name, start.middle_name,
            start.position, start.login, start.email,
            [r for r in STAFF_ROLES if getattr(start, r, False)])
        self.done.summary = gettext('school_ejournal.msg_staff_added',
            name=user.name, login=user.login, password=password,
            roles=', '.join(g.rec_name for g in user.groups),
            language=user.language.name if user.language else '')
        return 'done'

    def default_done(self, fields):
        return {'summary': self.done.summary}

    @classmethod
    def add_staff(cls, last_name, first_name, middle_name, position, login,
            email, roles):
        """Create the party, the employee of the user's school and the
        user holding the roles; return the user and its temporary
        password"""
        pool = Pool()
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        if not user_in('school_admin'):
            raise AccessError(gettext('school_ejournal.msg_staff_admin_only'))
        if not roles or set(roles) - set(STAFF_ROLES):
            raise StaffError(gettext(
                    'school_ejournal.msg_staff_roles', login=login))
        company_id = Transaction().context.get('company')
        if not company_id:
            raise StaffError(gettext('school_ejournal.msg_staff_company'))
        with Transaction().set_context(active_test=False):
            if User.search([('login', '=', login)], limit=1):
                raise StaffError(gettext(
                        'school_ejournal.msg_staff_login_taken', login=login))
        name = ' '.join(filter(None, [last_name, first_name, middle_name]))
        party = Party(name=name)
        party.save()
        employee = Employee(party=party, company=company_id,
            position=position)
        employee.save()
        password = gen_password(length=max(10,
                config.getint('password', 'length', default=0)))
        user = User(
            name=name, login=login, email=email or None,
            language=User.default_language(),
            companies=[company_id], company=company_id,
            employees=[employee], employee=employee,
            groups=[ModelData.get_id('school_ejournal', 'group_' + r)
                for r in roles],
            password_reset=password,
            password_reset_expire=dt.datetime.now() + dt.timedelta(
                seconds=config.getint('password', 'reset_timeout')))
        user.save()
        return user, password
