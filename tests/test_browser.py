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
import os
import subprocess
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
NOT_ENGLISH = {'Tryton', 'RUB', 'sao', 'ОК', 'OK'}


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
    if not os.access(bs.CHROMIUM, os.X_OK):
        bs.unavailable('no Chromium at %s (apt-get update && apt-get '
            'install -y chromium)' % bs.CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        bs.unavailable("Python package playwright missing (pip install -e "
            "'.[test]'; never 'playwright install': Debian's Chromium is "
            "used)")

    def sao_ok():
        return all((bs.SAO / p).exists() for p in (
                'index.html', 'dist/tryton-sao.js', 'locale/ru.json',
                'node_modules/jquery/dist/jquery.js'))
    if not sao_ok():
        result = subprocess.run([bs.REPO / 'setup' / 'install-sao'],
            capture_output=True, text=True)
        if result.returncode or not sao_ok():
            bs.unavailable('web client missing in %s and setup/install-sao '
                'failed (exit %s):\n%s' % (bs.SAO, result.returncode,
                    (result.stdout + result.stderr)[-2000:]))


@pytest.fixture(scope='session')
def school(request, prerequisites, shots_dir):
    school = bs.DemoSchool()
    start = time.monotonic()
    try:
        school.setup()
    except Exception as exception:
        school.cleanup()
        pytest.fail('the demo school did not start: %s' % exception,
            pytrace=False)
    _report(request.config, 'browser tests: demo school of %d students on '
        '%s (%s; total %.0f s)' % (school.students, school.url,
            ', '.join('%s %.0f s' % i for i in school.timings.items()),
            time.monotonic() - start))
    yield school
    school.cleanup()
    _report(request.config, '\nbrowser tests: screenshots in %s'
        % shots_dir)


@pytest.fixture(scope='session')
def browser(school):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS,
            headless=True)
        yield browser
        browser.close()


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
