# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools.email_ import EmailNotValidError, validate_email
from trytond.transaction import Transaction, without_check_access

from .common import ClosedFieldsMixin
from .res import in_roles
from .validation import ValidationMixin, plausible_email

GENDERS = [
    (None, ""),
    ('female', "Female"),
    ('male', "Male"),
    ]


class PersonMixin:
    "A person with a Russian full name kept in a party"
    __slots__ = ()

    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The party that holds the person's name and contacts.")
    last_name = fields.Char(
        "Last Name", required=True, help="The family name (фамилия).")
    first_name = fields.Char(
        "First Name", required=True, help="The given name (имя).")
    middle_name = fields.Char(
        "Middle Name", help="The patronymic (отчество), if any.")
    name = fields.Function(
        fields.Char("Full Name", help="Last, first and middle name."),
        'get_name', searcher='search_name')
    user = fields.Many2One(
        'res.user', "User", ondelete='SET NULL',
        help="The login of the person for the e-diary.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.last_name, Index.Similarity())),
                Index(t, (t.user, Index.Equality())),
                })
        cls._order = [
            ('last_name', 'ASC'), ('first_name', 'ASC'),
            ('middle_name', 'ASC'), ('id', 'ASC')]

    @staticmethod
    def _full_name(last_name, first_name, middle_name):
        return ' '.join(filter(None, [last_name, first_name, middle_name]))

    def get_name(self, name):
        return self._full_name(
            self.last_name, self.first_name, self.middle_name)

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def search_name(cls, name, clause):
        _, operator, value, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('last_name', operator, value, *extra),
            ('first_name', operator, value, *extra),
            ('middle_name', operator, value, *extra),
            ('party.name', operator, value, *extra),
            ]

    @classmethod
    def search_rec_name(cls, name, clause):
        return cls.search_name(name, clause)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        for name in ['last_name', 'first_name', 'middle_name']:
            if values.get(name):
                values[name] = ' '.join(values[name].split())
        return values

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Party = pool.get('party.party')
        vlist = [v.copy() for v in vlist]
        missing = [v for v in vlist if not v.get('party')]
        if missing:
            with without_check_access():
                sequence = Party._code_sequence()
                codes = (sequence.get_many(len(missing)) if sequence
                    else [None] * len(missing))
                parties = Party.create([{
                            'name': cls._full_name(
                                v.get('last_name'), v.get('first_name'),
                                v.get('middle_name')),
                            'code': code,
                            } for v, code in zip(missing, codes)])
            for values, party in zip(missing, parties):
                values['party'] = party.id
        return super().create(vlist)

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        Party = pool.get('party.party')
        super().on_modification(mode, records, field_names=field_names)
        if mode == 'write' and field_names & {
                'last_name', 'first_name', 'middle_name'}:
            to_save = []
            for record in records:
                if record.party.name != record.name:
                    record.party.name = record.name
                    to_save.append(record.party)
            with without_check_access():
                Party.save(to_save)
        if mode != 'write' or 'user' in field_names:
            pool.get('res.user')._school_scope_cache.clear()


