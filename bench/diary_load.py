# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The e-diary under load: 50 signed-in parents reading their children's
week pages, on the production arrangement.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/diary_load.py \\
        --private-postgresql .var/bench/pg --students 1000 [--reuse] \\
        [--users 50] [--duration 60] [--workers 2] [--threads 1] \\
        [--no-update] [--page-cache auto|True|False] [--warm ROUNDS] \\
        [--pace SECONDS] [--writes-per-second R [--teachers N]
        [--saves-on-read]]

The demo school (bench/common.py) with school_ejournal_messaging activated;
N parents get a login (bench/diary_parents.py); gunicorn serves trytond
(PYTHONOPTIMIZE=1, `[cache] clean_timeout = 0`, --workers processes, as the
README deploys it); locust (`pip install -e '.[bench]'`), headless and
bounded in time, runs N users, each one parent signed in through the
e-diary's form beforehand (untimed, reading one week page to warm the
workers), reads the week pages of own children (the week of the demo's
day and the three before) as fast as answered, or with --pace one page
every SECONDS at most (locust's constant_pacing: 50 parents at 0.45 s
ask for some 110 pages a second, so the p95 is the page's time and not a
queue of users who never pause).  Prints pages/s, p50/p95
of the week page, errors, the load average and the CPU time taken during
the run by the gunicorn workers, PostgreSQL, locust and the whole machine.

A school day (--writes-per-second R): during the parents' run, --teachers
teachers (their own logins, signed in over JSON-RPC beforehand) save
attendance and marks of their own lessons of the server's day (the last
day up to today with lessons: each lesson held, with a task, untimed,
first) as the grid page does (`model.school.lesson.grid_save` with the
lesson's `_timestamp`), R saves a second in all (locust's
constant_throughput), each of a random lesson of the teacher, so of a
random class: half an absence set or taken back, half a new mark, of a
random student (with --saves-on-read, of a student whose pages the parents
read, where the teacher's lessons have one: the worst case for the kept
pages, each save forgets a page that is read).  Prints the saves done with
their p50/p95 and errors too.
"""
import csv
import datetime as dt
import http.client
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from common import (
    DAYS_BACK, PASSWORD, VENV_BIN, WORK, Client, Database, _default, free_port,
    parser, say, wait_port)

MODULE = 'school_ejournal_messaging'
HERE = Path(__file__).resolve().parent


def activate(database):
    "Activate the e-diary module in the demo database (quick when done)"
    log = WORK / ('%s-%s-messaging.log' % (database.backend, database.name))
    with open(log, 'w') as out:
        subprocess.run([str(VENV_BIN / 'trytond-admin'), '-c',
                str(database.conf), '-d', database.name, '-u', MODULE,
                '--activate-dependencies'],
            env=dict(os.environ, PYTHONOPTIMIZE='1'),
            stdout=out, stderr=subprocess.STDOUT, check=True)


def make_parents(database, count):
    out = WORK / ('%s-families.json' % database.name)
    subprocess.run([str(VENV_BIN / 'python'), str(HERE / 'diary_parents.py'),
            '-c', str(database.conf), '-d', database.name,
            '--count', str(count), '--password', PASSWORD,
            '--out', str(out)],
        env=dict(os.environ, PYTHONOPTIMIZE='1'), check=True)
    return out


TICK = os.sysconf('SC_CLK_TCK')


def _stat(pid):
    "The fields of /proc/PID/stat after the command's name"
    with open('/proc/%d/stat' % pid) as fp:
        return fp.read().rsplit(')', 1)[1].split()


def children(pid):
    "The ids of the live child processes of pid"
    result = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                if int(_stat(int(name))[1]) == pid:
                    result.append(int(name))
            except (OSError, IndexError):
                pass
    return result


def cpu_seconds(pid, reaped=False):
    """CPU seconds (user + system) of the process and of its live children,
    with its reaped children's too when reaped"""
    total = 0
    for i, child in enumerate([pid] + children(pid)):
        try:
            fields = _stat(child)
        except OSError:
            continue
        # utime, stime (14, 15), cutime, cstime (16, 17) from 1
        total += int(fields[11]) + int(fields[12])
        if reaped and i == 0:
            total += int(fields[13]) + int(fields[14])
    return total / TICK


