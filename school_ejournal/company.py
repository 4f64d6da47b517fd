# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from .validation import RPCGuardMixin


class Party(RPCGuardMixin, metaclass=PoolMeta):
    __name__ = 'party.party'


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    @classmethod
    def on_modification(cls, mode, companies, field_names=None):
        super().on_modification(mode, companies, field_names=field_names)
        # The school's time zone, kept by ir.date
        Pool().get('ir.date')._timezones.clear()


class Employee(RPCGuardMixin, metaclass=PoolMeta):
    __name__ = 'company.employee'

    position = fields.Selection([
            (None, ""),
            ('director', "Head of school"),
            ('deputy_academic', "Deputy head, academic"),
            ('deputy_pastoral', "Deputy head, pastoral"),
            ('teacher', "Teacher"),
            ('administrator', "School administrator"),
            ('psychologist', "Psychologist"),
            ('social_worker', "Social worker"),
            ('librarian', "Librarian"),
            ('other', "Other"),
            ], "Position", help="The position held at the school.")
    users = fields.Many2Many(
        'res.user-company.employee', 'employee', 'user', "Users",
        readonly=True, help="The logins of the employee.")
    roles = fields.Function(
        fields.Char("Roles",
            help="The e-journal roles the employee's logins hold."),
        'get_roles')
    led_classes = fields.One2Many(
        'school.class', 'class_teacher', "Classes Led", readonly=True,
        help="The classes the employee is class teacher of.")
    teachings = fields.One2Many(
        'school.teaching', 'teacher', "Teaching Load", readonly=True,
        help="The subjects and classes the employee teaches.")

    @classmethod
    def get_roles(cls, employees, name):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        school_groups = {
            ModelData.get_id('school_ejournal', 'group_%s' % role)
            for role in ROLES}
        result = {}
        for employee in employees:
            names = sorted({g.rec_name
                    for u in employee.users for g in u.groups
                    if g.id in school_groups})
            result[employee.id] = ', '.join(names)
        return result


ROLES = [
    'school_admin', 'deputy_academic', 'deputy_pastoral',
    'class_teacher', 'teacher', 'parent', 'student',
    ]