class Student(
        ValidationMixin, ClosedFieldsMixin, PersonMixin, DeactivableMixin,
        ModelSQL, ModelView):
    "A student of the school, with the personal data of the class register"
    __name__ = 'school.student'
    # Stamped by the class teacher's button
    _system_fields = frozenset({'data_checked', 'data_checked_by'})
    _fixed_fields = frozenset({'party'})
    # Read per record: by the administrator and the deputies, and of the
    # students of the classes the user leads, of the user's children and
    # of the user as student (field access says which roles at all)
    _personal_data = {
        'birth_date', 'snils', 'identity_document', 'address', 'phone',
        'email', 'health_group', 'notes'}

    company = fields.Many2One(
        'company.company', "School", required=True,
        help="The school the student belongs to.")
    file_number = fields.Char(
        "Personal File", help="The number of the personal file (личное дело).")
    birth_date = fields.Date("Birth Date", help="The date of birth.")
    gender = fields.Selection(GENDERS, "Gender")
    snils = fields.Char(
        "SNILS", size=14,
        help="The insurance number (СНИЛС), as 123-456-789 01.")
    identity_document = fields.Char(
        "Identity Document",
        help="The birth certificate or passport: kind, series and number.")
    address = fields.Text(
        "Address", help="The address where the student lives.")
    phone = fields.Char("Phone", help="The student's own phone, if any.")
    email = fields.Char("E-mail", help="The student's own e-mail, if any.")
    health_group = fields.Selection([
            (None, ""),
            ('1', "I"),
            ('2', "II"),
            ('3', "III"),
            ('4', "IV"),
            ('5', "V"),
            ], "Health Group",
        help="The health group (группа здоровья) for physical education.")
    notes = fields.Text(
        "Notes", help="What the class teacher needs to know.")
    data_checked = fields.Date(
        "Data Checked", readonly=True,
        help="When the class teacher last confirmed the personal data.")
    data_checked_by = fields.Many2One(
        'res.user', "Data Checked By", readonly=True)
    guardians = fields.One2Many(
        'school.student.guardian', 'student', "Parents",
        help="The parents and legal guardians of the student.")
    enrolments = fields.One2Many(
        'school.enrolment', 'student', "Enrolment History", readonly=True,
        help="The classes of the student, by the school's orders.")
    current_class = fields.Function(
        fields.Many2One('school.class', "Class",
            help="The class of the student on the date of the context "
            "(today by default)."),
        'get_current_class', searcher='search_current_class')
    mark_corrections = fields.Function(fields.Many2Many(
            'school.mark.correction', None, None, "Mark Corrections",
            help="The corrections of the student's marks: old and new "
            "mark, who asked, who decided, when and why."),
        'get_mark_corrections')
    in_my_class = fields.Function(
        fields.Boolean("In My Class",
            help="The student is in a class the user leads today."),
        'get_in_my_class', searcher='search_in_my_class')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('file_number_unique', Unique(t, t.company, t.file_number),
                'school_ejournal.msg_student_file_number_unique'),
            ('user_unique', Unique(t, t.user),
                'school_ejournal.msg_student_user_unique'),
            ]
        cls._buttons.update({
                'confirm_data': {
                    'invisible': ~Eval('active', True),
                    'depends': ['active'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def personal_data_domain(cls):
        """Return the domain of the students whose personal data the user
        may read, or None for all"""
        pool = Pool()
        User = pool.get('res.user')
        transaction = Transaction()
        if (not transaction.user or not transaction.check_access
                or in_roles(
                    {'school_admin', 'deputy_academic', 'deputy_pastoral'})):
            return None
        scope = User.get_school_scope()
        return ['OR',
            ('enrolments.class_', 'in', list(scope['led_classes'])),
            ('id', 'in',
                list(scope['children']) + list(scope['self_students'])),
            ]

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        hidden = [n for n in (result[0] if result else [])
            if n.split('.', 1)[0].split(':', 1)[0] in cls._personal_data]
        domain = cls.personal_data_domain() if hidden and result else None
        if domain is not None:
            with without_check_access(), \
                    Transaction().set_context(active_test=False):
                visible = {s.id for s in cls.search(
                        [('id', 'in', [r['id'] for r in result]), domain],
                        order=[])}
            for row in result:
                if row['id'] not in visible:
                    row.update(dict.fromkeys(hidden))
        return result

    @classmethod
    def export_data(cls, records, fields_names, header=False):
        domain = cls.personal_data_domain()
        columns = [i for i, n in enumerate(fields_names)
            if n.split('/', 1)[0].split(':', 1)[0] in cls._personal_data]
        if domain is None or not columns:
            return super().export_data(records, fields_names, header=header)
        with without_check_access(), \
                Transaction().set_context(active_test=False):
            visible = {s.id for s in cls.search(
                    [('id', 'in', [r.id for r in records]), domain],
                    order=[])}
        data = super().export_data([], fields_names, header=header)
        for record in records:
            rows = super().export_data([record], fields_names)
            if record.id not in visible:
                for row in rows:
                    for i in columns:
                        row[i] = None
            data += rows
        return data

    @classmethod
    def search(cls, domain, offset=0, limit=None, order=None, count=False,
            **kwargs):
        if (_names_fields(domain, cls._personal_data)
                or any(isinstance(o, (list, tuple)) and o
                    and isinstance(o[0], str)
                    and o[0].split('.', 1)[0] in cls._personal_data
                    for o in (order or []))):
            personal = cls.personal_data_domain()
            if personal is not None:
                domain = [domain, personal]
        return super().search(domain, offset=offset, limit=limit,
            order=order, count=count, **kwargs)

    @classmethod
    def get_current_class(cls, students, name):
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        date = Transaction().context.get('date')
        return Enrolment.class_by_student([s.id for s in students], date)

    @classmethod
    def search_current_class(cls, name, clause):
        pool = Pool()
        Date = pool.get('ir.date')
        date = Transaction().context.get('date') or Date.today()
        _, operator, value, *extra = clause
        nested = clause[0][len(name) + 1:] or 'id'
        if nested == 'id' and isinstance(value, str):
            nested = 'rec_name'
        return [('enrolments', 'where', [
                    ('start_date', '<=', date),
                    ['OR',
                        ('end_date', '=', None),
                        ('end_date', '>=', date),
                        ],
                    ('class_.' + nested, operator, value, *extra),
                    ])]

    @classmethod
    def get_mark_corrections(cls, students, name):
        pool = Pool()
        Correction = pool.get('school.mark.correction')
        result = {s.id: [] for s in students}
        for correction in Correction.search([
                    ('mark.student', 'in', [s.id for s in students]),
                    ]):
            result[correction.mark.student.id].append(correction.id)
        return result

    @classmethod
    def get_in_my_class(cls, students, name):
        led = set(Pool().get('res.user').get_school_scope()['led_classes'])
        return {s.id: s.current_class and s.current_class.id in led
            for s in students}

    @classmethod
    def search_in_my_class(cls, name, clause):
        led = Pool().get('res.user').get_school_scope()['led_classes']
        _, operator, value = clause
        domain = [('current_class', 'in', led)]
        if (operator == '=') != bool(value):
            # Tryton domains have no NOT: the students of the led classes
            # are few
            domain = [('id', 'not in', [s.id for s in cls.search(domain)])]
        return domain

    @classmethod
    def validate_fields(cls, students, field_names):
        super().validate_fields(students, field_names)
        if field_names & {'snils', 'email'}:
            for student in students:
                student.check_snils()
                check_email(student, student.email)

    def check_snils(self):
        if not self.snils:
            return
        if not snils_valid(self.snils):
            raise fields_error(
                'school_ejournal.msg_student_snils',
                student=self.rec_name, snils=self.snils)

    @classmethod
    @ModelView.button
    def confirm_data(cls, students):
        "Record that the class teacher checked the personal data"
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write(students, {
                'data_checked': Date.today(),
                'data_checked_by': Transaction().user,
                })

    @classmethod
    def remind_data_check(cls):
        "Tell each class teacher whose students' data wait for a check"
        pool = Pool()
        Date = pool.get('ir.date')
        Class = pool.get('school.class')
        User = pool.get('res.user')
        Configuration = pool.get('ir.configuration')
        today = Date.today()
        limit = today - dt.timedelta(days=30)
        for class_ in Class.search([
                    ('year.start_date', '<=', today),
                    ('year.end_date', '>=', today),
                    ('class_teacher', '!=', None),
                    ]):
            with Transaction().set_context(date=today):
                students = class_.students
            stale = [s for s in students
                if not s.data_checked or s.data_checked < limit]
            if not stale:
                continue
            users = User.search([
                    ('employees', '=', class_.class_teacher.id),
                    ])
            # Each in the recipient's language
            by_language = defaultdict(list)
            for user in users:
                by_language[user.language.code if user.language
                    else Configuration.get_language()].append(user)
            for language, users in by_language.items():
                with Transaction().set_context(language=language):
                    cls.notify_user(
                        users,
                        gettext('school_ejournal.msg_remind_data_check_label',
                            class_=class_.rec_name),
                        gettext('school_ejournal.msg_remind_data_check',
                            class_=class_.rec_name, count=len(stale)),
                        stale)

    @classmethod
    def notify_user(cls, users, label, description, records):
        pool = Pool()
        Notification = pool.get('res.notification')
        Notification.create([{
                    'user': u.id,
                    'label': label,
                    'description': description,
                    'icon': 'tryton-notification',
                    'model': cls.__name__,
                    'records': '[%s]' % ','.join(str(r.id) for r in records),
                    } for u in users])


def snils_valid(snils):
    "Tell if the SNILS has 11 digits and its control number fits"
    digits = ''.join(c for c in snils if c.isdigit())
    if len(digits) != 11:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(9, 0, -1)))
    control = total % 101
    if control == 100:
        control = 0
    return control == int(digits[9:])


def _names_fields(domain, names):
    "Tell if a leaf of the domain is on one of the fields"
    if not isinstance(domain, (list, tuple)) or not domain:
        return False
    if isinstance(domain[0], str) and domain[0] not in {'AND', 'OR'}:
        return domain[0].split('.', 1)[0] in names
    return any(_names_fields(d, names) for d in domain)


def fields_error(msg_id, **kwargs):
    return ValidationError(gettext(msg_id, **kwargs))


def check_email(record, email):
    if not email:
        return
    try:
        validate_email(email)
        if not plausible_email(email):
            raise EmailNotValidError(email)
    except EmailNotValidError:
        raise fields_error(
            'school_ejournal.msg_email_invalid',
            record=record.rec_name, email=email)


class Parent(
        ValidationMixin, ClosedFieldsMixin, PersonMixin, DeactivableMixin,
        ModelSQL, ModelView):
    "A parent or legal guardian of students"
    __name__ = 'school.parent'
    _fixed_fields = frozenset({'party'})

    company = fields.Many2One(
        'company.company', "School", required=True,
        help="The school the parent is known to.")
    email = fields.Char(
        "E-mail", help="Where the school sends letters and reports.")
    phone = fields.Char(
        "Mobile Phone",
        help="Where the school sends SMS, as +7 900 123-45-67.")
    email_consent = fields.Boolean(
        "E-mail Consent",
        help="The parent agreed to receive letters from the school by e-mail.")
    sms_consent = fields.Boolean(
        "SMS Consent",
        help="The parent agreed to receive SMS from the school.")
    work = fields.Char("Work", help="The place of work and position.")
    children = fields.One2Many(
        'school.student.guardian', 'parent', "Children",
        help="The students the person is a parent or guardian of.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('user_unique', Unique(t, t.user),
                'school_ejournal.msg_parent_user_unique'),
            ]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def validate_fields(cls, parents, field_names):
        super().validate_fields(parents, field_names)
        if field_names & {'email', 'phone'}:
            for parent in parents:
                check_email(parent, parent.email)
                if parent.phone:
                    digits = ''.join(c for c in parent.phone if c.isdigit())
                    if not (10 <= len(digits) <= 15) or any(
                            c not in '0123456789+-() ' for c in parent.phone):
                        raise fields_error(
                            'school_ejournal.msg_phone_invalid',
                            record=parent.rec_name, phone=parent.phone)


class Guardian(ValidationMixin, ModelSQL, ModelView):
    "The link between a student and a parent or guardian"
    __name__ = 'school.student.guardian'

    student = fields.Many2One(
        'school.student', "Student", required=True, ondelete='CASCADE',
        help="The child.")
    parent = fields.Many2One(
        'school.parent', "Parent", required=True, ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))],
        help="The parent or guardian.")
    company = fields.Function(
        fields.Many2One('company.company', "School"),
        'on_change_with_company')
    relation = fields.Selection([
            ('mother', "Mother"),
            ('father', "Father"),
            ('guardian', "Guardian"),
            ('trustee', "Trustee"),
            ('other', "Other relative"),
            ], "Relation", required=True,
        help="Who the parent is to the child.")
    legal_representative = fields.Boolean(
        "Legal Representative",
        help="The person may act for the child before the school.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('student')
        t = cls.__table__()
        cls._sql_constraints += [
            ('parent_unique', Unique(t, t.student, t.parent),
                'school_ejournal.msg_guardian_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.parent, Index.Equality())))

    @classmethod
    def default_legal_representative(cls):
        return True

    @fields.depends('student', '_parent_student.company')
    def on_change_with_company(self, name=None):
        return self.student.company if self.student else None

    def get_rec_name(self, name):
        return '%s — %s' % (self.parent.rec_name, self.student.rec_name)

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        super().on_modification(mode, records, field_names=field_names)
        pool.get('res.user')._school_scope_cache.clear()
