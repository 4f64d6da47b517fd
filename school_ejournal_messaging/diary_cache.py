# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The rendered week pages of the e-diary, kept per session.

A week page is the same bytes for the same session (its user and CSRF
token), child, week, school day and language until something it shows
changes.  The rendered body is kept in a trytond Cache keyed by these
(`school_diary.week_page`, one LRU of pages per worker), with two kinds of
generation numbers it was rendered under:

- of each class of the child's enrolments: the week page shows only
  lessons of a class the child is enrolled in (Diary.week searches
  `class_.enrolments.student`), of its week and, for the homework, of the
  next days.  A create, write or delete of a lesson or of a lesson's task
  clears the generations of the classes of the records touched;
- of the child's week (the student and the Monday): the page shows the
  child's own attendance lines and marks of the week's lessons, nobody
  else's.  A create, write or delete of an attendance line or a mark clears
  the generation of the weeks of the students of the records touched (the
  week of the line's lesson's date).

A generation lives in one of the trytond Caches cleared by name: SHARDS
for the classes (`school_diary.week_page.00` … `.31`, the class id modulo
SHARDS), WEEK_SHARDS for the weeks (`school_diary.week_page.w000` …
`.w255`, by the hash of the student and the week).  Clearing a shard
forgets the generations it holds: one query finds the classes (or students
and weeks) of all the records written, and a write that may take a record
to another lesson, class, student or date clears those before the write
too.  A page is answered only while each of its generations is still in
its shard.  A teacher's absence or mark thus forgets the page of that
child's week (and of the few weeks sharing its shard); her lesson's topic or
homework the pages of the children of her class.  A create, write or delete
of any other model the page depends on (CLEARING: the calendar, subjects,
classes, enrolments, the family, the users, their groups, the record rules
and access rights) clears the pages themselves: every page is forgotten.

