# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""setup/backup and setup/restore on the pass's own backend.

A database of lessons and marks is written by a "teacher" process while the
administrator backs it up; the restore gives back exactly the manifest's
rows and the attachments, and a truncated or tampered archive is refused
with the running database untouched.  On the SQLite pass the database is a
file in a temporary folder; on the PostgreSQL pass a database of the
private cluster that setup/test started.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
URI = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://')
BACKEND = 'postgresql' if URI.startswith('postgresql') else 'sqlite'

WRITER = r'''
import os, sys, time
backend, target, stop = sys.argv[1], sys.argv[2], sys.argv[3]
if backend == 'sqlite':
    import sqlite3
    conn = sqlite3.connect(target, timeout=30)
    mark = '?'
else:
    import psycopg
    conn = psycopg.connect(target)
    mark = '%s'
# Until the test says stop (at most two minutes)
end = time.monotonic() + 120
n = 0
while not os.path.exists(stop) and time.monotonic() < end:
    # A lesson saved with its marks in one transaction
    cur = conn.cursor()
    cur.execute(f"INSERT INTO lesson (topic) VALUES ({mark})", (f"t{n}",))
    cur.execute("SELECT MAX(id) FROM lesson")
    lesson, = cur.fetchone()
    for student in range(5):
        cur.execute(f"INSERT INTO mark (lesson, student, value) "
            f"VALUES ({mark}, {mark}, {mark})", (lesson, student, '5'))
    conn.commit()
    n += 1
print(n)
'''


class Backend:
    "A database of the pass's backend, its trytond.conf and its connections"

    def __init__(self, tmp):
        self.tmp = tmp
        self.name = 'school_backup_test'
        self.store = tmp / 'store'
        self.store.mkdir()
        uri = 'sqlite://' if BACKEND == 'sqlite' else URI
        self.config = tmp / 'trytond.conf'
        self.config.write_text(
            f'[database]\nuri = {uri}\npath = {self.store}\n')
        if BACKEND == 'postgresql':
            self.drop_all()
            with self.connect('postgres', autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')

    def target(self, name=None):
        name = name or self.name
        if BACKEND == 'sqlite':
            return str(self.store / f'{name}.sqlite')
        return URI.rstrip('/') + '/' + name

    def connect(self, name=None, autocommit=False):
        if BACKEND == 'sqlite':
            return sqlite3.connect(self.target(name))
        import psycopg
        return psycopg.connect(self.target(name), autocommit=autocommit)

    def query(self, sql, name=None):
        conn = self.connect(name)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def databases(self):
        if BACKEND == 'sqlite':
            return sorted(p.stem for p in self.store.glob('*.sqlite'))
        return sorted(n for n, in self.query(
                "SELECT datname FROM pg_database WHERE datname LIKE "
                f"'{self.name}%'", 'postgres'))

    def drop_all(self):
        if BACKEND == 'postgresql':
            with self.connect('postgres', autocommit=True) as conn:
                for name, in conn.execute(
                        "SELECT datname FROM pg_database WHERE datname "
                        f"LIKE '{self.name}%'").fetchall():
                    conn.execute(f'DROP DATABASE "{name}"')


@pytest.fixture
def db(tmp_path):
    backend = Backend(tmp_path)
    conn = backend.connect()
    serial = ('INTEGER PRIMARY KEY AUTOINCREMENT' if BACKEND == 'sqlite'
        else 'SERIAL PRIMARY KEY')
    for sql in [
            f'CREATE TABLE lesson (id {serial}, topic TEXT)',
            f'CREATE TABLE mark (id {serial}, lesson INTEGER, '
            'student INTEGER, value TEXT)',
            "INSERT INTO lesson (topic) VALUES ('Natural numbers')",
            ]:
        conn.execute(sql)
    conn.commit()
    conn.close()
    # An attachment in trytond's filestore of the database
    attachment = backend.store / backend.name / 'ab' / 'cd' / 'abcd0001'
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes('Личное дело'.encode('utf-8'))
    yield backend
    backend.drop_all()


def run(command, db, *args):
    return subprocess.run(
        [str(REPO / 'setup' / command), '-c', str(db.config), '-d', db.name,
            *map(str, args)],
        capture_output=True, text=True, timeout=300)


def counts(db, name=None):
    return {t: db.query(f'SELECT COUNT(*) FROM {t}', name)[0][0]
        for t in ['lesson', 'mark']}


def test_backup_while_teachers_write_then_restore(db, tmp_path):
    "A backup taken under writes restores the manifest's rows exactly"
    stop = tmp_path / 'stop'
    writer = subprocess.Popen(
        [sys.executable, '-c', WRITER, BACKEND, db.target(), str(stop)],
        stdout=subprocess.PIPE, text=True)

    def written():
        return counts(db)['lesson'] - 1

    # The teacher writes before, during and after the backup, however slow
    # the machine
    deadline = time.monotonic() + 60
    while written() < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    result = run('backup', db, '-o', tmp_path / 'backups')
    assert result.returncode == 0, result.stderr
    after_backup = written()
    while written() < after_backup + 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.touch()
    saved, = writer.communicate(timeout=60)[0].split()
    assert writer.returncode == 0
    archive, = (tmp_path / 'backups').glob(f'{db.name}-*.tar.gz')
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile('manifest.json'))
    # The snapshot holds whole lessons: 5 marks each, none half-saved
    tables = manifest['tables']
    assert tables['mark'] == 5 * (tables['lesson'] - 1)
    assert 1 < tables['lesson'] < 1 + int(saved), (tables, saved)
    after = counts(db)
    assert after['lesson'] == 1 + int(saved)

    # The teacher's later lessons are lost by the restore, as the
    # administrator asked; the running database is kept aside
    result = run('restore', db, archive)
    assert result.returncode == 0, result.stderr
    assert counts(db) == {t: tables[t] for t in ['lesson', 'mark']}
    before, = [n for n in db.databases() if '_before_' in n]
    assert counts(db, before) == after
    assert db.query(
        "SELECT COUNT(*) FROM mark m WHERE NOT EXISTS "
        "(SELECT 1 FROM lesson l WHERE l.id = m.lesson)") == [(0,)]
    attachment = db.store / db.name / 'ab' / 'cd' / 'abcd0001'
    assert attachment.read_bytes().decode('utf-8') == 'Личное дело'


