# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The kept week pages (diary_cache): the same bytes as a page rendered
anew, per session, and a teacher's change shows on the parent's next page
while the kept pages of the other classes stay kept.

The pages are read through trytond's WSGI application as the parent signed
in through the form; the teacher changes the lesson through the client
library as her own user (proteus, the same process: trytond clears the
cache when her transaction commits)."""
import datetime as dt
import re

import pytest
from werkzeug.test import Client

from school_ejournal.tests.clock import travel
from trytond.protocols.wrappers import Response
from trytond.wsgi import app

from . import test_diary
from .test_diary import BASE, PASSWORD, counted_queries, csrf_of, sign_in, text

# The school of test_diary.py (a database of this module's own)
school = test_diary.school

# The queries of a kept week page: the session, the school day
KEPT_PAGE_QUERIES = 4


@pytest.fixture
def page_cache():
    "Turn [school_diary] page_cache on (tests run on SQLite too)"
    from trytond import config
    if not config.has_section('school_diary'):
        config.add_section('school_diary')
    before = config.get('school_diary', 'page_cache', default=None)
    config.set('school_diary', 'page_cache', 'True')
    yield
    config.set('school_diary', 'page_cache', before or 'auto')


def new_client():
    return Client(app, Response)


def as_teacher(school, change):
    "Change today's math lesson as its teacher"
    from proteus import Model

    from trytond.tests.tools import set_user
    set_user(school['users']['klass'])
    try:
        Lesson = Model.get('school.lesson')
        math, = Lesson.find([('topic', '=', 'Common fractions')])
        change(math, {l.student.id: l for l in math.lines})
        math.save()
    finally:
        set_user(1)


def test_kept_page_same_bytes(school, page_cache):
    """A kept page is the page rendered anew, byte for byte, headers
    included, in fewer queries"""
    from trytond import config
    client = new_client()
    sign_in(client, 'roditel')
    url = BASE + '%s/week' % school['students']['Анна'].id
    config.set('school_diary', 'page_cache', 'False')
    fresh = client.get(url)
    config.set('school_diary', 'page_cache', 'True')
    first = client.get(url)
    with counted_queries() as queries:
        kept = client.get(url)
    assert len(queries) <= KEPT_PAGE_QUERIES, '\n'.join(queries)
    for response in [first, kept]:
        assert response.status_code == 200
        assert response.get_data() == fresh.get_data()
        assert dict(response.headers) == dict(fresh.headers)
    assert kept.headers['Cache-Control'] == 'no-store'
    # Another week is another page
    previous = re.search(r'week\?date=(\d{4}-\d\d-\d\d)', text(kept))
    other = client.get(url + '?date=' + previous.group(1))
    assert other.status_code == 200
    assert other.get_data() != kept.get_data()


def test_page_per_session(school, page_cache):
    """Each session gets its own page (its own CSRF token); a signed-out
    session gets no kept page, another child's id still nothing"""
    students = school['students']
    url = BASE + '%s/week' % students['Анна'].id
    first, second = new_client(), new_client()
    sign_in(first, 'roditel')
    sign_in(second, 'roditel')
    page1 = first.get(url)
    page2 = second.get(url)
    assert csrf_of(page1) != csrf_of(page2)
    assert csrf_of(second.get(url)) == csrf_of(page2)
    for name in ['Борис', 'Глеб']:
        response = first.get(BASE + '%s/week' % students[name].id)
        assert response.status_code == 404
        assert students[name].first_name not in text(response)
    response = first.post(BASE + 'logout', data={'csrf': csrf_of(page1)})
    assert response.status_code == 200
    response = first.get(url)
    assert response.status_code == 303
    assert 'Common fractions' not in text(response)
    assert second.get(url).status_code == 200


