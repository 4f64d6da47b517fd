#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Time the journal-keeping analysis and the school's term progress report.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/audit.py \\
        [--sizes 250,500,1000] [--runs 4] [--full-year] [--no-pdf] [--reuse] \\
        [--db-uri sqlite:///FOLDER | --db-uri postgresql://... |
         --private-postgresql [DIR]]

For each size a demo school (setup/demo_school.py, as the other benches:
built as seen 6 days ago, its year up to then; with --full-year, seen after
the year's last study day) with school_ejournal_reports activated; the
academic deputy (zavuch) logs in over JSON-RPC and, as the wizard does,
creates a school-wide run and presses its `run` button, for a week, a term
and the year up to the day before the demo's day, --runs times each: the
first on a school without remarks (deleted with plain SQL before, untimed)
writes them, the next ones check them again (printed apart), after one
untimed week's run (the server's caches); then the term
progress report of every class of the year (XLSX and PDF, one call each).
The growth factor of each figure against the smallest size is printed
next to the students' factor.  Aims (issue 9): year ≤ 10 s on PostgreSQL,
week ≤ 1 s, growth linear in students.
"""
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    VENV_BIN, WORK, Client, Database, Server, parser, percentile, say, seen_on,
    summary)

MODULE = 'school_ejournal_reports'
WINDOWS = ['week', 'term', 'year']


def load():
    "The load average, printed with every figure (the machine is shared)"
    return 'load average %.2f %.2f %.2f' % os.getloadavg()


def activate(database):
    "Activate the reports module in the demo database (quick when done)"
    log = WORK / ('%s-%s-reports.log' % (database.backend, database.name))
    with open(log, 'w') as out:
        subprocess.run([str(VENV_BIN / 'trytond-admin'), '-c',
                str(database.conf), '-d', database.name, '-u', MODULE,
                '--activate-dependencies'],
            stdout=out, stderr=subprocess.STDOUT, check=True)


def rules(log, run):
    "Print each rule's time in the run, as the server logged it"
    marker = 'audit run %d: ' % run
    with open(log) as lines:
        times = [line.split(marker, 1)[1].strip() for line in lines
            if marker in line]
    for line in times:
        print('    ' + line)


def forget(database):
    "Delete the school's remarks (plain SQL, untimed): the next run is a first"
    conn = database.connect()
    try:
        conn.cursor().execute('DELETE FROM school_audit_remark')
        conn.commit()
    finally:
        conn.close()


def measure(args, students):
    args.students = students
    database = Database(args)
    database.ensure()
    activate(database)
    server = Server(database, verbose=2)    # INFO: each rule's time
    try:
        client = Client(server.port, database.name, 'zavuch')
        context = client.context
        date = seen_on(args) - dt.timedelta(days=1)
        figures = {}
        # The server's caches (access rules, settings) filled untimed, as on
        # a server that has been running: a week's run
        for _ in range(min(args.warmup, 1)):
            ids = client.call('model.school.audit.run.create', [{
                        'company': context['company'], 'scope': 'school',
                        'window': 'week', 'date': date}], context)
            client.call('model.school.audit.run.run', ids, context)
        for window in WINDOWS:
            forget(database)
            seconds = []
            for _ in range(args.runs):
                ids = client.call('model.school.audit.run.create', [{
                            'company': context['company'],
                            'scope': 'school', 'window': window,
                            'date': date}], context)
                elapsed, _ = client.timed(
                    'model.school.audit.run.run', ids, context)
                seconds.append(elapsed)
            remarks = client.call('model.school.audit.remark.search_count',
                [('last_run', '=', ids[0])], 0, None, context)
            summary('%d students, %s, first (%d remarks)' % (
                    students, window, remarks), seconds[:1])
            summary('%d students, %s, again' % (students, window),
                seconds[1:])
            print('  ' + load(), flush=True)
            rules(server.log, ids[0])
            figures[window + ' first'] = seconds[0]
            figures[window] = percentile(seconds[1:], 0.5)
        classes = client.call('model.school.class.search', [
                ('year.start_date', '<=', date),
                ('year.end_date', '>=', date),
                ], 0, None, None, context)
        reports = ['school.report.progress.xlsx', 'school.report.progress']
        for name in reports[:1] if args.no_pdf else reports:
            elapsed, _ = client.timed('report.%s.execute' % name, classes,
                {'model': 'school.class', 'ids': classes}, context)
            summary('%d students, %s (%d classes)' % (
                    students, name.rsplit('.', 1)[-1], len(classes)),
                [elapsed])
            print('  ' + load(), flush=True)
            figures[name] = elapsed
        return figures
    finally:
        server.stop()


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument('--sizes', default='250,500,1000',
        help="students of the schools, comma-separated")
    p.add_argument('--full-year', action='store_true',
        help="a whole school year: the demo seen on the Thursday after its "
        "last study day (26 May), every lesson of the year held; the same "
        "as --seen-on of that day")
    p.add_argument('--no-pdf', action='store_true',
        help="the progress report as XLSX only (its PDF takes minutes)")
    p.set_defaults(runs=4)
    args = p.parse_args()
    if args.full_year:
        today = dt.date.today()
        end = dt.date(today.year + (today.month >= 9), 5, 26)
        args.seen_on = args.seen_on or end + dt.timedelta(days=1)
    if not sys.flags.optimize:
        say("WARNING: run with PYTHONOPTIMIZE=1 (the server always is)")
    sizes = [int(s) for s in args.sizes.split(',')]
    results = {size: measure(args, size) for size in sizes}
    base = sizes[0]
    say('growth against %d students (median seconds):' % base)
    for size in sizes:
        print('  %5d students (×%.1f): %s' % (size, size / base, ', '.join(
                    '%s %.2f s (×%.1f)' % (name.split('.')[-1]
                        if '.' in name else name, value,
                        value / results[base][name]
                        if results[base][name] else 0)
                    for name, value in results[size].items())),
            flush=True)
    print('  ' + load(), flush=True)


if __name__ == '__main__':
    main()