@pytest.mark.parametrize('damage', ['truncated', 'tampered', 'not an archive'])
def test_damaged_archive_refused(db, tmp_path, damage):
    "A damaged archive is refused and the running database is untouched"
    result = run('backup', db, '-o', tmp_path / 'backups')
    assert result.returncode == 0, result.stderr
    archive, = (tmp_path / 'backups').glob('*.tar.gz')
    damaged = tmp_path / 'damaged.tar.gz'
    if damage == 'truncated':
        data = archive.read_bytes()
        damaged.write_bytes(data[:len(data) // 2])
    elif damage == 'tampered':
        # The same archive with one more lesson in its database
        work = tmp_path / 'work'
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter='data')
        if BACKEND == 'sqlite':
            conn = sqlite3.connect(work / 'database.sqlite')
            conn.execute("INSERT INTO lesson (topic) VALUES ('forged')")
            conn.commit()
            conn.close()
        else:
            with open(work / 'database.dump', 'ab') as fp:
                fp.write(b'forged')
        with tarfile.open(damaged, 'w:gz') as tar:
            for path in sorted(work.iterdir()):
                tar.add(path, arcname=path.name)
    else:
        damaged.write_text('lessons.csv;not a backup\n')
    with db.connect() as conn:
        conn.execute("INSERT INTO lesson (topic) VALUES ('after the backup')")
    expected = counts(db)
    databases = db.databases()

    result = run('restore', db, damaged)

    assert result.returncode == 2
    assert 'damaged' in result.stderr or 'missing' in result.stderr, (
        result.stderr)
    assert counts(db) == expected
    assert db.databases() == databases


def test_retention(db, tmp_path):
    "Backups keep the newest of the last days, then of the weeks before"
    sys.path.insert(0, str(REPO / 'setup'))
    try:
        import backup_restore
    finally:
        sys.path.pop(0)
    folder = tmp_path / 'backups'
    folder.mkdir()
    # One archive a day for 30 days, two on the last day
    days = [f'202611{d:02d}-030000' for d in range(1, 31)]
    days.append('20261130-150000')
    for stamp in days:
        (folder / f'{db.name}-{stamp}.tar.gz').write_bytes(b'')
    backup_restore.prune(folder, db.name, keep_daily=3, keep_weekly=2)
    kept = sorted(p.name[len(db.name) + 1:-7] for p in folder.iterdir())
    # The last 3 days' newest, then the newest of the 2 weeks before them:
    # Sunday 22 and 15 November (Monday 30 November starts week 49; the
    # newest of week 48, Sunday 29, is a daily one)
    assert kept == [
        '20261115-030000', '20261122-030000', '20261128-030000',
        '20261129-030000', '20261130-150000'], kept
