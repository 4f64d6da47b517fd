# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The rendered week pages of the e-diary, kept per session.

A week page is the same bytes for the same session (its user and CSRF
token), child, week, school day and language until something it shows
changes.  The rendered body is kept in a trytond Cache keyed by these, and
the whole cache is cleared when a record of any model the page depends on
is created, written or deleted (CLEARING below: the journal, the family,
the users, their groups, the record rules and access rights).  trytond
clears a cache in every worker when the transaction that cleared it
commits: at once with `[cache] clean_timeout = 0` on PostgreSQL (LISTEN /
NOTIFY), which is why the cache is on by default only there; a transaction
started before a clear never fills the shared cache (trytond's
MemoryCache keeps what it sets apart), so no page read before a teacher's
change is kept after it.

The session is found, its user set and the user's access checked before the
cache is looked up (routes.signed_in), as for every page: a signed-out or
expired session never reaches a kept page.

`[school_diary] page_cache`: `auto` (default: on where every worker hears a
clear at once), `True` or `False`.  Its size: `[cache]
school_diary.week_page` (pages per worker, default trytond's `[cache]
default`, 1024).
"""
from trytond import config
from trytond.cache import Cache
from trytond.pool import PoolMeta
from trytond.transaction import Transaction

_pages = Cache('school_diary.week_page', context=False)

# Every model whose records a week page shows or whose records decide what
# the signed-in user may read (tests/test_diary_cache.py checks that every
# table a week page reads is one of theirs or of NOT_CLEARING)
CLEARING = [
    # the journal
    'school.lesson', 'school.lesson.attendance', 'school.mark',
    'school.lesson.task', 'school.task.type', 'school.subject',
    'school.bell', 'school.teaching', 'school.substitution',
    'school.timetable', 'school.period', 'school.year',
    'school.holiday', 'school.configuration',
    # the class, its subgroups and who is in them
    'school.class', 'school.level', 'school.enrolment', 'school.subgroup',
    'school.subgroup-school.student',
    # the family
    'school.student', 'school.student.guardian', 'school.parent',
    'party.party',
    # the staff in the scope of a user
    'company.employee', 'company.company',
    # the users, their groups, preferences and what the rules let them read
    'res.user', 'res.group', 'res.user-res.group',
    'res.user-company.employee', 'res.user-company.company',
    'ir.rule', 'ir.rule.group', 'ir.model.access', 'ir.model.field.access',
    # the translated names of subjects and task types (staff may edit them)
    'ir.translation',
    ]

# The models a week page reads that need not clear it: the session is in
# the key (its user and CSRF token never change); trytond's own tables of
# languages, messages, modules and settings change with an update of the
# modules, after which the workers are restarted
NOT_CLEARING = ['school.diary.session', 'ir.lang', 'ir.message',
    'ir.module', 'ir.configuration', 'ir.model', 'ir.model.field',
    'ir.model.data', 'ir.cache', 'ir.session']


def enabled():
    """Whether week pages are kept: `[school_diary] page_cache` (auto by
    default: only where a clear reaches every worker at once)"""
    value = config.get('school_diary', 'page_cache', default='auto')
    value = value.strip().lower()
    if value in {'0', 'false', 'no', 'off'}:
        return False
    if value in {'1', 'true', 'yes', 'on'}:
        return True
    return (not config.getint('cache', 'clean_timeout', default=300)
        and Transaction().database.has_channel())


def kept(key):
    "The kept body of the page of the key, or None"
    return _pages.get(key)


def keep(key, body):
    "Keep the body (bytes) of the page of the key"
    _pages.set(key, body)


def clear():
    "Forget every kept page (when the transaction commits, in all workers)"
    _pages.clear()


class ClearPages:
    "Forget the kept week pages when a record changes"
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        clear()


def _clearing(name):
    return PoolMeta('ClearPages_%s' % name.replace('.', '_').replace('-', '_'),
        (ClearPages,), {'__name__': name, '__module__': __name__})


# One class per model, registered by tryton.cfg
(Lesson, LessonAttendance, Mark, Task, TaskType, Subject, Bell, Teaching,
    Substitution, Timetable, Period, Year, Holiday, Configuration, Class,
    Level, Enrolment, Subgroup, SubgroupStudent, Student, Guardian, Parent,
    Party, Employee, Company, User, Group, UserGroup, UserEmployee,
    UserCompany, Rule, RuleGroup, ModelAccess, ModelFieldAccess,
    Translation) = [_clearing(n) for n in CLEARING]
