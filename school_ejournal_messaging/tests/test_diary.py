# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The e-diary's routes through trytond's WSGI application: signing in and
out, throttling, sessions, CSRF, and what a parent and a student read.

One school (school_ejournal.tests.tools.create_journal_school) is built for
the whole module with proteus; each test talks HTTP to trytond.wsgi.app
with werkzeug's test client, as a browser would.
"""
import datetime as dt
import re
import time
from contextlib import contextmanager

import pytest
import time_machine
from werkzeug.test import Client

from school_ejournal.tests.clock import travel
from trytond.protocols.wrappers import Response
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.wsgi import app

PASSWORD = 'Diary-secret-2026'
# The most SQL queries a week page may run, however many lessons, marks and
# children (doc/diary.rst says it to the school)
WEEK_PAGE_QUERIES = 11
BASE = '/%s/diary/' % DB_NAME
SCRIPT = '<script>alert("x")</script> No. 5'


@pytest.fixture(scope='module')
def school():
    from proteus import Model

    from school_ejournal.tests.tools import create_journal_school, task_type
    from trytond.tests.tools import activate_modules, set_user

    with travel():
        config = activate_modules('school_ejournal_messaging')
        school = create_journal_school(config=config)
        users, students = school['users'], school['students']
        teachings = school['teachings']
        User = Model.get('res.user')
        Guardian = Model.get('school.student.guardian')
        Lesson = Model.get('school.lesson')
        for login in ['roditel', 'uchenik', 'klass', 'uchitel']:
            user = User(users[login].id)
            user.password = PASSWORD
            user.save()
        # Анна's mother has a second child at the school: Вера
        Guardian(parent=school['mother'], student=students['Вера'],
            relation='mother').save()

        today = dt.date.today()
        day = dt.timedelta(days=1)
        set_user(users['zavuch'])
        math = Lesson(teaching=teachings['5А math'], date=today, number=2)
        math.save()
        english = Lesson(teaching=teachings['5А English 1'], date=today,
            number=1)
        english.save()
        tomorrow = Lesson(teaching=teachings['5А math'], date=today + day,
            number=2)
        tomorrow.save()

        set_user(users['klass'])
        math = Lesson(math.id)
        math.click('hold')
        math.topic = 'Common fractions'
        math.homework = SCRIPT
        math.homework_due = today + day
        math.tasks.new(type=task_type('О'))
        math.tasks.new(type=task_type('К'))
        math.save()
        lines = {l.student.id: l for l in math.lines}
        lines[students['Анна'].id].mark = '5'
        lines[students['Анна'].id].mark_2 = '3'
        lines[students['Вера'].id].mark = '4'
        lines[students['Борис'].id].attendance = 'absent'
        math.save()

        set_user(users['anglichanka'])
        english = Lesson(english.id)
        english.click('hold')
        english.topic = 'Present Simple'
        english.save()
        lines = {l.student.id: l for l in english.lines}
        lines[students['Анна'].id].attendance = 'ill'
        english.save()
        set_user(1)
        yield school
    drop_db()


@pytest.fixture
def client(school):
    return Client(app, Response)


def csrf_of(response):
    match = re.search(r'name="csrf" value="([^"]+)"', response.get_data(
            as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def sign_in(client, login, password=PASSWORD):
    form = client.get(BASE + 'login')
    assert form.status_code == 200
    return client.post(BASE + 'login', data={
            'login': login, 'password': password,
            'csrf': csrf_of(form)})


def text(response):
    return response.get_data(as_text=True)


def test_sign_in_opens_first_child(client, school):
    "A parent signs in and lands on a child's week"
    response = sign_in(client, 'roditel')
    assert response.status_code == 303
    cookie = response.headers.getlist('Set-Cookie')
    session = next(c for c in cookie if c.startswith('school_diary='))
    assert 'Secure' in session and 'HttpOnly' in session
    assert 'SameSite=Strict' in session
    assert 'Path=%s' % BASE in session
    home = client.get(BASE)
    assert home.status_code == 303
    anna = school['students']['Анна']
    assert home.headers['Location'].endswith('/diary/%s/week' % anna.id)


def test_pages_carry_security_headers(client):
    "Every page has a Content-Security-Policy and is not cached"
    response = client.get(BASE + 'login')
    policy = response.headers['Content-Security-Policy']
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers['Cache-Control'] == 'no-store'
    assert '<script' not in text(response)


def test_week_of_a_child(client, school):
    "The week shows topic, homework, marks with types and absences"
    students = school['students']
    sign_in(client, 'roditel')
    response = client.get(BASE + '%s/week' % students['Анна'].id)
    assert response.status_code == 200
    page = text(response)
    assert 'Common fractions' in page
    assert 'Present Simple' in page
    assert 'Absent: ill' in page
    # Both marks with their task types
    assert re.search(r'>5<small>О</small>', page)
    assert re.search(r'>3<small>К</small>', page)
    # Homework for tomorrow at the top, before the week's days
    due = page.index('Homework for')
    assert due < page.index('Common fractions')
    # The children to switch between: Анна and Вера, not Борис
    assert '>Вера</a>' in page
    assert 'Борис' not in page


@contextmanager
def counted_queries():
    "Collect the SQL queries run, at the database backend's cursor"
    from trytond import backend
    if backend.name == 'postgresql':
        from trytond.backend.postgresql import database
        Cursor = database.LoggingCursor
    else:
        from trytond.backend.sqlite import database
        Cursor = database.SQLiteCursor
    queries = []
    execute = Cursor.execute

    def counting(self, query, *args, **kwargs):
        queries.append(str(query))
        return execute(self, query, *args, **kwargs)
    Cursor.execute = counting
    try:
        yield queries
    finally:
        Cursor.execute = execute


def test_week_page_query_count(client, school):
    """The week page reads the session, the family and the journal in at
    most WEEK_PAGE_QUERIES queries: the same for a week with lessons,
    marks and absences as for an empty one"""
    students = school['students']
    sign_in(client, 'roditel')
    url = BASE + '%s/week' % students['Анна'].id
    # The first page reads the parent's school scope, kept afterwards
    assert client.get(url).status_code == 200
    counts = {}
    for week in ['', '?date=2026-08-03']:
        with counted_queries() as queries:
            response = client.get(url + week)
        assert response.status_code == 200
        assert 'class="weeks"' in text(response)
        counts[week] = len(queries)
        assert len(queries) <= WEEK_PAGE_QUERIES, '\n'.join(queries)
    print('week page queries: %s' % counts)


def test_homework_script_shown_as_text(client, school):
    "A script in a homework is escaped, never run"
    sign_in(client, 'roditel')
    page = text(client.get(
            BASE + '%s/week' % school['students']['Анна'].id))
    assert '<script>' not in page
    assert '&lt;script&gt;alert("x")&lt;/script&gt; No. 5' in page


def test_switch_child(client, school):
    "The mother switches to Вера and reads her marks only"
    students = school['students']
    sign_in(client, 'roditel')
    page = text(client.get(BASE + '%s/week' % students['Вера'].id))
    assert 'Смирнова Вера' in page
    assert re.search(r'>4<small>О</small>', page)
    assert '<small>К</small>' not in page
    assert 'Present Simple' not in page     # not in Вера's subgroup


def test_other_child_not_found(client, school):
    "Another child's id in any address answers 404"
    students = school['students']
    sign_in(client, 'roditel')
    for name in ['Борис', 'Глеб']:
        for page in ['week', 'marks', 'attendance', 'grades']:
            response = client.get(BASE + '%s/%s' % (
                    students[name].id, page))
            assert response.status_code == 404, (name, page)
            assert students[name].first_name not in text(response)
    assert client.get(BASE + '999999/week').status_code == 404


def test_marks_and_averages(client, school):
    "Marks by subject with the weighted average of the query layer"
    students = school['students']
    sign_in(client, 'roditel')
    response = client.get(BASE + '%s/marks' % students['Анна'].id)
    assert response.status_code == 200
    page = text(response)
    # О weighs 1, К weighs 2 (school_ejournal's task types): (5 + 2·3) / 3
    assert '3,67' in page
    assert '<svg' in page
    other = school['periods'][1]
    page = text(client.get(BASE + '%s/marks?period=%s' % (
                students['Анна'].id, other.id)))
    assert 'No marks in this period.' in page
    assert client.get(BASE + '%s/marks?period=x' % (
            students['Анна'].id)).status_code == 404


def test_attendance_counts(client, school):
    "Attendance counts lessons held and missed by reason"
    students = school['students']
    sign_in(client, 'roditel')
    page = text(client.get(BASE + '%s/attendance' % students['Анна'].id))
    total = re.search(r'<tfoot>(.*?)</tfoot>', page, re.S).group(1)
    assert re.findall(r'<td>(\d+)</td>', total) == ['2', '0', '1', '0', '0']


def test_grades_page(client, school):
    "The grades page opens without grades yet"
    sign_in(client, 'roditel')
    response = client.get(
        BASE + '%s/grades' % school['students']['Анна'].id)
    assert response.status_code == 200
    assert 'No grades yet this year.' in text(response)


def test_student_reads_own_diary_only(client, school):
    "The student reads her own diary, nobody else's, and cannot post"
    students = school['students']
    response = sign_in(client, 'uchenik')
    assert response.status_code == 303
    page = text(client.get(BASE + '%s/week' % students['Анна'].id))
    assert 'Common fractions' in page
    assert 'class="children"' not in page
    assert client.get(
        BASE + '%s/week' % students['Вера'].id).status_code == 404
    assert client.post(BASE + '%s/week' % students['Анна'].id,
        data={'topic': 'x'}).status_code == 405


def test_staff_sees_no_child(client, school):
    "A teacher signing in finds no student linked to the login"
    sign_in(client, 'klass')
    response = client.get(BASE)
    assert response.status_code == 200
    assert 'No student is linked to this login.' in text(response)
    assert client.get(BASE + '%s/week' % school['students']['Анна'].id
        ).status_code == 404


def test_wrong_password_then_throttled(client, school):
    """A wrong password answers 401; a new try before the wait is over is
    refused at once (429), even with the right password"""
    # The school's clock stands still: the wait of one second is not over
    # however slow the machine
    with time_machine.travel(dt.datetime.now(dt.timezone.utc), tick=False):
        response = sign_in(client, 'uchitel', 'wrong')
        assert response.status_code == 401
        assert 'Wrong login or password.' in text(response)
        start = time.monotonic()
        response = sign_in(client, 'uchitel', 'wrong')
        assert response.status_code == 429
        assert 'Too many failed sign-ins' in text(response)
        response = sign_in(client, 'uchitel')
        assert response.status_code == 429
        # Refused without waiting in the server
        assert time.monotonic() - start < 5
    assert 'school_diary=' not in ' '.join(
        response.headers.getlist('Set-Cookie'))


def test_unknown_login(client):
    "An unknown login is told apart from nothing"
    response = sign_in(client, 'nobody', 'x')
    assert response.status_code == 401
    assert 'Wrong login or password.' in text(response)


def test_csrf_refused(client, school):
    "A sign-in or sign-out without the form's token is refused"
    response = client.post(BASE + 'login', data={
            'login': 'roditel', 'password': PASSWORD, 'csrf': 'forged'})
    assert response.status_code == 403
    assert 'school_diary=' not in ' '.join(
        response.headers.getlist('Set-Cookie'))
    sign_in(client, 'roditel')
    response = client.post(BASE + 'logout', data={'csrf': 'forged'})
    assert response.status_code == 403
    # Still signed in
    assert client.get(BASE).headers['Location'].endswith('/week')


def test_sign_out(client, school):
    "Signing out ends the session on the server"
    sign_in(client, 'roditel')
    anna = school['students']['Анна']
    page = client.get(BASE + '%s/week' % anna.id)
    response = client.post(BASE + 'logout', data={'csrf': csrf_of(page)})
    assert response.status_code == 200
    assert 'You have signed out.' in text(response)
    response = client.get(BASE + '%s/week' % anna.id)
    assert response.status_code == 303
    assert response.headers['Location'].endswith('/diary/login')


def test_expired_session(client, school):
    "A session unused for longer than its timeout asks to sign in again"
    sign_in(client, 'roditel')
    anna = school['students']['Анна']
    with time_machine.travel(
            dt.datetime.now() + dt.timedelta(hours=1), tick=True):
        response = client.get(BASE + '%s/week' % anna.id)
    assert response.status_code == 303
    assert response.headers['Location'].endswith('/diary/login?expired=1')
    assert 'Common fractions' not in text(response)
    response = client.get(response.headers['Location'])
    assert 'Your session has expired.' in text(response)
    # The cookie is gone: the next visit is a plain sign-in
    response = client.get(BASE + '%s/week' % anna.id)
    assert response.headers['Location'].endswith('/diary/login')


def test_forged_cookie(client, school):
    "A made-up session cookie opens nothing"
    client.set_cookie('school_diary', 'made-up', path=BASE)
    response = client.get(BASE + '%s/week' % school['students']['Анна'].id)
    assert response.status_code == 303
    assert 'Common fractions' not in text(response)


def test_stylesheet(client):
    response = client.get(BASE + 'diary.css')
    assert response.status_code == 200
    assert response.mimetype == 'text/css'
    response = client.get(BASE + 'favicon.svg')
    assert response.mimetype == 'image/svg+xml'
    assert client.get(BASE + 'routes.py').status_code in {404, 405}
