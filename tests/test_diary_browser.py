# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The families' e-diary in a real browser at a phone's size (390 × 844).

A demo school (setup/demo_school.py) with the e-diary module activated is
served by trytond on a temporary SQLite database, as test_browser.py does;
Chromium (Playwright) signs in as the demo parent «roditel», switches
between her two children and reads the week, the homework for tomorrow,
the marks with their averages and the attendance, in Russian, without a
JavaScript error and without scrolling sideways.

Skipped in the PostgreSQL pass (it serves its own SQLite database); without
Chromium or Playwright it fails under CI=true and is skipped otherwise.
"""
import datetime as dt
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import browser_support as bs
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="browser tests run once, in setup/test's SQLite pass (they "
    "serve their own SQLite demo database)")

MODULES = ['school_ejournal', 'school_ejournal_messaging']
PHONE = {'width': 390, 'height': 844}
# Enough for one class per level and a parent of two (setup/demo_school.py)
DEMO_STUDENTS = 30


class DiarySchool(bs.DemoSchool):
    "The demo school with the e-diary module activated"

    def setup(self):
        # No web client needed: an empty page answers the readiness check
        www = self.tmp / 'www'
        www.mkdir()
        (www / 'index.html').write_text('<!DOCTYPE html><title>ok</title>')
        self.config.write_text(
            '[database]\nuri = sqlite://\npath = %s\n\n'
            '[web]\nroot = %s\nlisten = 127.0.0.1:%d\n\n'
            '[session]\nmax_attempt = 100\n' % (self.tmp, www, self.port),
            encoding='utf-8')
        self.db_path.touch()
        passfile = self.tmp / 'passfile'
        passfile.write_text(bs.PASSWORD + '\n')
        env = bs.clean_env(
            PYTHONOPTIMIZE='1', TRYTONPASSFILE=str(passfile))
        self._run('trytond-admin', [self.trytond_admin, '-c', self.config,
                '-d', self.database, '-u', *MODULES,
                '--activate-dependencies', '--email', 'admin@example.ru',
                '-l', 'ru'], env)
        self._run('demo_school', [sys.executable,
                bs.REPO / 'setup' / 'demo_school.py', '-c', self.config,
                '-d', self.database, '--students', str(self.students),
                '--password', bs.PASSWORD], env)
        self.start()

    @property
    def diary(self):
        return '%s%s/diary/' % (self.url, self.database)


@pytest.fixture(scope='module')
def diary_school():
    bs.require_browser(sao=False)
    school = DiarySchool(students=DEMO_STUDENTS)
    with bs.serving(school):
        yield school


@pytest.fixture
def phone(diary_school):
    shots = Path(os.environ.get('SCHOOL_BROWSER_SHOTS')
        or tempfile.mkdtemp(prefix='school-diary-shots-'))
    shots.mkdir(parents=True, exist_ok=True)
    with bs.chromium() as browser:
        context = browser.new_context(locale='ru-RU', viewport=PHONE,
            is_mobile=True, has_touch=True, device_scale_factor=2)
        context.set_default_timeout(30000)
        page = context.new_page()
        errors = []
        page.on('pageerror', lambda error: errors.append(str(error)))
        page.on('console', lambda message: errors.append(message.text)
            if message.type == 'error' else None)
        page.on('response', lambda response: errors.append(
                '%s %s' % (response.status, response.url))
            if response.status >= 400 else None)
        yield page, errors, shots
        context.close()


def _fits(page):
    "The page needs no sideways scrolling at the phone's width"
    width = page.evaluate('document.documentElement.scrollWidth')
    assert width <= PHONE['width'], 'the page is %s px wide' % width


def test_parent_reads_diary_on_phone(diary_school, phone):
    "The parent signs in, switches child, reads week, marks, attendance"
    page, errors, shots = phone
    children = diary_school.children('roditel')
    assert len(children) == 2, children
    start = time.monotonic()

    page.goto(diary_school.diary)
    assert page.locator('h1').inner_text() == 'Вход в электронный дневник'
    _fits(page)
    page.fill('#login', 'roditel')
    page.fill('#password', bs.PASSWORD)
    page.click('form.login button')
    page.wait_for_url(re.compile(r'/diary/\d+/week$'))
    page.screenshot(path=str(shots / 'diary-week.png'), full_page=True)

    # The week of the first child, homework for the next school day on top
    due = page.locator('section.due h2').inner_text()
    assert due.startswith('Домашнее задание на'), due
    assert page.locator('section.day').count() >= 5
    assert page.locator('nav.children a').count() == 2
    first = page.locator('nav.children a.current').inner_text()
    _fits(page)

    # Last week: held lessons with topics and marks
    page.click('a[rel=prev]')
    page.wait_for_load_state()
    assert page.locator('p.topic').count() > 0
    assert 'Тема:' in page.locator('p.topic').first.inner_text()
    assert page.locator('article.lesson').count() > 5
    _fits(page)

    # Switch to the other child
    other = page.locator('nav.children a:not(.current)')
    name = other.inner_text()
    assert name != first
    other.click()
    page.wait_for_load_state()
    assert page.locator('nav.children a.current').inner_text() == name
    assert name in page.locator('p.who').inner_text()

    # Marks with the weighted averages and a trend chart
    page.click('nav.tabs a:has-text("Оценки")')
    page.wait_for_url(re.compile(r'/marks$'))
    page.screenshot(path=str(shots / 'diary-marks.png'), full_page=True)
    averages = page.locator('.average strong').all_inner_texts()
    assert averages, page.content()[:2000]
    assert any(re.fullmatch(r'[1-5],\d\d', a) for a in averages), averages
    assert page.locator('svg.trend').count() > 0
    _fits(page)

    # Attendance counts
    page.click('nav.tabs a:has-text("Посещаемость")')
    page.wait_for_url(re.compile(r'/attendance$'))
    page.screenshot(path=str(shots / 'diary-attendance.png'), full_page=True)
    assert 'Всего' in page.locator('table.attendance tfoot').inner_text()
    _fits(page)

    # Grades, then sign out
    page.click('nav.tabs a:has-text("Итоговые")')
    page.wait_for_url(re.compile(r'/grades$'))
    page.click('header.top button')
    page.wait_for_load_state()
    assert 'Вы вышли из дневника.' in page.locator('p.message').inner_text()
    page.goto(diary_school.diary)
    assert page.locator('form.login').count() == 1

    assert not errors, errors
    print('e-diary walk: %.1f s, screenshots in %s' % (
            time.monotonic() - start, shots))


SCRIPT = '<script>alert("x")</script>'


def _sign_in(page, diary_school, login):
    page.goto(diary_school.diary + 'login')
    page.fill('#login', login)
    page.fill('#password', bs.PASSWORD)
    page.click('form.login button')
    page.wait_for_url(re.compile(r'/diary/(\d+/week)?$'))


def _sign_out(page):
    page.click('header.top button')
    page.wait_for_load_state()


def _student_id(page):
    return int(re.search(r'/diary/(\d+)/', page.url).group(1))


def _expected_404(errors):
    "Drop the 404 answers the test asked for from the errors"
    errors[:] = [e for e in errors if not e.startswith('404 ')
        and 'status of 404' not in e]


def test_family_messages_on_phone(diary_school, phone):
    """A student writes nothing but messages; the parent replies to the
    class teacher; scripts in homework and messages show as text; another
    child's or family's thread id answers 404 in every new address"""
    page, errors, shots = phone
    dialogs = []
    page.on('dialog', lambda dialog: (dialogs.append(dialog.message),
            dialog.dismiss()))

    # The student: only the messages page has a form besides signing out
    _sign_in(page, diary_school, 'uchenik')
    student = _student_id(page)
    for tab in ['week', 'marks', 'attendance', 'grades', 'class']:
        page.goto('%s%s/%s' % (diary_school.diary, student, tab))
        assert page.locator('main form').count() == 0, tab
        csrf = page.locator('input[name=csrf]').first.input_value()
        response = page.request.post(
            '%s%s/%s' % (diary_school.diary, student, tab),
            form={'csrf': csrf, 'topic': 'x', 'mark': '5'})
        assert response.status == 405, tab
    page.click('nav.tabs a:has-text("Сообщения")')
    page.wait_for_url(re.compile(r'/messages$'))
    assert page.locator('main form').count() == 1
    page.fill('#subject', 'Проект по истории')
    page.fill('#body', 'Можно сдать проект в понедельник?')
    page.click('form.message button')
    page.wait_for_url(re.compile(r'/messages/\d+$'))
    student_thread = int(page.url.rsplit('/', 1)[1])
    assert page.locator('article.message').count() == 1
    _fits(page)
    _sign_out(page)
    errors[:] = [e for e in errors if not e.startswith('405 ')]

    # The parent
    _sign_in(page, diary_school, 'roditel')
    child = _student_id(page)
    other = int(re.search(r'/diary/(\d+)/', page.locator(
                'nav.children a:not(.current)').get_attribute('href')
            ).group(1))
    # A script in a homework text of this week shows as text
    (class_id,), = diary_school.query(
        'SELECT class_ FROM school_enrolment WHERE student = ? '
        'ORDER BY start_date DESC LIMIT 1', child)
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    lessons = diary_school.query(
        'SELECT id FROM school_lesson WHERE class_ = ? AND date >= ? '
        'AND date <= ? ORDER BY date, number LIMIT 1', class_id,
        monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat())
    if lessons:
        with sqlite3.connect(diary_school.db_path) as conn:
            conn.execute('UPDATE school_lesson SET homework = ? '
                'WHERE id = ?', (SCRIPT + ' Упр. 5', lessons[0][0]))
        page.reload()
        texts = page.locator('p.homework .text').all_inner_texts()
        assert any(SCRIPT in t for t in texts), texts

    # Write to the class teacher, then reply in the thread
    page.click('nav.tabs a:has-text("Сообщения")')
    page.wait_for_url(re.compile(r'/messages$'))
    page.fill('#subject', 'Вопрос о домашнем задании')
    page.fill('#body', 'Здравствуйте! ' + SCRIPT)
    page.click('form.message button')
    page.wait_for_url(re.compile(r'/messages/\d+$'))
    thread = int(page.url.rsplit('/', 1)[1])
    assert SCRIPT in page.locator('article.message .text').inner_text()
    page.fill('#body', 'И ещё: когда родительское собрание?')
    page.click('form.reply button')
    page.wait_for_url(re.compile(r'/messages/%s$' % thread))
    assert page.locator('article.message').count() == 2
    assert 'собрание' in page.locator(
        'article.message .text').last.inner_text()
    page.screenshot(path=str(shots / 'diary-thread.png'), full_page=True)
    _fits(page)
    page.click('p.back a')
    page.wait_for_url(re.compile(r'/messages$'))
    assert 'Вопрос о домашнем задании' in page.locator(
        'ul.threads').inner_text()

    # Another child's or family's thread: 404 everywhere, nothing written
    csrf = page.locator('input[name=csrf]').first.input_value()
    before = diary_school.query('SELECT count(*) FROM school_message')
    for owner, thread_id in [
            (other, thread), (child, student_thread),
            (student, student_thread), (child, 999999)]:
        url = '%s%s/messages/%s' % (diary_school.diary, owner, thread_id)
        assert page.goto(url).status == 404, url
        assert page.goto(url + '/files/1').status == 404, url
        assert page.request.post(url, form={
                'csrf': csrf, 'body': 'x'}).status == 404, url
    for address in ['messages', 'class']:
        url = '%s%s/%s' % (diary_school.diary, student, address)
        assert page.goto(url).status == 404, url
    assert page.request.post('%s%s/messages' % (diary_school.diary, student),
        form={'csrf': csrf, 'subject': 'x', 'body': 'x'}).status == 404
    assert diary_school.query('SELECT count(*) FROM school_message') == before
    _expected_404(errors)

    # The class page
    page.goto('%s%s/class' % (diary_school.diary, child))
    assert page.locator('section.events h2').first.inner_text() == (
        'Ближайшие мероприятия')
    _fits(page)

    assert not dialogs, dialogs
    assert not errors, errors


def test_parent_opens_letter_on_phone(diary_school, phone):
    """The parent opens «Письма» of a child and the information letter
    (the PDF read back with pypdf); the student and the other child's pages
    have no such letter (404)"""
    import io

    from pypdf import PdfReader

    page, errors, shots = phone
    _sign_in(page, diary_school, 'roditel')
    child = _student_id(page)
    other = int(re.search(r'/diary/(\d+)/', page.locator(
                'nav.children a:not(.current)').get_attribute('href')
            ).group(1))
    page.click('nav.tabs a:has-text("Письма")')
    page.wait_for_url(re.compile(r'/%s/letters$' % child))
    page.screenshot(path=str(shots / 'diary-letters.png'), full_page=True)
    assert page.locator('h2#letters-title').inner_text() == (
        'Информационные письма')
    link = page.locator('ul.letters a').first
    assert 'PDF' in link.inner_text()
    _fits(page)
    href = link.get_attribute('href')
    letter = int(re.search(r'/letters/(\d+)\.pdf$', href).group(1))
    # Opened as the link is followed (a PDF viewer is not headless)
    response = page.request.get(diary_school.url.rstrip('/') + href)
    assert response.status == 200
    assert response.headers['content-type'] == 'application/pdf'
    reader = PdfReader(io.BytesIO(response.body()))
    text = ' '.join(' '.join(
            p.extract_text() for p in reader.pages).split())
    assert 'письмо' in text.lower(), text
    assert 'Старается на уроках.' in text, text

    # The letter under the other child's address, or for the student: 404
    url = '%s%s/letters/%s.pdf' % (diary_school.diary, other, letter)
    assert page.request.get(url).status == 404
    _sign_out(page)
    _sign_in(page, diary_school, 'uchenik')
    student = _student_id(page)
    assert page.locator('nav.tabs a:has-text("Письма")').count() == 0
    for url in ['%s%s/letters' % (diary_school.diary, student),
            '%s%s/letters/%s.pdf' % (diary_school.diary, child, letter)]:
        assert page.goto(url).status == 404, url
    _expected_404(errors)
    assert not errors, errors