def test_teacher_change_shows_at_once(school, page_cache):
    """The parent's kept pages change right after the teacher's mark,
    absence and homework"""
    students = school['students']
    anna, vera = students['Анна'].id, students['Вера'].id
    client = new_client()
    sign_in(client, 'roditel')
    url = BASE + '%s/week' % anna
    url_vera = BASE + '%s/week' % vera
    page = text(client.get(url))
    page_vera = text(client.get(url_vera))
    assert text(client.get(url)) == page
    assert text(client.get(url_vera)) == page_vera
    assert not re.search(r'>2<small>К</small>', page_vera)

    def mark(lesson, lines):
        # A mark given is changed only through a correction: a new one
        lines[vera].mark_2 = '2'
    as_teacher(school, mark)
    assert re.search(r'>2<small>К</small>', text(client.get(url_vera)))

    assert 'absence-absent' not in page
    assert 'absence-ill' in page

    def absence(lesson, lines):
        lines[anna].attendance = 'absent'
    as_teacher(school, absence)
    page = text(client.get(url))
    assert 'absence-absent' in page

    def homework(lesson, lines):
        lesson.homework = 'Задачи 7 и 8'
    as_teacher(school, homework)
    page = text(client.get(url))
    assert 'Задачи 7 и 8' in page
    assert text(client.get(url)) == page


def test_every_table_read_clears(school):
    """Every table a week page reads, with all of trytond's caches empty,
    is of a model whose change clears the kept pages (or one listed as not
    needing it)"""
    from trytond.cache import MemoryCache
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    from ..diary_cache import CLEARING, NOT_CLEARING
    client = new_client()
    sign_in(client, 'roditel')
    MemoryCache._clear_all(DB_NAME)
    with counted_queries() as queries:
        response = client.get(BASE + '%s/week' % school['students']['Анна'].id)
    assert response.status_code == 200
    tables = set()
    for query in queries:
        tables.update(re.findall(r'(?:FROM|JOIN)\s+"([a-z0-9_]+)"', query))
    with Transaction().start(DB_NAME, 0, readonly=True):
        pool = Pool()
        models = {}
        for name, Model in pool.iterobject():
            table = getattr(Model, '_table', None)
            if table:
                models.setdefault(table, set()).add(name)
        for name in CLEARING + NOT_CLEARING:
            pool.get(name)  # every name listed is a model
    # (the aliases of subqueries apart)
    read = {t: models[t] for t in tables if t in models}
    assert 'school_lesson' in read and 'school_mark' in read, tables
    missing = {t: m for t, m in read.items()
        if not m & set(CLEARING + NOT_CLEARING)}
    assert not missing, missing


@pytest.fixture(scope='module')
def father(school):
    "Глеб's father (6А) with a login: the parent of another class"
    from proteus import Model

    from school_ejournal.tests.tools import create_user
    with travel():
        Parent = Model.get('school.parent')
        user = create_user('otets', ['parent'],
            company=school['company'])
        user.password = PASSWORD
        user.save()
        father = Parent(last_name='Смирнов', first_name='Пётр', user=user)
        father.children.new(student=school['students']['Глеб'],
            relation='father')
        father.save()
    return father


def read(client, url):
    """Return the page and whether it was the kept one (answered in
    KEPT_PAGE_QUERIES queries at most: a page rendered takes three times
    as many)"""
    with counted_queries() as queries:
        response = client.get(url)
    assert response.status_code == 200
    return text(response), len(queries) <= KEPT_PAGE_QUERIES


def rendered(client, url):
    "The page rendered anew, the kept pages left alone"
    from trytond import config
    config.set('school_diary', 'page_cache', 'False')
    try:
        response = client.get(url)
    finally:
        config.set('school_diary', 'page_cache', 'True')
    assert response.status_code == 200
    return text(response)


def two_families(school):
    """Sign in Анна's mother (5А) and Глеб's father (6А); return their
    clients and week addresses"""
    mother, father = new_client(), new_client()
    sign_in(mother, 'roditel')
    sign_in(father, 'otets')
    students = school['students']
    return (mother, BASE + '%s/week' % students['Анна'].id,
        father, BASE + '%s/week' % students['Глеб'].id)


def as_user(school, login, change):
    "Run change() through the client library as the user of the login"
    from trytond.tests.tools import set_user
    set_user(school['users'][login])
    try:
        return change()
    finally:
        set_user(1)


def new_lesson(school, teaching, date, number):
    "A lesson planned by the deputy head, as the timetable's changes are"
    from proteus import Model

    def plan():
        Lesson = Model.get('school.lesson')
        lesson = Lesson(teaching=Model.get('school.teaching')(
                school['teachings'][teaching].id), date=date, number=number)
        lesson.save()
        return lesson.id
    return as_user(school, 'zavuch', plan)


