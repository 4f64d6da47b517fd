# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The school's lists (students, parents, staff, classes) imported from the
spreadsheets schools keep, with a preview of each row before anything is
written, exported in the same columns, and the completeness of the
students' personal data per class.

The students' classes change by the school's orders: a new student is
named in a draft enrolment order, a student whose class changed in a draft
transfer order, both of the number and date given in the wizard (a draft
order of that number, date and kind is filled if there is one).  The
administrator checks and applies the orders as usual."""
import datetime as dt
import io
import re
from collections import defaultdict

from sql import Literal, Null
from sql.aggregate import Count, Sum
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools.email_ import EmailNotValidError, validate_email
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .class_week import _sql_nulls
from .common import user_in
from .exceptions import ImportListError
from .staff import STAFF_ROLES
from .student import snils_valid
from .validation import (
    RECORD_DATE_LIMITS, RPCGuardMixin, ValidationMixin, ValidationWizardMixin,
    guard_cell, plausible_email, read_table)

KINDS = [
    ('students', "Students"),
    ('parents', "Parents"),
    ('staff', "Staff"),
    ('classes', "Classes"),
    ]

# The columns of each list: (key, header, required); the headers are
# those of the school's forms, in Russian whatever the user's language
COLUMNS = {
    'students': [
        ('file_number', 'Личное дело', True),
        ('last_name', 'Фамилия', True),
        ('first_name', 'Имя', True),
        ('middle_name', 'Отчество', False),
        ('birth_date', 'Дата рождения', False),
        ('gender', 'Пол', False),
        ('snils', 'СНИЛС', False),
        ('identity_document', 'Документ', False),
        ('address', 'Адрес', False),
        ('phone', 'Телефон', False),
        ('email', 'E-mail', False),
        ('class_', 'Класс', True),
        ],
    'parents': [
        ('student', 'Личное дело ученика', True),
        ('last_name', 'Фамилия', True),
        ('first_name', 'Имя', True),
        ('middle_name', 'Отчество', False),
        ('relation', 'Кем приходится', True),
        ('phone', 'Телефон', False),
        ('email', 'E-mail', False),
        ('work', 'Место работы', False),
        ('legal_representative', 'Законный представитель', False),
        ],
    'staff': [
        ('login', 'Логин', True),
        ('last_name', 'Фамилия', True),
        ('first_name', 'Имя', True),
        ('middle_name', 'Отчество', False),
        ('position', 'Должность', True),
        ('email', 'E-mail', False),
        ('roles', 'Роли', True),
        ],
    'classes': [
        ('name', 'Класс', True),
        ('level', 'Параллель', True),
        ('letter', 'Литера', False),
        ('class_teacher', 'Классный руководитель', False),
        ('room', 'Кабинет', False),
        ],
    }

GENDER_TEXT = {'female': 'ж', 'male': 'м'}
GENDER_CODES = {'ж': 'female', 'жен': 'female', 'женский': 'female',
    'f': 'female', 'female': 'female',
    'м': 'male', 'муж': 'male', 'мужской': 'male', 'm': 'male',
    'male': 'male'}
RELATION_TEXT = {
    'mother': 'мать', 'father': 'отец', 'guardian': 'опекун',
    'trustee': 'попечитель', 'other': 'другой родственник'}
YES_NO = {'да': True, 'нет': False, 'yes': True, 'no': False,
    '1': True, '0': False, '+': True, '-': False}
POSITION_TEXT = {
    'director': 'директор',
    'deputy_academic': 'заместитель директора по УВР',
    'deputy_pastoral': 'заместитель директора по ВР',
    'teacher': 'учитель',
    'administrator': 'системный администратор',
    'psychologist': 'педагог-психолог',
    'social_worker': 'социальный педагог',
    'librarian': 'библиотекарь',
    'other': 'другая',
    }
ROLE_TEXT = {
    'teacher': 'учитель',
    'class_teacher': 'классный руководитель',
    'deputy_academic': 'заместитель директора по УВР',
    'deputy_pastoral': 'заместитель директора по ВР',
    'school_admin': 'системный администратор',
    }
DATE_FORMATS = ['%d.%m.%Y', '%Y-%m-%d', '%d/%m/%Y', '%d.%m.%y']
ENCODINGS = ('utf-8-sig', 'cp1251')


def _norm(text):
    "The text compared: lower case, ё as е, single spaces"
    return ' '.join((text or '').lower().replace('ё', 'е').split())


def _digits(text):
    return ''.join(c for c in (text or '') if c.isdigit())


def _format_snils(text):
    digits = _digits(text)
    return '%s-%s-%s %s' % (digits[:3], digits[3:6], digits[6:9], digits[9:])


def _date_text(date):
    return date.strftime('%d.%m.%Y') if date else ''


def _split_name(name):
    parts = (name or '').split()
    return (parts[0] if parts else '', parts[1] if len(parts) > 1 else '',
        ' '.join(parts[2:]))


def _full_name(last_name, first_name, middle_name):
    return ' '.join(filter(None, [last_name, first_name, middle_name]))


def _email_ok(email):
    try:
        validate_email(email)
    except EmailNotValidError:
        return False
    return plausible_email(email)


def _phone_ok(phone):
    return (10 <= len(_digits(phone)) <= 15
        and all(c in '0123456789+-() ' for c in phone))


class CellError(Exception):
    "A cell that does not fit: the message id and its variables"

    def __init__(self, msg_id, **variables):
        super().__init__(msg_id)
        self.msg_id = msg_id
        self.variables = variables


class Row:
    "What the import does with one row of the file"

    def __init__(self, number, cells):
        self.number = number
        self.cells = cells
        self.values = {}
        self.errors = []
        self.action = None
        self.changes = []
        self.name = ''
        self.record = None
        self.data = {}

    def refuse(self, column, header, msg_id, **variables):
        self.errors.append(gettext('school_ejournal.msg_import_cell',
                row=self.number, column=column, header=header,
                error=gettext('school_ejournal.' + msg_id, **variables)))

    @property
    def message(self):
        return '; '.join(self.errors)


class ListImportStart(RPCGuardMixin, ModelView):
    "Import a List"
    __name__ = 'school.list.import.start'

    kind = fields.Selection(KINDS, "List", required=True,
        help="What the file lists: students, parents (with the personal "
        "file of their child), staff or classes.")
    file = fields.Binary(
        "File", required=True, filename='filename',
        help="An XLSX file or a CSV file (UTF-8 or Windows-1251, "
        "separated by commas or semicolons) whose first row names the "
        "columns.")
    filename = fields.Char("File Name")
    year = fields.Many2One('school.year', "Academic Year", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The year of the classes named in the file.")
    company = fields.Many2One('company.company', "School", readonly=True)
    order_number = fields.Char("Order Number", strip=True,
        states={
            'invisible': Eval('kind') != 'students',
            },
        help="The number of the order that enrols or transfers the "
        "students, as «76/8».")
    order_date = fields.Date("Order Date",
        states={
            'invisible': Eval('kind') != 'students',
            },
        help="The date of the order, also the first day of the students "
        "in their classes.")

    @classmethod
    def default_kind(cls):
        return 'students'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_year(cls):
        pool = Pool()
        Year = pool.get('school.year')
        company = Transaction().context.get('company')
        year = Year.find(company) if company else None
        return year.id if year else None

    @classmethod
    def default_order_date(cls):
        return Pool().get('ir.date').today()


class ListImportLine(RPCGuardMixin, ModelView):
    "Row of an Import"
    __name__ = 'school.list.import.line'

    row = fields.Integer("Row", readonly=True)
    name = fields.Char("Name", readonly=True)
    action = fields.Selection([
            ('create', "Create"),
            ('change', "Change"),
            ('unchanged', "Unchanged"),
            ('refused', "Refused"),
            ], "Action", readonly=True)
    changes = fields.Char("Changes", readonly=True,
        help="The columns whose values change.")
    message = fields.Text("Reason", readonly=True,
        help="Why the row is refused: row, column and rule.")


class ListImportPreview(RPCGuardMixin, ModelView):
    "Import Preview"
    __name__ = 'school.list.import.preview'

    summary = fields.Char("Summary", readonly=True)
    lines = fields.One2Many(
        'school.list.import.line', None, "Rows", readonly=True)


class ListImportDone(RPCGuardMixin, ModelView):
    "List Imported"
    __name__ = 'school.list.import.done'

    summary = fields.Text("Summary", readonly=True)


class ListImport(ValidationWizardMixin, Wizard):
    "Import students, parents, staff or classes from a spreadsheet"
    __name__ = 'school.list.import'

    start = StateView('school.list.import.start',
        'school_ejournal.list_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Preview", 'preview', 'tryton-forward', default=True),
            ])
    preview = StateView('school.list.import.preview',
        'school_ejournal.list_import_preview_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Back", 'start', 'tryton-back'),
            Button("Import", 'confirm', 'tryton-ok', default=True),
            ])
    confirm = StateTransition()
    done = StateView('school.list.import.done',
        'school_ejournal.list_import_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    @classmethod
    def execute(cls, session_id, data, state_name):
        # The preview's rows are shown, never read back: the confirmation
        # reads the file again
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != 'preview'}
        return super().execute(session_id, data, state_name)

    def default_preview(self, fields):
        rows = self.plan()
        counts = defaultdict(int)
        for row in rows:
            counts[row.action] += 1
        return {
            'summary': gettext('school_ejournal.msg_import_summary',
                create=counts['create'], change=counts['change'],
                unchanged=counts['unchanged'], refused=counts['refused']),
            'lines': [{
                    'row': r.number,
                    'name': r.name,
                    'action': r.action,
                    'changes': ', '.join(r.changes),
                    'message': r.message,
                    } for r in rows],
            }

    def transition_confirm(self):
        rows = self.plan()
        summary = getattr(self, '_write_%s' % self.start.kind)(
            [r for r in rows if r.action in {'create', 'change'}])
        counts = defaultdict(int)
        for row in rows:
            counts[row.action] += 1
        self.done.summary = '\n'.join(filter(None, [
                gettext('school_ejournal.msg_import_written',
                    create=counts['create'], change=counts['change'],
                    unchanged=counts['unchanged'],
                    refused=counts['refused']),
                summary]))
        return 'done'

    def default_done(self, fields):
        return {'summary': self.done.summary}

    # Reading the file

    @classmethod
    def check_role(cls):
        if not user_in('school_admin'):
            raise AccessError(gettext('school_ejournal.msg_import_admin_only'))

    def plan(self):
        "Return the rows of the file with what the import does with each"
        self.check_role()
        start = self.start
        kind = start.kind
        if kind not in COLUMNS:
            raise ImportListError(gettext(
                    'school_ejournal.msg_import_kind'))
        company = Transaction().context.get('company')
        if not company or not start.year or start.year.company.id != company:
            raise ImportListError(gettext(
                    'school_ejournal.msg_import_company'))
        if kind == 'students':
            if not start.order_number or not start.order_date:
                raise ImportListError(gettext(
                        'school_ejournal.msg_import_order'))
            if not (start.year.start_date <= start.order_date
                    <= start.year.end_date):
                raise ImportListError(gettext(
                        'school_ejournal.msg_import_order_year',
                        date=_date_text(start.order_date),
                        year=start.year.rec_name))
        rows = self.read_rows(start.file, start.filename or '', kind)
        getattr(self, '_plan_%s' % kind)(rows)
        for row in rows:
            if row.errors:
                row.action = 'refused'
            elif not row.action:
                row.action = 'unchanged'
        return rows

    @classmethod
    def read_rows(cls, data, filename, kind):
        """Return the Rows of the file, their values parsed by the column
        headers of the first row"""
        # The row numbers of the file, blank rows counted
        numbered = [(n, r) for n, r in enumerate(
                read_table(data, filename, ENCODINGS), 1) if any(r)]
        table = [r for _, r in numbered]
        if not table:
            raise ImportListError(gettext(
                    'school_ejournal.msg_import_empty', filename=filename))
        columns = COLUMNS[kind]
        by_header = {}
        for key, header, _ in columns:
            by_header[_norm(header)] = key
            by_header[key.rstrip('_')] = key
        positions = {}
        for column, header in enumerate(table[0], 1):
            if not header:
                continue
            key = by_header.get(_norm(header))
            if not key:
                raise ImportListError(gettext(
                        'school_ejournal.msg_import_header',
                        filename=filename, column=column, header=header,
                        headers=', '.join(h for _, h, _ in columns)))
            if key in positions:
                raise ImportListError(gettext(
                        'school_ejournal.msg_import_header_twice',
                        filename=filename, column=column, header=header))
            positions[key] = column
        for key, header, required in columns:
            if required and key not in positions:
                raise ImportListError(gettext(
                        'school_ejournal.msg_import_header_missing',
                        filename=filename, header=header))
        headers = {k: h for k, h, _ in columns}
        required = {k for k, _, r in columns if r}
        rows = []
        for number, cells in numbered[1:]:
            row = Row(number, cells)
            row.positions = positions
            row.headers = headers
            for key, column in positions.items():
                value = cells[column - 1] if column <= len(cells) else ''
                value = ' '.join(value.split()) if key != 'address' \
                    else value.strip()
                if not value and key in required:
                    row.refuse(column, headers[key], 'msg_import_required')
                row.values[key] = value
            rows.append(row)
        return rows

    @staticmethod
    def _check(row, Model_, key, field_name, value, filename=''):
        "Refuse the cell unless the value fits the field's rules"
        try:
            guard_cell(Model_, field_name, value, filename, row.number,
                row.positions[key])
        except Exception as exception:
            message = getattr(exception, 'message', str(exception))
            row.errors.append(message)
            return False
        return True

    def _parse(self, row, key, parser):
        "Return the cell parsed, or None refusing the row"
        value = row.values.get(key)
        if not value:
            return None
        try:
            return parser(value)
        except CellError as error:
            row.refuse(row.positions[key], row.headers[key], error.msg_id,
                value=value, **error.variables)
            return None

    @staticmethod
    def _date(value):
        for format_ in DATE_FORMATS:
            try:
                return dt.datetime.strptime(value, format_).date()
            except ValueError:
                continue
        raise CellError('msg_import_date')

    # Students

    def _plan_students(self, rows):
        pool = Pool()
        Student = pool.get('school.student')
        Class = pool.get('school.class')
        Enrolment = pool.get('school.enrolment')
        OrderLine = pool.get('school.order.line')
        start = self.start
        company = Transaction().context.get('company')
        classes = {_norm(c.name): c for c in Class.search([
                    ('year', '=', start.year.id)])}
        with Transaction().set_context(active_test=False):
            students = Student.search([('company', '=', company)])
        by_file = {_norm(s.file_number): s for s in students
            if s.file_number}
        by_person = {}
        for student in students:
            by_person.setdefault((_norm(student.name), student.birth_date),
                student)
        current = Enrolment.class_by_student(
            [s.id for s in students], start.order_date)
        pending = {}
        for line in OrderLine.search([
                    ('order.company', '=', company),
                    ('order.state', '=', 'draft'),
                    ('order.kind', 'in', ['enrolment', 'transfer']),
                    ('student', 'in', [s.id for s in students]),
                    ], order=[('order.date', 'ASC'), ('id', 'ASC')]):
            pending[line.student.id] = line
        limits = RECORD_DATE_LIMITS['school.student']['birth_date'](None)
        seen_files, seen_persons = {}, {}
        filename = start.filename or ''
        text_fields = ['file_number', 'last_name', 'first_name',
            'middle_name', 'identity_document', 'address', 'phone',
            'email']
        for row in rows:
            values = row.values
            for key in text_fields:
                if values.get(key):
                    self._check(row, Student, key, key, values[key],
                        filename)
            birth_date = self._parse(row, 'birth_date', self._date)
            if birth_date and not limits[0] <= birth_date <= limits[1]:
                row.refuse(row.positions['birth_date'],
                    row.headers['birth_date'], 'msg_import_birth_date',
                    value=values['birth_date'],
                    start=_date_text(limits[0]), end=_date_text(limits[1]))
            gender = self._parse(row, 'gender', self._gender)
            snils = self._parse(row, 'snils', self._snils)
            if values.get('email') and not _email_ok(values['email']):
                row.refuse(row.positions['email'], row.headers['email'],
                    'msg_import_email', value=values['email'])
            class_ = None
            if values.get('class_'):
                class_ = classes.get(_norm(values['class_']))
                if not class_:
                    row.refuse(row.positions['class_'],
                        row.headers['class_'], 'msg_import_class',
                        value=values['class_'], year=start.year.rec_name)
            name = _full_name(values.get('last_name'),
                values.get('first_name'), values.get('middle_name'))
            row.name = name
            file_key = _norm(values.get('file_number'))
            person_key = (_norm(name), birth_date)
            if file_key:
                if file_key in seen_files:
                    row.refuse(row.positions['file_number'],
                        row.headers['file_number'], 'msg_import_twice',
                        other=seen_files[file_key])
                else:
                    seen_files[file_key] = row.number
            if name and birth_date:
                if person_key in seen_persons:
                    row.refuse(row.positions['last_name'],
                        row.headers['last_name'], 'msg_import_person_twice',
                        other=seen_persons[person_key])
                else:
                    seen_persons[person_key] = row.number
            if row.errors:
                continue
            new = {
                'file_number': values.get('file_number') or None,
                'last_name': values['last_name'],
                'first_name': values['first_name'],
                'middle_name': values.get('middle_name') or None,
                'birth_date': birth_date,
                'gender': gender,
                'snils': snils,
                'identity_document': values.get('identity_document') or None,
                'address': values.get('address') or None,
                'phone': values.get('phone') or None,
                'email': values.get('email') or None,
                }
            new = {k: v for k, v in new.items() if k in row.positions
                or k in {'last_name', 'first_name'}}
            student = by_file.get(file_key)
            if not student:
                other = by_person.get(person_key) if birth_date else None
                if other:
                    row.refuse(row.positions['file_number'],
                        row.headers['file_number'], 'msg_import_in_school',
                        student=other.rec_name,
                        file=other.file_number or '—')
                    continue
                row.action = 'create'
                row.data = {'values': new, 'class_': class_}
                continue
            row.record = student
            changed = {}
            for key, value in new.items():
                old = getattr(student, key)
                if key == 'snils':
                    same = _digits(old) == _digits(value)
                elif key in {'birth_date', 'gender'}:
                    same = old == value
                else:
                    same = _norm(old) == _norm(value)
                if not same:
                    changed[key] = value
                    row.changes.append(row.headers[key])
            line = pending.get(student.id)
            old_class = line.class_.id if line and line.class_ else \
                current.get(student.id)
            move = None
            if old_class != class_.id:
                row.changes.append(row.headers['class_'])
                if line:
                    move = ('line', line)
                elif current.get(student.id):
                    move = ('transfer', None)
                else:
                    move = ('enrolment', None)
            if changed or move:
                row.action = 'change'
                row.data = {
                    'values': changed, 'class_': class_, 'move': move}

    @staticmethod
    def _gender(value):
        code = GENDER_CODES.get(_norm(value))
        if not code:
            raise CellError('msg_import_gender')
        return code

    @staticmethod
    def _snils(value):
        if not snils_valid(value) or any(
                c not in '0123456789- ' for c in value):
            raise CellError('msg_import_snils')
        return _format_snils(value)

    def _order(self, kind, cache):
        "Return the draft order of the kind, of the wizard's number and date"
        pool = Pool()
        Order = pool.get('school.order')
        if kind not in cache:
            start = self.start
            company = Transaction().context.get('company')
            orders = Order.search([
                    ('company', '=', company),
                    ('number', '=', start.order_number),
                    ('date', '=', start.order_date),
                    ('kind', '=', kind),
                    ('state', '=', 'draft'),
                    ], limit=1)
            if orders:
                cache[kind] = orders[0]
            else:
                cache[kind], = Order.create([{
                            'company': company,
                            'number': start.order_number,
                            'date': start.order_date,
                            'kind': kind,
                            }])
        return cache[kind]

    def _write_students(self, rows):
        pool = Pool()
        Student = pool.get('school.student')
        OrderLine = pool.get('school.order.line')
        company = Transaction().context.get('company')
        date = self.start.order_date
        new_rows = [r for r in rows if r.action == 'create']
        created = Student.create([
                dict(r.data['values'], company=company) for r in new_rows])
        orders, lines, to_write = {}, [], []
        for row, student in zip(new_rows, created):
            lines.append({
                    'order': self._order('enrolment', orders).id,
                    'student': student.id,
                    'class_': row.data['class_'].id,
                    'date': date,
                    })
        line_classes = defaultdict(list)
        for row in rows:
            if row.action != 'change':
                continue
            if row.data['values']:
                to_write.extend(([row.record], row.data['values']))
            move = row.data['move']
            if not move:
                continue
            kind, line = move
            if line:
                line_classes[row.data['class_']].append(line)
            else:
                lines.append({
                        'order': self._order(kind, orders).id,
                        'student': row.record.id,
                        'class_': row.data['class_'].id,
                        'date': date,
                        })
        if to_write:
            Student.write(*to_write)
        for class_, class_lines in line_classes.items():
            OrderLine.write(class_lines, {'class_': class_.id})
        OrderLine.create(lines)
        if orders:
            return gettext('school_ejournal.msg_import_orders',
                orders=', '.join('%s (%s)' % (
                        o.rec_name, len(o.lines)) for o in orders.values()))

    # Parents

    def _plan_parents(self, rows):
        pool = Pool()
        Student = pool.get('school.student')
        Parent = pool.get('school.parent')
        Guardian = pool.get('school.student.guardian')
        company = Transaction().context.get('company')
        filename = self.start.filename or ''
        with Transaction().set_context(active_test=False):
            students = {_norm(s.file_number): s for s in Student.search([
                        ('company', '=', company),
                        ('file_number', '!=', None),
                        ])}
            parents = Parent.search([('company', '=', company)])
        guardians = {}
        for guardian in Guardian.search([
                    ('student.company', '=', company)]):
            guardians[guardian.student.id,
                _norm(guardian.parent.name)] = guardian
        by_contact = {}
        for parent in parents:
            for contact in [_digits(parent.phone), _norm(parent.email)]:
                if contact:
                    by_contact.setdefault((_norm(parent.name), contact),
                        parent)
        relations = {v: k for k, v in RELATION_TEXT.items()}
        relations.update({k: k for k in RELATION_TEXT})
        seen = {}
        for row in rows:
            values = row.values
            for key in ['last_name', 'first_name', 'middle_name', 'phone',
                    'email', 'work']:
                if values.get(key):
                    self._check(row, Parent, key, key, values[key], filename)
            name = _full_name(values.get('last_name'),
                values.get('first_name'), values.get('middle_name'))
            row.name = name
            student = None
            if values.get('student'):
                student = students.get(_norm(values['student']))
                if not student:
                    row.refuse(row.positions['student'],
                        row.headers['student'], 'msg_import_student',
                        value=values['student'])
            relation = self._parse(row, 'relation',
                lambda v: self._choice(v, relations))
            legal = self._parse(row, 'legal_representative',
                lambda v: self._choice(v, YES_NO))
            if values.get('email') and not _email_ok(values['email']):
                row.refuse(row.positions['email'], row.headers['email'],
                    'msg_import_email', value=values['email'])
            if values.get('phone') and not _phone_ok(values['phone']):
                row.refuse(row.positions['phone'], row.headers['phone'],
                    'msg_import_phone', value=values['phone'])
            key = (_norm(values.get('student')), _norm(name))
            if key in seen:
                row.refuse(row.positions['last_name'],
                    row.headers['last_name'], 'msg_import_person_twice',
                    other=seen[key])
            else:
                seen[key] = row.number
            if row.errors:
                continue
            if legal is None:
                legal = True
            parent_values = {
                'last_name': values['last_name'],
                'first_name': values['first_name'],
                'middle_name': values.get('middle_name') or None,
                'phone': values.get('phone') or None,
                'email': values.get('email') or None,
                'work': values.get('work') or None,
                }
            parent_values = {k: v for k, v in parent_values.items()
                if k in row.positions}
            link_values = {'relation': relation}
            if 'legal_representative' in row.positions:
                link_values['legal_representative'] = legal
            row.name = '%s — %s' % (name, student.rec_name)
            guardian = guardians.get((student.id, _norm(name)))
            if guardian:
                row.record = guardian
                changed, link_changed = {}, {}
                for key, value in parent_values.items():
                    old = getattr(guardian.parent, key)
                    same = (_digits(old) == _digits(value) if key == 'phone'
                        else _norm(old) == _norm(value))
                    if not same:
                        changed[key] = value
                        row.changes.append(row.headers[key])
                for key, value in link_values.items():
                    if getattr(guardian, key) != value:
                        link_changed[key] = value
                        row.changes.append(row.headers[key])
                if changed or link_changed:
                    row.action = 'change'
                    row.data = {'values': changed, 'link': link_changed}
                continue
            parent = None
            for contact in [_digits(values.get('phone')),
                    _norm(values.get('email'))]:
                if contact and not parent:
                    parent = by_contact.get((_norm(name), contact))
            row.action = 'create'
            row.data = {
                'values': parent_values,
                'link': link_values,
                'student': student,
                'parent': parent,
                # The same person for several children in the file
                'key': (_norm(name), _digits(values.get('phone'))
                    or _norm(values.get('email')) or row.number),
                }
            if parent:
                row.changes.append(gettext(
                        'school_ejournal.msg_import_link',
                        parent=parent.rec_name))

    @staticmethod
    def _choice(value, choices):
        code = choices.get(_norm(value))
        if code is None:
            raise CellError('msg_import_choice',
                choices=', '.join(k for k in choices if not k.isascii()))
        return code

    def _write_parents(self, rows):
        pool = Pool()
        Parent = pool.get('school.parent')
        Guardian = pool.get('school.student.guardian')
        company = Transaction().context.get('company')
        new_parents = {}
        for row in rows:
            if (row.action == 'create' and not row.data['parent']
                    and row.data['key'] not in new_parents):
                new_parents[row.data['key']] = dict(
                    row.data['values'], company=company)
        created = dict(zip(new_parents,
                Parent.create(list(new_parents.values()))))
        links, parent_writes, link_writes = [], [], []
        for row in rows:
            if row.action == 'create':
                parent = row.data['parent'] or created[row.data['key']]
                links.append(dict(row.data['link'],
                        student=row.data['student'].id, parent=parent.id))
            else:
                if row.data['values']:
                    parent_writes.extend(
                        ([row.record.parent], row.data['values']))
                if row.data['link']:
                    link_writes.extend(([row.record], row.data['link']))
        if parent_writes:
            Parent.write(*parent_writes)
        if link_writes:
            Guardian.write(*link_writes)
        Guardian.create(links)

    # Staff

    def _plan_staff(self, rows):
        pool = Pool()
        User = pool.get('res.user')
        Parent = pool.get('school.parent')
        ModelData = pool.get('ir.model.data')
        company = Transaction().context.get('company')
        filename = self.start.filename or ''
        with Transaction().set_context(active_test=False):
            users = User.search([('employees.company', '=', company)])
        staff = {}
        for user in users:
            employee = user.employee if (user.employee
                and user.employee.company.id == company) else [
                e for e in user.employees if e.company.id == company][0]
            staff[_norm(user.login)] = (user, employee)
        groups = {ModelData.get_id('school_ejournal', 'group_' + r): r
            for r in STAFF_ROLES}
        roles = {_norm(v): k for k, v in ROLE_TEXT.items()}
        roles.update({k: k for k in STAFF_ROLES})
        roles['администратор'] = 'school_admin'
        positions = {_norm(v): k for k, v in self._positions().items()}
        positions.update({k: k for k in POSITION_TEXT})
        seen = {}
        for row in rows:
            values = row.values
            for key in ['last_name', 'first_name', 'middle_name', 'email']:
                if values.get(key):
                    self._check(row, Parent, key, key, values[key], filename)
            name = _full_name(values.get('last_name'),
                values.get('first_name'), values.get('middle_name'))
            row.name = name
            position = self._parse(row, 'position',
                lambda v: self._choice(v, positions))
            role_codes = self._parse(row, 'roles',
                lambda v: self._roles(v, roles))
            if values.get('email') and not _email_ok(values['email']):
                row.refuse(row.positions['email'], row.headers['email'],
                    'msg_import_email', value=values['email'])
            login = values.get('login')
            if login and not re.fullmatch(r'[\w.@-]{2,64}', login):
                row.refuse(row.positions['login'], row.headers['login'],
                    'msg_import_login', value=login)
            key = _norm(login)
            if key in seen:
                row.refuse(row.positions['login'], row.headers['login'],
                    'msg_import_twice', other=seen[key])
            elif key:
                seen[key] = row.number
            if not row.errors and key not in staff:
                with Transaction().set_context(active_test=False):
                    if User.search([('login', '=', login)], limit=1):
                        row.refuse(row.positions['login'],
                            row.headers['login'], 'msg_import_login_taken',
                            value=login)
            if row.errors:
                continue
            new = {'name': name, 'position': position,
                'email': values.get('email') or None,
                'roles': role_codes}
            if key not in staff:
                row.action = 'create'
                row.data = dict(new, login=login,
                    last_name=values['last_name'],
                    first_name=values['first_name'],
                    middle_name=values.get('middle_name') or None)
                continue
            user, employee = staff[key]
            row.record = user
            old = {'name': employee.party.name, 'position': employee.position,
                'email': user.email,
                'roles': sorted({groups[g.id] for g in user.groups
                        if g.id in groups})}
            headers = {'name': row.headers['last_name'],
                'position': row.headers['position'],
                'email': row.headers['email'], 'roles': row.headers['roles']}
            changed = {}
            for name_, value in new.items():
                if name_ == 'email' and 'email' not in row.positions:
                    continue
                same = (old[name_] == value if name_ in {'roles', 'position'}
                    else _norm(old[name_]) == _norm(value))
                if not same:
                    changed[name_] = value
                    row.changes.append(headers[name_])
            if changed:
                row.action = 'change'
                row.data = {'values': changed, 'employee': employee,
                    'groups': groups}

    @classmethod
    def _positions(cls):
        "Return {position code: text in the file}"
        return POSITION_TEXT

    @staticmethod
    def _roles(value, roles):
        codes = set()
        for part in re.split(r'[,;]', value):
            if not part.strip():
                continue
            code = roles.get(_norm(part))
            if not code:
                raise CellError('msg_import_role', role=part.strip(),
                    choices=', '.join(ROLE_TEXT.values()))
            codes.add(code)
        return sorted(codes)

    def _write_staff(self, rows):
        pool = Pool()
        AddStaff = pool.get('school.staff.add', type='wizard')
        User = pool.get('res.user')
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        ModelData = pool.get('ir.model.data')
        passwords = []
        for row in rows:
            data = row.data
            if row.action == 'create':
                user, password = AddStaff.add_staff(
                    data['last_name'], data['first_name'],
                    data['middle_name'], data['position'], data['login'],
                    data['email'], data['roles'])
                passwords.append('%s: %s' % (user.login, password))
                continue
            values = data['values']
            employee = data['employee']
            user = row.record
            user_values = {}
            if 'name' in values:
                Party.write([employee.party], {'name': values['name']})
                user_values['name'] = values['name']
            if 'position' in values:
                Employee.write([employee], {'position': values['position']})
            if 'email' in values:
                user_values['email'] = values['email']
            if 'roles' in values:
                old = [g.id for g in user.groups if g.id in data['groups']]
                new = [ModelData.get_id('school_ejournal', 'group_' + r)
                    for r in values['roles']]
                user_values['groups'] = [('remove', old), ('add', new)]
            if user_values:
                User.write([user], user_values)
        if passwords:
            return gettext('school_ejournal.msg_import_passwords',
                passwords='\n'.join(passwords))

    # Classes

    def _plan_classes(self, rows):
        pool = Pool()
        Class = pool.get('school.class')
        Level = pool.get('school.level')
        start = self.start
        company = Transaction().context.get('company')
        filename = start.filename or ''
        classes = {_norm(c.name): c for c in Class.search([
                    ('year', '=', start.year.id)])}
        levels = {str(lv.number): lv for lv in Level.search([
                    ('company', '=', company)])}
        teachers = self._teachers(company)
        seen = {}
        for row in rows:
            values = row.values
            for key in ['name', 'letter', 'room']:
                if values.get(key):
                    self._check(row, Class, key, key, values[key], filename)
            row.name = values.get('name', '')
            level = None
            if values.get('level'):
                level = levels.get(values['level'])
                if not level:
                    row.refuse(row.positions['level'], row.headers['level'],
                        'msg_import_level', value=values['level'])
            teacher = None
            if values.get('class_teacher'):
                teacher = teachers.get(_norm(values['class_teacher']))
                if not teacher:
                    row.refuse(row.positions['class_teacher'],
                        row.headers['class_teacher'], 'msg_import_teacher',
                        value=values['class_teacher'])
            key = _norm(values.get('name'))
            if key in seen:
                row.refuse(row.positions['name'], row.headers['name'],
                    'msg_import_twice', other=seen[key])
            elif key:
                seen[key] = row.number
            if row.errors:
                continue
            new = {'name': values['name'], 'level': level,
                'letter': values.get('letter') or None,
                'class_teacher': teacher,
                'room': values.get('room') or None}
            new = {k: v for k, v in new.items() if k in row.positions}
            class_ = classes.get(key)
            if not class_:
                row.action = 'create'
                row.data = {'values': new}
                continue
            row.record = class_
            changed = {}
            for name, value in new.items():
                old = getattr(class_, name)
                same = (old == value if name in {'level', 'class_teacher'}
                    else _norm(old) == _norm(value))
                if not same:
                    changed[name] = value
                    row.changes.append(row.headers[name])
            if changed:
                row.action = 'change'
                row.data = {'values': changed}

    @staticmethod
    def _teachers(company):
        "Return {login: employee} of the school's staff"
        pool = Pool()
        User = pool.get('res.user')
        result = {}
        with Transaction().set_context(active_test=False):
            for user in User.search([('employees.company', '=', company)]):
                for employee in user.employees:
                    if employee.company.id == company:
                        result[_norm(user.login)] = employee
                        break
        return result

    def _write_classes(self, rows):
        pool = Pool()
        Class = pool.get('school.class')
        company = Transaction().context.get('company')
        year = self.start.year

        def ids(values):
            return {k: v.id if hasattr(v, 'id') else v
                for k, v in values.items()}
        Class.create([dict(ids(r.data['values']), company=company,
                    year=year.id)
                for r in rows if r.action == 'create'])
        to_write = []
        for row in rows:
            if row.action == 'change':
                to_write.extend(([row.record], ids(row.data['values'])))
        if to_write:
            Class.write(*to_write)


class ListExportStart(RPCGuardMixin, ModelView):
    "Export a List"
    __name__ = 'school.list.export.start'

    kind = fields.Selection(KINDS, "List", required=True)
    year = fields.Many2One('school.year', "Academic Year", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The year of the classes listed.")
    company = fields.Many2One('company.company', "School", readonly=True)
    date = fields.Date("Date", required=True,
        help="The students are listed in their classes of this day.")
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)

    @classmethod
    def default_kind(cls):
        return 'students'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_year(cls):
        return ListImportStart.default_year()

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class ListExport(ValidationWizardMixin, Wizard):
    "Export students, parents, staff or classes in the import's columns"
    __name__ = 'school.list.export'

    start = StateView('school.list.export.start',
        'school_ejournal.list_export_start_view_form', [
            Button("Close", 'end', 'tryton-close'),
            Button("Export", 'export', 'tryton-ok', default=True),
            ])
    export = StateTransition()

    def transition_export(self):
        ListImport.check_role()
        start = self.start
        company = Transaction().context.get('company')
        if not company or start.year.company.id != company:
            raise ImportListError(gettext(
                    'school_ejournal.msg_import_company'))
        rows = getattr(self, '_rows_%s' % start.kind)(company)
        start.file = xlsx([h for _, h, _ in COLUMNS[start.kind]], rows)
        start.filename = '%s.xlsx' % start.kind
        return 'start'

    def default_start(self, fields):
        start = self.start
        if getattr(start, 'kind', None):
            return {k: getattr(start, k) for k in [
                    'kind', 'year', 'company', 'date', 'file', 'filename']
                if getattr(start, k, None) is not None}
        return {}

    def _students(self, company):
        "Return the students of the year's classes with their class"
        pool = Pool()
        Student = pool.get('school.student')
        Enrolment = pool.get('school.enrolment')
        OrderLine = pool.get('school.order.line')
        Class = pool.get('school.class')
        start = self.start
        classes = {c.id: c for c in Class.search([
                    ('year', '=', start.year.id)])}
        by_class = Enrolment.students_by_class(list(classes), start.date)
        student_class = {s: c for c, ss in by_class.items() for s in ss}
        for line in OrderLine.search([
                    ('order.company', '=', company),
                    ('order.state', '=', 'draft'),
                    ('order.kind', 'in', ['enrolment', 'transfer']),
                    ('class_', 'in', list(classes)),
                    ], order=[('order.date', 'ASC'), ('id', 'ASC')]):
            student_class[line.student.id] = line.class_.id
        students = Student.browse(sorted(student_class))
        students = sorted(students, key=lambda s: (
                classes[student_class[s.id]].rec_name, s.name))
        return [(s, classes[student_class[s.id]]) for s in students]

    def _rows_students(self, company):
        return [[s.file_number or '', s.last_name, s.first_name,
                s.middle_name or '', _date_text(s.birth_date),
                GENDER_TEXT.get(s.gender, ''), s.snils or '',
                s.identity_document or '', s.address or '', s.phone or '',
                s.email or '', c.name]
            for s, c in self._students(company)]

    def _rows_parents(self, company):
        rows = []
        for student, _ in self._students(company):
            if not student.file_number:
                continue
            for guardian in student.guardians:
                parent = guardian.parent
                rows.append([student.file_number, parent.last_name,
                        parent.first_name, parent.middle_name or '',
                        RELATION_TEXT[guardian.relation],
                        parent.phone or '', parent.email or '',
                        parent.work or '',
                        'да' if guardian.legal_representative else 'нет'])
        return rows

    def _rows_staff(self, company):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        groups = {ModelData.get_id('school_ejournal', 'group_' + r): r
            for r in STAFF_ROLES}
        positions = ListImport._positions()
        rows = []
        for user in User.search([('employees.company', '=', company)],
                order=[('login', 'ASC')]):
            roles = [groups[g.id] for g in user.groups if g.id in groups]
            if not roles:
                continue
            employee = [e for e in user.employees
                if e.company.id == company][0]
            last, first, middle = _split_name(employee.party.name)
            rows.append([user.login, last, first, middle,
                    positions.get(employee.position, ''), user.email or '',
                    ', '.join(ROLE_TEXT[r] for r in STAFF_ROLES
                        if r in roles)])
        return rows

    def _rows_classes(self, company):
        pool = Pool()
        Class = pool.get('school.class')
        logins = {e.id: login
            for login, e in ListImport._teachers(company).items()}
        rows = []
        for class_ in Class.search([('year', '=', self.start.year.id)]):
            rows.append([class_.name, str(class_.level.number),
                    class_.letter or '',
                    logins.get(class_.class_teacher.id, '')
                    if class_.class_teacher else '',
                    class_.room or ''])
        return rows


def xlsx(headers, rows):
    "Return the bytes of an XLSX workbook of one sheet: headers and rows"
    import xlsxwriter
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {'in_memory': True})
    sheet = workbook.add_worksheet()
    bold = workbook.add_format({'bold': True})
    text = workbook.add_format({'num_format': '@'})
    for column, header in enumerate(headers):
        sheet.write_string(0, column, header, bold)
        sheet.set_column(column, column, max(12, len(header) + 2), text)
    for number, row in enumerate(rows, 1):
        for column, value in enumerate(row):
            # As text: a personal file «007» or a date stays as written
            sheet.write_string(number, column, value or '')
    workbook.close()
    return output.getvalue()


class ClassCompleteness(ValidationMixin, ModelSQL, ModelView):
    "Completeness of the students' personal data per class"
    __name__ = 'school.class.completeness'

    class_ = fields.Many2One('school.class', "Class", readonly=True)
    company = fields.Many2One('company.company', "School", readonly=True)
    year = fields.Many2One('school.year', "Academic Year", readonly=True)
    students = fields.Integer("Students", readonly=True)
    no_birth_date = fields.Integer("No Birth Date", readonly=True)
    no_snils = fields.Integer("No SNILS", readonly=True)
    no_document = fields.Integer("No Identity Document", readonly=True)
    no_address = fields.Integer("No Address", readonly=True)
    no_guardian = fields.Integer("No Parent", readonly=True,
        help="Students without any parent or guardian.")
    no_contact = fields.Integer("No Parent's Contact", readonly=True,
        help="Students none of whose parents has a phone or an e-mail.")
    complete = fields.Integer("Complete", readonly=True,
        help="Students with all of the above.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('year', 'DESC'), ('class_', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        "The students enrolled on the context's date, counted per class"
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        Student = pool.get('school.student')
        Guardian = pool.get('school.student.guardian')
        Parent = pool.get('school.parent')
        Class = pool.get('school.class')
        Date = pool.get('ir.date')
        date = Transaction().context.get('date') or Date.today()
        enrolment = Enrolment.__table__()
        student = Student.__table__()
        class_ = Class.__table__()
        guardian = Guardian.__table__()
        parent = Parent.__table__()

        def filled(column):
            return (column != Null) & (column != '')
        links = guardian.join(parent,
            condition=guardian.parent == parent.id).select(
            guardian.student.as_('student'),
            Sum(Case((filled(parent.phone) | filled(parent.email), 1),
                    else_=0)).as_('contacts'),
            group_by=[guardian.student])
        query = (enrolment
            .join(student, condition=enrolment.student == student.id)
            .join(class_, condition=enrolment.class_ == class_.id)
            .join(links, 'LEFT', condition=links.student == student.id))
        missing = {
            'no_birth_date': student.birth_date == Null,
            'no_snils': ~filled(student.snils),
            'no_document': ~filled(student.identity_document),
            'no_address': ~filled(student.address),
            'no_guardian': links.student == Null,
            'no_contact': (links.contacts == Null) | (links.contacts == 0),
            }
        incomplete = None
        for condition in missing.values():
            incomplete = condition if incomplete is None \
                else incomplete | condition
        return query.select(
            class_.id.as_('id'), class_.id.as_('class_'),
            class_.company.as_('company'), class_.year.as_('year'),
            Count(enrolment.id).as_('students'),
            *(Sum(Case((c, 1), else_=0)).as_(n)
                for n, c in missing.items()),
            Sum(Case((incomplete, 0), else_=1)).as_('complete'),
            *_sql_nulls(cls),
            where=Enrolment._where_date(enrolment, date)
            & (student.active == Literal(True)),
            group_by=[class_.id, class_.company, class_.year])

    def get_rec_name(self, name):
        return self.class_.rec_name
