#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Profile the e-diary's week page in one process, as the server answers it.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/profile_diary.py \\
        -c .var/bench/postgresql-bench500.conf -d bench500 \\
        [--families .var/bench/bench500-families.json] [--parents 20] \\
        [--runs 100] [--sort cumulative] [--sql] [--no-profile] \\
        [--page-cache auto|True|False]

Runs trytond's WSGI application in this process (werkzeug's test client, no
socket), as bench/diary_load.py serves it to locust: the parents of
bench/diary_parents.py (`--parents` of them, made by a run of
diary_load.py) sign in through the e-diary's form (untimed), then read the
week pages of their own children (the demo's week and the three before, in
turn) `--runs` times in all, each as the parent's own user with the record
rules.  Prints the CPU time (process time) and the wall time per page, the
SQL queries per page (the first page of each parent apart: its school scope
is read then) counted at the database cursor, the load average, and the
functions by cumulative time (cProfile) or, with --sql, the queries of the
last page.
"""
import argparse
import cProfile
import json
import os
import pstats
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PASSWORD, WORK  # noqa: E402
from diary_load import weeks  # noqa: E402


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('-c', '--config', required=True)
    p.add_argument('-d', '--database', required=True)
    p.add_argument('--families',
        help="the parents' JSON of diary_parents.py (default: "
        ".var/bench/DATABASE-families.json)")
    p.add_argument('--parents', type=int, default=20)
    p.add_argument('--runs', type=int, default=100)
    p.add_argument('--sort', default='cumulative')
    p.add_argument('--limit', type=int, default=45)
    p.add_argument('--sql', action='store_true')
    p.add_argument('--no-profile', action='store_true',
        help="time without cProfile (its overhead doubles small calls)")
    p.add_argument('--page-cache', choices=['auto', 'True', 'False'],
        default='False', help="[school_diary] page_cache (default False: "
        "every page rendered; True: the kept pages, every parent's read "
        "once untimed first)")
    p.add_argument('--callees', metavar='FUNCTION',
        help="print what FUNCTION calls instead (a pstats pattern)")
    args = p.parse_args()
    os.environ['TRYTOND_CONFIG'] = args.config
    from trytond import config
    config.update_etc(args.config)
    # As the bench's gunicorn: plain HTTP, so cookies without Secure
    if not config.has_section('school_diary'):
        config.add_section('school_diary')
    config.set('school_diary', 'secure_cookie', 'False')
    config.set('school_diary', 'page_cache', args.page_cache)
    from werkzeug.test import Client

    from trytond import backend
    from trytond.pool import Pool
    from trytond.protocols.wrappers import Response
    from trytond.wsgi import app

    Pool.start()
    Pool(args.database).init()

    families = Path(args.families or WORK / (
            '%s-families.json' % args.database))
    families = json.loads(families.read_text())[:args.parents]
    base = '/%s/diary/' % args.database
    mondays = weeks()

    def sign_in(family):
        client = Client(app, Response)
        form = client.get(base + 'login')
        token = re.search(r'name="csrf" value="([^"]+)"',
            form.get_data(as_text=True)).group(1)
        response = client.post(base + 'login', data={
                'login': family['login'], 'password': PASSWORD,
                'csrf': token})
        assert response.status_code == 303, response.status_code
        return client

    clients = [(sign_in(f), f) for f in families]

    # Count the queries at the database cursor
    queries = []
    if backend.name == 'postgresql':
        from trytond.backend.postgresql.database import LoggingCursor as C
    else:
        from trytond.backend.sqlite.database import SQLiteCursor as C
    execute = C.execute

    def counting(self, query, *a, **k):
        queries.append(query if isinstance(query, str) else str(query))
        return execute(self, query, *a, **k)
    C.execute = counting

    def page(i):
        client, family = clients[i % len(clients)]
        students = family['students']
        student = students[(i // len(clients)) % len(students)]
        monday = mondays[(i // len(clients)) % len(mondays)]
        url = '%s%s/week?date=%s' % (base, student, monday)
        return lambda: client.get(url)

    if args.page_cache != 'False':
        # Fill the kept pages (untimed): the figures are of pages kept
        for i in range(args.runs):
            page(i)()
    profile = cProfile.Profile()
    cpu, wall, first, counts, sizes = [], [], [], [], []
    for i in range(args.runs):
        function = page(i)
        del queries[:]
        start, start_cpu = time.perf_counter(), time.process_time()
        # The first page of each parent (its school scope read then) is
        # counted apart and not profiled
        profiled = not args.no_profile and i >= len(clients)
        if profiled:
            profile.enable()
        response = function()
        if profiled:
            profile.disable()
        elapsed = time.perf_counter() - start
        elapsed_cpu = time.process_time() - start_cpu
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and 'class="weeks"' in body, (
            response.status_code, body[:500])
        sizes.append(len(response.get_data()))
        (first if i < len(clients) else counts).append(len(queries))
        if i >= len(clients):
            cpu.append(elapsed_cpu)
            wall.append(elapsed)
    C.execute = execute
    print('week page, %s, %d parents, %d pages (the first of each parent '
        'apart)%s, page_cache = %s' % (backend.name, len(clients),
            args.runs, '' if args.no_profile else ', with cProfile',
            args.page_cache))
    print('  queries: first page of a parent %s, then %s' % (
            sorted(Counter(first).items()), sorted(Counter(counts).items())))
    if cpu:
        print('  CPU per page: median %.1f ms; wall: median %.1f ms, '
            'max %.1f ms; %d bytes (median)' % (
                median(cpu) * 1000, median(wall) * 1000, max(wall) * 1000,
                median(sizes)))
    print('  load average: %.2f %.2f %.2f' % os.getloadavg())
    if args.sql:
        kinds = Counter(q.split()[0].upper() for q in queries if q.strip())
        print(dict(kinds))
        for query in queries:
            print('  ', query[:400])
    if not args.no_profile:
        stats = pstats.Stats(profile).sort_stats(args.sort)
        if args.callees:
            stats.print_callees(args.callees)
        else:
            stats.print_stats(args.limit)


if __name__ == '__main__':
    main()
