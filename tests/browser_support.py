# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Helpers of tests/test_browser.py: a demo school served by trytond on a
temporary SQLite database, the menus each group should see (read from the
module's XML and Russian .po files), and a small driver of the web client
sao through Playwright and Debian's Chromium.
"""
import configparser
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULE_NAME = 'school_ejournal'
MODULE = REPO / MODULE_NAME
SAO = REPO / '.sao'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
PASSWORD = 'demo-2026'
DEMO_STUDENTS = 110     # classes of 8 or more: 5 marks and 3 absences
# The fixed logins of setup/demo_school.py
DEMO_LOGINS = ('admin', 'zavuch', 'vr', 'klass', 'uchitel', 'roditel',
    'uchenik')
CYRILLIC = re.compile('[А-Яа-яЁё]')
LATIN = re.compile('[A-Za-z]')


def unavailable(message):
    """A prerequisite is missing: fail under CI=true, else skip loudly."""
    if os.environ.get('CI', '').lower() == 'true':
        pytest.fail('BROWSER TESTS CANNOT RUN: %s' % message, pytrace=False)
    pytest.skip('BROWSER TESTS NOT RUN (a failure with CI=true): %s'
        % message)


def sao_built():
    return all((SAO / p).exists() for p in (
            'index.html', 'dist/tryton-sao.js', 'locale/ru.json',
            'node_modules/jquery/dist/jquery.js'))


def require_browser(sao=True):
    """Chromium, Playwright and, for the staff's pages, the web client
    (built by setup/install-sao when missing), or unavailable()"""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable('no Chromium at %s (apt-get update && apt-get '
            'install -y chromium)' % CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Python package playwright missing (pip install -e "
            "'.[test]'; never 'playwright install': Debian's Chromium is "
            "used)")
    if sao and not sao_built():
        result = subprocess.run([REPO / 'setup' / 'install-sao'],
            capture_output=True, text=True)
        if result.returncode or not sao_built():
            unavailable('web client missing in %s and setup/install-sao '
                'failed (exit %s):\n%s' % (SAO, result.returncode,
                    (result.stdout + result.stderr)[-2000:]))


@contextlib.contextmanager
def serving(school, label=None):
    """The demo school started (a test failure if it does not), stopped
    at the end; with a label, how long it took to start is printed"""
    start = time.monotonic()
    try:
        school.setup()
    except Exception as exception:
        school.cleanup()
        pytest.fail('the demo school did not start: %s' % exception,
            pytrace=False)
    if label:
        print('%s: demo school of %d students in %.0f s (%s)' % (label,
                school.students, time.monotonic() - start, ', '.join(
                    '%s %.0f s' % i for i in school.timings.items())))
    try:
        yield school
    finally:
        school.cleanup()


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright"""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# --- Translations -----------------------------------------------------------

def _po_unquote(text):
    return (text[1:-1].replace('\\n', '\n').replace('\\t', '\t')
        .replace('\\"', '"').replace('\\\\', '\\'))


def read_po(path):
    """Return {(msgctxt, msgid): msgstr} of a .po file (no plural forms,
    no obsolete entries, no empty translations)."""
    entries = {}
    current = {}
    key = None

    def flush():
        if current.get('msgid') and current.get('msgstr'):
            entries[current.get('msgctxt', ''), current['msgid']] = (
                current['msgstr'])
        current.clear()
    for line in Path(path).read_text(encoding='utf-8').splitlines():
        line = line.strip()
        if line.startswith('#'):
            key = None
            continue
        match = re.match(r'(msgctxt|msgid|msgstr)\s+(".*")$', line)
        if match:
            key = match.group(1)
            if key in {'msgctxt', 'msgid'} and 'msgstr' in current:
                flush()
            current[key] = _po_unquote(match.group(2))
        elif line.startswith('"') and key:
            current[key] += _po_unquote(line)
    flush()
    return entries


def menu_translations():
    """{full xml id of a menu: Russian name} from the module's ru.po, the
    override ru.po and trytond's own ru.po files (override wins)."""
    names = {}
    sources = []
    try:
        import trytond
        for path in sorted(Path(trytond.__file__).parent.glob(
                '**/locale/ru.po')):
            sources.append((path, path.parent.parent.name))
    except ImportError:
        pass
    sources.append((MODULE / 'locale' / 'ru.po', MODULE_NAME))
    override = MODULE / 'locale' / 'override' / 'ru.po'
    if override.exists():
        sources.append((override, None))
    for path, module in sources:
        for (ctxt, _), msgstr in read_po(path).items():
            prefix = 'model:ir.ui.menu,name:'
            if not ctxt.startswith(prefix):
                continue
            xml_id = ctxt[len(prefix):]
            if '.' not in xml_id:
                if module is None:
                    continue
                xml_id = '%s.%s' % (module, xml_id)
            names[xml_id] = msgstr
    return names


# --- Menus of the module ----------------------------------------------------

@dataclass
class Menu:
    xml_id: str
    parent: str | None
    name: str | None          # English name, from the menuitem or action
    action: str | None
    sequence: int
    groups: set = field(default_factory=set)


def _full_id(ref):
    return ref if '.' in ref else '%s.%s' % (MODULE_NAME, ref)


def module_xml_files():
    cfg = configparser.ConfigParser()
    cfg.read(MODULE / 'tryton.cfg', encoding='utf-8')
    return [MODULE / name for name in
        cfg.get('tryton', 'xml').split()]


def read_menus():
    """{xml id: Menu} of the module's menuitems with their groups."""
    menus = {}
    actions = {}
    links = []
    for path in module_xml_files():
        root = ET.parse(path).getroot()
        for elem in root.iter():
            if elem.tag == 'menuitem':
                xml_id = _full_id(elem.get('id'))
                parent = elem.get('parent')
                menus[xml_id] = Menu(xml_id,
                    _full_id(parent) if parent else None,
                    elem.get('name'),
                    _full_id(elem.get('action')) if elem.get('action')
                    else None,
                    int(elem.get('sequence', 10)))
            elif elem.tag == 'record':
                model = elem.get('model')
                values = {f.get('name'): f.get('ref') or (f.text or '')
                    for f in elem.findall('field')}
                if model.startswith('ir.action'):
                    actions[_full_id(elem.get('id'))] = values.get('name')
                elif model == 'ir.ui.menu-res.group':
                    links.append((_full_id(values['menu']),
                            _full_id(values['group'])))
    for menu_id, group_id in links:
        if menu_id in menus:    # not the menus of other modules
            menus[menu_id].groups.add(group_id)
    for menu in menus.values():
        if not menu.name and menu.action:
            menu.name = actions.get(menu.action)
    return menus


def visible_menus(menus, groups):
    """The ids of the module's menus a user in groups sees (groups of the
    menu and of all its ancestors; a menu without groups is for all)."""
    def visible(xml_id):
        menu = menus.get(xml_id)
        if menu is None:     # a menu of another module: not restricted here
            return True
        if menu.groups and not (menu.groups & groups):
            return False
        return menu.parent is None or visible(menu.parent)
    return {i for i in menus if visible(i)}


def menu_path(menus, xml_id, labels):
    """The path of Russian labels from the root to the menu."""
    path = []
    while xml_id:
        path.append(labels[xml_id])
        xml_id = menus[xml_id].parent if xml_id in menus else None
    return tuple(reversed(path))


# --- The demo school --------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def clean_env(**extra):
    """The environment of the servers: none of the tests' settings."""
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')
        and k not in {'DB_NAME', 'DB_CACHE', 'DB_CACHE_JOBS'}}
    env.update(extra)
    return env