def test_mark_keeps_other_classes(school, father, page_cache):
    """A teacher's mark and absence in 5А show on the next page of a 5А
    parent, while the kept page of a 6А parent stays kept (and right)"""
    from proteus import Model

    from school_ejournal.tests.tools import task_type

    from ..diary_cache import SHARDS
    classes = school['classes']
    assert classes['5А'].id % SHARDS != classes['6А'].id % SHARDS
    today = dt.date.today()
    lesson_id = new_lesson(school, '5А math', today, 3)
    mother, url_a, father_, url_b = two_families(school)
    page_a, _ = read(mother, url_a)
    page_b, _ = read(father_, url_b)
    assert read(mother, url_a) == (page_a, True)
    assert read(father_, url_b) == (page_b, True)
    assert 'Decimals' not in page_a

    def mark():
        Lesson = Model.get('school.lesson')
        lesson = Lesson(lesson_id)
        lesson.click('hold')
        lesson.topic = 'Decimals'
        lesson.tasks.new(type=task_type('Д'))
        lesson.save()
        lines = {l.student.id: l for l in lesson.lines}
        lines[school['students']['Анна'].id].mark = '4'
        # An absence (with its notice to the parents in the outbox) too
        lines[school['students']['Вера'].id].attendance = 'absent'
        lesson.save()
    as_user(school, 'klass', mark)

    page, kept = read(mother, url_a)
    assert not kept
    assert 'Decimals' in page and re.search(r'>4<small>Д</small>', page)
    assert page == rendered(mother, url_a)
    # The other class's page: still the kept one, and still right
    assert read(father_, url_b) == (page_b, True)
    assert page_b == rendered(father_, url_b)


def test_lesson_moved_clears_both_classes(school, father, page_cache):
    """A lesson the deputy head moves from 5А to 6А leaves the kept page of
    the 5А parent and comes to that of the 6А parent"""
    from proteus import Model
    today = dt.date.today()
    # Tomorrow, or on Sunday Saturday: the week of today
    day = today + dt.timedelta(days=1 if today.weekday() < 6 else -1)
    lesson_id = new_lesson(school, '5А math', day, 5)
    mother, url_a, father_, url_b = two_families(school)
    page_a, _ = read(mother, url_a)
    page_b, _ = read(father_, url_b)
    assert read(mother, url_a) == (page_a, True)
    assert read(father_, url_b) == (page_b, True)

    def move():
        Lesson = Model.get('school.lesson')
        lesson = Lesson(lesson_id)
        lesson.teaching = Model.get('school.teaching')(
            school['teachings']['6А math'].id)
        lesson.save()
        assert lesson.class_.id == school['classes']['6А'].id
    as_user(school, 'zavuch', move)

    for client, url, before in [
            (mother, url_a, page_a), (father_, url_b, page_b)]:
        page, kept = read(client, url)
        assert not kept
        assert page != before
        assert page == rendered(client, url)
        assert read(client, url) == (page, True)


def test_subject_name_clears_all(school, father, page_cache):
    """A subject renamed by the school's administrator shows on the next
    page of every class's parents: every kept page is forgotten"""
    from proteus import Model
    mother, url_a, father_, url_b = two_families(school)
    page_a, _ = read(mother, url_a)
    page_b, _ = read(father_, url_b)
    assert read(mother, url_a) == (page_a, True)
    assert read(father_, url_b) == (page_b, True)

    def rename(name):
        Subject = Model.get('school.subject')
        math = Subject(school['subjects']['MATH'].id)
        before, math.name = math.name, name
        math.save()
        return before
    before = as_user(school, 'sysadmin', lambda: rename('Arithmetic'))
    try:
        for client, url in [(mother, url_a), (father_, url_b)]:
            page, kept = read(client, url)
            assert not kept
            assert page == rendered(client, url)
            assert 'Arithmetic' in page
    finally:
        as_user(school, 'sysadmin', lambda: rename(before))


