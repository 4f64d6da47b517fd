# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The staff web client (sao) in a real browser, as each demo login.

A session fixture builds a small demo school (setup/demo_school.py) in a
temporary SQLite database, serves it with trytond and the web client of
.sao/, and drives Debian's Chromium with Playwright: each login sees the
menus its groups give it (read from the module's XML), in Russian (read
from locale/ru.po); the student, the parent and the class teacher see the
students they may see.  Screenshots go to a temporary folder (printed; or
$SCHOOL_BROWSER_SHOTS).

Without Chromium, Playwright or sao the tests fail under CI=true and are
skipped with a loud reason otherwise.  In setup/test they run in the SQLite
pass only: they use their own SQLite database whatever the backend, so the
PostgreSQL pass skips them (reason shown).
"""
import datetime as dt
import os
import re
import tempfile
import time
from pathlib import Path

import browser_support as bs
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="browser tests run once, in setup/test's SQLite pass (they "
    "serve their own SQLite demo database)")

S = 'school_ejournal.'
# What each role must (True) or must not (False) find in its menu: the xml
# id of the menu and its Russian name (checked against the .po files).
ROLE_MENUS = {
    'admin': [
        ('ir.menu_administration', 'Администрирование', True),
        (S + 'menu_order_form', 'Приказы', True),
        (S + 'menu_configuration_form', 'Настройки журнала', True),
        (S + 'menu_lesson_generate', 'Создать уроки', True),
        (S + 'menu_student_my_class', 'Учащиеся моего класса', False),
        ],
    'zavuch': [
        (S + 'menu_configuration_form', 'Настройки журнала', True),
        (S + 'menu_timetable_form', 'Расписание', True),
        (S + 'menu_lesson_generate', 'Создать уроки', True),
        (S + 'menu_bell_form', 'Расписание звонков', True),
        (S + 'menu_order_form', 'Приказы', True),
        (S + 'menu_lesson_today', 'Мои уроки сегодня', True),
        ('ir.menu_administration', 'Администрирование', False),
        ],
    'vr': [
        (S + 'menu_order_form', 'Приказы', True),
        (S + 'menu_enrolment_form', 'Движение учащихся', True),
        (S + 'menu_configuration_form', 'Настройки журнала', False),
        (S + 'menu_lesson_generate', 'Создать уроки', False),
        (S + 'menu_lesson_today', 'Мои уроки сегодня', False),
        ('ir.menu_administration', 'Администрирование', False),
        ],
    'klass': [
        (S + 'menu_student_my_class', 'Учащиеся моего класса', True),
        (S + 'menu_class_mine', 'Мои классы', True),
        (S + 'menu_lesson_today', 'Мои уроки сегодня', True),
        (S + 'menu_order_form', 'Приказы', False),
        (S + 'menu_configuration_form', 'Настройки журнала', False),
        ('ir.menu_administration', 'Администрирование', False),
        ],
    'uchitel': [
        (S + 'menu_lesson_today', 'Мои уроки сегодня', True),
        (S + 'menu_lesson_week', 'Мои уроки на неделе', True),
        (S + 'menu_teaching_mine', 'Моя нагрузка', True),
        (S + 'menu_student_my_class', 'Учащиеся моего класса', False),
        (S + 'menu_order_form', 'Приказы', False),
        (S + 'menu_lesson_generate', 'Создать уроки', False),
        ('ir.menu_administration', 'Администрирование', False),
        ],
    'roditel': [
        (S + 'menu_student_form', 'Учащиеся', True),
        (S + 'menu_order_form', 'Приказы', False),
        (S + 'menu_teaching_form', 'Нагрузка', False),
        (S + 'menu_journal', 'Журнал', False),
        (S + 'menu_parent_form', 'Родители (законные представители)', False),
        ('ir.menu_administration', 'Администрирование', False),
        ],
    'uchenik': [
        (S + 'menu_student_form', 'Учащиеся', True),
        (S + 'menu_order_form', 'Приказы', False),
        (S + 'menu_teaching_form', 'Нагрузка', False),
        (S + 'menu_journal', 'Журнал', False),
        (S + 'menu_parent_form', 'Родители (законные представители)', False),
        ('ir.menu_administration', 'Администрирование', False),
        ],
    }
assert set(ROLE_MENUS) == set(bs.DEMO_LOGINS)
# Latin words that are no translation miss
NOT_ENGLISH = {'sao', 'ОК', 'OK'}


def _report(config, line):
    "Write a line on the terminal, even while pytest captures the output"
    reporter = config.pluginmanager.get_plugin('terminalreporter')
    capture = config.pluginmanager.get_plugin('capturemanager')
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
    else:
        print(line)


@pytest.fixture(scope='session')
def shots_dir(request):
    path = os.environ.get('SCHOOL_BROWSER_SHOTS')
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
    else:
        path = tempfile.mkdtemp(prefix='school-browser-shots-')
    _report(request.config, '\nbrowser screenshots: %s' % path)
    return Path(path)


@pytest.fixture(scope='session')
def prerequisites():
    """Chromium, Playwright and sao, or a clear failure (CI=true)."""
    bs.require_browser()


@pytest.fixture(scope='session')
def school(request, prerequisites, shots_dir):
    school = bs.DemoSchool()
    start = time.monotonic()
    with bs.serving(school):
        _report(request.config, 'browser tests: demo school of %d students on '
            '%s (%s; total %.0f s)' % (school.students, school.url,
                ', '.join('%s %.0f s' % i for i in school.timings.items()),
                time.monotonic() - start))
        yield school
    _report(request.config, '\nbrowser tests: screenshots in %s'
        % shots_dir)


@pytest.fixture(scope='module')
def browser(school):
    # Closed with this module: the e-diary's browser tests start their own
    # Playwright, which cannot run beside another in the same thread
    with bs.chromium() as browser:
        yield browser


@pytest.fixture
def sao(browser, school):
    context = browser.new_context(locale='ru-RU',
        viewport={'width': 1400, 'height': 1100})
    context.set_default_timeout(30000)
    page = context.new_page()
    yield bs.Sao(page, school)
    context.close()


@pytest.fixture(scope='session')
def menus():
    return bs.read_menus()


@pytest.fixture(scope='session')
def labels(menus):
    return bs.menu_translations()


def _login(sao, login):
    start = time.monotonic()
    sao.login(login)
    assert sao.language().startswith('ru'), (
        'sao runs in %r for %s, not Russian' % (sao.language(), login))
    return time.monotonic() - start


@pytest.mark.parametrize('login', bs.DEMO_LOGINS)
def test_role_menu(sao, school, menus, labels, shots_dir, login):
    "Each role sees its own menus, in Russian, and not the others'"
    start = time.monotonic()
    _login(sao, login)
    root = labels[S + 'menu_school']
    assert root == 'Школа'
    paths = sao.expand_menu()
    shot = sao.screenshot(shots_dir / ('%s-menu.png' % login),
        whole_menu=True)
    texts = sao.visible_texts()
    top = {p[0] for p in paths}
    assert root in top, '«%s» not in the top menu of %s: %s' % (
        root, login, sorted(top))

    # The module's menus: exactly those the XML gives the user's groups
    groups = school.user_groups(login)
    missing_labels = sorted(i for i in menus if i not in labels)
    assert not missing_labels, (
        'menus without Russian name in ru.po: %s' % missing_labels)
    expected = {bs.menu_path(menus, i, labels)
        for i in bs.visible_menus(menus, groups)}
    shown = {p for p in paths if p[0] == root}
    assert shown == expected, (
        '%s (groups %s): menus shown but not expected: %s; expected but '
        'not shown: %s' % (login, sorted(groups), sorted(shown - expected),
            sorted(expected - shown)))

    # Concrete labels of the role
    assert ('Администрирование' in top) == ('res.group_admin' in groups)
    for xml_id, name, present in ROLE_MENUS[login]:
        assert labels.get(xml_id) == name, (
            'the Russian name of %s is %r, not %r' % (
                xml_id, labels.get(xml_id), name))
        path = (bs.menu_path(menus, xml_id, labels) if xml_id in menus
            else (name,))
        assert (path in paths) == present, '%s %s «%s»' % (
            login, 'does not see' if present else 'sees',
            ' / '.join(path))

    # Everything in the menu and on the page is Russian
    user_name = school.user(login)[1]     # data, not a translation
    untranslated = [t for t in bs.english(
                [label for p in paths for label in p] + texts, NOT_ENGLISH)
        if user_name not in t]
    print('%s: %d menu entries, %.1f s, screenshot %s%s' % (
            login, len(paths), time.monotonic() - start, shot,
            '; login actions cancelled: %s' % sao.login_actions
            if sao.login_actions else ''))
    assert not untranslated, '%s sees English: %s' % (login, untranslated)


def _open_students(sao, school, labels, menu, login, shots_dir):
    """Open the student list of menu; return the names it shows."""
    sao.expand_menu(roots={labels[S + 'menu_school']})
    tab = sao.open_menu((labels[S + 'menu_school'], labels[S + menu]))
    sao.screenshot(shots_dir / ('%s-%s.png' % (login, menu)))
    assert tab['count'] == len(tab['rows']), tab
    user_name = school.user(login)[1]
    untranslated = [t for t in bs.english(
                tab['headers'] + sao.visible_texts(), NOT_ENGLISH)
        if user_name not in t]
    assert not untranslated, '%s sees English: %s' % (login, untranslated)
    return sorted(row[0] for row in tab['rows'])


def test_student_sees_only_self(sao, school, labels, shots_dir):
    "The student finds exactly one student: themself"
    own = school.own_student('uchenik')
    assert own == [school.user('uchenik')[1]]
    _login(sao, 'uchenik')
    names = _open_students(
        sao, school, labels, 'menu_student_form', 'uchenik', shots_dir)
    assert names == own


def test_parent_sees_own_children(sao, school, labels, shots_dir):
    "The parent finds exactly their children"
    children = school.children('roditel')
    assert len(children) >= 2, children     # «родитель двоих детей»
    _login(sao, 'roditel')
    names = _open_students(
        sao, school, labels, 'menu_student_form', 'roditel', shots_dir)
    assert names == children


def test_class_teacher_sees_class(sao, school, labels, shots_dir):
    "The class teacher finds the students of the class led today"
    students = school.class_students('klass')
    assert school.led_classes('klass') and students
    _login(sao, 'klass')
    names = _open_students(
        sao, school, labels, 'menu_student_my_class', 'klass', shots_dir)
    assert len(names) == len(students)
    assert names == students


# The tabs open after login (the role's start screens)
START_SCREENS = {
    'admin': {'Приказы'},
    'zavuch': {'Исправления отметок', 'Мои уроки сегодня'},
    'vr': {'Классы'},
    'klass': {'Мой класс сегодня', 'Мои уроки сегодня'},
    'uchitel': {'Мои уроки сегодня'},
    'roditel': {'Учащиеся'},
    'uchenik': {'Учащиеся'},
    }
assert set(START_SCREENS) == set(bs.DEMO_LOGINS)


@pytest.fixture
def watched_sao(browser, school):
    """A page of the web client whose JavaScript errors, failed, slow or
    erroneous requests are watched from the start"""
    context = browser.new_context(locale='ru-RU',
        viewport={'width': 1400, 'height': 1000})
    context.set_default_timeout(30000)
    page = context.new_page()
    watch = bs.Watch(page)
    yield bs.Sao(page, school), watch
    context.close()


@pytest.mark.parametrize('login', bs.DEMO_LOGINS)
def test_smoke(watched_sao, school, login):
    """Every screen of the role opens without error, in Russian: its start
    screens, every menu entry, the first record of each list of the
    school's menus in its form, every wizard's first step"""
    sao, watch = watched_sao
    start = time.monotonic()
    sao.login(login)
    walk = bs.Walk(sao, watch, allowed={school.user(login)[1]})
    titles = walk.start_screens()
    # Tryton's own «Администрирование» (models, views, translations,
    # icons...) is opened like the rest, for errors and slowness; its
    # records are code (logins, model and field names, domains, the English
    # sources of translations), so their texts are not checked for English
    opened = walk.run(deep={'Школа'}, technical={'Администрирование'})
    slowest = max(opened, key=lambda o: o[1]) if opened else ((), 0)
    print('%s: start screens %s; %d menu entries (%s) in %.0f s, slowest '
        '%s (%.1f s)' % (login, titles, len(opened), ', '.join(
                '%s %s' % i for i in walk.opened.items()),
            time.monotonic() - start, ' / '.join(slowest[0]), slowest[1]))
    assert not walk.problems, '%s: %d problems:\n%s' % (
        login, len(walk.problems), '\n'.join(walk.problems))
    assert set(titles) == START_SCREENS[login], titles
    assert walk.opened['lists'] and walk.opened['forms']


def _effort(user, job):
    line = '%s: %d clicks, %d keystrokes' % (job, user.clicks, user.keys)
    print(line)
    return line


def test_teacher_fills_todays_lesson(watched_sao, school):
    """The teacher holds today's lesson and, in one save, fills its topic,
    homework, a task, 3 absences and 5 marks"""
    today = dt.date.today().isoformat()
    # A lesson of today of a whole class of 8 or more students, beyond
    # the first year (no marks there), preferably uchitel's
    rows = school.query(
        'SELECT l.id, l.number, u.login FROM school_lesson l '
        'JOIN res_user u ON u.employee = l.teacher '
        'JOIN school_class c ON c.id = l.class_ '
        'JOIN school_level v ON v.id = c.level '
        "WHERE l.date = ? AND l.state = 'planned' AND l.subgroup IS NULL "
        'AND v.number > 1 AND u.active AND ('
        '  SELECT COUNT(*) FROM school_enrolment e WHERE e.class_ = c.id '
        '  AND e.start_date <= ? '
        '  AND (e.end_date IS NULL OR e.end_date >= ?)) >= 8 '
        "ORDER BY u.login != 'uchitel', u.login, l.number",
        today, today, today)
    if not rows:
        pytest.skip('no lesson today in the demo school (a day off, a '
            'holiday or the summer): nothing to hold')
    lesson_id, number, login = rows[0]
    sao, watch = watched_sao
    sao.login(login)
    user = bs.User(sao)
    # «Мои уроки сегодня» is open after login
    pane = user.pane()
    pane.locator('.treeview table.tree > tbody > tr').first.wait_for()
    row = pane.locator('.treeview table.tree > tbody > tr').filter(
        has=sao.page.locator('td', has_text=re.compile(
                r'^\s*%d\s*$' % number))).first
    user.click(row.locator('td').filter(has_text='Запланирован'),
        double=True)
    user.button('Проведён')
    # The form shows the lesson again after the button: wait for its
    # students before typing, or the display overwrites what is typed
    user.o2m('Учащиеся').locator('tbody tr').first.wait_for()
    sao.wait_idle(quiet=1.5)
    assert 'Проведён' in pane.locator('select[name=state]').evaluate(
        'e => e.options[e.selectedIndex].text')
    if not pane.locator('input[name=topic]').input_value():
        user.type(pane.locator('input[name=topic]'), 'Повторение')
    user.type(pane.locator('textarea[name=homework]'), '§ 12, упр. 3')
    tasks = user.o2m('Задания')
    user.click(tasks.locator('button[title="Создать"]'))
    user.pick(tasks.locator('tbody tr').first, 'type', 'Самост')
    lines = user.o2m('Учащиеся')
    rows = lines.locator('tbody tr')
    for i in range(5):
        user.set_cell(lines, rows.nth(i), 'Отметка 1', '5' if i % 2 else '4')
    for i in range(5, 8):
        user.set_cell(lines, rows.nth(i), 'Посещаемость', 'Н')
    user.save()
    problems = watch.take()
    assert not problems, problems

    (state, topic, homework), = school.query(
        'SELECT state, topic, homework FROM school_lesson WHERE id = ?',
        lesson_id)
    assert (state, bool(topic)) == ('held', True)
    (tasks,), = school.query(
        'SELECT COUNT(*) FROM school_lesson_task WHERE lesson = ?', lesson_id)
    (marks,), = school.query(
        'SELECT COUNT(*) FROM school_mark WHERE lesson = ?', lesson_id)
    (absences,), = school.query(
        "SELECT COUNT(*) FROM school_lesson_attendance WHERE lesson = ? "
        "AND attendance = 'absent'", lesson_id)
    assert (tasks, marks, absences) == (1, 5, 3)
    _effort(user, '%s holds lesson %d of today' % (login, number))
    assert homework == '§ 12, упр. 3'


def _apply_order(user, sao, watch, pane, number, kind, student, class_):
    """In the orders' list pane: a new order of kind for the student into
    class_, saved and applied (**Провести**), with no error"""
    user.click(pane.locator('nav.toolbar button#new_'))
    user.type(pane.locator('input[name=number]'), number)
    user.select(pane.locator('select[name=kind]'), kind)
    lines = user.o2m('Учащиеся')
    user.click(lines.locator('button[title="Создать"]'))
    row = lines.locator('tbody tr').first
    user.pick(row, 'student', student)
    cell = user.edit_cell(lines, row, 'Класс')
    user.pick(cell, 'class_', class_)
    user.save()
    user.button('Провести')
    user.confirm()
    sao.wait_idle()
    problems = watch.take()
    assert not problems, problems


def _order_done(sao, school, number, timeout=15):
    """Return [(state, date)] of the order once it is done, as the server
    answered the button (a screenshot and the form's text if it is not)"""
    deadline = time.monotonic() + timeout
    while True:
        rows = school.query(
            'SELECT state, date FROM school_order WHERE number = ?', number)
        if rows and rows[0][0] == 'done' or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    if not rows or rows[0][0] != 'done':
        shot = sao.screenshot(
            Path(tempfile.gettempdir()) / ('order-%s.png' % number))
        pytest.fail('order %s not done: %s; the form (%s) says: %s' % (
                number, rows, shot, sao.page.locator(
                    '#tabcontent > .tab-pane.active').inner_text()[:1500]))
    return rows


def test_admin_enrols_student_by_order(watched_sao, school):
    "The administrator enters a new student and enrols her by an order"
    today = dt.date.today().isoformat()
    classes = school.query(
        "SELECT c.name FROM school_class c JOIN school_year y "
        "ON y.id = c.year WHERE c.name = '5А' AND y.start_date <= ? "
        'AND y.end_date >= ?', today, today)
    if not classes:
        pytest.skip('no class 5А in a year running today (the summer)')
    sao, watch = watched_sao
    sao.login('admin')
    user = bs.User(sao)
    page = sao.page
    # The student
    sao.expand_menu(roots={'Школа'})
    menu = page.locator('#menu table.tree > tbody > tr')
    user.click(menu.filter(has=page.locator(
                '.column-char', has_text=re.compile('^Учащиеся$'))).first)
    pane = user.pane()
    user.click(pane.locator('nav.toolbar button#new_'))
    user.type(pane.locator('input[name=last_name]'), 'Новикова')
    user.type(pane.locator('input[name=first_name]'), 'Алиса')
    user.type(pane.locator('input[name=middle_name]'), 'Петровна')
    user.save()
    # The order: its tab is open since login
    user.click(page.locator('#tablist li').filter(has_text='Приказы').first)
    pane = user.pane()
    _apply_order(user, sao, watch, pane, '99-у', 'Зачисление', 'Новикова',
        '5А')

    # The order's date is the school's today (its time zone), which the
    # line took
    (state, date), = _order_done(sao, school, '99-у')
    enrolments = school.query(
        'SELECT c.name, e.start_date FROM school_enrolment e '
        'JOIN school_student s ON s.id = e.student '
        'JOIN school_class c ON c.id = e.class_ '
        "WHERE s.last_name = 'Новикова' AND s.first_name = 'Алиса'")
    assert enrolments == [('5А', date)], enrolments
    _effort(user, 'admin enrols a new student by order')


def test_admin_transfers_student_by_order(watched_sao, school):
    """The administrator moves a student to the parallel class by a transfer
    order: her enrolment in the old class ends the day before, the new one
    starts on the order's date"""
    today = dt.date.today().isoformat()
    # A student (no login of the demo's) of 7А, in a year running today
    found = school.query(
        'SELECT s.id, s.last_name, s.first_name, a.id, a.year, a.level '
        'FROM school_enrolment e '
        'JOIN school_student s ON s.id = e.student '
        'JOIN school_class a ON a.id = e.class_ '
        'JOIN school_year y ON y.id = a.year '
        "WHERE a.name = '7А' AND s.\"user\" IS NULL "
        'AND y.start_date <= ? AND y.end_date >= ? '
        'AND e.start_date <= ? AND (e.end_date IS NULL OR e.end_date >= ?) '
        'ORDER BY s.last_name, s.id LIMIT 1', today, today, today, today)
    if not found:
        pytest.skip('no class 7А in a year running today (the summer)')
    (student_id, last_name, first_name, _, year_id, level_id), = found
    sao, watch = watched_sao
    sao.login('admin')
    user = bs.User(sao)
    page = sao.page
    parallel = school.query(
        "SELECT id FROM school_class WHERE name = '7Б' AND year = ?",
        year_id)
    if not parallel:
        # A one-class-a-level school opens the parallel class first
        (year_name,), = school.query(
            'SELECT name FROM school_year WHERE id = ?', year_id)
        (level_name,), = school.query(
            'SELECT name FROM school_level WHERE id = ?', level_id)
        _menu(user, sao, 'Классы')
        pane = user.pane()
        user.click(pane.locator('nav.toolbar button#new_'))
        _pick(user, pane, 'year', year_name)
        _pick(user, pane, 'level', level_name)
        user.type(pane.locator('input[name=letter]'), 'Б')
        assert pane.locator('input[name=name]').input_value() == '7Б'
        user.save()
    old_class, new_class = '7А', '7Б'
    # The orders' tab is open since login
    user.click(page.locator('#tablist li').filter(has_text='Приказы').first)
    pane = user.pane()
    _apply_order(user, sao, watch, pane, '98-п', 'Перевод',
        '%s %s' % (last_name, first_name), new_class)
    (state, date), = _order_done(sao, school, '98-п')
    enrolments = school.query(
        'SELECT c.name, e.start_date, e.end_date FROM school_enrolment e '
        'JOIN school_class c ON c.id = e.class_ '
        'WHERE e.student = ? ORDER BY e.start_date', student_id)
    day_before = (dt.date.fromisoformat(str(date))
        - dt.timedelta(days=1)).isoformat()
    assert [(c, str(e)) for c, _, e in enrolments[-2:]] == [
        (old_class, day_before), (new_class, 'None')], enrolments
    assert str(enrolments[-1][1]) == str(date), enrolments
    _effort(user, 'admin transfers a student to the parallel class by order')


# --- The staff's daily tools (issue 7) ---------------------------------------

DOC_IMAGES = bs.MODULE / 'doc' / 'images'


def _doc_image(sao, shots_dir, name):
    """Save a screenshot of the guide: in the module's doc/images with
    SCHOOL_SCREENSHOTS=1 (the guide's pictures are regenerated so), else
    beside the other screenshots"""
    if os.environ.get('SCHOOL_SCREENSHOTS') == '1':
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        path = DOC_IMAGES / name
    else:
        path = shots_dir / name
    return sao.screenshot(path)


def _menu(user, sao, label):
    "Click the menu entry of the school labelled label"
    page = sao.page
    sao.expand_menu(roots={'Школа'})
    user.click(page.locator('#menu table.tree > tbody > tr').filter(
            has=page.locator('.column-char', has_text=re.compile(
                    '^%s$' % re.escape(label)))).first)


def _dialog(sao):
    dialog = sao.page.locator('.modal.in:visible').last
    dialog.wait_for(state='visible', timeout=15000)
    # its fields take their defaults before anything is typed
    sao.wait_idle(quiet=0.5)
    return dialog


def _dialog_button(user, sao, text):
    dialog = _dialog(sao)
    user.click(dialog.locator('.modal-footer button').filter(
            has_text=re.compile('^\\s*%s\\s*$' % text)).first)


def _pick(user, widget, name, text):
    "Type text in the Many2One name of widget, pick the first proposal"
    widget.locator('input[name=%s]' % name).fill('')
    user.type(widget.locator('input[name=%s]' % name), text, leave=False)
    proposal = widget.locator('li.completion:visible').first
    proposal.wait_for(state='visible', timeout=15000)
    user.click(proposal)


def _rows(pane):
    rows = pane.locator('.treeview table.tree > tbody > tr')
    rows.first.wait_for()
    return rows


def _employee_ids(school, login):
    user_id, _ = school.user(login)
    return [e for e, in school.query(
            'SELECT employee FROM res_user WHERE id = ? '
            'UNION SELECT employee FROM "res_user-company_employee" '
            'WHERE "user" = ?', user_id, user_id) if e]


def test_class_teacher_week_and_day_reason(watched_sao, school, shots_dir):
    """The class teacher sees her class's week as students × days and
    gives a whole day's absences of a student one reason"""
    today = dt.date.today()
    employees = _employee_ids(school, 'klass')
    # The latest day of an open period with absences of a student of her
    # class, the day with most of them first
    rows = school.query(
        'SELECT l.date, n.student, COUNT(*) FROM school_lesson_attendance n '
        'JOIN school_lesson l ON l.id = n.lesson '
        'JOIN school_class c ON c.id = l.class_ '
        'JOIN school_period p ON p.id = l.period '
        "WHERE l.state = 'held' AND p.state = 'open' AND l.date <= ? "
        "AND n.attendance IN ('absent', 'ill', 'excused') "
        'AND c.class_teacher IN (%s) GROUP BY l.date, n.student '
        'ORDER BY COUNT(*) >= 2 DESC, l.date DESC, COUNT(*) DESC LIMIT 1'
        % ','.join('?' * len(employees)), today.isoformat(), *employees)
    if not rows:
        pytest.skip('no absence in the class of klass in an open period')
    date, student_id, count = rows[0]
    date = dt.date.fromisoformat(date)
    (last, first, middle), = school.query(
        'SELECT last_name, first_name, middle_name FROM school_student '
        'WHERE id = ?', student_id)

    def reasons():
        return sorted(a for a, in school.query(
                'SELECT n.attendance FROM school_lesson_attendance n '
                'JOIN school_lesson l ON l.id = n.lesson '
                'WHERE n.student = ? AND l.date = ? '
                "AND n.attendance IN ('absent', 'ill', 'excused')",
                student_id, date.isoformat()))
    before = reasons()
    reason, label = (('ill', 'Б (болезнь)') if 'ill' not in before
        else ('excused', 'УП (уважительная причина)'))

    sao, watch = watched_sao
    sao.login('klass')
    user = bs.User(sao)
    _menu(user, sao, 'Неделя моего класса')
    pane = user.pane()
    rows = _rows(pane)
    monday = today - dt.timedelta(days=today.weekday())
    if date < monday:
        # Another week: its day typed in the week's field
        field = pane.locator('input[name=date]').first
        field.fill('')
        user.type(field, date.strftime('%d.%m.%Y'), leave=False)
        user.press('Enter')
    row = rows.filter(has_text=last).filter(has_text=first).first
    row.wait_for()
    headers = [h.text_content().strip()
        for h in pane.locator('.treeview table.tree > thead th').all()]
    day = ['Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб'][date.weekday()]
    cell = row.locator('td').nth(headers.index(day)).inner_text()
    assert re.search('Н|Б|УП', cell), (day, cell, headers)
    _doc_image(sao, shots_dir, 'class-week.png')
    user.click(row.locator('td').nth(headers.index(day)))
    user.click(pane.locator('nav.toolbar button#action'))
    user.click(pane.locator('nav.toolbar .dropdown-menu a').filter(
            has_text='Причина пропусков за день').first)
    dialog = _dialog(sao)
    # Proposed: the last day of that week, up to today, the student missed
    week_monday = date - dt.timedelta(days=date.weekday())
    (last_missed,), = school.query(
        'SELECT MAX(l.date) FROM school_lesson_attendance n '
        'JOIN school_lesson l ON l.id = n.lesson '
        "WHERE n.student = ? AND l.state = 'held' AND l.date >= ? "
        "AND l.date <= ? AND n.attendance IN ('absent', 'ill', 'excused')",
        student_id, week_monday.isoformat(),
        min(week_monday + dt.timedelta(days=5), today).isoformat())
    if isinstance(last_missed, str):
        last_missed = dt.date.fromisoformat(last_missed)
    date_field = dialog.locator('input[name=date]')
    assert date_field.input_value() == last_missed.strftime('%d.%m.%Y')
    if last_missed != date:
        date_field.fill('')
        user.type(date_field, date.strftime('%d.%m.%Y'), leave=True)
    user.select(dialog.locator('select[name=reason]'), label)
    _doc_image(sao, shots_dir, 'day-reason.png')
    _dialog_button(user, sao, 'Поставить')
    problems = watch.take()
    assert not problems, problems

    assert reasons() == [reason] * len(before), (before, reasons())
    # The history keeps the reasons before
    history = {a for a, in school.query(
            'SELECT n.attendance FROM school_lesson_attendance__history n '
            'JOIN school_lesson l ON l.id = n.lesson '
            'WHERE n.student = ? AND l.date = ?',
            student_id, date.isoformat())}
    assert set(before) <= history, (before, history)
    _effort(user, 'klass sets the reason of %d absences of a day' % count)


def test_class_teacher_marks_by_subject(watched_sao, school, shots_dir):
    "The class teacher opens a student's marks by subject with averages"
    sao, watch = watched_sao
    sao.login('klass')
    user = bs.User(sao)
    _menu(user, sao, 'Учащиеся моего класса')
    pane = user.pane()
    rows = _rows(pane)
    user.click(rows.first.locator('td:visible').last, double=True)
    pane.locator('.form:visible').first.wait_for()
    user.click(pane.locator('nav.toolbar button#relate'))
    user.click(pane.locator('nav.toolbar .dropdown-menu a').filter(
            has_text='Отметки по предметам').first)
    pane = user.pane()
    rows = _rows(pane)
    tab = sao.tab()
    assert 'Средний взвешенный балл' in tab['headers'], tab['headers']
    column = tab['headers'].index('Средний взвешенный балл')
    assert tab['rows'] and all(
        re.match(r'^\d[,.]\d\d$', r[column]) for r in tab['rows']), tab
    _doc_image(sao, shots_dir, 'marks-by-subject.png')
    problems = watch.take()
    assert not problems, problems
    _effort(user, "klass opens a student's marks by subject")


def test_deputy_computes_grades_and_is_warned(watched_sao, school, shots_dir):
    """The deputy computes the term grades of a class with a summary, then
    is warned before closing the period with grades missing elsewhere"""
    today = dt.date.today().isoformat()
    periods = school.query(
        "SELECT p.id, p.name FROM school_period p "
        "JOIN school_level v ON v.period_kind = p.kind "
        "JOIN school_class c ON c.level = v.id AND c.name = '5А' "
        "JOIN school_year y ON y.id = c.year AND y.id = p.year "
        "WHERE p.state = 'open' AND p.start_date <= ? "
        "ORDER BY p.start_date DESC LIMIT 1", today)
    if not periods:
        pytest.skip('no period of 5А started and open today')
    period_id, period_name = periods[0]
    (period_label,), = school.query(
        "SELECT p.name || ' ' || y.name FROM school_period p "
        'JOIN school_year y ON y.id = p.year WHERE p.id = ?', period_id)
    sao, watch = watched_sao
    sao.login('zavuch')
    user = bs.User(sao)
    _menu(user, sao, 'Рассчитать итоговые отметки школы')
    dialog = _dialog(sao)
    # The period of today is proposed
    period = dialog.locator('input[name=period]')
    assert period.input_value() == period_label, period.input_value()
    _pick(user, dialog, 'class_', '5А')
    _dialog_button(user, sao, 'Рассчитать')
    summary = _dialog(sao).locator('textarea[name=summary]')
    summary.wait_for()
    text = summary.input_value()
    assert 'рассчитано' in text and '5А' in text, text
    _doc_image(sao, shots_dir, 'grades-computed.png')
    _dialog_button(user, sao, 'Закрыть')
    problems = watch.take()
    assert not problems, problems
    (grades,), = school.query(
        'SELECT COUNT(*) FROM school_grade g JOIN school_class c '
        "ON c.id = g.class_ WHERE c.name = '5А' AND g.period = ?",
        period_id)
    assert grades and str(grades) in text, (grades, text)
    _effort(user, 'zavuch computes the term grades of 5А')

    # Closing the first open term of 5А (terms close in order): warned of
    # the grades missing there
    (close_id, close_name), = school.query(
        "SELECT p.id, p.name FROM school_period p "
        "JOIN school_level v ON v.period_kind = p.kind "
        "JOIN school_class c ON c.level = v.id AND c.name = '5А' "
        "JOIN school_year y ON y.id = c.year AND y.id = p.year "
        "WHERE p.state = 'open' ORDER BY p.start_date LIMIT 1")
    sao.close_tabs()
    user = bs.User(sao)
    _menu(user, sao, 'Учебные периоды')
    pane = user.pane()
    rows = _rows(pane)
    row = rows.filter(has=sao.page.locator('td', has_text='Открыт')).filter(
        has_text=close_name).first
    user.click(row.locator('td:visible').last, double=True)
    user.button('Закрыть')
    user.confirm()
    dialog = _dialog(sao)
    text = dialog.inner_text()
    assert 'Не выставлено итоговых отметок' in text, text
    _doc_image(sao, shots_dir, 'period-close-warning.png')
    _dialog_button(user, sao, 'Нет')
    problems = [p for p in watch.take() if 'UserWarning' not in p
        and 'Не выставлено' not in p]
    assert not problems, problems
    (state,), = school.query(
        'SELECT state FROM school_period WHERE id = ?', close_id)
    assert state == 'open'
    _effort(user, 'zavuch tries to close %s and is warned' % close_name)


def test_admin_adds_teacher(watched_sao, school, shots_dir):
    "The administrator adds a teacher with a login and roles in one step"
    sao, watch = watched_sao
    sao.login('admin')
    user = bs.User(sao)
    _menu(user, sao, 'Добавить сотрудника')
    dialog = _dialog(sao)
    user.type(dialog.locator('input[name=last_name]'), 'Кузнецова')
    user.type(dialog.locator('input[name=first_name]'), 'Дарья')
    user.type(dialog.locator('input[name=middle_name]'), 'Олеговна')
    user.type(dialog.locator('input[name=login]'), 'kuznecova')
    user.type(dialog.locator('input[name=email]'), 'kuznecova@example.ru')
    user.click(dialog.locator('input[name=class_teacher]'))
    _doc_image(sao, shots_dir, 'staff-add.png')
    _dialog_button(user, sao, 'Добавить')
    summary = _dialog(sao).locator('textarea[name=summary]')
    summary.wait_for()
    text = summary.input_value()
    assert 'Временный пароль' in text, text
    _dialog_button(user, sao, 'Закрыть')
    problems = watch.take()
    assert not problems, problems

    (user_id, language), = school.query(
        'SELECT u.id, l.code FROM res_user u JOIN ir_lang l '
        "ON l.id = u.language WHERE u.login = 'kuznecova'")
    assert language == 'ru'
    groups = {g for g, in school.query(
            "SELECT d.fs_id FROM \"res_user-res_group\" r "
            "JOIN ir_model_data d ON d.db_id = r.\"group\" "
            "AND d.model = 'res.group' WHERE r.\"user\" = ?", user_id)}
    assert groups == {'group_teacher', 'group_class_teacher'}, groups
    (name, position), = school.query(
        'SELECT p.name, e.position FROM res_user u '
        'JOIN company_employee e ON e.id = u.employee '
        'JOIN party_party p ON p.id = e.party WHERE u.id = ?', user_id)
    assert (name, position) == ('Кузнецова Дарья Олеговна', 'teacher')
    _effort(user, 'admin adds a teacher login with roles')


# --- Lists from files (issue 11) ---------------------------------------------

def test_admin_imports_students(watched_sao, school):
    """The administrator uploads the sample students, sees the preview of
    each row and confirms: the students are written, in a draft order"""
    today = dt.date.today().isoformat()
    classes = school.query(
        "SELECT c.name FROM school_class c JOIN school_year y "
        "ON y.id = c.year WHERE c.name IN ('1А', '5А', '6А') "
        'AND y.start_date <= ? AND y.end_date >= ?', today, today)
    if len(classes) < 3:
        pytest.skip('no classes 1А, 5А, 6А in a year running today '
            '(the summer)')
    sao, watch = watched_sao
    sao.login('admin')
    user = bs.User(sao)
    _menu(user, sao, 'Импорт списков')
    dialog = _dialog(sao)
    dialog.locator('input[type=file]').first.set_input_files(
        str(bs.MODULE / 'samples' / 'students.xlsx'))
    user.clicks += 2    # the file button and the file chosen
    user.idle()
    user.type(dialog.locator('input[name=order_number]'), '77-у')
    _dialog_button(user, sao, 'Просмотр')
    dialog = _dialog(sao)
    rows = dialog.locator('.form-one2many tbody tr')
    rows.nth(2).wait_for(timeout=15000)
    texts = [r.text_content() for r in rows.all()]
    assert len(texts) == 3, texts
    assert all('Создать' in t for t in texts), texts
    assert 'Кузнецов Артём Игоревич' in texts[0], texts
    summary = dialog.locator('input[name=summary]').input_value()
    assert 'Создать: 3' in summary, summary
    # Nothing written yet
    assert not school.query(
        "SELECT id FROM school_student WHERE file_number = 'Н-0101'")
    _dialog_button(user, sao, 'Импорт')
    summary = _dialog(sao).locator('textarea[name=summary]')
    summary.wait_for()
    text = summary.input_value()
    assert 'Создано: 3' in text, text
    _dialog_button(user, sao, 'Закрыть')
    problems = watch.take()
    assert not problems, problems
    lines = school.query(
        'SELECT s.file_number, c.name, o.kind, o.state '
        'FROM school_order_line l JOIN school_order o ON o.id = l."order" '
        'JOIN school_student s ON s.id = l.student '
        'JOIN school_class c ON c.id = l.class_ '
        "WHERE o.number = '77-у' ORDER BY s.file_number")
    assert lines == [
        ('Н-0101', '5А', 'enrolment', 'draft'),
        ('Н-0102', '1А', 'enrolment', 'draft'),
        ('Н-0103', '6А', 'enrolment', 'draft'),
        ], lines
    _effort(user, 'admin imports the students of a file')


def test_deputy_computes_whole_school(watched_sao, school):
    """The deputy computes the term grades of the whole school in one run
    (no class chosen) and reads a summary that matches the journal.
    Last in this file: it fills in every class's grades."""
    today = dt.date.today().isoformat()
    periods = school.query(
        "SELECT p.id FROM school_period p "
        "JOIN school_level v ON v.period_kind = p.kind "
        "JOIN school_class c ON c.level = v.id AND c.name = '5А' "
        "JOIN school_year y ON y.id = c.year AND y.id = p.year "
        "WHERE p.state = 'open' AND p.start_date <= ? "
        "ORDER BY p.start_date DESC LIMIT 1", today)
    if not periods:
        pytest.skip('no period of 5А started and open today')
    (period_id,), = periods
    sao, watch = watched_sao
    # A batch job of the whole school: the deputy waits for its summary
    compute = 'wizard.school.grade.compute_all.execute'
    watch.batch[compute] = 30
    sao.login('zavuch')
    user = bs.User(sao)
    _menu(user, sao, 'Рассчитать итоговые отметки школы')
    dialog = _dialog(sao)
    assert dialog.locator('input[name=class_]').input_value() == ''
    _dialog_button(user, sao, 'Рассчитать')
    summary = _dialog(sao).locator('textarea[name=summary]')
    summary.wait_for(timeout=120000)
    text = summary.input_value()
    _dialog_button(user, sao, 'Закрыть')
    problems = watch.take()
    assert not problems, problems
    assert 'вся школа' in text, text
    counts = school.query(
        'SELECT COUNT(*), COUNT(DISTINCT g.class_), '
        'COUNT(DISTINCT g.subject) FROM school_grade g '
        'WHERE g.period = ?', period_id)
    (grades, classes, subjects), = counts
    assert classes > 1, counts
    match = re.search(
        r'рассчитано (\d+),.*классов: (\d+), предметов: (\d+)', text)
    assert match, text
    assert [int(g) for g in match.groups()] == [grades, classes, subjects], (
        text, counts)
    _effort(user, 'zavuch computes the term grades of the whole school '
        '(%d grades in %.1f s, load %.1f)' % (
            grades, max(watch.times[compute]), os.getloadavg()[0]))
