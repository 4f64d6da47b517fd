# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The administrator's lists imported from the sample files with a
preview, written on confirmation only, re-imported with no change,
exported in the same columns; bad rows refused with their row and column;
the completeness of the personal data per class.  Acted through proteus
as the school administrator (a teacher is refused)."""
import csv
import datetime as dt
import io
import os
import unittest

from proteus import Model, Wizard

from trytond.exceptions import UserError
from trytond.tests.test_tryton import drop_db
from trytond.tests.tools import activate_modules, set_user

from ..import_ import COLUMNS
from .clock import school_today, travel
from .tools import create_journal_school

TODAY = school_today()
SAMPLES = os.path.join(os.path.dirname(__file__), '..', 'samples')


def sample(name):
    with open(os.path.join(SAMPLES, name), 'rb') as file:
        return file.read()


def csv_bytes(kind, rows, delimiter=',', encoding='utf-8'):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator='\r\n')
    writer.writerow([h for _, h, _ in COLUMNS[kind]])
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


class ImportTestCase(unittest.TestCase):
    "Lists imported, exported and checked for completeness"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with travel():
            cls.config = activate_modules('school_ejournal')
            cls.school = create_journal_school(config=cls.config)
        cls.users = cls.school['users']

    @classmethod
    def tearDownClass(cls):
        # The database's connections closed, for the next test's database
        drop_db()
        super().tearDownClass()

    def setUp(self):
        set_user(self.users['sysadmin'], config=self.config)

    def preview(self, kind, data, filename, number='12-у', date=TODAY):
        wizard = Wizard('school.list.import')
        wizard.form.kind = kind
        wizard.form.file = data
        wizard.form.filename = filename
        if kind == 'students':
            wizard.form.order_number = number
            wizard.form.order_date = date
        wizard.execute('preview')
        return wizard

    def actions(self, wizard):
        return [(line.row, line.action) for line in wizard.form.lines]

    def do_import(self, kind, data, filename):
        wizard = self.preview(kind, data, filename)
        wizard.execute('confirm')
        return wizard

    def export(self, kind):
        wizard = Wizard('school.list.export')
        wizard.form.kind = kind
        wizard.execute('export')
        self.assertEqual(wizard.form.filename, '%s.xlsx' % kind)
        data = wizard.form.file
        wizard.execute('end')
        return data

    def test_students(self):
        "Students from the XLSX sample, by a draft enrolment order"
        Student = Model.get('school.student')
        Order = Model.get('school.order')
        wizard = self.preview('students', sample('students.xlsx'),
            'students.xlsx')
        self.assertEqual(self.actions(wizard),
            [(2, 'create'), (3, 'create'), (4, 'create')])
        self.assertIn('To create: 3', wizard.form.summary)
        # Nothing written before the confirmation
        self.assertEqual(Student.find([('file_number', 'like', 'Н-01%')]),
            [])
        wizard.execute('confirm')
        self.assertIn('Created: 3', wizard.form.summary)
        self.assertIn('12-у', wizard.form.summary)
        artem, = Student.find([('file_number', '=', 'Н-0101')])
        self.assertEqual(artem.name, 'Кузнецов Артём Игоревич')
        self.assertEqual(artem.birth_date.isoformat(), '2015-03-12')
        self.assertEqual(artem.gender, 'male')
        self.assertEqual(artem.snils, '112-233-445 95')
        order, = Order.find([('number', '=', '12-у')])
        self.assertEqual((order.kind, order.state), ('enrolment', 'draft'))
        self.assertEqual(
            sorted((l.student.file_number, l.class_.name)
                for l in order.lines),
            [('Н-0101', '5А'), ('Н-0102', '1А'), ('Н-0103', '6А')])

        # Again: all unchanged, the draft order as it was
        wizard = self.preview('students', sample('students.xlsx'),
            'students.xlsx')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})
        wizard.execute('confirm')
        order, = Order.find([('number', '=', '12-у')])
        self.assertEqual(len(order.lines), 3)
        # Applied, still unchanged; exported and imported: unchanged
        order.click('apply')
        wizard = self.preview('students', sample('students.xlsx'),
            'students.xlsx')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})
        # (the students of the test school have no personal file: refused
        # for it, the others unchanged)
        data = self.export('students')
        wizard = self.preview('students', data, 'students.xlsx')
        self.assertTrue(wizard.form.lines)
        for line in wizard.form.lines:
            if line.action == 'refused':
                self.assertIn('column 1 "Личное дело": the cell is empty',
                    line.message)
            else:
                self.assertEqual(line.action, 'unchanged', line.name)
        self.assertIn('Кузнецов Артём Игоревич',
            [line.name for line in wizard.form.lines
                if line.action == 'unchanged'])

        # A change of class goes into a transfer order, a new address is a
        # change of the student
        rows = [['Н-0103', 'Орлов', 'Денис', 'Андреевич', '20.01.2014', 'м',
                '', '', 'г. Омск, ул. Мира, д. 9', '+7 913 111-22-33',
                'denis.orlov@example.ru', '5А']]
        wizard = self.preview('students', csv_bytes('students', rows),
            'move.csv', number='13-у', date=TODAY + dt.timedelta(days=7))
        line, = wizard.form.lines
        self.assertEqual(line.action, 'change')
        self.assertEqual(line.changes, 'Адрес, Класс')
        wizard.execute('confirm')
        transfer, = Order.find([('number', '=', '13-у')])
        self.assertEqual(transfer.kind, 'transfer')
        self.assertEqual(transfer.lines[0].class_.name, '5А')
        transfer.click('apply')

        # Parents of these students, then the round trip
        wizard = self.preview('parents', sample('parents.csv'),
            'parents.csv')
        self.assertEqual(self.actions(wizard),
            [(2, 'create'), (3, 'create'), (4, 'create')])
        wizard.execute('confirm')
        Parent = Model.get('school.parent')
        elena, = Parent.find([('last_name', '=', 'Кузнецова'),
                ('first_name', '=', 'Елена')])
        self.assertEqual(
            sorted(c.student.file_number for c in elena.children),
            ['Н-0101', 'Н-0102'])
        wizard = self.preview('parents', sample('parents.csv'),
            'parents.csv')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})
        wizard = self.preview('parents', self.export('parents'),
            'parents.xlsx')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})

        # The completeness of 5А today: Анна, Борис, Вера (no data but
        # Анна's mother) and Артём (all data, his mother has a phone)
        Completeness = Model.get('school.class.completeness')
        row, = Completeness.find([('class_.name', '=', '5А')])
        self.assertEqual((row.students, row.complete), (4, 1))
        self.assertEqual((row.no_birth_date, row.no_snils, row.no_document,
                row.no_address, row.no_guardian, row.no_contact),
            (3, 3, 3, 3, 2, 2))

    def test_students_cp1251(self):
        "A cp1251 CSV separated by semicolons"
        Student = Model.get('school.student')
        data = sample('students_cp1251.csv')
        self.assertRaises(UnicodeDecodeError, data.decode, 'utf-8')
        wizard = self.do_import('students', data, 'students_cp1251.csv')
        self.assertIn('Created: 2', wizard.form.summary)
        fedor, = Student.find([('file_number', '=', 'Н-0105')])
        self.assertEqual(fedor.name, 'Ёлкин Фёдор')
        wizard = self.preview('students', data, 'students_cp1251.csv')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})

    def test_bad_rows(self):
        "Bad rows are refused with row and column, the good ones kept"
        Student = Model.get('school.student')
        existing = Student(last_name='Зайцев', first_name='Олег',
            file_number='Н-0900')
        existing.birth_date = TODAY.replace(year=TODAY.year - 10)
        existing.save()
        good = ['Н-0201', 'Лисицын', 'Пётр', '', '01.02.2016', 'м', '', '',
            '', '', '', '5А']
        rows = [
            good,
            ['Н-0202', 'Котов', 'Иван', '', '', '', '', '', '', '', '',
                '9Я'],
            ['Н-0201', 'Другой', 'Пётр', '', '', '', '', '', '', '', '',
                '5А'],
            ['Н-0203', 'Ежов', 'Лев', '', '31.02.2016', '', '', '', '', '',
                '', '5А'],
            ['Н-0204', 'Ужов', 'Лев', '', '', '', '112-233-445 96', '', '',
                '', '', '5А'],
            ['Н-0205', '', 'Лев', '', '', '', '', '', '', '', '', '5А'],
            ['Н-0206', 'Зайцев', 'Олег', '',
                existing.birth_date.strftime('%d.%m.%Y'), '', '', '', '',
                '', '', '5А'],
            ['Н-0207', 'Лисицын', 'Пётр', '', '01.02.2016', 'м', '', '',
                '', '', '', '5А'],
            ['Н-0208', 'Сомов', 'Яков', '', '', 'x', '', '', '', '',
                'not-an-email', '5А'],
            ]
        wizard = self.preview('students', csv_bytes('students', rows),
            'bad.csv', number='14-у')
        lines = {line.row: line for line in wizard.form.lines}
        self.assertEqual(lines[2].action, 'create')
        self.assertEqual(
            {n for n, line in lines.items() if line.action == 'refused'},
            set(range(3, 11)))
        expected = {
            3: ['Row 3, column 12 "Класс"', 'no class "9Я"'],
            4: ['Row 4, column 1 "Личное дело"', 'same as row 2'],
            5: ['Row 5, column 5 "Дата рождения"', '"31.02.2016"'],
            6: ['Row 6, column 7 "СНИЛС"', 'checksum'],
            7: ['Row 7, column 2 "Фамилия"', 'empty'],
            8: ['Row 8, column 1', 'already in the school',
                'Н-0900'],
            9: ['Row 9, column 2', 'same person as row 2'],
            10: ['column 6 "Пол"', 'column 11 "E-mail"'],
            }
        for number, parts in expected.items():
            for part in parts:
                self.assertIn(part, lines[number].message, number)
        wizard.execute('confirm')
        self.assertIn('refused (not written): 8', wizard.form.summary)
        self.assertEqual(
            [s.file_number for s in Student.find([
                        ('file_number', 'like', 'Н-02%')])], ['Н-0201'])

    def test_bad_files(self):
        "A fake XLSX, a foreign column, another encoding: the whole file"
        for data, filename, part in [
                (b'Not a workbook at all', 'list.xlsx', 'list.xlsx'),
                (csv_bytes('students', [], encoding='utf-16'), 'u16.csv',
                    'u16.csv'),
                ('Личное дело;Фамилия;Рост\n1;2;3\n'.encode('utf-8'),
                    'x.csv', 'Column 3'),
                (csv_bytes('students', [], encoding='koi8-r'), 'k.csv',
                    'Column 1'),
                ]:
            with self.subTest(filename=filename):
                with self.assertRaises(UserError) as cm:
                    self.preview('students', data, filename)
                self.assertIn(part, cm.exception.message)

    def test_cancel(self):
        "Nothing is written when the administrator cancels the preview"
        Class = Model.get('school.class')
        wizard = self.preview('classes', sample('classes.csv'),
            'classes.csv')
        self.assertEqual(self.actions(wizard), [(2, 'refused'), (3,
                    'create')])
        self.assertIn('"morozova"', wizard.form.lines[0].message)
        wizard.execute('end')
        self.assertEqual(Class.find([('name', 'in', ['5В', '6Б'])]), [])

    def test_staff_and_classes(self):
        "Staff, then classes led by them; both round-trip"
        User = Model.get('res.user')
        Class = Model.get('school.class')
        wizard = self.do_import('staff', sample('staff.csv'), 'staff.csv')
        self.assertIn('Created: 2', wizard.form.summary)
        self.assertIn('morozova: ', wizard.form.summary)
        morozova, = User.find([('login', '=', 'morozova')])
        self.assertEqual(morozova.name, 'Морозова Татьяна Павловна')
        wizard = self.preview('staff', sample('staff.csv'), 'staff.csv')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})
        wizard = self.preview('staff', self.export('staff'), 'staff.xlsx')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})
        # A role taken away is a change
        rows = [['volkov', 'Волков', 'Сергей', 'Николаевич', 'учитель', '',
                'учитель, классный руководитель']]
        wizard = self.preview('staff', csv_bytes('staff', rows), 's.csv')
        self.assertEqual(wizard.form.lines[0].changes, 'Роли')

        wizard = self.do_import('classes', sample('classes.csv'),
            'classes.csv')
        self.assertIn('Created: 2', wizard.form.summary)
        class_, = Class.find([('name', '=', '5В')])
        self.assertEqual(class_.class_teacher.party.name,
            'Морозова Татьяна Павловна')
        wizard = self.preview('classes', self.export('classes'),
            'classes.xlsx')
        self.assertEqual({a for _, a in self.actions(wizard)}, {'unchanged'})

    def test_teacher_refused(self):
        "A teacher may neither import nor export"
        set_user(self.users['klass'], config=self.config)
        for name in ['school.list.import', 'school.list.export']:
            with self.subTest(wizard=name):
                with self.assertRaises(UserError):
                    wizard = Wizard(name)
                    wizard.form.kind = 'classes'
                    wizard.form.file = sample('classes.csv')
                    wizard.form.filename = 'classes.csv'
                    wizard.execute('preview' if 'import' in name
                        else 'export')

    def test_bad_rows_of_other_lists(self):
        "Parents, staff and classes: each bad row with its row and column"
        rows = [
            ['Н-9999', 'Павлова', 'Ирина', '', 'мать', '', '', '', ''],
            ['', 'Павлова', 'Ирина', '', 'тётя', '8 (913) 1', '', '', 'ага'],
            ]
        wizard = self.preview('parents', csv_bytes('parents', rows),
            'p.csv')
        first, second = wizard.form.lines
        self.assertEqual((first.action, second.action),
            ('refused', 'refused'))
        self.assertIn('Row 2, column 1 "Личное дело ученика": there is no '
            'student with the personal file "Н-9999"', first.message)
        for part in ['column 1 "Личное дело ученика": the cell is empty',
                'column 5 "Кем приходится": "тётя" is not one of',
                'column 6 "Телефон"', 'column 9 "Законный представитель"']:
            self.assertIn(part, second.message)

        rows = [
            ['roditel', 'Смирнова', 'Мария', '', 'учитель', '', 'учитель'],
            ['novikov', 'Новиков', 'Пётр', '', 'сторож', '', 'директор'],
            ]
        wizard = self.preview('staff', csv_bytes('staff', rows), 's.csv')
        first, second = wizard.form.lines
        self.assertIn('Row 2, column 1 "Логин": the login "roditel" '
            'belongs to someone who is not on the staff', first.message)
        self.assertIn('column 5 "Должность": "сторож"', second.message)
        self.assertIn('column 7 "Роли": "директор" is not a role',
            second.message)

        rows = [['7А', '7', 'А', '', ''], ['5А', '5', 'А', 'klass', '101']]
        wizard = self.preview('classes', csv_bytes('classes', rows),
            'c.csv')
        first, second = wizard.form.lines
        self.assertIn('Row 2, column 2 "Параллель": there is no level 7',
            first.message)
        self.assertEqual((second.action, second.changes),
            ('change', 'Кабинет'))
        wizard.execute('end')
