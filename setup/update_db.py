"""Update a school's database to the installed modules.

Runs ``trytond-admin -u`` for the school's modules and prints the rows of
every table before and after (a table of a renamed model is compared with
its old name); exits non-zero if the update failed or a table of records
lost rows (the ``ir_`` tables describing models, views and menus change
with the modules).
Take a backup first (setup/backup).

    setup/update -c trytond.conf -d DB
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backup_restore import PG_TABLES, Database, sqlite_tables  # noqa: E402

MODULES = [
    'school_ejournal', 'school_ejournal_reports', 'school_ejournal_messaging']


def counts(db):
    if db.scheme == 'sqlite':
        import sqlite3
        conn = sqlite3.connect(db.sqlite_file())
        try:
            return {
                t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                for t in sqlite_tables(conn)}
        finally:
            conn.close()
    with db.pg_connect() as conn:
        tables = [t for t, in conn.execute(PG_TABLES)]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
            for t in tables}


def compare(before, after, renamed):
    """Print the counts; return the tables of records that lost rows (the
    ir_ tables of models, fields, views and menus follow the modules)"""
    lost = []
    print(f"{'table':<66} {'before':>9} {'after':>9}")
    for table in sorted(set(before) | set(after)):
        if table in renamed.values() and table not in before:
            continue
        new = renamed.get(table, table)
        old_count = before.get(table)
        new_count = after.get(new)
        if old_count is None and new_count is None:
            continue
        name = table if new == table else f'{table} -> {new}'
        mark = ''
        if old_count is not None and (new_count or 0) < old_count:
            if table.startswith('ir_'):
                mark = '  (module definitions)'
            else:
                lost.append(name)
                mark = '  LOST ROWS'
        print(f"{name:<66} {old_count if old_count is not None else '-':>9} "
            f"{new_count if new_count is not None else '-':>9}{mark}")
    return lost


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-c', '--config', required=True, type=Path)
    parser.add_argument('-d', '--database', required=True)
    args = parser.parse_args(argv)
    db = Database(args.config, args.database)
    from school_ejournal.common import RENAMED_MODELS
    renamed = {}
    for old, new in RENAMED_MODELS.items():
        old, new = old.replace('.', '_'), new.replace('.', '_')
        renamed[old] = new
        renamed[old + '__history'] = new + '__history'
    before = counts(db)
    admin = Path(sys.executable).parent / 'trytond-admin'
    result = subprocess.run([str(admin), '-c', str(args.config),
            '-d', args.database, '-u', *MODULES],
        env={**os.environ})
    if result.returncode:
        print('update: trytond-admin failed', file=sys.stderr)
        return result.returncode
    after = counts(db)
    lost = compare(before, after, renamed)
    print(f"update: {len(before)} tables before, {len(after)} after; "
        f"{sum(before.values())} rows before, {sum(after.values())} after")
    if lost:
        print('update: rows lost in ' + ', '.join(lost), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
