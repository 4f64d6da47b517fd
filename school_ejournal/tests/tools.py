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


def create_school(config=None):
    """Create a school with its current academic year, quarters, levels 1, 5
    and 6, classes 1А, 5А, 5Б and 6А and two subjects; return them by name.
    """
    if not config:
        config = get_config()
    create_company(config=config)
    company = get_company(config=config)
    Year = Model.get('school.year', config=config)
    Period = Model.get('school.period', config=config)
    Level = Model.get('school.level', config=config)
    Class = Model.get('school.class', config=config)
    Subject = Model.get('school.subject', config=config)

    start, end = school_year_dates()
    year = Year(name='%s/%s' % (start.year, end.year),
        start_date=start, end_date=end)
    quarters = [
        (start, dt.date(start.year, 10, 26)),
        (dt.date(start.year, 11, 5), dt.date(start.year, 12, 28)),
        (dt.date(end.year, 1, 12), dt.date(end.year, 3, 22)),
        (dt.date(end.year, 4, 1), dt.date(end.year, 5, 26)),
        ]
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
