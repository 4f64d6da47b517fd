#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Create a school's database in a district: one database per school on
the district's PostgreSQL, served by the same app servers.

    setup/new-school -c /etc/ejournal/trytond.conf school12 \\
        --password-file /root/school12-admin-pass [--email admin@school12.ru]
        [--demo [--students 250]] [--modules all] [--from TEMPLATE]

The database NAME is created on the PostgreSQL server of the
configuration's `[database] uri` (its user must be allowed to create
databases), the journal's modules are activated in Russian with
trytond-admin, the `admin` login gets the password of the file (or a new
random one, written to NAME-admin-pass beside the configuration, mode
600), and with --demo the demo school is generated in it.

With --from TEMPLATE the database is a copy of TEMPLATE (PostgreSQL's
CREATE DATABASE ... TEMPLATE, seconds instead of minutes; TEMPLATE must
have no connections): a district keeps an empty `school_template` made by
this script (and updated with each release) and makes new schools from
it; only the admin password and e-mail are set anew.  An existing
database is never touched; when a step fails the new database is dropped,
so nothing is left half-made.  Then add NAME to TRYTOND_DATABASE_NAMES of
the app servers and run `trytond-cron -d ... NAME` (see README, District).
"""
import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODULES = {
    'core': ['school_ejournal'],
    'all': ['school_ejournal', 'school_ejournal_reports',
        'school_ejournal_messaging'],
    }
NAME = re.compile(r'^[a-z][a-z0-9_]{0,62}$')


def say(*args):
    print('new-school:', *args, flush=True)


class Failed(Exception):
    pass


def admin_uri(uri):
    parsed = urlparse(uri)
    return parsed._replace(path='/postgres').geturl()


def create_database(uri, name, template=None):
    import psycopg
    with psycopg.connect(admin_uri(uri), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                (name,)).fetchone():
            raise Failed(f"the database {name} exists already: not touched")
        if template:
            if not conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s",
                    (template,)).fetchone():
                raise Failed(f"no database {template} to copy")
            try:
                conn.execute(
                    f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            except psycopg.errors.ObjectInUse as exception:
                raise Failed(f"{template} is in use, stop its servers "
                    f"first: {exception}")
        else:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 '
                "ENCODING 'UTF8'")


def drop_database(uri, name):
    import psycopg
    with psycopg.connect(admin_uri(uri), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(command, env, log):
    with open(log, 'a') as out:
        out.write('$ ' + ' '.join(map(str, command)) + '\n')
        out.flush()
        result = subprocess.run(
            command, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode:
        tail = Path(log).read_text().splitlines()[-20:]
        raise Failed(f"{Path(command[0]).name} failed "
            f"(exit {result.returncode}, log {log}):\n" + '\n'.join(tail))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 2)[2])
    parser.add_argument('name', help="the school's database name "
        "(lower-case letters, digits, _)")
    parser.add_argument('-c', '--config', type=Path,
        default=os.environ.get('TRYTOND_CONFIG'),
        help="trytond.conf (default: $TRYTOND_CONFIG)")
    parser.add_argument('--password-file', type=Path,
        help="a file holding the admin login's password")
    parser.add_argument('--email', default=None,
        help="the admin login's e-mail (default: admin@NAME.local)")
    parser.add_argument('--modules', choices=sorted(MODULES),
        default='all', help="core: the journal; all (default): with "
        "reports and messages")
    parser.add_argument('--demo', action='store_true',
        help="fill the school with the demo school's data")
    parser.add_argument('--students', type=int, default=250,
        help="with --demo: about how many students")
    parser.add_argument('--from', dest='template', metavar='TEMPLATE',
        help="copy this database instead of activating the modules")
    parser.add_argument('--log', type=Path,
        help="trytond-admin's output (default: a temp file)")
    args = parser.parse_args(argv)
    if not args.config or not args.config.is_file():
        parser.error("a trytond.conf is needed (-c or $TRYTOND_CONFIG)")
    if not NAME.match(args.name):
        parser.error(f"bad database name {args.name!r}: lower-case Latin "
            "letters, digits and _, starting with a letter")
    from trytond import config
    config.update_etc(str(args.config))
    uri = config.get('database', 'uri') or ''
    if not uri.startswith('postgresql'):
        parser.error("a district's schools are on PostgreSQL: "
            f"[database] uri is {uri!r}")
    if args.password_file:
        password = args.password_file.read_text().strip()
        if len(password) < 8:
            parser.error("the admin password must have 8 characters or more")
        password_file = None
    else:
        password = secrets.token_urlsafe(12)
        password_file = args.config.parent / f'{args.name}-admin-pass'
    log = args.log or Path(tempfile.mkstemp(
            prefix=f'new-school-{args.name}-', suffix='.log')[1])
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}
    env.update(TRYTOND_CONFIG=str(args.config), PYTHONOPTIMIZE='1')
    start = time.monotonic()
    try:
        create_database(uri, args.name, args.template)
    except Failed as exception:
        print(f'new-school: ERROR: {exception}', file=sys.stderr)
        return 2
    try:
        with tempfile.NamedTemporaryFile('w', suffix='.pass') as secret:
            secret.write(password)
            secret.flush()
            modules = MODULES[args.modules]
            command = [BIN / 'trytond-admin', '-c', args.config,
                '-d', args.name,
                '--email', args.email or f'admin@{args.name}.local']
            if args.template:
                say(f"creating {args.name}: a copy of {args.template}, "
                    "the admin password set (trytond-admin -p)")
                command.append('--password')
            else:
                say(f"creating {args.name}: modules {', '.join(modules)}"
                    " in Russian (trytond-admin)")
                command += ['-u', *modules, '--activate-dependencies',
                    '-l', 'ru']
            run(command, dict(env, TRYTONPASSFILE=secret.name), log)
        if args.demo:
            say(f"filling {args.name} with the demo school "
                f"({args.students} students)")
            command = [sys.executable, REPO / 'setup' / 'demo_school.py',
                '-c', args.config, '-d', args.name,
                '--students', str(args.students)]
            run(command, env, log)
    except (Failed, OSError, KeyboardInterrupt) as exception:
        print(f'new-school: ERROR: {exception}', file=sys.stderr)
        drop_database(uri, args.name)
        print(f'new-school: the database {args.name} was dropped',
            file=sys.stderr)
        return 2
    if password_file:
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
            0o600)
        with os.fdopen(fd, 'w') as out:
            out.write(password + '\n')
        say(f"the admin password is in {password_file}")
    say(f"{args.name} ready in {time.monotonic() - start:.0f} s (log {log}); "
        f"add it to TRYTOND_DATABASE_NAMES of the app servers and run "
        f"trytond-cron for it")
    return 0


if __name__ == '__main__':
    sys.exit(main())
