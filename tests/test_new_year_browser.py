# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The administrator opens the new school year in the web client.

A demo school is built as it stood on the last 20th of August (the year
just ended, setup/demo_school.py --today) and served at the machine's
date; ``admin`` runs «Открыть новый учебный год»: the preview, then the
confirmation.  The database then holds the next year, its classes and the
applied orders of transfer and of leaving.  Fails on the problems of the
smoke walk (JavaScript or console errors, failed requests, RPC errors,
English text).
"""
import datetime as dt
import os
import re
import time

import browser_support as bs
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="browser tests run once, in setup/test's SQLite pass (they "
    "serve their own SQLite demo database)")

STUDENTS = 40


def summer_day(today=None):
    "The last 20th of August: the demo school's year has just ended"
    today = today or dt.date.today()
    day = dt.date(today.year, 8, 20)
    return day if day <= today else dt.date(today.year - 1, 8, 20)


@pytest.fixture(scope='module')
def school():
    bs.require_browser()
    school = bs.DemoSchool(students=STUDENTS,
        demo_args=['--today', summer_day().isoformat()])
    with bs.serving(school, 'new year browser test'):
        yield school


@pytest.fixture(scope='module')
def browser(school):
    with bs.chromium() as browser:
        yield browser


@pytest.fixture
def watched_sao(browser, school):
    context = browser.new_context(locale='ru-RU',
        viewport={'width': 1400, 'height': 1000})
    context.set_default_timeout(30000)
    page = context.new_page()
    watch = bs.Watch(page)
    yield bs.Sao(page, school), watch
    context.close()


def _dialog(sao):
    dialog = sao.page.locator('.modal.in:visible').last
    dialog.wait_for(state='visible', timeout=15000)
    sao.wait_idle(quiet=0.5)
    return dialog


def _dialog_button(user, sao, text):
    user.click(_dialog(sao).locator('.modal-footer button').filter(
            has_text=re.compile('^\\s*%s\\s*$' % text)).first)


def _problems(watch):
    "The problems seen, but the time of the wizard's steps (printed)"
    problems = []
    for problem in watch.take():
        if (problem.startswith('slow request')
                and 'wizard.school.year.new.execute' in problem):
            print(problem)
        else:
            problems.append(problem)
    return problems


def test_admin_opens_new_year(watched_sao, school):
    "The administrator previews the new year, then opens it"
    (old_id, old_name, old_start), = school.query(
        'SELECT id, name, start_date FROM school_year '
        'ORDER BY start_date DESC LIMIT 1')
    old_classes = dict(school.query(
            'SELECT c.name, l.number FROM school_class c '
            'JOIN school_level l ON l.id = c.level WHERE c.year = ?',
            old_id))
    sao, watch = watched_sao
    sao.login('admin')
    user = bs.User(sao)
    page = sao.page
    sao.expand_menu(roots={'Школа'})
    user.click(page.locator('#menu table.tree > tbody > tr').filter(
            has=page.locator('.column-char', has_text=re.compile(
                    '^Открыть новый учебный год$'))).first)
    dialog = _dialog(sao)
    year = dialog.locator('input[name=from_year]')
    assert year.input_value() == old_name, year.input_value()
    user.type(dialog.locator('input[name=transfer_number]'), '45-у')
    user.type(dialog.locator('input[name=leaving_number]'), '46-о')
    _dialog_button(user, sao, 'Предпросмотр')
    summary = _dialog(sao).locator('textarea[name=summary]')
    summary.wait_for()
    text = summary.input_value()
    print(text)
    assert 'Приказ о переводе № 45-у' in text, text
    assert 'Классов:' in text, text
    (count,), = school.query('SELECT COUNT(*) FROM school_year')
    assert count == 1, 'the preview wrote a year'
    problems = _problems(watch)
    assert not problems, problems
    # Opening the year writes the whole school's next year in one request:
    # its time is printed, not judged
    start = time.monotonic()
    _dialog(sao).locator('.modal-footer button').filter(
        has_text=re.compile('^\\s*Открыть год\\s*$')).first.click()
    user.clicks += 1
    sao.wait_idle(quiet=1, timeout=600)
    seconds = time.monotonic() - start
    done = _dialog(sao).locator('textarea[name=summary]')
    done.wait_for()
    assert 'Приказ о переводе № 45-у' in done.input_value()
    _dialog_button(user, sao, 'Закрыть')
    problems = _problems(watch)
    assert not problems, problems

    # The same dates a year later
    (new_id, new_start), = school.query(
        'SELECT id, start_date FROM school_year WHERE start_date > ?',
        old_start)
    old_start = dt.date.fromisoformat(old_start)
    assert new_start == old_start.replace(
        year=old_start.year + 1).isoformat(), new_start
    new_classes = dict(school.query(
            'SELECT c.name, l.number FROM school_class c '
            'JOIN school_level l ON l.id = c.level WHERE c.year = ?',
            new_id))
    promoted = {n for n, level in old_classes.items()
        if level not in {9, 11}}
    assert len(new_classes) >= len(promoted), (old_classes, new_classes)
    assert all(level > 1 for level in new_classes.values()), new_classes
    orders = school.query(
        "SELECT number, kind, state FROM school_order "
        "WHERE number IN ('45-у', '46-о') ORDER BY number")
    assert ('45-у', 'transfer', 'done') in orders, orders
    (starting,), = school.query(
        'SELECT COUNT(*) FROM school_enrolment e JOIN school_class c '
        'ON c.id = e.class_ WHERE c.year = ? AND e.start_date = ?',
        new_id, new_start)
    (moved,), = school.query(
        "SELECT COUNT(*) FROM school_order_line l JOIN school_order o "
        "ON o.id = l.\"order\" WHERE o.number = '45-у'")
    assert starting == moved > 0, (starting, moved)
    print('new year: %d classes, %d students moved, opened in %.1f s '
        '(load %s), clicks %d, keys %d' % (len(new_classes), moved, seconds,
            ' '.join('%.1f' % l for l in os.getloadavg()), user.clicks,
            user.keys))