trytond clears a cache in every worker when the transaction that cleared
it commits: at once with `[cache] clean_timeout = 0` on PostgreSQL
(LISTEN / NOTIFY, by the cache's name), which is why the cache is on by
default only there.  A transaction started before a clear of a cache
reads and fills a copy of its own (trytond's MemoryCache), so a page read
before a teacher's change is never kept after it: its body may be kept,
but with a generation its shard never holds (generations are numbered
once per worker), and it is never answered.  Where pages are not kept, no
shard is cleared.

The session is found, its user set and the user's access checked before the
cache is looked up (routes.signed_in), as for every page: a signed-out or
expired session never reaches a kept page.  The classes of a child are read
only once the page was rendered for him, i.e. after the rules let the user
read the child.

`[school_diary] page_cache`: `auto` (default: on where every worker hears a
clear at once), `True` or `False`.  Its size: `[cache]
school_diary.week_page` (pages per worker, default trytond's `[cache]
default`, 1024); the shards hold one number per class or week read.
"""
import datetime as dt
import itertools

from trytond import backend, config
from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

_pages = Cache('school_diary.week_page', context=False)
# The students each user's e-diary shows (Diary.family), as read through
# the rules: forgotten with every page (clear), never by a journal record
_families = Cache('school_diary.family', context=False)

# The generation of each class, in SHARDS caches cleared by name
SHARDS = 32
_shards = tuple(Cache('school_diary.week_page.%02d' % i, context=False)
    for i in range(SHARDS))
# The generation of each student's week, in WEEK_SHARDS caches
WEEK_SHARDS = 256
_week_shards = tuple(
    Cache('school_diary.week_page.w%03d' % i, context=False)
    for i in range(WEEK_SHARDS))
# Numbered once per worker: a generation set in a transaction's own copy of
# a shard (started before the shard's clear) is never that of the shard
_generations = itertools.count(1)

# Every model whose records a week page shows or whose records decide what
# the signed-in user may read (tests/test_diary_cache.py checks that every
# table a week page reads is one of theirs or of NOT_CLEARING); those of
# JOURNAL clear the pages of their classes only, the others every page
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

# The records of a lesson, written all day by teachers: {model: the fields
# whose change may take a record to another class (or lesson, or date)};
# those of a lesson clear the pages of its class, those of a student in a
# lesson (STUDENT_WEEK) the pages of the student's week
JOURNAL = {
    'school.lesson': frozenset({
            'teaching', 'class_', 'subgroup', 'date', 'company'}),
    'school.lesson.attendance': frozenset({'lesson', 'student'}),
    'school.mark': frozenset({'task', 'lesson', 'student'}),
    'school.lesson.task': frozenset({'lesson'}),
    }
STUDENT_WEEK = {'school.lesson.attendance', 'school.mark'}

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


def shard(class_id):
    "The cache holding the generation of the class"
    return _shards[class_id % SHARDS]


def _generation(cache, key):
    "The generation of the key in the shard cache, a new one after a clear"
    number = cache.get(key)
    if number is None:
        number = cache.set(key, next(_generations))
    return number


def generation(class_id):
    "The generation of the class's pages, a new one after a clear"
    return _generation(shard(class_id), class_id)


def week_of(student_id, date):
    "The key of the student's week holding the date"
    return (student_id, date.toordinal() - date.weekday())


def week_shard(week):
    "The cache holding the generation of the week (week_of)"
    return _week_shards[hash(week) % WEEK_SHARDS]


def week_generation(week):
    "The generation of the pages of the student's week, new after a clear"
    return _generation(week_shard(week), week)


def kept(key):
    """The kept body of the page of the key, or None (also when one of
    its classes or its week changed since)"""
    entry = _pages.get(key)
    if entry is None:
        return None
    classes, generations, week, week_number, body = entry
    if week_shard(week).get(week) != week_number:
        return None
    for class_id, number in zip(classes, generations):
        if shard(class_id).get(class_id) != number:
            return None
    return body


def classes_of(student_id):
    "The ids of the classes the student is or was enrolled in"
    Enrolment = Pool().get('school.enrolment')
    enrolment = Enrolment.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*enrolment.select(enrolment.class_,
            where=enrolment.student == student_id,
            group_by=[enrolment.class_]))
    return tuple(sorted(c for c, in cursor))


def keep(key, student_id, day, body):
    """Keep the body (bytes) of the page of the key, of the student's
    classes and of his week holding the day (run after the page was
    rendered for the student)"""
    classes = classes_of(student_id)
    week = week_of(student_id, day)
    _pages.set(key, (classes, tuple(generation(c) for c in classes),
            week, week_generation(week), body))


def clear():
    """Forget every kept page and family (when the transaction commits, in
    all workers)"""
    if not enabled():
        return
    _pages.clear()
    _families.clear()


def family(key):
    """The kept family of the key: [(id, first name, last name, name)], or
    None"""
    return _families.get(key)


def keep_family(key, rows):
    "Keep the family (rows as family() returns them) of the key"
    _families.set(key, rows)


def _clear_shards(caches, indexes):
    "Clear the caches of the indexes (where pages are kept)"
    if not enabled():
        return
    for index in sorted(indexes):
        caches[index].clear()


def clear_classes(class_ids):
    """Forget the kept pages of the classes (and of the classes of their
    shards; when the transaction commits, in all workers)"""
    _clear_shards(_shards, {c % SHARDS for c in class_ids if c is not None})


def clear_weeks(weeks):
    """Forget the kept pages of the students' weeks (week_of; and of the
    weeks of their shards; when the transaction commits, in all workers)"""
    _clear_shards(_week_shards, {hash(w) % WEEK_SHARDS for w in weeks})


class ClearPages:
    "Forget the kept week pages when a record changes"
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        clear()


class ClearClassPages:
    """Forget the kept week pages of the classes of the lessons of the
    records that change"""
    __slots__ = ()

    @classmethod
    def diary_classes(cls, records):
        "The ids of the classes of the records' lessons, in one query a slice"
        pool = Pool()
        Lesson = pool.get('school.lesson')
        lesson = Lesson.__table__()
        cursor = Transaction().connection.cursor()
        if cls.__name__ == 'school.lesson':
            table, query = lesson, lesson
        else:
            table = cls.__table__()
            query = table.join(lesson, condition=table.lesson == lesson.id)
        classes = set()
        for sub_ids in grouped_slice(
                [r.id for r in records], backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(lesson.class_,
                    where=fields.SQL_OPERATORS['in'](table.id, list(sub_ids)),
                    group_by=[lesson.class_]))
            classes.update(c for c, in cursor)
        return classes

    @classmethod
    def diary_clear(cls, records):
        "Forget the kept pages of the records' classes"
        clear_classes(cls.diary_classes(records))

    @classmethod
    def on_write(cls, records, values):
        callbacks = super().on_write(records, values)
        if values.keys() & JOURNAL[cls.__name__] and enabled():
            # Before the write: the record may leave them
            cls.diary_clear(records)
        return callbacks

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        # After a create or a write, before a delete
        if enabled():
            cls.diary_clear(records)


class ClearWeekPages(ClearClassPages):
    """Forget the kept week pages of the students' weeks of the records (of
    a student in a lesson) that change"""
    __slots__ = ()

    @classmethod
    def diary_weeks(cls, records):
        """The weeks (week_of) of the records' students and lessons, in one
        query a slice"""
        Lesson = Pool().get('school.lesson')
        lesson = Lesson.__table__()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        weeks = set()
        for sub_ids in grouped_slice(
                [r.id for r in records], backend.MAX_QUERY_PARAMS):
            cursor.execute(*table
                .join(lesson, condition=table.lesson == lesson.id)
                .select(table.student, lesson.date,
                    where=fields.SQL_OPERATORS['in'](table.id, list(sub_ids)),
                    group_by=[table.student, lesson.date]))
            for student_id, date in cursor:
                if isinstance(date, str):  # SQLite
                    date = dt.date.fromisoformat(date)
                weeks.add(week_of(student_id, date))
        return weeks

    @classmethod
    def diary_clear(cls, records):
        "Forget the kept pages of the weeks of the records' students"
        clear_weeks(cls.diary_weeks(records))


def _clearing(name):
    return PoolMeta('ClearPages_%s' % name.replace('.', '_').replace('-', '_'),
        (ClearWeekPages if name in STUDENT_WEEK
            else ClearClassPages if name in JOURNAL else ClearPages,),
        {'__name__': name, '__module__': __name__})


# One class per model, registered by tryton.cfg
(Lesson, LessonAttendance, Mark, Task, TaskType, Subject, Bell, Teaching,
    Substitution, Timetable, Period, Year, Holiday, Configuration, Class,
    Level, Enrolment, Subgroup, SubgroupStudent, Student, Guardian, Parent,
    Party, Employee, Company, User, Group, UserGroup, UserEmployee,
    UserCompany, Rule, RuleGroup, ModelAccess, ModelFieldAccess,
    Translation) = [_clearing(n) for n in CLEARING]
