# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""What the benchmarks share: a demo school built with setup/demo_school.py
(or reused), on SQLite, on a PostgreSQL server or on a private PostgreSQL
cluster; a real trytond server on a free loopback port; a JSON-RPC client
that talks as sao does; median and p95."""
import argparse
import atexit
import base64
import datetime as dt
import gzip
import http.client
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / '.venv' / 'bin'
PYTHON = VENV_BIN / 'python'
GENERATOR = REPO / 'setup' / 'demo_school.py'
WORK = REPO / '.var' / 'bench'
PASSWORD = 'demo-2026'
SCHOOL_NAME = 'МКОУ «СОШ с. Пролетарского»'
# The demo is built as seen this many days ago: the lessons since then are
# past but still planned, to be held by the benchmark; written work may be
# marked up to 7 days after its lesson.
DAYS_BACK = 6


def say(*args):
    print('bench:', *args, flush=True)


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--db-uri', default='sqlite://%s' % (WORK / 'db'),
        help="sqlite:///FOLDER (or .../NAME.sqlite) or "
        "postgresql://USER@HOST:PORT/[DBNAME]; default: sqlite:///"
        ".var/bench/db")
    p.add_argument('--private-postgresql', nargs='?', const='', metavar='DIR',
        help="run a private PostgreSQL cluster (initdb + pg_ctl, loopback, "
        "stopped at exit) in DIR (kept, for --reuse) or in a temporary "
        "folder; overrides --db-uri")
    p.add_argument('--students', type=int, default=1000)
    p.add_argument('--parallels', type=int,
        help="classes per level (default: the generator's)")
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--runs', type=int, default=50)
    p.add_argument('--warmup', type=int, default=3,
        help="untimed calls first (default: 3)")
    p.add_argument('--reuse', action='store_true',
        help="reuse the database when it holds the demo school")
    p.add_argument('--seen-on', type=dt.date.fromisoformat,
        help="the day the demo school is seen on, YYYY-MM-DD (default: %d "
        "days ago); another day than the default names the database "
        "bench<students>_<YYYYMMDD>" % DAYS_BACK)
    return p


def seen_on(args):
    "The day the bench's demo school is built as seen on"
    return args.seen_on or dt.date.today() - dt.timedelta(days=DAYS_BACK)


def largest_class(database, cursor, date):
    "Return (id, name, students) of the largest class with marks at date"
    cursor.execute(database.sql(
            'SELECT c.id, c.name, COUNT(DISTINCT e.student) '
            'FROM school_class c '
            'JOIN school_level l ON l.id = c.level '
            'JOIN school_enrolment e ON e.class_ = c.id '
            'WHERE l.marks = %s AND e.start_date <= %s '
            'AND (e.end_date IS NULL OR e.end_date >= %s) '
            'GROUP BY c.id, c.name ORDER BY 3 DESC, c.id'),
        (True, date, date))
    return cursor.fetchone()


def percentile(values, fraction):
    "Nearest-rank percentile"
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(label, seconds):
    ms = [s * 1000 for s in seconds]
    line = ('%-34s n=%-3d median %8.1f ms   p95 %8.1f ms   min %7.1f   '
        'max %7.1f' % (label, len(ms), percentile(ms, 0.5),
            percentile(ms, 0.95), min(ms), max(ms)))
    print(line, flush=True)
    return percentile(ms, 0.5), percentile(ms, 0.95)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, process=None, timeout=120, log=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.1)
    if log:
        sys.stderr.write(Path(log).read_text()[-3000:])
    raise SystemExit('bench: nothing answers on port %d' % port)


class PrivatePostgres:
    "A throw-away cluster as setup/test makes it, stopped at exit"

    def __init__(self, directory=''):
        self.bindir = self.find_bindir()
        self.keep = bool(directory)
        if directory:
            self.dir = Path(directory).resolve()
            self.dir.mkdir(parents=True, exist_ok=True)
        else:
            self.dir = Path(tempfile.mkdtemp(prefix='bench-pg.'))
        self.data = self.dir / 'data'
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ['runuser', '-u', 'postgres', '--']
            shutil.chown(self.dir, 'postgres', 'postgres')
        if not (self.data / 'PG_VERSION').exists():
            self.initdb()
        self.port = None
        self.start()
        atexit.register(self.stop)

    @staticmethod
    def find_bindir():
        candidates = []
        try:
            candidates.append(subprocess.run(['pg_config', '--bindir'],
                    capture_output=True, text=True).stdout.strip())
        except OSError:
            pass
        candidates += sorted((str(p) for p in Path('/usr/lib/postgresql')
                .glob('*/bin')), reverse=True)
        initdb = shutil.which('initdb')
        if initdb:
            candidates.append(str(Path(initdb).parent))
        for candidate in candidates:
            if (candidate and Path(candidate, 'initdb').exists()
                    and Path(candidate, 'pg_ctl').exists()):
                return Path(candidate)
        raise SystemExit('bench: initdb and pg_ctl not found '
            '(apt-get install postgresql-15)')

    def run(self, *args, **kwargs):
        return subprocess.run(self.as_user + [str(a) for a in args],
            check=True, **kwargs)

    def initdb(self):
        locales = subprocess.run(['locale', '-a'], capture_output=True,
            text=True).stdout.lower().split()
        locale = (['--locale=C.UTF-8']
            if {'c.utf8', 'c.utf-8'} & set(locales) else ['--no-locale'])
        say('initdb', self.data)
        self.run(self.bindir / 'initdb', '-D', self.data, '-U', 'postgres',
            '--auth-local=trust', '--auth-host=trust', '-E', 'UTF8',
            *locale, '-N', stdout=subprocess.DEVNULL)
        (self.dir / 'sock').mkdir(exist_ok=True)
        if self.as_user:
            shutil.chown(self.dir / 'sock', 'postgres', 'postgres')
        with open(self.data / 'postgresql.conf', 'a') as conf:
            conf.write("\n# private cluster of bench/ (durable: fsync on)\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = '%s'\n"
                "max_connections = 50\n" % (self.dir / 'sock'))

    def start(self):
        for attempt in range(5):
            port = free_port()
            try:
                self.run(self.bindir / 'pg_ctl', '-D', self.data,
                    '-l', self.dir / 'postgresql.log', '-o', '-p %d' % port,
                    '-w', '-t', '60', 'start', stdout=subprocess.DEVNULL)
            except subprocess.CalledProcessError:
                continue
            self.port = port
            say('private PostgreSQL on 127.0.0.1:%d (%s)' % (port, self.dir))
            return
        raise SystemExit('bench: the private PostgreSQL did not start (%s)'
            % (self.dir / 'postgresql.log'))

    @property
    def uri(self):
        return 'postgresql://postgres@127.0.0.1:%d/' % self.port

    def stop(self):
        if self.port is None:
            return
        subprocess.run(self.as_user + [str(self.bindir / 'pg_ctl'), '-D',
                str(self.data), '-m', 'fast', '-w', '-t', '60', 'stop'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = None
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


_CLUSTERS = {}


class Database:
    "The benchmark database: where it is, how to build it, plain SQL to it"

    def __init__(self, args):
        self.args = args
        self.pg = None
        uri = args.db_uri
        if args.private_postgresql is not None:
            # One cluster for all the databases of the process (a second
            # pg_ctl start on the same folder fails)
            if args.private_postgresql not in _CLUSTERS:
                _CLUSTERS[args.private_postgresql] = PrivatePostgres(
                    args.private_postgresql)
            self.pg = _CLUSTERS[args.private_postgresql]
            uri = self.pg.uri
        default_name = 'bench%d' % args.students
        if args.seen_on:
            default_name += args.seen_on.strftime('_%Y%m%d')
        parts = urlsplit(uri)
        WORK.mkdir(parents=True, exist_ok=True)
        if parts.scheme == 'sqlite':
            path = Path('/' + parts.path.lstrip('/'))
            if path.suffix == '.sqlite':
                self.folder, self.name = path.parent, path.stem
            else:
                self.folder, self.name = path, default_name
            self.folder.mkdir(parents=True, exist_ok=True)
            self.backend = 'sqlite'
            self.server_uri = 'sqlite://'
            self.file = self.folder / (self.name + '.sqlite')
        elif parts.scheme.startswith('postgresql'):
            self.backend = 'postgresql'
            self.name = parts.path.strip('/') or default_name
            self.server_uri = '%s://%s/' % (parts.scheme, parts.netloc)
        else:
            raise SystemExit('bench: --db-uri must be sqlite:/// or '
                'postgresql://')
        self.conf = WORK / ('%s-%s.conf' % (self.backend, self.name))
        self.write_conf()

    def write_conf(self, port=None):
        lines = ['[database]', 'uri = %s' % self.server_uri]
        if self.backend == 'sqlite':
            lines.append('path = %s' % self.folder)
        if port:
            lines += ['', '[web]', 'listen = 127.0.0.1:%d' % port]
        lines += ['', '[session]', 'max_attempt = 100', '']
        self.conf.write_text('\n'.join(lines))

    # --- plain SQL -----------------------------------------------------
    def connect(self):
        if self.backend == 'sqlite':
            return sqlite3.connect(self.file, detect_types=0)
        import psycopg
        return psycopg.connect(self.server_uri + self.name)

    def vacuum(self, conn, tables):
        """Clean the tables a benchmark rewrites (untimed): its fresh-again
        resets delete and rewrite the same rows run after run, far faster
        than PostgreSQL's autovacuum would come by, and a reused database
        would otherwise time the dead row versions of earlier runs"""
        conn.commit()
        if self.backend == 'sqlite':
            conn.execute('ANALYZE')
            conn.commit()
            return
        conn.autocommit = True
        try:
            for table in tables:
                conn.execute('VACUUM (ANALYZE) "%s"' % table)
        finally:
            conn.autocommit = False

    @property
    def param(self):
        return '?' if self.backend == 'sqlite' else '%s'

    def sql(self, query):
        "The query with %s placeholders in the backend's style"
        return query.replace('%s', self.param)

    def exists(self):
        if self.backend == 'sqlite':
            if not self.file.exists() or not self.file.stat().st_size:
                return False
        else:
            import psycopg
            with psycopg.connect(self.server_uri + 'postgres',
                    autocommit=True) as conn:
                if not conn.execute('SELECT 1 FROM pg_database '
                        'WHERE datname = %s', (self.name,)).fetchone():
                    return False
        conn = self.connect()
        try:
            cursor = conn.cursor()
            cursor.execute(self.sql('SELECT p.name FROM company_company c '
                    'JOIN party_party p ON p.id = c.party '
                    'WHERE p.name = %s'), (SCHOOL_NAME,))
            return cursor.fetchone() is not None
        except Exception:
            return False
        finally:
            conn.close()

    def drop_create(self):
        if self.backend == 'sqlite':
            if self.file.exists():
                self.file.unlink()
            self.file.touch()
        else:
            import psycopg
            with psycopg.connect(self.server_uri + 'postgres',
                    autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                    % self.name)
                conn.execute("CREATE DATABASE \"%s\" TEMPLATE template0 "
                    "ENCODING 'unicode'" % self.name)

    def ensure(self):
        "Build the demo school unless --reuse finds it"
        args = self.args
        if args.reuse and self.exists():
            say('reusing database %s (%s)' % (self.name, self.backend))
            return
        today = seen_on(args)
        say('building database %s on %s: %d students, seen on %s'
            % (self.name, self.backend, args.students, today))
        self.drop_create()
        env = dict(os.environ, PYTHONOPTIMIZE='1')
        log = WORK / ('%s-%s-build.log' % (self.backend, self.name))
        with tempfile.NamedTemporaryFile('w', dir=WORK) as passfile:
            passfile.write(PASSWORD + '\n')
            passfile.flush()
            env['TRYTONPASSFILE'] = passfile.name
            start = time.monotonic()
            with open(log, 'w') as out:
                subprocess.run([str(VENV_BIN / 'trytond-admin'), '-c',
                        str(self.conf), '-d', self.name, '-u',
                        'school_ejournal', '--activate-dependencies',
                        '--email', 'admin@example.ru', '-l', 'ru'],
                    env=env, stdout=out, stderr=subprocess.STDOUT,
                    check=True)
        say('database initialised in %.0f s' % (time.monotonic() - start))
        start = time.monotonic()
        command = [str(PYTHON), str(GENERATOR), '-c', str(self.conf),
            '-d', self.name, '--students', str(args.students),
            '--seed', str(args.seed), '--today', today.isoformat(),
            '--password', PASSWORD]
        if args.parallels:
            command += ['--parallels', str(args.parallels)]
        result = subprocess.run(command, env=env, capture_output=True,
            text=True)
        with open(log, 'a') as out:
            out.write(result.stdout + result.stderr)
        if result.returncode:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit('bench: the generator failed (%s)' % log)
        for line in result.stdout.splitlines():
            if line.startswith('  ') and ' s' in line and (
                    'lessons' in line or 'lines' in line or 'marks' in line
                    or 'tasks' in line or 'timetable' in line
                    or 'plans' in line):
                print('  ' + line.strip())
        say('school generated in %.0f s' % (time.monotonic() - start))


class Server:
    "trytond on a free loopback port, stopped at exit"

    def __init__(self, database, verbose=0):
        self.database = database
        self.port = free_port()
        database.write_conf(self.port)
        self.log = WORK / ('trytond-%s-%s.log' % (database.backend,
                database.name))
        env = dict(os.environ, PYTHONOPTIMIZE='1')
        with open(self.log, 'w') as out:
            self.process = subprocess.Popen([str(VENV_BIN / 'trytond'),
                    '-c', str(database.conf), '-d', database.name]
                + ['-v'] * verbose,
                env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        atexit.register(self.stop)
        wait_port(self.port, self.process, log=self.log)
        say('trytond (pid %d) on 127.0.0.1:%d, database %s'
            % (self.process.pid, self.port, database.name))

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


# --- JSON-RPC as sao speaks it ---------------------------------------------

def start_server(description, options=None):
    """The command line, the benchmark's database (made if missing), its
    trytond server and a plain connection with a cursor: what a
    benchmark of JSON-RPC calls against plain SQL starts with; options is
    a function adding the benchmark's own options to the parser"""
    p = parser(description)
    if options:
        options(p)
    args = p.parse_args()
    if not sys.flags.optimize:
        say("WARNING: run with PYTHONOPTIMIZE=1 (the server always is)")
    database = Database(args)
    database.ensure()
    server = Server(database)
    conn = database.connect()
    return args, database, server, conn, conn.cursor()


