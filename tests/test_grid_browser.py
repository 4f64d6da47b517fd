# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The teacher's class journal grid in Chromium, as the teacher.

A demo school (setup/demo_school.py, as tests/test_browser.py builds it) is
served by trytond with the web client; the teacher signs in to the web
client, opens «Журнал класса» from its menu (a new tab using the same
session) and fills today's lesson from the keyboard alone (keystrokes
counted and printed), then reloads and sees every value.  A mark after the
checking norm is refused at its cell with the server's message; a second
tab's save on stale data is refused; a subgroup's grid lists only its
students; a parent or a student signed in gets nothing.

In setup/test's SQLite pass only (it serves its own SQLite database).
"""
import datetime as dt
import os

import browser_support as bs
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="browser tests run once, in setup/test's SQLite pass (they "
    "serve their own SQLite demo database)")

TABLET = {'width': 1024, 'height': 768}
RUSSIAN_KEYS = {'н': 'KeyY', 'б': 'Comma', 'у': 'KeyE', 'п': 'KeyG',
    'о': 'KeyJ', 'з': 'KeyP'}
CURSOR_CLASS = """() => {
    const at = window.schoolGrid.cursor();
    const td = document.querySelector(
        `td[data-row="${at.row}"][data-col="${at.col}"]`);
    return td ? td.className : '';
}"""


@pytest.fixture(scope='module')
def school():
    bs.require_browser()
    school = bs.DemoSchool()
    with bs.serving(school):
        yield school


@pytest.fixture(scope='module')
def browser(school):
    with bs.chromium() as browser:
        yield browser


@pytest.fixture
def context(browser):
    context = browser.new_context(locale='ru-RU', viewport=TABLET)
    context.set_default_timeout(30000)
    errors = []
    context.on('page', lambda page: watch(page, errors))
    yield context, errors
    context.close()


def watch(page, errors):
    "Collect JavaScript errors and failed requests (sao's bus left out)"
    page.on('pageerror', lambda error: errors.append(str(error)))
    page.on('console', lambda message: errors.append(message.text)
        if message.type == 'error'
        and not message.text.startswith('Failed to load resource')
        else None)
    page.on('response', lambda response: errors.append('HTTP %s %s' % (
                response.status, response.url))
        if response.status >= 400
        and not response.url.rstrip('/').endswith('/bus') else None)


class Keys:
    "The keyboard of the grid's page, counting what is pressed"

    def __init__(self, page):
        self.page = page
        self.count = 0
        self.log = []

    def press(self, key, times=1):
        for _ in range(times):
            self.page.keyboard.press(key)
            self.count += 1
        self.log.append(key if times == 1 else '%s×%d' % (key, times))

    def letter(self, char):
        """Press the key of a Russian letter (ЙЦУКЕН), as a teacher does in
        either layout (Playwright types no Cyrillic key events)"""
        self.page.keyboard.press(RUSSIAN_KEYS[char])
        self.count += 1
        self.log.append(char)

    def type(self, text):
        self.page.keyboard.type(text)
        self.count += len(text)
        self.log.append(repr(text))


def grid_url(school, teaching=None):
    url = '%s%s/school/grid' % (school.url, school.database)
    return url + ('?teaching=%s' % teaching if teaching else '')


def wait_grid(page):
    page.wait_for_function(
        '() => window.schoolGrid && window.schoolGrid.loaded() && '
        "document.querySelector('#grid tbody tr')")


def wait_saved(page, timeout=30000):
    page.wait_for_function('() => !window.schoolGrid.busy()',
        timeout=timeout)


def sign_in(context, school, login):
    "Sign in to the web client (its session cookie) and return a new tab"
    page = context.new_page()
    bs.Sao(page, school).login(login)
    return context.new_page()


def todays_lesson(school):
    "A planned lesson of today of a whole class of 8 or more, with marks"
    today = dt.date.today().isoformat()
    rows = school.query(
        'SELECT l.id, l.teaching, u.login FROM school_lesson l '
        'JOIN res_user u ON u.employee = l.teacher '
        'JOIN school_class c ON c.id = l.class_ '
        'JOIN school_level v ON v.id = c.level '
        "WHERE l.date = ? AND l.state = 'planned' AND l.subgroup IS NULL "
        'AND v.marks AND u.active AND ('
        '  SELECT COUNT(*) FROM school_enrolment e WHERE e.class_ = c.id '
        '  AND e.start_date <= ? '
        '  AND (e.end_date IS NULL OR e.end_date >= ?)) >= 8 '
        "ORDER BY u.login != 'uchitel', u.login, l.number",
        today, today, today)
    if not rows:
        pytest.skip('no lesson today in the demo school (a day off, a '
            'holiday or the summer): nothing to fill')
    return rows[0]


def open_from_menu(context, school, login):
    "Sign in to the web client and open «Журнал класса» from its menu"
    page = context.new_page()
    sao = bs.Sao(page, school)
    sao.login(login)
    paths = sao.expand_menu()
    path = next((p for p in paths if p[-1] == 'Журнал класса'), None)
    assert path, paths
    with context.expect_page() as opened:
        page.locator('#menu table.tree > tbody > tr').nth(
            paths.index(path)).locator('.column-char').click()
    grid = opened.value
    grid.wait_for_load_state()
    return sao, grid


def test_teacher_fills_lesson_by_keyboard(context, school):
    """From the web client's menu, the teacher fills today's lesson from the
    keyboard: topic, homework, a task, 3 absences and 5 marks; the reload
    shows every value"""
    context, errors = context
    lesson_id, teaching_id, login = todays_lesson(school)
    sao, page = open_from_menu(context, school, login)
    assert page.url.startswith(grid_url(school))
    clicks = 0
    page.select_option('#teaching', str(teaching_id))
    clicks += 1
    wait_grid(page)
    page.locator('#teaching').blur()
    keys = Keys(page)
    column = page.evaluate('id => window.schoolGrid.column(id)', lesson_id)
    assert column >= 0
    at = page.evaluate('() => window.schoolGrid.cursor()')
    if column != at['col']:
        keys.press('ArrowRight' if column > at['col'] else 'ArrowLeft',
            abs(column - at['col']))
    # The column's head: topic, homework and a task of type «С»
    keys.press('ArrowUp')
    keys.press('Enter')
    page.locator('#lesson-dialog[open]').wait_for()
    page.fill('#lesson-topic', '')
    keys.type('Повторение')
    keys.press('Tab')
    keys.type('§ 12, упр. 3')
    keys.press('Tab')
    labels = page.locator('#lesson-type option').all_inner_texts()
    index = next(i for i, t in enumerate(labels) if t.startswith('С —'))
    keys.press('ArrowDown', index)
    if page.locator('#lesson-type').evaluate('s => s.selectedIndex') \
            != index:
        page.select_option('#lesson-type', index=index)
        clicks += 1
    keys.press('Tab')
    keys.press('Enter')
    page.wait_for_function(
        'id => document.querySelectorAll(`td[data-lesson="${id}"]`)'
        '.length > 0 && !document.querySelector("#lesson-dialog[open]")',
        arg=lesson_id)
    assert page.locator(
        'th.lesson[data-lesson="%s"]' % lesson_id).get_attribute(
            'colspan') == '2'

    # Three absences down the attendance column, five marks down the task's
    # (a student who left is greyed: passed over with the arrow)

    def skip_left():
        while 'out' in page.evaluate(CURSOR_CLASS):
            keys.press('ArrowDown')

    keys.press('ArrowDown')
    for _ in range(3):
        skip_left()
        keys.letter('н')
    keys.press('ArrowRight')
    for mark in '54545':
        skip_left()
        keys.type(mark)
    wait_saved(page)
    failed = page.locator('td.failed')
    assert failed.count() == 0, failed.first.get_attribute('data-message')
    assert page.locator('td.saved[data-lesson="%s"]' % lesson_id).count() \
        == 8
    print('\nteacher fills a lesson in the grid: %d keystrokes (%s), '
        '%d click(s)' % (keys.count, ' '.join(keys.log), clicks))

    (state, topic, homework), = school.query(
        'SELECT state, topic, homework FROM school_lesson WHERE id = ?',
        lesson_id)
    assert (state, topic, homework) == ('held', 'Повторение', '§ 12, упр. 3')
    (absent,), = school.query('SELECT COUNT(*) FROM school_lesson_attendance '
        "WHERE lesson = ? AND attendance = 'absent'", lesson_id)
    marks = sorted(v for v, in school.query(
            'SELECT value FROM school_mark WHERE lesson = ? '
            'AND NOT cancelled', lesson_id))
    assert absent == 3 and marks == ['4', '4', '5', '5', '5']

    page.reload()
    wait_grid(page)
    texts = page.locator('td[data-lesson="%s"]' % lesson_id).all_inner_texts()
    assert sorted(t for t in texts if t) == sorted(
        ['н'] * 3 + list('54545'))
    head = page.locator('th.lesson[data-lesson="%s"]' % lesson_id)
    assert 'Повторение' in head.inner_text()
    assert not errors, errors


def test_refusal_shown_at_cell(context, school):
    "A mark after the checking norm: the server's message at its cell"
    context, errors = context
    limit = (dt.date.today() - dt.timedelta(days=8)).isoformat()
    rows = school.query(
        'SELECT l.id, l.teaching, u.login, t.id FROM school_lesson l '
        'JOIN school_lesson_task t ON t.lesson = l.id '
        'JOIN res_user u ON u.employee = l.teacher '
        'JOIN school_class c ON c.id = l.class_ '
        'JOIN school_level v ON v.id = c.level '
        "WHERE l.state = 'held' AND l.date <= ? AND l.subgroup IS NULL "
        'AND v.marks '
        'AND u.active AND l.period IN (SELECT period FROM school_lesson '
        '  WHERE date = ?) '
        'ORDER BY l.date DESC, l.id LIMIT 1', limit,
        dt.date.today().isoformat())
    if not rows:
        pytest.skip('no held lesson 8 days ago in this period')
    lesson_id, teaching_id, login, task_id = rows[0]
    page = sign_in(context, school, login)
    page.goto(grid_url(school, teaching_id))
    wait_grid(page)
    marked = {s for s, in school.query(
            'SELECT student FROM school_mark WHERE task = ? '
            'AND NOT cancelled', task_id)}
    members = page.evaluate(
        'id => window.schoolGrid && document.querySelectorAll('
        '`td[data-lesson="${id}"][data-kind="mark"]:not(.out)`).length',
        lesson_id)
    assert members
    cells = page.locator(
        'td[data-lesson="%s"][data-kind="mark"]:not(.out)' % lesson_id)
    for i in range(cells.count()):
        cell = cells.nth(i)
        student = int(cell.evaluate('td => td.parentNode.dataset.student'))
        if student not in marked and cell.inner_text() == '':
            break
    else:
        pytest.skip('every student has a mark for the task')
    cell.click()
    page.keyboard.press('5')
    wait_saved(page)
    cell = page.locator('td[data-lesson="%s"][data-kind="mark"]' % lesson_id
        ).nth(i)
    assert 'failed' in cell.get_attribute('class')
    message = cell.get_attribute('data-message')
    assert 'слишком поздно' in message, message
    assert page.locator('#bubble').inner_text() == message
    assert not school.query('SELECT id FROM school_mark WHERE task = ? '
        'AND student = ? AND NOT cancelled', task_id, student)
    assert not [e for e in errors if 'rpc' not in e], errors


def test_stale_save_refused(context, school):
    "Two tabs on one lesson: the second one's save on stale data is refused"
    context, errors = context
    today = dt.date.today().isoformat()
    rows = school.query(
        'SELECT l.id, l.teaching, u.login FROM school_lesson l '
        'JOIN res_user u ON u.employee = l.teacher '
        'JOIN school_class c ON c.id = l.class_ '
        'JOIN school_level v ON v.id = c.level '
        "WHERE l.date = ? AND l.state = 'planned' AND v.marks "
        'AND u.active ORDER BY l.id DESC LIMIT 1', today)
    if not rows:
        pytest.skip('no planned lesson today')
    lesson_id, teaching_id, login = rows[0]
    first = sign_in(context, school, login)
    first.goto(grid_url(school, teaching_id))
    wait_grid(first)
    second = context.new_page()
    second.goto(grid_url(school, teaching_id))
    wait_grid(second)
    selector = ('td[data-lesson="%s"][data-kind="attendance"]:not(.out)'
        % lesson_id)
    first.locator(selector).nth(0).click()
    first.keyboard.press(RUSSIAN_KEYS['б'])
    wait_saved(first)
    assert 'saved' in first.locator(selector).nth(0).get_attribute('class')
    second.locator(selector).nth(1).click()
    second.keyboard.press(RUSSIAN_KEYS['н'])
    wait_saved(second)
    cell = second.locator(selector).nth(1)
    assert 'failed' in cell.get_attribute('class')
    assert 'изменён в другом окне' in cell.get_attribute('data-message')
    (count,), = school.query('SELECT COUNT(*) FROM school_lesson_attendance '
        "WHERE lesson = ? AND attendance = 'absent'", lesson_id)
    assert count == 0
    # Reloaded, the second tab sees the first one's absence and saves
    second.reload()
    wait_grid(second)
    assert second.locator(selector).nth(0).inner_text() == 'б'
    second.locator(selector).nth(1).click()
    second.keyboard.press(RUSSIAN_KEYS['н'])
    wait_saved(second)
    assert 'saved' in second.locator(selector).nth(1).get_attribute('class')


def test_subgroup_lists_its_students(context, school):
    "A subgroup's grid lists its students only"
    context, errors = context
    rows = school.query(
        'SELECT t.id, t.subgroup, u.login FROM school_teaching t '
        'JOIN res_user u ON u.employee = t.teacher '
        'WHERE t.subgroup IS NOT NULL AND u.active ORDER BY t.id LIMIT 1')
    if not rows:
        pytest.skip('no subgroup in the demo school')
    teaching_id, subgroup_id, login = rows[0]
    members = {s for s, in school.query(
            'SELECT student FROM "school_subgroup-school_student" '
            'WHERE subgroup = ?', subgroup_id)}
    (class_size,), = school.query(
        'SELECT COUNT(DISTINCT e.student) FROM school_enrolment e '
        'JOIN school_subgroup g ON g.class_ = e.class_ WHERE g.id = ?',
        subgroup_id)
    page = sign_in(context, school, login)
    page.goto(grid_url(school, teaching_id))
    wait_grid(page)
    shown = {int(s) for s in page.locator('#grid tbody tr').evaluate_all(
            'rows => rows.map(r => r.dataset.student)')}
    assert shown and shown <= members, (shown, members)
    assert len(shown) < class_size
    assert not errors, errors


@pytest.mark.parametrize('login', ['roditel', 'uchenik'])
def test_parent_and_student_get_nothing(context, school, login):
    "Signed in, a parent or a student opening the grid's address gets nothing"
    context, errors = context
    page = sign_in(context, school, login)
    response = page.goto(grid_url(school, 1))
    assert response.status == 403
    assert 'только учителям' in page.locator('main').inner_text()
    assert page.locator('#grid').count() == 0
    answer = page.evaluate("""url => fetch(url, {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({id: 1, method: 'model.school.lesson.grid_data',
            params: [1, null, {}]})}).then(r => r.json())""",
        '%s%s/rpc/' % (school.url, school.database))
    assert 'result' not in answer and answer['error'], answer
    anonymous = context.new_page()
    context.clear_cookies()
    response = anonymous.goto(grid_url(school, 1))
    assert response.status == 401


RPC_JS = """async ([url, method, params]) => {
    const call = (m, p, context) => fetch(url, {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({id: 1, method: m, params: [...p, context]})})
        .then(r => r.json());
    const preferences = await call(
        'model.res.user.get_preferences', [true], {});
    return call(method, params, preferences.result);
}"""


def test_correction_approved_appears(context, browser, school):
    """A saved mark: a new digit on it asks for a correction with its
    reason; once the deputy approves it, the grid shows the new mark"""
    context, errors = context
    today = dt.date.today()
    rows = school.query(
        'SELECT m.id, m.value, l.id, l.teaching, u.login FROM school_mark m '
        'JOIN school_lesson l ON l.id = m.lesson '
        'JOIN res_user u ON u.employee = l.teacher '
        "WHERE NOT m.cancelled AND m.value IN ('4', '5') AND u.active "
        "AND u.login NOT IN ('zavuch') AND l.subgroup IS NULL "
        'AND l.period IN (SELECT period FROM school_lesson WHERE date = ?) '
        'AND NOT EXISTS (SELECT 1 FROM school_mark_correction c '
        '  WHERE c.mark = m.id) '
        'ORDER BY l.date DESC, m.id LIMIT 1', today.isoformat())
    if not rows:
        pytest.skip('no mark to correct in this period')
    mark_id, value, lesson_id, teaching_id, login = rows[0]
    page = sign_in(context, school, login)
    page.goto(grid_url(school, teaching_id))
    wait_grid(page)
    (student,), = school.query(
        'SELECT student FROM school_mark WHERE id = ?', mark_id)
    cell = page.locator('tr[data-student="%s"] td[data-lesson="%s"]'
        '[data-kind="mark"]' % (student, lesson_id)).filter(has_text=value)
    cell.first.click()
    keys = Keys(page)
    keys.press('3')
    page.locator('#correction-dialog[open]').wait_for()
    assert page.input_value('#correction-value') == '3'
    keys.type('Ошибка при вводе')
    keys.press('Tab')
    keys.press('Enter')
    page.locator('#correction-dialog[open]').wait_for(state='detached')
    assert 'requested' in cell.first.get_attribute('class')
    (correction_id, state), = school.query(
        'SELECT id, state FROM school_mark_correction WHERE mark = ?',
        mark_id)
    assert state == 'requested'

    deputy = browser.new_context(locale='ru-RU', viewport=TABLET)
    try:
        other = sign_in(deputy, school, 'zavuch')
        other.goto(grid_url(school))
        answer = other.evaluate(RPC_JS, [
                '%s%s/rpc/' % (school.url, school.database),
                'model.school.mark.correction.approve', [[correction_id]]])
        assert 'error' not in answer, answer
    finally:
        deputy.close()
    page.reload()
    wait_grid(page)
    texts = page.locator('tr[data-student="%s"] td[data-lesson="%s"]'
        '[data-kind="mark"]' % (student, lesson_id)).all_inner_texts()
    assert '3' in texts, texts
    print('\nteacher asks to correct a mark in the grid: %d keystrokes (%s)'
        % (keys.count, ' '.join(keys.log)))
