#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Back up a school's database with its attachments, and restore it.

    setup/backup  -c trytond.conf -d DB [-o DIR] [--keep-daily 7]
        [--keep-weekly 4]
    setup/restore -c trytond.conf -d DB ARCHIVE [--verify-only]

A backup is one archive DIR/DB-YYYYMMDD-HHMMSS.tar.gz holding

- the database: on SQLite a copy made with SQLite's online backup API
  (consistent while teachers write), on PostgreSQL a ``pg_dump`` in custom
  format taken in an exported snapshot;
- the attachments (trytond's filestore folder of the database);
- ``manifest.json``: the database and its backend, when, the row count of
  every table counted in the same snapshot as the dump, and the SHA-256 of
  every other file of the archive.

Restore verifies the archive before touching anything (readable, manifest
present, every checksum right), restores into a new database beside the
running one, compares its row counts with the manifest, and only then
switches: the running database is renamed to DB_before_YYYYMMDDHHMMSS (kept)
and the new one takes its name.  A damaged archive is refused and the
running database is left as it was.  Stop the servers before a restore:
on PostgreSQL the switch needs the database without connections.

With --keep-daily N and --keep-weekly M, a backup also removes the older
archives of the database in DIR but the ones retention keeps (`prune`):
the newest archive of each of the last N days that have one, then the
newest of each of the M weeks before those, so N + M archives once the
history is long enough; the newest archive is always kept.  Nothing is
removed when the backup fails.

The same code runs in trytond-cron (`school.backup.configuration`, the
scheduled backup of the school's settings), with the server's
configuration already loaded.
"""
import argparse
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlparse, urlunparse

MANIFEST = 'manifest.json'
FORMAT = 1


class BackupError(Exception):
    pass


def say(*args):
    print('backup:', *args, flush=True)


class Database:
    "A trytond database as a trytond.conf sees it"

    def __init__(self, config_file, name):
        from trytond import config
        if config_file:
            config.update_etc(str(config_file))
        self.name = name
        self.uri = config.get('database', 'uri') or 'sqlite://'
        self.path = Path(config.get('database', 'path')
            or os.path.join(os.path.expanduser('~'), 'db'))
        self.scheme = urlparse(self.uri).scheme.split('+')[0]
        if self.scheme not in {'sqlite', 'postgresql'}:
            raise BackupError(f"unsupported database URI {self.uri}")

    @property
    def filestore(self):
        return self.path / self.name

    def sqlite_file(self, name=None):
        return self.path / f'{name or self.name}.sqlite'

    def pg_uri(self, name=None):
        parsed = urlparse(self.uri)
        return urlunparse(parsed._replace(path='/' + (name or self.name)))

    def pg_connect(self, name=None, autocommit=False):
        import psycopg
        return psycopg.connect(self.pg_uri(name), autocommit=autocommit)

    def exists(self, name=None):
        name = name or self.name
        if self.scheme == 'sqlite':
            return self.sqlite_file(name).exists()
        with self.pg_connect('postgres', autocommit=True) as conn:
            return bool(conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s",
                    (name,)).fetchone())


def table_counts(cursor, tables):
    return {t: cursor.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
        for t in tables}


def sqlite_tables(conn):
    return [t for t, in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


PG_TABLES = (
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
    "ORDER BY tablename")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def dump(db, work):
    "Write the database into work; return (file name, row counts)"
    if db.scheme == 'sqlite':
        target = work / 'database.sqlite'
        source = sqlite3.connect(f'file:{db.sqlite_file()}?mode=ro', uri=True)
        copy = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent state while other
            # connections write
            source.backup(copy)
            counts = table_counts(copy, sqlite_tables(copy))
        finally:
            copy.close()
            source.close()
        return target.name, counts
    target = work / 'database.dump'
    # Count the rows and dump in one exported snapshot: the counts are the
    # dump's, whatever teachers write meanwhile
    with db.pg_connect() as conn:
        conn.execute(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot, = conn.execute("SELECT pg_export_snapshot()").fetchone()
        tables = [t for t, in conn.execute(PG_TABLES)]
        counts = table_counts(conn, tables)
        subprocess.run(['pg_dump', '--format=custom', '--no-owner',
                '--snapshot', snapshot, '--file', str(target),
                '--dbname', db.pg_uri()], check=True)
    return target.name, counts


def backup(db, output, keep_daily=None, keep_weekly=None):
    "Write a dated archive of the database into output; return its path"
    if not db.exists():
        raise BackupError(f"database {db.name} not found")
    output.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    archive = output / f'{db.name}-{now:%Y%m%d-%H%M%S}.tar.gz'
    with tempfile.TemporaryDirectory(dir=output) as tmp:
        work = Path(tmp)
        database, counts = dump(db, work)
        files = {database: sha256(work / database)}
        if db.filestore.is_dir():
            for path in sorted(db.filestore.rglob('*')):
                if path.is_file():
                    name = 'filestore/' + path.relative_to(
                        db.filestore).as_posix()
                    files[name] = sha256(path)
        manifest = {
            'format': FORMAT,
            'database': db.name,
            'backend': db.scheme,
            'created': now.isoformat(timespec='seconds'),
            'database_file': database,
            'tables': counts,
            'files': files,
            }
        partial = archive.with_suffix('.partial')
        try:
            with tarfile.open(partial, 'w:gz') as tar:
                data = json.dumps(
                    manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(now.timestamp())
                tar.addfile(info, io.BytesIO(data))
                tar.add(work / database, arcname=database)
                if db.filestore.is_dir():
                    tar.add(db.filestore, arcname='filestore')
            partial.rename(archive)
        finally:
            # A disk full or a broken folder leaves no half archive
            partial.unlink(missing_ok=True)
    say(f"{archive}: {len(counts)} tables, {sum(counts.values())} rows, "
        f"{len(files) - 1} attachments")
    if keep_daily is not None or keep_weekly is not None:
        prune(output, db.name, keep_daily or 0, keep_weekly or 0)
    return archive


def archive_time(path, name):
    stamp = path.name[len(name) + 1:-len('.tar.gz')]
    try:
        return dt.datetime.strptime(stamp, '%Y%m%d-%H%M%S')
    except ValueError:
        return None


def retained(archives, keep_daily, keep_weekly):
    """Return the archives retention keeps of [(time, path)]

    The newest archive of each of the last keep_daily days that have one,
    then the newest of each of the keep_weekly ISO weeks before those (the
    archives kept as daily ones do not count as weekly ones, as borg's and
    restic's "keep" rules read); the newest archive always."""
    archives = sorted(archives)
    days, weeks = {}, {}
    for time, path in archives:
        days[time.date()] = path
        weeks[time.isocalendar()[:2]] = path
    keep = set()
    if keep_daily > 0:
        keep.update(days[d] for d in sorted(days)[-keep_daily:])
    weekly = 0
    for week in sorted(weeks, reverse=True):
        if weekly >= keep_weekly:
            break
        if weeks[week] not in keep:
            keep.add(weeks[week])
            weekly += 1
    if archives:
        keep.add(archives[-1][1])
    return keep


def prune(output, name, keep_daily, keep_weekly):
    "Remove the archives of the database but the ones retention keeps"
    archives = [
        (t, p) for p in output.glob(f'{name}-*.tar.gz')
        if (t := archive_time(p, name))]
    keep = retained(archives, keep_daily, keep_weekly)
    removed = []
    for _, path in sorted(archives):
        if path not in keep:
            path.unlink()
            removed.append(path)
            say(f"removed {path} (retention)")
    return removed


def verify(archive, work):
    "Check the archive and extract it into work; return its manifest"
    try:
        with tarfile.open(archive, 'r:gz') as tar:
            names = tar.getnames()
            if MANIFEST not in names:
                raise BackupError(f"{archive}: no {MANIFEST}")
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()) or (
                        member.name.startswith('/') or '..' in member.name):
                    raise BackupError(
                        f"{archive}: unexpected member {member.name}")
            tar.extractall(work, filter='data')
    except (tarfile.TarError, EOFError, OSError, ValueError) as exception:
        raise BackupError(f"{archive} is damaged: {exception}")
    try:
        manifest = json.loads((work / MANIFEST).read_text())
    except ValueError as exception:
        raise BackupError(f"{archive}: bad {MANIFEST}: {exception}")
    if manifest.get('format') != FORMAT:
        raise BackupError(
            f"{archive}: unknown format {manifest.get('format')}")
    for name, digest in manifest['files'].items():
        path = work / name
        if not path.is_file() or sha256(path) != digest:
            raise BackupError(f"{archive}: {name} is missing or damaged")
    return manifest


def restore(db, archive, verify_only=False):
    "Restore the archive as the database; return the name of the old one"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        manifest = verify(archive, work)
        if manifest['backend'] != db.scheme:
            raise BackupError(
                f"{archive} is a {manifest['backend']} backup, "
                f"the configuration uses {db.scheme}")
        say(f"{archive}: verified ({len(manifest['tables'])} tables, "
            f"{len(manifest['files'])} files)")
        if verify_only:
            return None
        stamp = dt.datetime.now().strftime('%Y%m%d%H%M%S')
        new = f'{db.name}_restore_{stamp}'
        old = f'{db.name}_before_{stamp}'
        database = work / manifest['database_file']
        try:
            if db.scheme == 'sqlite':
                shutil.copyfile(database, db.sqlite_file(new))
                conn = sqlite3.connect(db.sqlite_file(new))
                try:
                    counts = table_counts(conn, sqlite_tables(conn))
                    ok, = conn.execute('PRAGMA integrity_check').fetchone()
                finally:
                    conn.close()
                if ok != 'ok':
                    raise BackupError(f"restored database: {ok}")
            else:
                with db.pg_connect('postgres', autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{new}"')
                subprocess.run(['pg_restore', '--no-owner',
                        '--exit-on-error', '--dbname', db.pg_uri(new),
                        str(database)], check=True)
                with db.pg_connect(new) as conn:
                    counts = table_counts(
                        conn, [t for t, in conn.execute(PG_TABLES)])
            if counts != manifest['tables']:
                wrong = sorted(t for t in set(counts) | set(
                            manifest['tables'])
                    if counts.get(t) != manifest['tables'].get(t))
                raise BackupError(
                    f"restored row counts differ from the manifest: {wrong}")
        except BaseException:
            drop(db, new)
            raise
        # Switch: the running database is kept under another name
        filestore = work / 'filestore'
        if db.scheme == 'sqlite':
            if db.exists():
                # The write-ahead log and shared memory files belong to the
                # running database: they go with it
                for suffix in ['', '-wal', '-shm', '-journal']:
                    running = Path(str(db.sqlite_file()) + suffix)
                    if running.exists():
                        running.rename(str(db.sqlite_file(old)) + suffix)
            db.sqlite_file(new).rename(db.sqlite_file())
        else:
            with db.pg_connect('postgres', autocommit=True) as conn:
                if db.exists():
                    conn.execute(
                        f'ALTER DATABASE "{db.name}" RENAME TO "{old}"')
                conn.execute(f'ALTER DATABASE "{new}" RENAME TO "{db.name}"')
        if db.filestore.exists():
            db.filestore.rename(db.path / old)
        if filestore.is_dir():
            shutil.copytree(filestore, db.filestore)
        say(f"{db.name} restored from {archive} "
            f"({sum(counts.values())} rows); the previous one is {old}")
        return old


def drop(db, name):
    if db.scheme == 'sqlite':
        db.sqlite_file(name).unlink(missing_ok=True)
    else:
        with db.pg_connect('postgres', autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('command', choices=['backup', 'restore'])
    parser.add_argument('-c', '--config', required=True, type=Path)
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('-o', '--output', type=Path, default=Path('backups'),
        help="the folder of the archives (backup)")
    parser.add_argument('--keep-daily', type=int)
    parser.add_argument('--keep-weekly', type=int)
    parser.add_argument('archive', nargs='?', type=Path,
        help="the archive to restore")
    parser.add_argument('--verify-only', action='store_true')
    args = parser.parse_intermixed_args(argv)
    try:
        db = Database(args.config, args.database)
        if args.command == 'backup':
            backup(db, args.output, args.keep_daily, args.keep_weekly)
        else:
            if not args.archive:
                parser.error("restore needs an archive")
            restore(db, args.archive, args.verify_only)
    except (BackupError, subprocess.CalledProcessError) as exception:
        print(f'{args.command}: ERROR: {exception}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
