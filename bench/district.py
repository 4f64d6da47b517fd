# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""District bench: a mixed load over several school databases served by
one gunicorn with 1, 2 and 4 workers.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/district.py \\
        --db-uri postgresql://postgres@127.0.0.1:5432/ --source demo \\
        [--schools 3] [--workers 1,2,4] [--seconds 30] \\
        [--teachers 2] [--parents 4]

--source is a demo school's database on that server (made with
`setup/new-school -c CONF demo --demo --students 250`, or built here when
missing with --students); the schools `district_bench_1..N` are copies of
it (`setup/new-school --from`, kept for the next run).  Per school,
--teachers threads save whole lessons as sao does (one
`school.lesson.write`: topic, homework, attendance of every line and two
marks per present student; the lesson reset beforehand with plain SQL,
untimed) and --parents threads read the e-diary's week page of their
child (signed in once, with the cookie).  For each worker count: requests
per second, p50 and p95 of each kind, errors, and the load average of the
machine (the load generator runs on the same cores).
"""
import argparse
import datetime as dt
import os
import random
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests'))
from district_support import (  # noqa: E402
    Diary, Gunicorn, new_school, write_config)

sys.path.pop(0)
from common import WORK, percentile, say  # noqa: E402

PASSWORD = 'demo-2026'
MARKS = ['5', '4', '4', '3', '5', '4', '3', '2']


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--db-uri', required=True,
        help="postgresql://USER@HOST:PORT/ (the user creates databases)")
    p.add_argument('--source', default='demo',
        help="the demo school's database to copy (default: demo)")
    p.add_argument('--students', type=int, default=250,
        help="when --source is missing, build it with this many students")
    p.add_argument('--schools', type=int, default=3)
    p.add_argument('--workers', default='1,2,4')
    p.add_argument('--seconds', type=float, default=30)
    p.add_argument('--teachers', type=int, default=2,
        help="teachers saving lessons at once, per school")
    p.add_argument('--parents', type=int, default=4,
        help="parents reading the diary at once, per school")
    return p.parse_args()


def exists(uri, name):
    import psycopg
    with psycopg.connect(uri.rstrip('/') + '/postgres') as conn:
        return bool(conn.execute(
                'SELECT 1 FROM pg_database WHERE datname = %s',
                (name,)).fetchone())


class School:
    "A school's lessons to save, by teacher, and its diary logins"

    def __init__(self, uri, name):
        import psycopg
        self.name = name
        self.conn = psycopg.connect(uri.rstrip('/') + '/' + name,
            autocommit=True)
        self.lock = threading.Lock()
        today = dt.date.today()
        rows = self.conn.execute(
            'SELECT l.id, u.login FROM school_lesson l '
            'JOIN school_class c ON c.id = l.class_ '
            'JOIN school_level v ON v.id = c.level '
            'JOIN "res_user-company_employee" r ON r.employee = l.teacher '
            'JOIN res_user u ON u.id = r."user" '
            'WHERE v.marks AND l.subgroup IS NULL '
            'AND l.date BETWEEN %s AND %s '
            "AND l.state IN ('planned', 'held') ORDER BY l.date, l.id",
            (today - dt.timedelta(days=5), today)).fetchall()
        self.lessons = {}
        for lesson, login in rows:
            self.lessons.setdefault(login, []).append(lesson)
        if not self.lessons:
            raise SystemExit(f'bench: no lesson of the last days in {name}: '
                'rebuild the source demo')
        self.types = dict(self.conn.execute(
                "SELECT fs_id, db_id FROM ir_model_data "
                "WHERE module = 'school_ejournal' AND fs_id IN "
                "('task_type_independent', 'task_type_homework')"))

    @staticmethod
    def count_students(uri, name):
        import psycopg
        with psycopg.connect(uri.rstrip('/') + '/' + name) as conn:
            return conn.execute(
                'SELECT COUNT(*) FROM school_student').fetchone()[0]

    def prepare(self, client):
        "Hold the teacher's lessons, two written tasks each (untimed)"
        lessons = self.lessons[client.login]
        planned = [r[0] for r in self.conn.execute(
                "SELECT id FROM school_lesson WHERE id = ANY(%s) "
                "AND state = 'planned'", (lessons,))]
        if planned:
            client.call('model.school.lesson.hold', planned, client.context)
        tasks = dict(self.conn.execute(
                'SELECT lesson, COUNT(*) FROM school_lesson_task '
                'WHERE lesson = ANY(%s) GROUP BY lesson', (lessons,)))
        for lesson in lessons:
            if tasks.get(lesson, 0) < 2:
                client.call('model.school.lesson.write', [lesson], {
                        'tasks': [['create', [
                                    {'type': self.types[
                                            'task_type_independent']},
                                    {'type': self.types[
                                            'task_type_homework']},
                                    ]]]}, client.context)
        # Only the lessons with no other tasks than the two written ones
        # (a lesson held by the demo has an oral task of days ago that
        # takes no more marks)
        other = {r[0] for r in self.conn.execute(
                'SELECT DISTINCT lesson FROM school_lesson_task '
                'WHERE lesson = ANY(%s) AND type <> ALL(%s)',
                (lessons, list(self.types.values())))}
        self.usable = getattr(self, 'usable', {})
        self.usable[client.login] = [lesson for lesson in lessons
            if lesson not in other]
        self.lines = getattr(self, 'lines', {})
        for lesson in lessons:
            self.lines[lesson] = []  # prepared again for each worker count
        for lesson, line in self.conn.execute(
                'SELECT lesson, id FROM school_lesson_attendance '
                'WHERE lesson = ANY(%s) ORDER BY id', (lessons,)):
            self.lines.setdefault(lesson, []).append(line)

    def reset(self, lesson):
        with self.lock:
            self.conn.execute(
                'DELETE FROM school_mark WHERE lesson = %s', (lesson,))
            self.conn.execute('UPDATE school_lesson_attendance '
                'SET attendance = NULL WHERE lesson = %s', (lesson,))

    def form(self, lesson, seed):
        rng = random.Random(seed)
        lines = []
        for line in self.lines.get(lesson, []):
            if rng.random() < 0.07:
                lines.append(['write', [line], {'attendance': 'absent'}])
            else:
                lines.append(['write', [line], {
                            'attendance': None, 'mark': rng.choice(MARKS),
                            'mark_2': rng.choice(MARKS)}])
        return {'topic': f'Урок {seed}', 'homework': '§ 12, упр. 145',
            'lines': lines}


def run(server, schools, args):
    "The mixed load for args.seconds; return [(kind, seconds, ok)]"
    results = []
    lock = threading.Lock()
    stop = threading.Event()
    ready = threading.Barrier(
        len(schools) * (args.teachers + args.parents) + 1, timeout=600)

    def record(kind, seconds, ok):
        with lock:
            results.append((kind, seconds, ok))

    def teacher(school, login):
        client = server.client(school.name, login, PASSWORD)
        school.prepare(client)
        lessons = [lesson for lesson in school.usable[login]
            if school.lines.get(lesson)]
        if not lessons:
            raise SystemExit(f'bench: {login} has no lesson to save')
        ready.wait()
        n = 0
        while not stop.is_set():
            lesson = lessons[n % len(lessons)]
            n += 1
            school.reset(lesson)
            start = time.perf_counter()
            try:
                client.call('model.school.lesson.write', [lesson],
                    school.form(lesson, n), client.context)
                ok = True
            except Exception as exception:
                ok = False
                say(f'{school.name} {login}: {str(exception)[:150]}')
                client = server.client(school.name, login, PASSWORD)
            record('lesson save', time.perf_counter() - start, ok)

    def parent(school):
        diary = Diary(server.base, school.name, 'roditel', PASSWORD)
        ready.wait()
        while not stop.is_set():
            start = time.perf_counter()
            try:
                ok = 'class="' in diary.week()
            except Exception as exception:
                ok = False
                say(f'{school.name} diary: {str(exception)[:150]}')
            record('diary week', time.perf_counter() - start, ok)

    threads = []
    for school in schools:
        logins = sorted(school.lessons, key=lambda login: (
                -len(school.lessons[login]), login))
        for i in range(args.teachers):
            threads.append(threading.Thread(target=teacher, daemon=True,
                    args=(school, logins[i % len(logins)])))
        for i in range(args.parents):
            threads.append(threading.Thread(target=parent, daemon=True,
                    args=(school,)))
    for thread in threads:
        thread.start()
    ready.wait()
    names = [school.name for school in schools]
    # CPU of the workers and of their PostgreSQL backends: what a request
    # costs, whatever else the machine runs
    app = cpu_ticks(server.workers())
    database = cpu_ticks(backends(args.db_uri, names))
    start = time.perf_counter()
    time.sleep(args.seconds)
    stop.set()
    app_end = cpu_ticks(server.workers())
    database_end = cpu_ticks(backends(args.db_uri, names))
    seconds = time.perf_counter() - start
    for thread in threads:
        thread.join(300)
    tick = os.sysconf('SC_CLK_TCK')
    cpu = [sum(end[p] - begin.get(p, 0) for p in end) / tick
        for begin, end in [(app, app_end), (database, database_end)]]
    return results, seconds, cpu


def rss(pids):
    "Resident memory of the processes, MB"
    total = 0
    for pid in pids:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'):
                total += int(line.split()[1])
    return total / 1024


def cpu_ticks(pids):
    "{pid: user + system clock ticks} of the living processes"
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(
                ')', 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def backends(uri, names):
    import psycopg
    with psycopg.connect(uri.rstrip('/') + '/postgres') as conn:
        return [r[0] for r in conn.execute(
                'SELECT pid FROM pg_stat_activity WHERE datname = ANY(%s)',
                (names,))]


def connections(uri, names):
    import psycopg
    with psycopg.connect(uri.rstrip('/') + '/postgres') as conn:
        return conn.execute(
            'SELECT COUNT(*) FROM pg_stat_activity WHERE datname = ANY(%s)',
            (names,)).fetchone()[0]


def memory(config, names):
    "A worker's memory with one school's pool loaded, then with all"
    sizes = []
    for served in [names[:1], names]:
        server = Gunicorn(config, served, workers=1, timeout=300)
        try:
            sizes.append(rss(server.workers()))
        finally:
            server.stop()
    per_school = (sizes[1] - sizes[0]) / max(1, len(names) - 1)
    print(f'memory: a worker with 1 school {sizes[0]:.0f} MB, with '
        f'{len(names)} {sizes[1]:.0f} MB: {per_school:.0f} MB per more '
        'school', flush=True)


def main():
    args = parse()
    if not sys.flags.optimize:
        say("WARNING: run with PYTHONOPTIMIZE=1 (the servers always are)")
    folder = WORK / 'district'
    config = write_config(folder, args.db_uri)
    if not exists(args.db_uri, args.source):
        say(f'building the demo school {args.source} '
            f'({args.students} students; minutes)')
        new_school(config, args.source, 'Bench-admin-2026', '--demo',
            '--students', str(args.students), timeout=7200)
    names = [f'district_bench_{n}' for n in range(1, args.schools + 1)]
    for name in names:
        if not exists(args.db_uri, name):
            say(f'{name}: a copy of {args.source}')
            new_school(config, name, 'Bench-admin-2026', '--from',
                args.source)
    schools = [School(args.db_uri, name) for name in names]
    say(f'{len(schools)} schools, per school {args.teachers} teachers '
        f'saving lessons and {args.parents} parents reading the diary, '
        f'{args.seconds:.0f} s per worker count; cores {os.cpu_count()}')
    import psycopg
    with psycopg.connect(args.db_uri.rstrip('/') + '/postgres') as conn:
        size = conn.execute('SELECT pg_database_size(%s)',
            (names[0],)).fetchone()[0]
    students = School.count_students(args.db_uri, names[0])
    print(f'database: {size / 2**20:.0f} MB for {students} students '
        f'({names[0]})', flush=True)
    memory(config, names)
    for workers in [int(w) for w in args.workers.split(',')]:
        server = Gunicorn(config, names, workers=workers, timeout=300)
        try:
            results, seconds, cpu = run(server, schools, args)
            used = rss(server.workers())
            held = connections(args.db_uri, names)
        finally:
            server.stop()
        load = os.getloadavg()
        print(f'workers {workers}: {used:.0f} MB resident in all, '
            f'{held} PostgreSQL connections held', flush=True)
        total = len(results)
        errors = sum(1 for r in results if not r[2])
        print(f'workers {workers}: {total / seconds:6.1f} requests/s, '
            f'{total} in {seconds:.0f} s, errors {errors}; '
            f'load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}',
            flush=True)
        if total:
            print(f'    CPU per request: {cpu[0] / total * 1000:.0f} ms in '
                f'the workers, {cpu[1] / total * 1000:.0f} ms in PostgreSQL '
                f'(workers {cpu[0] / seconds:.2f} cores, PostgreSQL '
                f'{cpu[1] / seconds:.2f} cores)', flush=True)
        for kind in ['lesson save', 'diary week']:
            ms = [r[1] * 1000 for r in results if r[0] == kind and r[2]]
            failed = sum(1 for r in results if r[0] == kind and not r[2])
            if ms:
                print(f'    {kind:<12} {len(ms) / seconds:6.1f}/s  '
                    f'p50 {percentile(ms, 0.5):7.0f} ms  '
                    f'p95 {percentile(ms, 0.95):7.0f} ms  '
                    f'errors {failed}', flush=True)


if __name__ == '__main__':
    main()