def _tail(path, lines=30):
    try:
        return '\n'.join(
            Path(path).read_text(errors='replace').splitlines()[-lines:])
    except OSError:
        return '(no log)'


class DemoSchool:
    """A temporary SQLite database with the demo school, served by trytond
    (with the web client) on a free port of 127.0.0.1."""

    database = 'school'

    def __init__(self, students=DEMO_STUDENTS, module=MODULE_NAME,
            demo_args=()):
        self.students = students
        self.module = module
        # more arguments of setup/demo_school.py, as ['--today', day]
        self.demo_args = list(demo_args)
        self.tmp = Path(tempfile.mkdtemp(prefix='school-browser-'))
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d/' % self.port
        self.config = self.tmp / 'trytond.conf'
        self.db_path = self.tmp / ('%s.sqlite' % self.database)
        self.process = None
        self.timings = {}
        bindir = Path(sys.executable).parent
        self.trytond = bindir / 'trytond'
        self.trytond_admin = bindir / 'trytond-admin'

    def _run(self, name, args, env):
        log = self.tmp / ('%s.log' % name)
        start = time.monotonic()
        with open(log, 'w') as out:
            result = subprocess.run(args, stdout=out,
                stderr=subprocess.STDOUT, env=env, cwd=self.tmp,
                timeout=900)
        self.timings[name] = time.monotonic() - start
        if result.returncode:
            raise RuntimeError('%s failed (exit %d):\n%s' % (
                    ' '.join(map(str, args)), result.returncode, _tail(log)))

    def setup(self):
        self.config.write_text(
            '[database]\nuri = sqlite://\npath = %s\n\n'
            '[web]\nroot = %s\nlisten = 127.0.0.1:%d\n\n'
            '[session]\nmax_attempt = 100\n' % (self.tmp, SAO, self.port),
            encoding='utf-8')
        self.db_path.touch()
        passfile = self.tmp / 'passfile'
        passfile.write_text(PASSWORD + '\n')
        env = clean_env(PYTHONOPTIMIZE='1', TRYTONPASSFILE=str(passfile))
        self._run('trytond-admin', [self.trytond_admin, '-c', self.config,
                '-d', self.database, '-u', self.module,
                '--activate-dependencies', '--email', 'admin@example.ru',
                '-l', 'ru'], env)
        self._run('demo_school', [sys.executable,
                REPO / 'setup' / 'demo_school.py', '-c', self.config,
                '-d', self.database, '--students', str(self.students),
                '--password', PASSWORD] + self.demo_args, env)
        self.start()

    def start(self):
        log = self.tmp / 'trytond.log'
        start = time.monotonic()
        # -d: trytond 8.0.12 fails the first login of a database whose pool
        # is not loaded yet (KeyError 'res.user')
        self.process = subprocess.Popen(
            [self.trytond, '-c', self.config, '-d', self.database],
            stdout=open(log, 'w'), stderr=subprocess.STDOUT,
            env=clean_env(PYTHONOPTIMIZE='1'), cwd=self.tmp,
            start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('trytond exited with %s:\n%s' % (
                        self.process.returncode, _tail(log)))
            try:
                with urllib.request.urlopen(self.url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError('trytond did not answer on %s in 180 s:\n%s'
                % (self.url, _tail(log)))
        self.timings['trytond start'] = time.monotonic() - start

    def stop(self):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(15)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server_log(self, lines=40):
        return _tail(self.tmp / 'trytond.log', lines)

    # Facts read straight from the database (no access rules involved)
    def query(self, sql, *params):
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def user(self, login):
        (user_id, name), = self.query(
            'SELECT id, name FROM res_user WHERE login = ?', login)
        return user_id, name

    def user_groups(self, login):
        """Full xml ids of the user's groups and of their parents."""
        user_id, _ = self.user(login)
        group_ids = {g for g, in self.query(
                'SELECT "group" FROM "res_user-res_group" WHERE "user" = ?',
                user_id)}
        parents = dict(self.query('SELECT id, parent FROM res_group'))
        todo = list(group_ids)
        while todo:
            parent = parents.get(todo.pop())
            if parent and parent not in group_ids:
                group_ids.add(parent)
                todo.append(parent)
        xml_ids = dict(self.query(
                "SELECT db_id, module || '.' || fs_id FROM ir_model_data "
                "WHERE model = 'res.group'"))
        return {xml_ids.get(g, 'res.group,%s' % g) for g in group_ids}

    @staticmethod
    def _names(rows):
        return sorted(' '.join(filter(None, row)) for row in rows)

    def own_student(self, login):
        user_id, _ = self.user(login)
        return self._names(self.query(
                'SELECT last_name, first_name, middle_name '
                'FROM school_student WHERE "user" = ? AND active', user_id))

    def children(self, login):
        """Active students whose guardian is the user's parent record."""
        user_id, _ = self.user(login)
        return self._names([r[1:] for r in self.query(
                'SELECT DISTINCT s.id, s.last_name, s.first_name, '
                's.middle_name FROM school_student_guardian g '
                'JOIN school_parent p ON p.id = g.parent '
                'JOIN school_student s ON s.id = g.student '
                'WHERE p."user" = ? AND s.active', user_id)])

    def class_students(self, login, date=None):
        """Students enrolled today in the classes the user leads."""
        user_id, _ = self.user(login)
        date = (date or dt.date.today()).isoformat()
        return self._names([r[1:] for r in self.query(
                'SELECT DISTINCT s.id, s.last_name, s.first_name, '
                's.middle_name FROM school_enrolment e '
                'JOIN school_class c ON c.id = e.class_ '
                'JOIN school_student s ON s.id = e.student '
                'WHERE s.active AND e.start_date <= ? '
                'AND (e.end_date IS NULL OR e.end_date >= ?) '
                'AND c.class_teacher IN ('
                '  SELECT employee FROM res_user WHERE id = ? '
                '  UNION SELECT employee FROM "res_user-company_employee" '
                '  WHERE "user" = ?)', date, date, user_id, user_id)])

    def led_classes(self, login):
        user_id, _ = self.user(login)
        return sorted(n for n, in self.query(
                'SELECT c.name FROM school_class c WHERE c.class_teacher IN ('
                '  SELECT employee FROM res_user WHERE id = ? '
                '  UNION SELECT employee FROM "res_user-company_employee" '
                '  WHERE "user" = ?)', user_id, user_id))


# --- The web client ---------------------------------------------------------

MENU_ROWS_JS = """() => Array.from(
    document.querySelectorAll('#menu table.tree > tbody > tr')).map(tr => {
        const expander = tr.querySelector('.expander');
        const img = expander && expander.querySelector('img');
        const label = tr.querySelector('.column-char');
        return {
            label: label ? label.textContent.trim() : '',
            depth: img ? Math.round(parseFloat(img.style.marginLeft || '0'))
                : 0,
            folder: !!expander && expander.style.visibility !== 'hidden',
        };
    })"""

TAB_JS = """() => {
    const pane = document.querySelector('#tabcontent > .tab-pane.active')
        || document.querySelector('#tabcontent > .tab-pane');
    if (!pane) return null;
    const badge = pane.querySelector('.navbar-text .badge');
    const rows = Array.from(pane.querySelectorAll(
        '.treeview table.tree > tbody > tr')).filter(
            tr => tr.offsetParent !== null);
    return {
        badge: badge ? badge.textContent.trim() : null,
        rows: rows.map(tr => Array.from(tr.querySelectorAll('td'))
            .map(td => td.innerText.trim()).filter(t => t)),
        headers: Array.from(pane.querySelectorAll(
            '.treeview table.tree > thead th')).filter(
                th => th.offsetParent !== null).map(
                th => th.innerText.trim()).filter(t => t),
    };
}"""

TEXTS_JS = """() => {
    const texts = new Set();
    const walker = document.createTreeWalker(document.body,
        NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const el = node.parentElement;
        if (!el || el.closest('script,style') || el.offsetParent === null)
            continue;
        const text = node.textContent.trim();
        if (text) texts.add(text);
    }
    for (const el of document.querySelectorAll('[title],[placeholder]')) {
        if (el.offsetParent === null) continue;
        for (const attr of ['title', 'placeholder']) {
            const value = (el.getAttribute(attr) || '').trim();
            if (value) texts.add(value);
        }
    }
    return Array.from(texts);
}"""


FAIL_TEXT_JS = """() => {
    const parts = [];
    const tab = document.querySelector('#tablist li.active');
    if (tab) parts.push('[tab] ' + tab.innerText.trim());
    for (const el of document.querySelectorAll(
            '.modal.in, .modal.show, .alert, .tab-pane.active .infobar')) {
        if (el.offsetParent !== null && el.innerText.trim())
            parts.push('[message] ' + el.innerText.trim());
    }
    const pane = document.querySelector('#tabcontent > .tab-pane.active');
    if (pane) parts.push('[pane] ' + pane.innerText.trim());
    return parts.join('\\n');
}"""


class Sao:
    """A page of the web client."""

    def __init__(self, page, school):
        self.page = page
        self.school = school
        self.login_actions = []
        self._inflight = set()
        self._last_activity = time.monotonic()
        self.saves = 0      # answered RPC writes and creates
        page.on('request', self._request_started)
        page.on('requestfinished', self._request_done)
        page.on('requestfailed', self._request_done)

    def _request_started(self, request):
        if request.url.rstrip('/').endswith('/bus'):
            return      # long polling of notifications: never idle
        self._inflight.add(request)
        self._last_activity = time.monotonic()

    def _request_done(self, request):
        self._inflight.discard(request)
        self._last_activity = time.monotonic()
        if '/rpc/' in request.url:
            try:
                method = json.loads(request.post_data or '{}').get('method')
            except ValueError:
                method = None
            if method and method.rsplit('.', 1)[-1] in {'write', 'create'}:
                self.saves += 1

    def wait_saved(self, saves, timeout=30):
        """Wait until more than saves writes or creates were answered, then
        until the client is idle"""
        deadline = time.monotonic() + timeout
        while self.saves <= saves:
            if time.monotonic() > deadline:
                self.fail('the record was not saved after %s s' % timeout)
            self.page.wait_for_timeout(100)
        self.wait_idle(quiet=0.5)

    def wait_idle(self, quiet=0.7, timeout=30):
        """Wait until no request has been running for quiet seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (not self._inflight
                    and time.monotonic() - self._last_activity >= quiet):
                return
            self.page.wait_for_timeout(100)
        self.fail('the web client is still busy after %s s' % timeout)

    def fail(self, message):
        # What the user sees: the active tab's form or list, and any
        # dialog or message over it (the menu alone fills the body's
        # first lines)
        text = ''
        try:
            text = self.page.evaluate(FAIL_TEXT_JS)[:3000]
        except Exception:
            pass
        pytest.fail('%s\n--- page text ---\n%s\n--- trytond log ---\n%s' % (
                message, text, self.school.server_log(15)), pytrace=False)

    def login(self, login, password=PASSWORD):
        page = self.page
        page.goto(self.school.url)
        dialog = page.locator('.login-dialog')
        try:
            dialog.locator('#login').wait_for(state='visible', timeout=30000)
        except Exception:
            self.fail('no login dialog on %s' % self.school.url)
        # The database: a read-only input when the server lists one
        # database, a select when it lists several, an input when it lists
        # none.
        page.wait_for_function("""() => Array.from(document.querySelectorAll(
            '.login-dialog [name=database]')).some(
                e => e.offsetParent !== null)""")
        for elem in dialog.locator('[name=database]').all():
            if not elem.is_visible():
                continue
            tag = elem.evaluate('e => e.tagName.toLowerCase()')
            if tag == 'select':
                elem.select_option(self.school.database)
            elif elem.get_attribute('readonly') is None:
                elem.fill(self.school.database)
            else:
                assert elem.input_value() == self.school.database
        dialog.locator('#login').fill(login)
        dialog.locator('button[type=submit]').click()
        password_input = page.locator('.modal input[type=password]')
        try:
            password_input.wait_for(state='visible', timeout=30000)
        except Exception:
            self.fail('sao did not ask the password of %s' % login)
        password_input.fill(password)
        password_input.press('Enter')
        # The user's login actions (the admin's module configuration wizard
        # while ir.module.config_wizard.item are open) run, in a tab or a
        # dialog, before the menu loads: cancel them as a user would and
        # remember their titles.
        self.login_actions = []
        menu_row = page.locator('#menu table.tree > tbody > tr').first
        cancel = page.locator('#tabcontent button:visible, '
            '.modal.in button:visible').filter(
            has_text=re.compile('Отмен|Cancel', re.I))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if menu_row.is_visible():
                break
            if cancel.count():
                title = page.locator(
                    '.modal.in .modal-title, #tablist li.active')
                name = (title.first.inner_text().strip('×\n ')
                    if title.count() else '?')
                if name not in self.login_actions:
                    self.login_actions.append(name)
                cancel.first.click()
                page.wait_for_timeout(500)
                continue
            page.wait_for_timeout(200)
        else:
            self.fail('no main window after the login of %s' % login)

    def language(self):
        return self.page.evaluate('() => Sao.i18n.getlang()')

    def menu_rows(self):
        return self.page.evaluate(MENU_ROWS_JS)

    @staticmethod
    def _paths(rows):
        stack = []
        paths = []
        for row in rows:
            del stack[row['depth']:]
            stack.append(row['label'])
            paths.append(tuple(stack))
        return paths

    def expand_menu(self, roots=None, max_clicks=300):
        """Unfold every folder of the menu (under roots, top-level labels,
        when given) and return the paths of all the rows shown."""
        for _ in range(max_clicks):
            rows = self.menu_rows()
            paths = self._paths(rows)
            for i, row in enumerate(rows):
                expanded = (i + 1 < len(rows)
                    and rows[i + 1]['depth'] > row['depth'])
                if (row['folder'] and not expanded
                        and (roots is None or paths[i][0] in roots)):
                    break
            else:
                return paths
            self.page.locator('#menu table.tree > tbody > tr').nth(
                i).locator('.expander').click()
            try:
                self.page.wait_for_function(
                    "n => document.querySelectorAll("
                    "'#menu table.tree > tbody > tr').length > n",
                    arg=len(rows), timeout=20000)
            except Exception:
                self.fail('the menu folder %s did not unfold'
                    % ' / '.join(paths[i]))
        self.fail('more than %d menu folders' % max_clicks)

    def close_tabs(self):
        """Close every tab (as the start screens opened after login): sao
        shows an action already open in its tab instead of a new one."""
        for _ in range(20):
            count = self.page.locator('#tabcontent > .tab-pane').count()
            if not count:
                return
            self.page.locator('#tablist li.active button.close').click()
            self.page.wait_for_function(
                "n => document.querySelectorAll("
                "'#tabcontent > .tab-pane').length < n", arg=count)
        self.fail('the tabs do not close')

    def open_menu(self, path):
        """Click the menu entry at path (unfolded) and wait for its list."""
        self.close_tabs()
        paths = self._paths(self.menu_rows())
        if path not in paths:
            self.fail('no menu entry %s in %s' % (' / '.join(path), paths))
        tabs = self.page.locator('#tabcontent > .tab-pane').count()
        self.page.locator('#menu table.tree > tbody > tr').nth(
            paths.index(path)).locator('.column-char').click()
        try:
            self.page.wait_for_function("""n => {
                const panes = document.querySelectorAll(
                    '#tabcontent > .tab-pane');
                if (panes.length <= n) return false;
                const pane = document.querySelector(
                    '#tabcontent > .tab-pane.active');
                const badge = pane && pane.querySelector(
                    '.navbar-text .badge');
                if (!badge) return false;
                const match = badge.textContent.match(/\\/(\\d+)/);
                if (!match) return false;
                const rows = Array.from(pane.querySelectorAll(
                    '.treeview table.tree > tbody > tr')).filter(
                        tr => tr.offsetParent !== null);
                return rows.length === Math.min(parseInt(match[1]), 1000);
            }""", arg=tabs, timeout=30000)
        except Exception:
            self.fail('the list of %s did not load' % ' / '.join(path))
        self.wait_idle()
        return self.tab()

    def tab(self):
        tab = self.page.evaluate(TAB_JS)
        match = re.search(r'/(\d+)', tab['badge'] or '')
        tab['count'] = int(match.group(1)) if match else None
        return tab

    def visible_texts(self):
        return self.page.evaluate(TEXTS_JS)

    def screenshot(self, path, whole_menu=False):
        """Save a PNG; with whole_menu, in a window tall enough for every
        row of the menu (the menu scrolls inside the page)."""
        self.wait_idle()
        size = self.page.viewport_size
        if whole_menu:
            rows = len(self.menu_rows())
            self.page.set_viewport_size({'width': size['width'],
                    'height': max(size['height'], min(8000, 120 + 31 * rows))})
            self.page.evaluate("""() => document.querySelectorAll(
                '#menu, #menu *').forEach(e => { e.scrollTop = 0; })""")
            self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(path), full_page=True)
        if whole_menu:
            self.page.set_viewport_size(size)
        return path


def english(texts, allowed=()):
    """The texts with Latin letters and no Cyrillic (untranslated)."""
    return sorted({t for t in texts
            if LATIN.search(t) and not CYRILLIC.search(t)
            and t not in allowed})


# --- The smoke walk over the whole client -----------------------------------

# Longest time a request may take or «Обработка» may stay on screen
SLOW = 5.0
# Records a list of the walk loads
LIMIT = 80
# Pure-Latin texts that are no translation miss: names of things
SMOKE_ALLOWED = {'Tryton', 'sao', 'OK', 'ОК', 'ID', 'SMS', 'PDF', 'XLSX',
    'CSV', 'HTML', 'URL', 'Email', 'E-mail'}
TECHNICAL = re.compile(
    r'^(?:[\w-]+(?:\.[\w-]+)+'       # a model, module or file name: res.user
    r'|[\w.+-]+@[\w-]+(?:\.[\w-]+)+'  # an e-mail address
    r'|https?://\S+'                  # an address
    r'|[a-z][a-z0-9]*(?:_[a-z0-9]+)+'  # a field name: class_teacher
    r'|[A-Z]{1,4}|[a-z]{2}(?:_[A-Z]{2})?'  # codes: RUB, ru_RU
    r'|[\d\s.,/_@-]*\d[kM]?\+?(?:/[\d\s.,]*\d[kM]?\+?)?'  # counts: 8k+
    r')$')


def latin_texts(texts, allowed=()):
    "The visible texts that are English (Latin letters, no Cyrillic)"
    return sorted({t for t in english(texts)
            if t not in SMOKE_ALLOWED and t not in allowed
            and not TECHNICAL.match(t)})


class Watch:
    """What goes wrong in a page: JavaScript errors, failed requests, RPC
    errors and slow RPCs, collected until taken."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        self._started = {}
        # Batch jobs a user starts and waits for (a whole school's
        # grades): their own limit in seconds, and their times
        self.batch = {}
        self.times = {}
        page.on('pageerror', lambda e: self.problems.append(
                'JavaScript error: %s' % e))
        page.on('console', self._console)
        page.on('request', self._request)
        page.on('requestfinished', self._finished)
        page.on('requestfailed', self._failed)

    def _failed(self, request):
        self._started.pop(request, None)
        if not (request.url.rstrip('/').endswith('/bus')
                or request.url.startswith('blob:')):
            self.problems.append('request failed: %s %s' % (
                    self._method(request), request.failure))

    def _console(self, message):
        if message.type == 'error':
            self.problems.append('console error: %s' % message.text)

    @staticmethod
    def _method(request):
        try:
            return request.post_data_json.get('method', '?')
        except Exception:
            return request.url

    def _request(self, request):
        self._started[request] = time.monotonic()

    def _finished(self, request):
        start = self._started.pop(request, None)
        if request.url.rstrip('/').endswith('/bus'):
            return      # long polling of notifications
        seconds = time.monotonic() - start if start else 0
        method = self._method(request)
        if method in self.batch:
            self.times.setdefault(method, []).append(seconds)
        if seconds > self.batch.get(method, SLOW):
            self.problems.append('slow request (%.1f s): %s' % (
                    seconds, method))
        response = request.response()
        if response is None:
            return
        if response.status >= 400:
            self.problems.append('HTTP %s: %s %s' % (
                    response.status, request.method, request.url))
        elif '/rpc/' in request.url:
            try:
                body = response.json()
            except Exception:
                return
            if isinstance(body, dict) and body.get('error'):
                error = body['error']
                self.problems.append('RPC %s answered %s' % (
                        self._method(request), str(error)[:400]))

    def take(self):
        problems, self.problems = self.problems, []
        return problems


class Walk:
    """Open every menu entry of a logged-in user: each list, the first
    record of each list in its form, each wizard's first step; note
    every problem (JavaScript error, failed or slow request, RPC error,
    «Обработка» on screen too long, English word) with where it was."""

    def __init__(self, sao, watch, allowed=()):
        self.sao = sao
        self.page = sao.page
        self.watch = watch
        self.allowed = set(allowed)
        self.problems = []
        self.opened = {'lists': 0, 'forms': 0, 'wizards': 0, 'other': 0}

    def note(self, where, problems):
        self.problems.extend('%s: %s' % (where, p) for p in problems)

    def settle(self, where):
        """Wait until the client is idle; note «Обработка» shown longer
        than SLOW and whatever went wrong."""
        page = self.page
        start = time.monotonic()
        while True:
            self.sao.wait_idle(quiet=0.15, timeout=60)
            if not page.locator('#processing').is_visible():
                break
            if time.monotonic() - start > SLOW:
                self.note(where, ['«Обработка» shown longer than %s s'
                        % SLOW])
                break
            page.wait_for_timeout(200)
        self.note(where, self.watch.take())

    def check_texts(self, where):
        self.note(where, ['English: %s' % t for t in latin_texts(
                    self.sao.visible_texts(), self.allowed)])

    def modal(self):
        return self.page.locator('.modal.in:visible')

    def close_modals(self, where):
        for _ in range(5):
            modal = self.modal()
            if not modal.count():
                return
            buttons = modal.last.locator('.modal-footer button:visible')
            names = [b.text_content().strip() for b in buttons.all()]
            for wanted in ('Отмена', 'Отменить', 'Закрыть', 'Нет', 'ОК',
                    'OK'):
                if wanted in names:
                    buttons.nth(names.index(wanted)).click()
                    break
            else:
                close = modal.last.locator('button.close')
                if close.count():
                    close.first.click()
                else:
                    self.note(where, ['a dialog without a way out: %s'
                            % names])
                    self.page.keyboard.press('Escape')
            self.settle(where)
        self.note(where, ['dialogs keep opening'])

    def tab_count(self):
        return self.page.locator('#tabcontent > .tab-pane').count()

    def close_tab(self, where):
        count = self.tab_count()
        self.page.locator('#tablist li.active button.close').click()
        self.settle(where)
        if self.modal().count():
            self.note(where, ['closing the tab asked a question'])
            self.close_modals(where)
        try:
            self.page.wait_for_function(
                "n => document.querySelectorAll("
                "'#tabcontent > .tab-pane').length < n", arg=count,
                timeout=SLOW * 1000)
        except Exception:
            self.note(where, ['the tab did not close'])

    def pane(self):
        return self.page.locator('#tabcontent > .tab-pane.active')

    def open_first_record(self, where):
        pane = self.pane()
        rows = pane.locator('.treeview table.tree > tbody > tr:visible')
        if not rows.count():
            return
        checkbox = rows.first.locator('td.selection-state input')
        if checkbox.count():
            checkbox.check()
        else:
            rows.first.locator('td').last.click()
        switch = pane.locator('nav.toolbar button#switch_')
        if not switch.count() or switch.is_disabled():
            return
        switch.click()
        try:
            pane.locator('.form:visible').first.wait_for(
                timeout=SLOW * 1000)
        except Exception:
            self.note(where, ['the first record did not open in a form'])
        else:
            self.opened['forms'] += 1
        self.settle(where + ' / 1st record')
        self.check_texts(where + ' / 1st record')
        self.close_modals(where + ' / 1st record')

    def open_entry(self, index, path, deep=True, texts=True):
        where = ' / '.join(path)
        tabs = self.tab_count()
        # An ir.action.url (the class journal grid) opens a browser tab
        popups = []

        def on_page(page):
            popups.append(page)
        self.page.context.on('page', on_page)
        self.page.locator('#menu table.tree > tbody > tr').nth(
            index).locator('.column-char').click()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.tab_count() > tabs or self.modal().count() or popups:
                break
            self.page.wait_for_timeout(100)
        self.page.context.remove_listener('page', on_page)
        if popups:
            popup = popups[0]
            popup.wait_for_load_state()
            self.opened['other'] += 1
            if not popup.url.startswith(self.sao.school.url):
                self.note(where, ['opened %s' % popup.url])
            popup.close()
            return
        self.settle(where)
        check_texts = self.check_texts if texts else (lambda where: None)
        if self.modal().count() and self.tab_count() == tabs:
            # a wizard's first step (or a message)
            self.opened['wizards'] += 1
            check_texts(where)
            self.close_modals(where)
            return
        if self.tab_count() == tabs:
            self.note(where, ['nothing opened'])
            return
        pane = self.pane()
        if pane.locator('.treeview:visible').count():
            self.opened['lists'] += 1
            check_texts(where)
            if deep:
                self.open_first_record(where)
        else:
            self.opened['other'] += 1
            check_texts(where)
        self.close_modals(where)
        self.close_tab(where)

    def start_screens(self):
        """Check and close the tabs open after login; return their
        titles."""
        titles = []
        self.settle('login')
        while self.tab_count():
            title = self.page.locator('#tablist li.active').text_content()
            title = title.strip('×\n ')
            half = len(title) // 2      # the long and the short title
            if title[:half] == title[half:]:
                title = title[:half]
            titles.append(title)
            where = 'start screen «%s»' % title
            self.check_texts(where)
            self.close_tab(where)
        return titles

    def run(self, deep=(), technical=(), skip=(), limit=LIMIT):
        """Open every leaf of the menu but those under the roots of skip;
        under the roots of deep also the first record of each list; under
        the roots of technical, where the data are code (models, fields,
        icons), read no English.  Lists load limit records (sao's default
        is 1,000).  Return [(path, seconds)] of the entries opened."""
        self.page.evaluate('limit => { Sao.config.limit = limit; }', limit)
        paths = self.sao.expand_menu()
        self.settle('menu')
        self.check_texts('menu')
        rows = self.sao.menu_rows()
        opened = []
        for index, (row, path) in enumerate(zip(rows, paths)):
            if row['folder'] or path[0] in skip:
                continue
            start = time.monotonic()
            self.open_entry(index, path, deep=path[0] in deep,
                texts=path[0] not in technical)
            opened.append((path, time.monotonic() - start))
        return opened


# --- Daily jobs: what the user does, counted --------------------------------

class User:
    """Act in the web client as a user would, counting clicks and
    keystrokes (a selection in a drop-down list is one click, a typed
    text one keystroke per character, Ctrl+S one keystroke)."""

    def __init__(self, sao):
        self.sao = sao
        self.page = sao.page
        self.clicks = 0
        self.keys = 0

    def idle(self):
        self.sao.wait_idle(quiet=0.3)

    def click(self, locator, double=False):
        if double:
            locator.dblclick()
        else:
            locator.click()
        self.clicks += 1
        self.idle()

    def type(self, locator, text, leave=True):
        locator.click()
        self.clicks += 1
        locator.press_sequentially(text)
        self.keys += len(text)
        if leave:
            # Leave the field as the next click does: sao takes a text's
            # value when the field loses the focus
            locator.blur()
        self.idle()

    def press(self, key):
        self.page.keyboard.press(key)
        self.keys += 1
        self.idle()

    def select(self, locator, label):
        locator.focus()     # as the click that opens the list
        locator.select_option(label=label)
        self.clicks += 1
        self.idle()

    def save(self):
        """Save the form (Ctrl+S) when its save button is enabled, as a
        user does once the form shows the change, and wait for the
        server's answer"""
        saves = self.sao.saves
        button = self.pane().locator('nav.toolbar button#save')
        modal = self.page.locator('body > .modal:visible')
        if not modal.count() and button.count():
            deadline = time.monotonic() + 15
            while not button.first.is_enabled():
                if time.monotonic() > deadline:
                    self.sao.fail('the save button stays disabled: the '
                        'form took no change')
                self.page.wait_for_timeout(100)
        self.press('Control+s')
        self.sao.wait_saved(saves)

    def pane(self):
        return self.page.locator('#tabcontent > .tab-pane.active')

    def o2m(self, label):
        "The list of a form's One2Many field labelled label"
        return self.pane().locator('.form-one2many').filter(
            has=self.page.locator('.form-one2many-string', has_text=label))

    def pick(self, widget, name, text):
        """Type text in the Many2One input name of widget and pick the
        first proposal."""
        entry = widget.locator('input[name=%s]' % name)
        self.type(entry, text, leave=False)
        proposal = widget.locator('li.completion').first
        proposal.wait_for(state='visible', timeout=15000)
        label = proposal.inner_text().strip()
        self.click(proposal)
        # The field shows what was picked (while its editor is open)
        deadline = time.monotonic() + 15
        while True:
            try:
                value = entry.first.input_value(timeout=1000).strip()
            except Exception:
                value = None    # the cell's editor closed on the pick
                break
            if value == label or time.monotonic() > deadline:
                break
            self.page.wait_for_timeout(100)
        if value is not None and value != label:
            self.sao.fail('«%s» was picked for %s, the field shows «%s»' % (
                    label, name, value))

    def edit_cell(self, table, row, column):
        """Click the cell of row (a locator) under the column header
        until its editor opens; return the cell."""
        headers = [h.text_content().strip()
            for h in table.locator('thead th').all()]
        cell = row.locator('td').nth(headers.index(column))
        editor = cell.locator('.widget-editable.edited')
        for _ in range(3):
            self.click(cell)
            if editor.count() and editor.first.is_visible():
                return cell
        self.sao.fail('the cell «%s» does not open for editing' % column)

    def set_cell(self, table, row, column, label):
        "Choose label in the selection cell of row under column"
        cell = self.edit_cell(table, row, column)
        self.select(cell.locator('select'), label)

    def button(self, text):
        "Click the form's button named text"
        self.click(self.pane().locator('.form button').filter(
                has_text=re.compile(text, re.I)).first)

    def confirm(self):
        "Answer a question of the client with its affirmative button"
        dialog = self.page.locator('.modal.in:visible').last
        dialog.wait_for(state='visible', timeout=15000)
        buttons = dialog.locator('.modal-footer button')
        for button in buttons.all():
            if button.text_content().strip().lower() in {'ок', 'ok', 'да'}:
                self.click(button)
                return
        self.sao.fail('no affirmative button in %s' % [
                b.text_content() for b in buttons.all()])
