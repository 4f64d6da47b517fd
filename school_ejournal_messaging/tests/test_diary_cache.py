# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The kept week pages (diary_cache): the same bytes as a page rendered
anew, per session, and a teacher's change shows on the parent's next page.

The pages are read through trytond's WSGI application as the parent signed
in through the form; the teacher changes the lesson through the client
library as her own user (proteus, the same process: trytond clears the
cache when her transaction commits)."""
import re

import pytest
from werkzeug.test import Client

from trytond.protocols.wrappers import Response
from trytond.wsgi import app

from . import test_diary
from .test_diary import BASE, counted_queries, csrf_of, sign_in, text

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