def machine_seconds():
    "CPU seconds busy on all the machine's cores (/proc/stat)"
    with open('/proc/stat') as fp:
        values = [int(v) for v in fp.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def postmaster(database):
    "The pid of the private cluster's postmaster, or None"
    if database.pg is None:
        return None
    with open(database.pg.data / 'postmaster.pid') as fp:
        return int(fp.readline())


def gunicorn(database, workers, threads=1, page_cache=None):
    """Start gunicorn as the README deploys trytond (sync workers, or
    gthread workers of `threads` threads each); return (process, port)"""
    port = free_port()
    conf = WORK / ('gunicorn-%s.conf' % database.name)
    lines = ['[database]', 'uri = %s' % database.server_uri]
    if database.backend == 'sqlite':
        lines.append('path = %s' % database.folder)
    # The bench speaks plain HTTP on loopback: cookies without Secure
    lines += ['', '[cache]', 'clean_timeout = 0', '',
        '[session]', 'max_attempt = 100', '',
        '[school_diary]', 'secure_cookie = False']
    if page_cache is not None:
        lines.append('page_cache = %s' % page_cache)
    lines.append('')
    conf.write_text('\n'.join(lines))
    log = WORK / ('gunicorn-%s.log' % database.name)
    env = dict(os.environ, PYTHONOPTIMIZE='1', TRYTOND_CONFIG=str(conf),
        TRYTOND_DATABASE_NAMES=database.name)
    process = subprocess.Popen([str(VENV_BIN / 'gunicorn'),
            '-w', str(workers), '--threads', str(threads),
            '-b', '127.0.0.1:%d' % port,
            '--timeout', '120', 'trytond.application:app'],
        env=env, stdout=open(log, 'w'), stderr=subprocess.STDOUT,
        start_new_session=True)
    wait_port(port, process, log=log)
    say('gunicorn (pid %d, %d workers, %d threads each) on 127.0.0.1:%d'
        % (process.pid, workers, threads, port))
    return process, port


def sign_in(port, database, family, weeks):
    """Sign the parent in through the e-diary's form (CSRF cookie and
    token) and read one week page (untimed: it warms the worker); return
    the family with its session cookie"""
    base = '/%s/diary/' % database
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=300)
    connection.request('GET', base + 'login')
    response = connection.getresponse()
    page = response.read().decode()
    csrf_cookie = re.search(r'school_diary_csrf=([^;]+)',
        response.getheader('Set-Cookie') or '').group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    connection.request('POST', base + 'login', urlencode({
                'login': family['login'], 'password': PASSWORD,
                'csrf': token}), {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Cookie': 'school_diary_csrf=%s' % csrf_cookie})
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise SystemExit('bench: %s could not sign in (HTTP %s)'
            % (family['login'], response.status))
    cookie = re.search(r'school_diary=([^;]+)',
        response.getheader('Set-Cookie')).group(1)
    connection.request('GET', '%s%s/week?date=%s' % (
            base, family['students'][0], weeks[0]), headers={
            'Cookie': 'school_diary=%s' % cookie})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit('bench: %s cannot read the week (HTTP %s)'
            % (family['login'], response.status))
    connection.close()
    return dict(family, cookie=cookie)


def sign_in_all(port, database, families):
    "Sign every parent in (8 at a time); write their cookies for locust"
    with open(families) as fp:
        todo = json.load(fp)
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(
                lambda f: sign_in(port, database.name, f, weeks()), todo))
    say('%d parents signed in (untimed) in %.0f s'
        % (len(done), time.monotonic() - start))
    out = WORK / ('%s-sessions.json' % database.name)
    out.write_text(json.dumps(done))
    return out


def warm(port, database, sessions, rounds):
    """Read every week page of every parent `rounds` times (untimed), so
    that each worker has kept them: the figures are then of pages kept"""
    base = '/%s/diary/' % database.name
    urls = [(f['cookie'], '%s%s/week?date=%s' % (base, s, w))
        for f in json.loads(Path(sessions).read_text())
        for s in f['students'] for w in weeks()]

    def read(item):
        cookie, url = item
        connection = http.client.HTTPConnection('127.0.0.1', port,
            timeout=300)
        for _ in range(rounds):
            connection.request('GET', url, headers={
                    'Cookie': 'school_diary=%s' % cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit('bench: %s answered HTTP %s'
                    % (url, response.status))
        connection.close()
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read, urls))
    say('%d week pages read %d times each (untimed) in %.0f s'
        % (len(urls), rounds, time.monotonic() - start))


def school_day(database, cursor):
    "The server's day of lessons: the last day up to today with lessons"
    cursor.execute(database.sql("SELECT MAX(date) FROM school_lesson "
            "WHERE date <= %s AND state != 'cancelled'"), (dt.date.today(),))
    day, = cursor.fetchone()
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return day


def make_teachers(port, database, count, seed=1):
    """Sign in `count` teachers with lessons on the server's day (at random,
    as their own users over JSON-RPC) and make each of their lessons of the
    day ready for the grid's saves as a teacher does at its start: held,
    with a task (untimed); write for locust their sessions and lessons
    (students, tasks, the cells without a mark, the lesson's timestamp)"""
    sql = database.sql
    conn = database.connect()
    cursor = conn.cursor()
    day = school_day(database, cursor)
    # (the classes of levels without marks, the first, get none)
    cursor.execute(sql('SELECT l.id, l.class_, v.marks, u.login '
            'FROM school_lesson l '
            'JOIN school_class c ON c.id = l.class_ '
            'JOIN school_level v ON v.id = c.level '
            'JOIN "res_user-company_employee" r ON r.employee = l.teacher '
            'JOIN res_user u ON u.id = r."user" '
            "WHERE l.date = %s AND l.state != 'cancelled' AND u.active "
            'ORDER BY l.id'), (day,))
    by_login = {}
    for lesson_id, class_id, marks, login in cursor.fetchall():
        by_login.setdefault(login, []).append((lesson_id, class_id, marks))
    cursor.execute(sql("SELECT db_id FROM ir_model_data WHERE "
            "module = 'school_ejournal' AND fs_id = %s"),
        ('task_type_independent',))
    task_type, = cursor.fetchone()
    conn.commit()
    logins = sorted(by_login)
    random.Random(seed).shuffle(logins)
    logins = logins[:count]
    if len(logins) < count:
        raise SystemExit('bench: %d teachers with lessons on %s, %d asked'
            % (len(logins), day, count))
    teachers = []
    classes = set()
    for login in logins:
        client = Client(port, database.name, login, compressed=True)
        lessons = []
        for lesson_id, class_id, marks in by_login[login]:
            cursor.execute(sql('SELECT COUNT(*) FROM school_lesson_task '
                    'WHERE lesson = %s'), (lesson_id,))
            tasks, = cursor.fetchone()
            conn.commit()
            changes = {'hold': True}
            if not tasks:
                changes['tasks'] = [{'type': task_type}]
            result = client.call('model.school.lesson.grid_save', lesson_id,
                changes, client.context)
            cursor.execute(sql('SELECT student, attendance FROM '
                    'school_lesson_attendance WHERE lesson = %s'),
                (lesson_id,))
            students = dict(cursor.fetchall())
            cursor.execute(sql('SELECT id FROM school_lesson_task '
                    'WHERE lesson = %s ORDER BY id'), (lesson_id,))
            task_ids = [t for t, in cursor.fetchall()]
            cursor.execute(sql('SELECT task, student FROM school_mark WHERE '
                    'lesson = %s AND NOT cancelled'), (lesson_id,))
            marked = set(cursor.fetchall())
            conn.commit()
            lessons.append({
                    'id': lesson_id,
                    'class': class_id,
                    'timestamp': result['lesson']['timestamp'],
                    'attendance': {str(s): a for s, a in students.items()},
                    'free': [[t, s] for t in task_ids for s in students
                        if marks and (t, s) not in marked
                        and not students[s]],
                    })
            classes.add(class_id)
        teachers.append({
                'login': login,
                'auth': client.auth,
                'context': json.loads(json.dumps(client.context,
                        default=_default)),
                'lessons': lessons,
                })
        client.connection.close()
    conn.close()
    out = WORK / ('%s-teachers.json' % database.name)
    out.write_text(json.dumps(teachers))
    say('%d teachers signed in, %d of their lessons of %s held (%d '
        'classes) for the saves (untimed)' % (len(teachers),
            sum(len(t['lessons']) for t in teachers), day, len(classes)))
    return out


def weeks():
    "The Monday of the demo's day and of the three weeks before"
    day = dt.date.today() - dt.timedelta(days=DAYS_BACK)
    monday = day - dt.timedelta(days=day.weekday())
    return [(monday - dt.timedelta(days=7 * k)).isoformat()
        for k in range(4)]


def run_locust(port, database, families, users, duration, pace=0,
        teachers=None, writes=0, saves_on_read=False):
    prefix = WORK / ('locust-%s' % database.name)
    env = dict(os.environ, DIARY_DATABASE=database.name,
        DIARY_FAMILIES=str(families), DIARY_WEEKS=','.join(weeks()),
        DIARY_PASSWORD=PASSWORD, DIARY_PACE=str(pace))
    if teachers and writes:
        env.update(DIARY_TEACHERS=str(teachers), DIARY_WRITES=str(writes))
        if saves_on_read:
            env['DIARY_SAVES_ON_READ'] = '1'
        users += len(json.loads(Path(teachers).read_text()))
    env.pop('PYTHONOPTIMIZE', None)
    locust = VENV_BIN / 'locust'
    if not locust.exists():
        raise SystemExit("bench: locust missing: .venv/bin/pip install "
            "-e '.[bench]'")
    say('locust: %d users for %d s%s' % (users, duration,
            ' (%s saves a second)' % writes if writes else ''))
    result = subprocess.run([str(locust), '-f',
            str(HERE / 'diary_locustfile.py'), '--headless',
            '-u', str(users), '-r', str(users), '-t', '%ds' % duration,
            '--host', 'http://127.0.0.1:%d' % port, '--csv', str(prefix),
            '--only-summary', '--stop-timeout', '10'],
        env=env, capture_output=True, text=True)
    (WORK / 'locust.log').write_text(result.stdout + result.stderr)
    stats = prefix.with_name(prefix.name + '_stats.csv')
    if not stats.exists():
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit('bench: locust wrote no figures')
    with open(stats) as fp:
        return {row['Name']: row for row in csv.DictReader(fp)}, result


def main():
    p = parser(__doc__)
    p.add_argument('--users', type=int, default=50)
    p.add_argument('--duration', type=int, default=60)
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--threads', type=int, default=1,
        help="threads per gunicorn worker (default 1: sync workers)")
    p.add_argument('--page-cache', choices=['auto', 'True', 'False'],
        default='auto', help="[school_diary] page_cache of the server: "
        "the kept week pages (auto: on, as on PostgreSQL with "
        "clean_timeout = 0)")
    p.add_argument('--warm', type=int, default=0, metavar='ROUNDS',
        help="read every parent's week pages ROUNDS times before the "
        "clock (the kept pages of every worker: 3 × --workers is plenty)")
    p.add_argument('--pace', type=float, default=0, metavar='SECONDS',
        help="each parent reads a page every SECONDS at most (default 0: "
        "without pause)")
    p.add_argument('--writes-per-second', type=float, default=0,
        metavar='R', help="a school day: teachers save attendance and "
        "marks of their lessons, R saves a second in all, during the "
        "parents' run (default 0: none)")
    p.add_argument('--teachers', type=int, default=10,
        help="with --writes-per-second: how many teachers save "
        "(default 10)")
    p.add_argument('--saves-on-read', action='store_true',
        help="with --writes-per-second: the saves take the students whose "
        "pages the parents read, where the lesson has any (the worst case "
        "for the kept pages)")
    p.add_argument('--no-update', action='store_true',
        help="with --reuse: the module is already activated and up to "
        "date (skips trytond-admin -u, about a minute)")
    args = p.parse_args()
    database = Database(args)
    database.ensure()
    if not (args.reuse and args.no_update):
        activate(database)
    families = make_parents(database, args.users)
    process, port = gunicorn(database, args.workers, args.threads,
        args.page_cache)
    try:
        sessions = sign_in_all(port, database, families)
        teachers = None
        if args.writes_per_second:
            teachers = make_teachers(port, database, args.teachers)
        if args.warm:
            warm(port, database, sessions, args.warm)
        before = os.getloadavg()
        say('load before: %.2f %.2f %.2f' % before)
        pg = postmaster(database)
        cpu_before = (cpu_seconds(process.pid),
            cpu_seconds(pg, reaped=True) if pg else 0,
            resource.getrusage(resource.RUSAGE_CHILDREN),
            machine_seconds())
        start = time.monotonic()
        stats, result = run_locust(port, database, sessions, args.users,
            args.duration, args.pace, teachers, args.writes_per_second,
            args.saves_on_read)
        elapsed = time.monotonic() - start
        load = os.getloadavg()
        cpu_after = (cpu_seconds(process.pid),
            cpu_seconds(pg, reaped=True) if pg else 0,
            resource.getrusage(resource.RUSAGE_CHILDREN),
            machine_seconds())
    finally:
        os.killpg(process.pid, 15)
        process.wait(30)
    week = stats.get('week page')
    if not week:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit('bench: no week page was read')
    print('e-diary week page, %s, %d students, %d parents, %d gunicorn '
        'workers × %d threads, %d s, page_cache = %s%s' % (
            database.backend, args.students, args.users, args.workers,
            args.threads, args.duration, args.page_cache,
            ', warmed %d rounds' % args.warm if args.warm else '')
        + (', a page every %.2f s a parent (%.0f pages/s asked)' % (
                args.pace, args.users / args.pace) if args.pace else
            ', without pause')
        + (', %s teachers\' saves a second asked%s' % (
                args.writes_per_second,
                ' (of the children read)' if args.saves_on_read else '')
            if args.writes_per_second else ''))
    print('week page    n=%s  %.1f pages/s  p50 %s ms  p95 %s ms  '
        'p99 %s ms  max %.0f ms  errors %s' % (
            week['Request Count'], float(week['Requests/s']),
            week['50%'], week['95%'], week['99%'],
            float(week['Max Response Time']), week['Failure Count']))
    save = stats.get('teacher save')
    if args.writes_per_second:
        if not save:
            raise SystemExit('bench: no teacher saved')
        print('teacher save n=%s  %.2f saves/s  p50 %s ms  p95 %s ms  '
            'p99 %s ms  max %.0f ms  errors %s' % (
                save['Request Count'], float(save['Requests/s']),
                save['50%'], save['95%'], save['99%'],
                float(save['Max Response Time']), save['Failure Count']))
        failures = WORK / ('locust-%s_failures.csv' % database.name)
        if int(save['Failure Count']) and failures.exists():
            sys.stderr.write(failures.read_text()[-2000:])
    print('load average before the run %.2f %.2f %.2f, after it (1, 5, '
        '15 min): %.2f %.2f %.2f; run %.0f s' % (*before, *load, elapsed))
    ru0, ru1 = cpu_before[2], cpu_after[2]
    locust_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    servers = cpu_after[0] - cpu_before[0]
    postgres = cpu_after[1] - cpu_before[1]
    machine = cpu_after[3] - cpu_before[3]
    pages = max(int(week['Request Count']), 1)
    print('CPU during the run: gunicorn workers %.1f s (%.1f ms a page), '
        'PostgreSQL %.1f s (%.1f ms a page), locust %.1f s (%.1f ms a '
        'page); the whole machine %.1f s busy of %d × %.0f s (others: '
        '%.1f s)' % (servers, 1000 * servers / pages, postgres,
            1000 * postgres / pages, locust_cpu, 1000 * locust_cpu / pages,
            machine, os.cpu_count(), elapsed,
            machine - servers - postgres - locust_cpu))
    print('aims: p95 <= 150 ms, >= 100 pages/s')


if __name__ == '__main__':
    main()
