# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Faults, on setup/test's private PostgreSQL, short and bounded.

A school (the module tests' journal school with 5А grown to 33 students)
is served by gunicorn as in production.  Its mathematics teacher saves
the whole lesson form (topic, homework, attendance and two marks per
present student: one `school.lesson.write`, as sao sends it):

(a) the gunicorn worker serving the save is killed with SIGKILL while the
    save's transaction is open in PostgreSQL (seen in pg_stat_activity):
    the lesson is then either wholly saved or untouched, every line and
    mark checked; gunicorn starts a new worker that saves it again;
(b) PostgreSQL is restarted (pg_ctl restart -m fast) while teachers save
    and read: the requests during the outage end with an error answer or
    wait (never longer than the bound), the ones after succeed, and no
    lesson is half-written.

Printed: requests tried, failed, rows lost (must be 0).
"""
import datetime as dt
import os
import pwd
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from district_support import Gunicorn, write_config

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
pytestmark = pytest.mark.skipif(
    not URI.startswith('postgresql'),
    reason="runs in setup/test's PostgreSQL pass (kills and restarts)")

PASSWORD = 'Uchitel-2026-faults'
TODAY = dt.date.today()
MARKS = ['5', '4', '3', '4', '5', '2']


def connect(autocommit=True):
    import psycopg

    from trytond.tests.test_tryton import DB_NAME
    return psycopg.connect(URI.rstrip('/') + '/' + DB_NAME,
        autocommit=autocommit)


@pytest.fixture(scope='module')
def school(tmp_path_factory):
    "The journal school, 33 students in 5А, a held lesson with two tasks"
    from proteus import Model

    from school_ejournal.tests.tools import (
        create_journal_school, enrol, task_type)
    from trytond.tests.test_tryton import DB_NAME
    from trytond.tests.tools import activate_modules
    config = activate_modules('school_ejournal')
    school = create_journal_school(config=config)
    Student = Model.get('school.student')
    more = []
    for n in range(30):
        student = Student(last_name='Ученикова', first_name=f'Ученица {n}')
        student.save()
        more.append(student)
    enrol(more, school['classes']['5А'], TODAY, number='2-5А')
    teacher = school['users']['klass']
    teacher.password = PASSWORD
    teacher.save()
    Lesson = Model.get('school.lesson')
    lessons = []
    for number in [1, 2, 3]:
        lesson = Lesson(teaching=school['teachings']['5А math'],
            date=TODAY, number=number)
        lesson.save()
        lessons.append(lesson.id)
    tmp = tmp_path_factory.mktemp('faults')
    server = Gunicorn(write_config(tmp, URI), [DB_NAME], workers=1,
        timeout=60)
    try:
        client = server.client(DB_NAME, 'klass', PASSWORD)
        client.call('model.school.lesson.hold', lessons, client.context)
        types = [task_type('С').id, task_type('ДЗ').id]
        for lesson in lessons:
            client.call('model.school.lesson.write', [lesson], {
                    'tasks': [['create', [{'type': t} for t in types]]],
                    }, client.context)
        yield dict(server=server, lessons=lessons, db=DB_NAME)
    finally:
        server.stop()


def lines_of(lesson):
    with connect() as conn:
        return [r[0] for r in conn.execute(
                'SELECT id FROM school_lesson_attendance WHERE lesson = %s '
                'ORDER BY id', (lesson,))]


def values(lesson, lines, seed):
    "The lesson form as the teacher saves it"
    rng = random.Random(seed)
    return {
        'topic': f'Дроби, урок {seed}',
        'homework': f'№ {seed}',
        'lines': [['write', [line], {
                        'attendance': 'absent' if i % 11 == 0 else None,
                        **({} if i % 11 == 0 else {
                                'mark': rng.choice(MARKS),
                                'mark_2': rng.choice(MARKS)}),
                        }] for i, line in enumerate(lines)],
        }


def state(lesson):
    "(topic, homework, {line: attendance}, {(student, task): value})"
    with connect() as conn:
        topic, homework = conn.execute(
            'SELECT topic, homework FROM school_lesson WHERE id = %s',
            (lesson,)).fetchone()
        lines = dict(conn.execute(
                'SELECT id, attendance FROM school_lesson_attendance '
                'WHERE lesson = %s', (lesson,)).fetchall())
        marks = {(s, t): v for s, t, v in conn.execute(
                'SELECT student, task, value FROM school_mark '
                'WHERE lesson = %s AND NOT cancelled', (lesson,))}
    return topic, homework, lines, marks


def reset(lesson):
    "The lesson as just held: no topic, attendance nor marks"
    with connect() as conn:
        conn.execute('DELETE FROM school_mark WHERE lesson = %s', (lesson,))
        conn.execute('UPDATE school_lesson_attendance SET attendance = NULL '
            'WHERE lesson = %s', (lesson,))
        conn.execute('UPDATE school_lesson SET topic = NULL, '
            'homework = NULL WHERE id = %s', (lesson,))
    return state(lesson)


def outcome(lesson, before, sent):
    """'saved' when every line and mark is the sent form's, 'untouched'
    when all is as before; fail on anything else"""
    now = state(lesson)
    if now == before:
        return 'untouched'
    topic, homework, lines, marks = now
    expected = {line: change.get('attendance')
        for _, (line,), change in sent['lines']}
    assert topic == sent['topic'] and homework == sent['homework'], now[:2]
    assert lines == expected, 'attendance half-written'
    present = sum(1 for v in expected.values() if v is None)
    assert len(marks) == 2 * present, (
        f'{len(marks)} marks for {present} present students')
    return 'saved'


def in_transaction(watcher, db):
    "The pids of the backends of db with a write transaction open"
    return [r[0] for r in watcher.execute(
            'SELECT pid FROM pg_stat_activity WHERE datname = %s '
            'AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()',
            (db,))]


def test_worker_killed_during_lesson_save(school):
    "SIGKILL of the worker mid-save: the lesson whole or untouched"
    server, db = school['server'], school['db']
    lesson = school['lessons'][0]
    lines = lines_of(lesson)
    client = server.client(db, 'klass', PASSWORD)
    results = {'saved': 0, 'untouched': 0}
    killed = tried = 0
    start = time.monotonic()
    watcher = connect()
    while time.monotonic() - start < 60 and (killed < 3 or tried < 5):
        tried += 1
        before = reset(lesson)
        sent = values(lesson, lines, tried)
        worker, = server.workers()
        errors = []

        def save():
            try:
                client.call('model.school.lesson.write', [lesson], sent,
                    client.context)
            except Exception as exception:
                errors.append(exception)
        thread = threading.Thread(target=save)
        thread.start()
        hit = False
        while thread.is_alive():
            if in_transaction(watcher, db):
                os.kill(worker, signal.SIGKILL)
                hit = True
                break
        thread.join(60)
        assert not thread.is_alive(), 'the save hangs'
        if hit:
            killed += 1
            assert errors, 'a killed save answered'
            server.wait(60)
            client = server.client(db, 'klass', PASSWORD)
        results[outcome(lesson, before, sent)] += 1
    watcher.close()
    # The school goes on: a save after the kills is whole
    before = reset(lesson)
    sent = values(lesson, lines, 1000)
    client.call('model.school.lesson.write', [lesson], sent, client.context)
    assert outcome(lesson, before, sent) == 'saved'
    print(f'\nworker kills: {tried} saves tried, {killed} killed '
        f'mid-transaction, {results["untouched"]} left untouched, '
        f'{results["saved"]} wholly saved; rows lost 0')
    assert killed >= 1, 'no save was caught in its transaction'


def pg_ctl(*args):
    import psycopg
    with psycopg.connect(URI.rstrip('/') + '/postgres') as conn:
        data, = conn.execute('SHOW data_directory').fetchone()
    bindir = subprocess.run(['pg_config', '--bindir'], capture_output=True,
        text=True).stdout.strip()
    candidates = [Path(bindir)] + sorted(
        Path('/usr/lib/postgresql').glob('*/bin'), reverse=True)
    binary = next(str(p / 'pg_ctl') for p in candidates
        if (p / 'pg_ctl').exists())
    owner = pwd.getpwuid(os.stat(data).st_uid).pw_name
    # The server's output to a log, not to pipes it would keep open
    log = Path(data).parent / 'postgresql.log'
    command = [binary, '-D', data, '-l', str(log), *args]
    if os.geteuid() == 0 and owner != 'root':
        command = ['runuser', '-u', owner, '--'] + command
    return subprocess.run(command, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        timeout=90)


def test_postgresql_restart_under_load(school):
    "pg_ctl restart under load: errors, then success, nothing half-written"
    server, db = school['server'], school['db']
    lessons = school['lessons'][1:]
    lines = {lesson: lines_of(lesson) for lesson in lessons}
    stop = threading.Event()
    restarted = threading.Event()
    log = []  # (lesson, before, sent, ok, seconds, after restart, error)
    lock = threading.Lock()

    clients = {lesson: server.client(db, 'klass', PASSWORD)
        for lesson in lessons}

    def teacher(lesson):
        client = clients[lesson]
        n = 0
        while not stop.is_set():
            n += 1
            try:
                before = reset(lesson)
            except Exception:
                time.sleep(0.2)  # the test's own connection: PostgreSQL down
                continue
            sent = values(lesson, lines[lesson], n)
            after = restarted.is_set()
            begin = time.monotonic()
            try:
                client.call('model.school.lesson.write', [lesson], sent,
                    client.context)
                error = None
            except Exception as exception:
                error = str(exception)[:200]
                # A new session on a new connection, when the server lets
                try:
                    client = server.client(db, 'klass', PASSWORD)
                except Exception:
                    pass
            seconds = time.monotonic() - begin
            result = None
            for _ in range(100):
                try:
                    result = outcome(lesson, before, sent)
                    break
                except AssertionError as exception:
                    result = f'half-written: {exception}'
                    break
                except Exception:
                    time.sleep(0.2)  # PostgreSQL is down
            with lock:
                log.append((lesson, error is None, seconds, after, error,
                        result))

    threads = [threading.Thread(target=teacher, args=(lesson,))
        for lesson in lessons]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        result = pg_ctl('restart', '-m', 'fast', '-w', '-t', '60')
        assert result.returncode == 0, result.stderr
        restarted.set()
        time.sleep(6)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    assert not any(t.is_alive() for t in threads), 'a request hangs'
    tried = len(log)
    failed = [entry for entry in log if not entry[1]]
    after_ok = [entry for entry in log if entry[3] and entry[1]]
    # A failed save wrote nothing; a successful one all (outcome checked
    # every line and mark)
    lost = sum(1 for entry in log if entry[1] and entry[5] != 'saved')
    broken = [entry[5] for entry in log
        if entry[5] not in {'saved', 'untouched'}]
    half = sum(1 for entry in log if not entry[1] and entry[5] == 'saved')
    slowest = max(entry[2] for entry in log)
    print(f'\npostgresql restart: {tried} saves tried, {len(failed)} '
        f'failed, {len(after_ok)} succeeded after the restart, slowest '
        f'{slowest:.1f} s, rows lost {lost}; failed but saved {half}')
    for entry in failed[:3]:
        print('  error:', entry[4])
    assert not broken, broken
    assert lost == 0
    assert after_ok, 'no save succeeded after the restart'
    assert slowest < 60