def test_grid_save_keeps_other_classes(school, father, page_cache):
    """The grid page's save (what teachers do all day) of an absence in a
    5А lesson shows on the 5А parent's next page and leaves the 6А parent's
    page kept"""
    import json

    from proteus import Model
    from proteus.config import get_config
    lesson_id = new_lesson(school, '5А math', dt.date.today(), 4)
    anna = school['students']['Анна'].id
    mother, url_a, father_, url_b = two_families(school)

    def save(changes):
        Lesson = Model.get('school.lesson')
        return json.loads(Lesson.grid_save(lesson_id, changes,
                get_config().context))
    as_user(school, 'klass', lambda: save({'hold': True}))
    page_a, _ = read(mother, url_a)
    page_b, _ = read(father_, url_b)
    assert read(mother, url_a) == (page_a, True)
    assert read(father_, url_b) == (page_b, True)

    # One cell: Анна absent
    result = as_user(school, 'klass', lambda: save({
                'attendance': [[anna, 'absent']]}))
    assert result['partial'] and result['lesson']['id'] == lesson_id
    page, kept = read(mother, url_a)
    assert not kept
    assert page != page_a and page == rendered(mother, url_a)
    assert read(father_, url_b) == (page_b, True)


def test_family_follows_guardians(school, father, page_cache):
    """The students a parent's pages offer are kept with the pages: a child
    the administrator adds shows on the parent's next page, and once the
    link is taken away the child's address answers nothing at once"""
    from proteus import Model
    client = new_client()
    sign_in(client, 'otets')
    students = school['students']
    url_vera = BASE + '%s/week' % students['Вера'].id
    page, _ = read(client, BASE + '%s/week' % students['Глеб'].id)
    assert 'Вера' not in page
    assert client.get(url_vera).status_code == 404

    def link(add):
        Parent = Model.get('school.parent')
        parent = Parent(father.id)
        if add:
            parent.children.new(student=Model.get('school.student')(
                    students['Вера'].id), relation='father')
        else:
            parent.children.remove(next(c for c in parent.children
                    if c.student.id == students['Вера'].id))
        parent.save()
    as_user(school, 'sysadmin', lambda: link(True))
    try:
        page, kept = read(client, BASE + '%s/week' % students['Глеб'].id)
        assert not kept and 'Вера' in page
        assert read(client, url_vera)[0] == rendered(client, url_vera)
    finally:
        as_user(school, 'sysadmin', lambda: link(False))
    assert client.get(url_vera).status_code == 404
    page, _ = read(client, BASE + '%s/week' % students['Глеб'].id)
    assert 'Вера' not in page


def test_cell_keeps_other_children_and_weeks(school, page_cache):
    """A cell the teacher saves in the grid (Вера absent) shows on the next
    page of Вера's week, while the kept page of her classmate Анна and Вера's
    page of the week before stay kept, and right"""
    import json

    from proteus import Model
    from proteus.config import get_config

    from ..diary_cache import week_of, week_shard
    students = school['students']
    anna, vera = students['Анна'].id, students['Вера'].id
    today = dt.date.today()
    before = today - dt.timedelta(days=7)
    # Their pages are in other shards (or they could not stay kept)
    assert week_shard(week_of(vera, today)) not in {
        week_shard(week_of(anna, today)), week_shard(week_of(vera, before))}
    lesson_id = new_lesson(school, '5А math', today, 6)

    def save(changes):
        Lesson = Model.get('school.lesson')
        return json.loads(Lesson.grid_save(lesson_id, changes,
                get_config().context))
    as_user(school, 'klass', lambda: save({'hold': True}))
    client = new_client()
    sign_in(client, 'roditel')
    url_anna = BASE + '%s/week' % anna
    url_vera = BASE + '%s/week' % vera
    url_before = url_vera + '?date=' + before.isoformat()
    pages = {}
    for url in [url_anna, url_vera, url_before]:
        pages[url], _ = read(client, url)
        assert read(client, url) == (pages[url], True)

    result = as_user(school, 'klass', lambda: save({
                'attendance': [[vera, 'absent']]}))
    assert result['partial']
    page, kept = read(client, url_vera)
    assert not kept
    assert page != pages[url_vera] and page == rendered(client, url_vera)
    for url in [url_anna, url_before]:
        assert read(client, url) == (pages[url], True)
        assert pages[url] == rendered(client, url)

    # Taken back: the page as it was
    as_user(school, 'klass', lambda: save({'attendance': [[vera, '']]}))
    page, kept = read(client, url_vera)
    assert not kept and page == pages[url_vera]