def _default(obj):
    if isinstance(obj, dt.datetime):
        return {'__class__': 'datetime', 'year': obj.year,
            'month': obj.month, 'day': obj.day, 'hour': obj.hour,
            'minute': obj.minute, 'second': obj.second,
            'microsecond': obj.microsecond}
    if isinstance(obj, dt.date):
        return {'__class__': 'date', 'year': obj.year, 'month': obj.month,
            'day': obj.day}
    if isinstance(obj, Decimal):
        return {'__class__': 'Decimal', 'decimal': str(obj)}
    if isinstance(obj, bytes):
        return {'__class__': 'bytes',
            'base64': base64.b64encode(obj).decode()}
    raise TypeError(repr(obj))


def _object_hook(value):
    kind = value.get('__class__')
    if kind == 'date':
        return dt.date(value['year'], value['month'], value['day'])
    if kind == 'datetime':
        return dt.datetime(value['year'], value['month'], value['day'],
            value['hour'], value['minute'], value['second'],
            value.get('microsecond', 0))
    if kind == 'Decimal':
        return Decimal(value['decimal'])
    if kind == 'bytes':
        return base64.b64decode(value['base64'])
    return value


class RPCError(Exception):
    pass


class Client:
    "A logged-in session, one keep-alive HTTP connection"

    def __init__(self, port, database, login, password=PASSWORD,
            compressed=False):
        # compressed: ask for gzip answers as a browser (sao, the grid's
        # page) does; trytond streams a large answer in small pieces
        # otherwise
        self.compressed = compressed
        self.connection = http.client.HTTPConnection('127.0.0.1', port,
            timeout=300)
        self.path = '/%s/rpc/' % database
        self.counter = 0
        self.auth = None
        user_id, session, *_ = self.call('common.db.login', login,
            {'password': password}, 'ru')
        token = '%s:%s:%s' % (login, user_id, session)
        self.auth = 'Session ' + base64.b64encode(token.encode()).decode()
        self.user_id = user_id
        self.login = login
        self.context = self.call('model.res.user.get_preferences', True, {})

    def call(self, method, *params):
        self.counter += 1
        body = json.dumps({'id': self.counter, 'method': method,
                'params': list(params)}, default=_default)
        headers = {'Content-Type': 'application/json'}
        if self.compressed:
            headers['Accept-Encoding'] = 'gzip'
        if self.auth:
            headers['Authorization'] = self.auth
        self.connection.request('POST', self.path, body, headers)
        response = self.connection.getresponse()
        data = response.read()
        # trytond 8.0 says gzip of a large answer it streams also to a
        # client that did not ask for it, and sends it plain then
        if (response.getheader('Content-Encoding') == 'gzip'
                and data[:2] == b'\x1f\x8b'):
            data = gzip.decompress(data)
        if response.status != 200:
            raise RPCError('%s: HTTP %s %s' % (method, response.status,
                    data[:300]))
        result = json.loads(data, object_hook=_object_hook)
        if result.get('error'):
            raise RPCError('%s: %s' % (method, result['error']))
        if method.startswith('model.school.lesson.grid_'):
            # The grid's calls answer one JSON text, parsed as the page does
            return json.loads(result['result'])
        return result['result']

    def logout(self):
        "End the session (a reused database keeps no session of the run)"
        self.call('common.db.logout')

    def timed(self, method, *params):
        start = time.perf_counter()
        result = self.call(method, *params)
        return time.perf_counter() - start, result
