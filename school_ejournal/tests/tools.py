# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"Helpers for the scenarios: a small school to act in"
import datetime as dt
from decimal import Decimal

from proteus import Model
from proteus.config import get_config

from trytond.modules.company.tests.tools import create_company, get_company

__all__ = ['create_school', 'create_user', 'create_employee', 'enrol',
    'school_year_dates']

ROLES = {
    'school_admin', 'deputy_academic', 'deputy_pastoral',
    'class_teacher', 'teacher', 'parent', 'student',
    }


def school_year_dates(today=None):
    "Return the start and end of the academic year holding today"
    today = today or dt.date.today()
    start_year = today.year if today.month >= 9 else today.year - 1
    return dt.date(start_year, 9, 1), dt.date(start_year + 1, 8, 31)


def group(role, config=None):
    ModelData = Model.get('ir.model.data', config=config)
    Group = Model.get('res.group', config=config)
    assert role in ROLES, role
    return Group(ModelData.get_id('school_ejournal', 'group_' + role, {}))


def create_employee(name, company, position='teacher', config=None):
    Party = Model.get('party.party', config=config)
    Employee = Model.get('company.employee', config=config)
    party = Party(name=name)
    party.save()
    employee = Employee(party=party, company=company, position=position)
    employee.save()
    return employee


def create_user(login, roles, employee=None, company=None, config=None):
    "Create a user holding the roles, working for the employee"
    User = Model.get('res.user', config=config)
    Company = Model.get('company.company', config=config)
    Employee = Model.get('company.employee', config=config)
    user = User(login=login, name=login)
    for role in roles:
        user.groups.append(group(role, config=config))
    if company:
        user.companies.append(Company(company.id))
        user.company = Company(company.id)
    if employee:
        user.employees.append(Employee(employee.id))
        user.employee = Employee(employee.id)
    user.save()
    return user


def create_school(config=None, around_today=False):
    """Create a school with its current academic year, quarters, levels 1, 5
    and 6, classes 1А, 5А, 5Б and 6А and two subjects; return them by name.

    With around_today, the year runs from 180 days before today to 180 days
    after, and its second quarter from 60 days before today to 30 days
    after, whatever the day the test runs on.
    """
    if not config:
        config = get_config()
    today = dt.date.today()
    create_company(config=config)
    company = get_company(config=config)
    Year = Model.get('school.year', config=config)
    Period = Model.get('school.period', config=config)
    Level = Model.get('school.level', config=config)
    Class = Model.get('school.class', config=config)
    Subject = Model.get('school.subject', config=config)

    if around_today:
        day = dt.timedelta(days=1)
        start, end = today - 180 * day, today + 180 * day
        quarters = [
            (start, today - 61 * day),
            (today - 60 * day, today + 30 * day),
            (today + 31 * day, today + 100 * day),
            (today + 101 * day, end),
            ]
    else:
        start, end = school_year_dates()
        quarters = [
            (start, dt.date(start.year, 10, 26)),
            (dt.date(start.year, 11, 5), dt.date(start.year, 12, 28)),
            (dt.date(end.year, 1, 12), dt.date(end.year, 3, 22)),
            (dt.date(end.year, 4, 1), dt.date(end.year, 5, 26)),
            ]
    year = Year(name='%s/%s' % (start.year, end.year),
        start_date=start, end_date=end)
    for number, (q_start, q_end) in enumerate(quarters, 1):
        year.periods.append(Period(name='%s quarter' % number, kind='quarter',
                sequence=number, start_date=q_start, end_date=q_end))
    year.save()

    levels = {}
    for number in [1, 5, 6]:
        level = Level(number=number, name='%s classes' % number)
        level.save()
        levels[number] = level

    classes = {}
    for name, number in [('1А', 1), ('5А', 5), ('5Б', 5), ('6А', 6)]:
        class_ = Class(year=year, level=levels[number], letter=name[1:])
        class_.save()
        classes[name] = class_

    subjects = {}
    for code, name in [('MATH', 'Mathematics'), ('ENG', 'English')]:
        subject = Subject(code=code, name=name)
        subject.save()
        subjects[code] = subject

    return {
        'company': company,
        'year': year,
        'levels': levels,
        'classes': classes,
        'subjects': subjects,
        'hours': Decimal('5'),
        }


def enrol(students, class_, date, number='1-у', config=None):
    "Enrol the students into the class by an applied order"
    Order = Model.get('school.order', config=config)
    order = Order(number=number, date=date, kind='enrolment')
    for student in students:
        line = order.lines.new()
        line.student = student
        line.class_ = class_
        line.date = date
    order.save()
    order.click('apply')
    return order


