# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""What the district's test, the faults test and bench/district.py share:
school databases made by setup/new-school on a PostgreSQL server, one
gunicorn serving them all (Tryton's multi-database: the database is the
first part of the URL), JSON-RPC clients (bench/common.py's, as sao
speaks) and a parent's e-diary session (a browser's cookies)."""
import http.client
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / 'bench'))
from common import Client, RPCError, free_port  # noqa: E402,F401

sys.path.pop(0)


def write_config(folder, uri, **sections):
    "A trytond.conf of the district's app servers"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / 'trytond.conf'
    text = (f'[database]\nuri = {uri}\npath = {folder / "store"}\n'
        '[cache]\nclean_timeout = 0\n'
        '[session]\nmax_attempt = 1000\nmax_attempt_ip_network = 1000\n'
        '[school_diary]\nsecure_cookie = False\n')
    for section, values in sections.items():
        text += f'[{section}]\n' + ''.join(
            f'{k} = {v}\n' for k, v in values.items())
    config.write_text(text)
    return config


def clean_env(config):
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}
    env.update(TRYTOND_CONFIG=str(config), PYTHONOPTIMIZE='1')
    return env


def new_school(config, name, password, *options, timeout=900):
    "Run setup/new-school; return its output"
    passfile = config.parent / f'{name}.pass'
    passfile.write_text(password)
    result = subprocess.run(
        [REPO / 'setup' / 'new-school', '-c', config, name,
            '--password-file', passfile, *options],
        env=clean_env(config), capture_output=True, text=True,
        timeout=timeout)
    if result.returncode:
        raise AssertionError(
            f'new-school {name}: {result.stdout}\n{result.stderr}')
    return result.stdout


class Gunicorn:
    "gunicorn serving the databases with WORKERS workers, as in production"

    def __init__(self, config, databases, workers=2, timeout=120):
        self.config = config
        self.databases = list(databases)
        self.port = free_port()
        self.base = f'http://127.0.0.1:{self.port}'
        self.log_path = config.parent / f'gunicorn-{self.port}.log'
        env = clean_env(config)
        env['TRYTOND_DATABASE_NAMES'] = ','.join(self.databases)
        self.log = open(self.log_path, 'w')
        self.process = subprocess.Popen([BIN / 'gunicorn',
                '-w', str(workers), '-b', f'127.0.0.1:{self.port}',
                '--timeout', str(timeout), 'trytond.application:app'],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.wait()
        except BaseException:
            self.stop()
            raise

    def health(self, database, timeout=30):
        with urllib.request.urlopen(
                f'{self.base}/{database}/school/health',
                timeout=timeout) as response:
            return response.status

    def wait(self, seconds=180):
        deadline = time.monotonic() + seconds
        for database in self.databases:
            while True:
                try:
                    if self.health(database) == 200:
                        break
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                if time.monotonic() > deadline or (
                        self.process.poll() is not None):
                    raise AssertionError('gunicorn did not answer: '
                        + self.log_path.read_text()[-3000:])
                time.sleep(0.3)

    def workers(self):
        "The pids of the workers"
        path = Path(f'/proc/{self.process.pid}/task/{self.process.pid}'
            '/children')
        return [int(p) for p in path.read_text().split()]

    def client(self, database, login, password):
        return Client(self.port, database, login, password)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Diary:
    "A parent's e-diary session, as a browser keeps it (cookies)"

    def __init__(self, base, database, login, password):
        self.url = f'{base}/{database}/diary/'
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form = self.get('login')
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({
                'login': login, 'password': password, 'csrf': csrf}).encode()
        with self.opener.open(self.url + 'login', data, timeout=60) as page:
            self.home = page.geturl()
        match = re.search(r'/diary/(\d+)/week$', self.home)
        if not match:
            raise AssertionError(f'no diary after sign-in: {self.home}')
        self.student = int(match.group(1))

    def get(self, path):
        with self.opener.open(self.url + path, timeout=60) as page:
            return page.read().decode()

    def week(self):
        return self.get(f'{self.student}/week')


__all__ = ['Client', 'RPCError', 'http']
