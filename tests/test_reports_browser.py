# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The academic deputy's analysis in the web client, in a real browser.

A demo school with school_ejournal_reports activated (its own SQLite
database, served by trytond with sao, driven by Debian's Chromium through
Playwright, as tests/test_browser.py): zavuch runs the analysis of the
month from the menu, opens a remark, and prints the analysis as PDF from
its run; no JavaScript error, failed request or RPC error on the way.
In setup/test it runs in the SQLite pass only.
"""
import io
import os
import re
import time

import browser_support as bs
import pypdf
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="browser tests run once, in setup/test's SQLite pass (they "
    "serve their own SQLite demo database)")

MODULE = 'school_ejournal_reports'
STUDENTS = 60


@pytest.fixture(scope='module')
def school():
    bs.require_browser()
    school = bs.DemoSchool(students=STUDENTS, module=MODULE)
    with bs.serving(school, 'reports browser test'):
        yield school


@pytest.fixture(scope='module')
def browser(school):
    with bs.chromium() as browser:
        yield browser


@pytest.fixture
def watched_sao(browser, school):
    context = browser.new_context(locale='ru-RU', accept_downloads=True,
        viewport={'width': 1400, 'height': 1000})
    context.set_default_timeout(30000)
    page = context.new_page()
    watch = bs.Watch(page)
    yield bs.Sao(page, school), watch
    context.close()


def _menu(sao, user, label):
    "Click the menu entry of «Школа» labelled label"
    page = sao.page
    sao.expand_menu(roots={'Школа'})
    menu = page.locator('#menu table.tree > tbody > tr')
    user.click(menu.filter(has=page.locator(
                '.column-char', has_text=re.compile('^%s$' % label))).first)


def _open_first(sao, user):
    "Open the first record of the list in its form, as the smoke walk does"
    pane = user.pane()
    rows = pane.locator('.treeview table.tree > tbody > tr:visible')
    rows.first.wait_for()
    checkbox = rows.first.locator('td.selection-state input')
    if checkbox.count():
        checkbox.check()
    else:
        user.click(rows.first.locator('td').last)
    user.click(pane.locator('nav.toolbar button#switch_'))
    pane.locator('.form:visible').first.wait_for(timeout=15000)
    sao.wait_idle(quiet=1)
    return pane


def test_deputy_runs_analysis_and_prints(watched_sao, school):
    sao, watch = watched_sao
    page = sao.page
    methods = []
    page.on('request', lambda r: methods.append(bs.Watch._method(r))
        if '/rpc/' in r.url else None)
    sao.login('zavuch')
    user = bs.User(sao)

    # The wizard: the month's analysis of the whole school up to today
    _menu(sao, user, 'Провести анализ')
    dialog = page.locator('.modal.in:visible').last
    dialog.wait_for(state='visible', timeout=15000)
    user.select(dialog.locator('select[name=window]'), 'Месяц')
    user.click(dialog.locator('.modal-footer button').filter(
            has_text='Анализ'))
    sao.wait_idle(quiet=1.5)
    problems = watch.take()
    assert not problems, problems
    (run_id, state), = school.query(
        'SELECT id, state FROM school_audit_run ORDER BY id DESC LIMIT 1')
    assert state == 'done'
    (remarks,), = school.query(
        'SELECT COUNT(*) FROM school_audit_remark WHERE last_run = ?',
        run_id)
    print('zavuch: analysis of the month raised %d remarks' % remarks)
    assert remarks, 'the demo school gave no remark'

    # The remarks of the run are listed; the first opens in its form
    pane = _open_first(sao, user)
    assert pane.locator('[name=comment]').count()
    problems = watch.take()
    assert not problems, problems

    # The run, printed as PDF from its form
    _menu(sao, user, 'Анализы журналов')
    pane = _open_first(sao, user)
    user.click(pane.locator('nav.toolbar button#print'))
    entry = pane.locator('ul.dropdown-menu a[role=menuitem]').filter(
        has_text='(PDF)').first
    start = time.monotonic()
    with page.expect_download(timeout=60000) as download:
        user.click(entry)
    path = download.value.path()
    print('zavuch: the analysis PDF came in %.1f s (load average %s)' % (
            time.monotonic() - start,
            ' '.join('%.1f' % v for v in os.getloadavg())))
    with open(path, 'rb') as pdf:
        content = pdf.read()
    sao.wait_idle(quiet=1)
    # The PDF is timed and shown, not judged by the 5 s of the other
    # requests: 15.6 s seen on a shared machine (load 7 on 2 cores); about
    # 2.7 s of CPU, nine tenths weasyprint's layout of the remarks table,
    # plus its import in the first PDF of the server (now at the server's
    # start): bench/audit_pdf.py
    problems = watch.take()
    slow = [p for p in problems if p.startswith('slow request')
        and 'report.school.audit.report.execute' in p]
    if slow:
        print('zavuch: %s' % slow[0])
    problems = [p for p in problems if p not in slow]
    assert not problems, problems
    assert 'report.school.audit.report.execute' in methods, methods
    text = ' '.join(p.extract_text() for p in pypdf.PdfReader(
            io.BytesIO(content)).pages)
    assert 'Анализ' in text, text[:500]