def create_journal_school(config=None):
    """Create a school around today with staff, users, students, curriculum,
    teaching, a bell schedule and the second quarter as the current period.

    5А: class teacher Петрова (also its mathematics teacher), students Анна,
    Борис and Вера, an English subgroup of Анна and Борис taught by Иванова;
    6А: mathematics by Сидоров, student Глеб; 1А: mathematics by Петрова,
    student Дима.  Анна's mother and Анна herself have logins.
    """
    if not config:
        config = get_config()
    school = create_school(config=config, around_today=True)
    company, year = school['company'], school['year']
    classes, subjects = school['classes'], school['subjects']
    Student = Model.get('school.student', config=config)
    Parent = Model.get('school.parent', config=config)
    Subgroup = Model.get('school.subgroup', config=config)
    CurriculumLine = Model.get('school.curriculum.line', config=config)
    Teaching = Model.get('school.teaching', config=config)
    Bell = Model.get('school.bell', config=config)
    Period = Model.get('school.period', config=config)

    petrova = create_employee('Петрова Ольга Ивановна', company)
    sidorov = create_employee('Сидоров Илья Павлович', company)
    ivanova = create_employee('Иванова Нина Сергеевна', company)
    classes['5А'].class_teacher = petrova
    classes['5А'].save()
    classes['6А'].class_teacher = sidorov
    classes['6А'].save()

    for number in range(1, 7):
        Bell(number=number, start=dt.time(8 + number, 0),
            end=dt.time(8 + number, 45)).save()

    math, english = subjects['MATH'], subjects['ENG']
    for level, subject, hours in [
            (1, math, 4), (5, math, 5), (5, english, 3), (6, math, 5)]:
        CurriculumLine(year=year, level=school['levels'][level],
            subject=subject, hours=Decimal(hours)).save()

    students = {}
    for first, class_name in [
            ('Анна', '5А'), ('Борис', '5А'), ('Вера', '5А'),
            ('Глеб', '6А'), ('Дима', '1А')]:
        student = Student(last_name='Смирнов' if first not in {
                    'Анна', 'Вера'} else 'Смирнова', first_name=first)
        student.save()
        students[first] = student
    for class_name, names in [
            ('5А', ['Анна', 'Борис', 'Вера']), ('6А', ['Глеб']),
            ('1А', ['Дима'])]:
        enrol([students[n] for n in names], classes[class_name],
            year.start_date, number='1-%s' % class_name, config=config)

    group1 = Subgroup(class_=classes['5А'], subject=english, name='Group 1')
    group1.students.extend([Student(students['Анна'].id),
            Student(students['Борис'].id)])
    group1.save()

    teachings = {
        '5А math': Teaching(teacher=petrova, class_=classes['5А'],
            subject=math, hours=Decimal(5)),
        '6А math': Teaching(teacher=sidorov, class_=classes['6А'],
            subject=math, hours=Decimal(5)),
        '1А math': Teaching(teacher=petrova, class_=classes['1А'],
            subject=math, hours=Decimal(4)),
        '5А English 1': Teaching(teacher=ivanova, class_=classes['5А'],
            subgroup=group1, subject=english, hours=Decimal(3)),
        }
    for teaching in teachings.values():
        teaching.save()

    mother = Parent(last_name='Смирнова', first_name='Мария',
        phone='+7 912 345-67-89')
    mother.children.new(student=students['Анна'], relation='mother')
    mother.save()

    users = {
        'zavuch': create_user('zavuch', ['deputy_academic'], company=company,
            config=config),
        'klass': create_user('klass', ['class_teacher', 'teacher'],
            employee=petrova, company=company, config=config),
        'uchitel': create_user('uchitel', ['class_teacher', 'teacher'],
            employee=sidorov, company=company, config=config),
        'anglichanka': create_user('anglichanka', ['teacher'],
            employee=ivanova, company=company, config=config),
        'roditel': create_user('roditel', ['parent'], company=company,
            config=config),
        'uchenik': create_user('uchenik', ['student'], company=company,
            config=config),
        'sysadmin': create_user('sysadmin', ['school_admin'],
            company=company, config=config),
        }
    mother.user = users['roditel']
    mother.save()
    anna = students['Анна']
    anna.user = users['uchenik']
    anna.save()

    periods = {p.sequence: p for p in Period.find([
                ('year', '=', year.id), ('kind', '=', 'quarter')])}
    school.update({
            'employees': {
                'petrova': petrova, 'sidorov': sidorov, 'ivanova': ivanova},
            'students': students,
            'subgroup': group1,
            'teachings': teachings,
            'users': users,
            'periods': periods,
            'mother': mother,
            })
    return school


def task_type(code, config=None):
    "Return the task type of the code, as «К»"
    TaskType = Model.get('school.task.type', config=config)
    type_, = TaskType.find([('code', '=', code)])
    return type_
