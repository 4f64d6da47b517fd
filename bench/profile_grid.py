#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Profile the grid's calls in one process, as the server answers them.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/profile_grid.py \\
        -c .var/bench/sqlite-bench1000.conf -d bench1000 \\
        [--call load|cell|lesson|page|read|noop] [--runs 20]
        [--sort cumulative] [--sql]

Runs trytond's WSGI application in this process (werkzeug's test client, no
socket): logs in as the teacher of the teaching bench/grid.py takes, then
calls `grid_data` (load), `grid_save` of one attendance cell (cell) or of
a lesson's attendance and marks (lesson), the printable journal page's HTML
(page), a one-record `read` of the lesson (read: trytond's floor per
authenticated call) or `system.methodSignature` (noop: no transaction of
its own, only trytond's session check) `--runs` times under cProfile and
prints the functions by cumulative time, the number of SQL queries per call
and, with --sql, the queries of the last call.  The database is the one
bench/grid.py built (run it once first); a lesson's marks are deleted again
after each lesson save (untimed).
"""
import argparse
import base64
import cProfile
import datetime as dt
import gzip
import json
import os
import pstats
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PASSWORD, WORK, PrivatePostgres, largest_class  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('-c', '--config')
    p.add_argument('--private-postgresql', metavar='DIR',
        help="start the kept private cluster of DIR (as grid.py does) "
        "instead of a configuration file")
    p.add_argument('-d', '--database', required=True)
    p.add_argument('--call', choices=['load', 'cell', 'lesson', 'page',
            'read', 'noop'],
        default='load')
    p.add_argument('--runs', type=int, default=20)
    p.add_argument('--sort', default='cumulative')
    p.add_argument('--limit', type=int, default=45)
    p.add_argument('--sql', action='store_true')
    p.add_argument('--callers', metavar='FUNCTION',
        help="print what calls FUNCTION instead (a pstats pattern)")
    p.add_argument('--callees', metavar='FUNCTION',
        help="print what FUNCTION calls instead (a pstats pattern)")
    p.add_argument('--timing', action='store_true',
        help="no profiler: print the median wall-clock and CPU time per "
        "call (CPU time depends less on what else runs on the machine)")
    p.add_argument('--trace', metavar='TEXT',
        help="print where the queries containing TEXT are made (SQLite)")
    p.add_argument('--dump', metavar='FILE',
        help="also write the profile to FILE (pstats) for reading apart")
    p.add_argument('--gzip', action='store_true',
        help="ask for a gzip answer (Accept-Encoding) as a browser does")
    args = p.parse_args()
    if args.private_postgresql:
        cluster = PrivatePostgres(args.private_postgresql)
        args.config = str(WORK / 'profile-postgresql.conf')
        Path(args.config).write_text('[database]\nuri = %s\n' % cluster.uri)
    elif not args.config:
        p.error('-c or --private-postgresql is needed')
    os.environ['TRYTOND_CONFIG'] = args.config
    from trytond.config import config
    config.update_etc(args.config)
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    from trytond.wsgi import app

    Pool.start()
    pool = Pool(args.database)
    pool.init()

    queries = []
    from trytond import backend
    Database = backend.Database

    with Transaction().start(args.database, 0, readonly=True):
        cursor = Transaction().connection.cursor()
        today = dt.date.today()

        class DB:
            @staticmethod
            def sql(query):
                return query.replace(
                    '%s', '?' if backend.name == 'sqlite' else '%s')
        class_id, class_name, size = largest_class(DB, cursor, today)
        cursor.execute(DB.sql('SELECT l.teaching, l.period, COUNT(*) '
                'FROM school_lesson l WHERE l.class_ = %s AND '
                "l.subgroup IS NULL AND l.state != 'cancelled' AND "
                'l.date <= %s GROUP BY l.teaching, l.period '
                'ORDER BY 3 DESC, 1, 2'), (class_id, today))
        teaching_id, period_id, count = cursor.fetchone()
        cursor.execute(DB.sql('SELECT u.login FROM school_teaching t '
                'JOIN "res_user-company_employee" r '
                'ON r.employee = t.teacher '
                'JOIN res_user u ON u.id = r."user" WHERE t.id = %s'),
            (teaching_id,))
        login, = cursor.fetchone()
        cursor.execute(DB.sql('SELECT id FROM school_lesson WHERE '
                "teaching = %s AND state = 'held' AND date <= %s "
                'ORDER BY date DESC, number DESC'), (teaching_id, today))
        lesson_id = cursor.fetchone()[0]
        cursor.execute(DB.sql('SELECT student FROM school_lesson_attendance '
                'WHERE lesson = %s ORDER BY student'), (lesson_id,))
        students = [s for s, in cursor]
        cursor.execute(DB.sql('SELECT id FROM school_lesson_task '
                'WHERE lesson = %s ORDER BY sequence, id'), (lesson_id,))
        tasks = [t for t, in cursor]
    print('class %s (%d), teaching %s, period %s, %d lessons; lesson %s '
        '(%d students, tasks %s); teacher %s' % (class_name, size,
            teaching_id, period_id, count, lesson_id, len(students), tasks,
            login))

    client = Client(app, Response)
    path = '/%s/rpc/' % args.database
    counter = [0]
    headers = {'Accept-Encoding': 'gzip'} if args.gzip else {}

    def call(method, *params):
        counter[0] += 1
        response = client.post(path, json={'id': counter[0],
                'method': method, 'params': list(params)}, headers=headers)
        body = response.get_data()
        # trytond names gzip for any long answer, compressed or not
        if (response.headers.get('Content-Encoding') == 'gzip'
                and body[:2] == b'\x1f\x8b'):
            body = gzip.decompress(body)
        data = json.loads(body)
        if data.get('error'):
            raise SystemExit('%s: %s' % (method, data['error']))
        if (method.startswith('model.school.lesson.grid_')
                and isinstance(data['result'], str)):
            return json.loads(data['result'])
        return data['result']

    user_id, session, *_ = call('common.db.login', login,
        {'password': PASSWORD}, 'ru')
    headers['Authorization'] = 'Session ' + base64.b64encode(
        ('%s:%s:%s' % (login, user_id, session)).encode()).decode()
    context = call('model.res.user.get_preferences', True, {})

    def timestamp():
        result = call('model.school.lesson.read', [lesson_id],
            ['_timestamp'], context)
        return dict(context, _timestamp={
                'school.lesson,%s' % lesson_id: result[0]['_timestamp']})

    def reset():
        with Transaction().start(args.database, 0) as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute('DELETE FROM school_mark WHERE lesson = %s'
                % lesson_id)
            transaction.commit()

    def run(i):
        if args.call == 'noop':
            # No transaction of its own: the WSGI application and the
            # session check (made for any request with a session)
            return lambda: call('system.methodSignature')
        if args.call == 'read':
            # The cheapest authenticated call: a one-record read
            return lambda: call('model.school.lesson.read', [lesson_id],
                ['_timestamp'], context)
        if args.call == 'page':
            return lambda: call('report.school.journal_page.execute',
                [teaching_id], {'model': 'school.teaching',
                    'id': teaching_id, 'ids': [teaching_id],
                    'period': period_id}, context)
        if args.call == 'load':
            return lambda: call('model.school.lesson.grid_data',
                teaching_id, period_id, context)
        if args.call == 'cell':
            ctx = timestamp()
            return lambda: call('model.school.lesson.grid_save', lesson_id,
                {'attendance': [[students[0],
                            'absent' if i % 2 else 'late']]}, ctx)
        reset()
        ctx = timestamp()
        marks = [[t, s, '4'] for t in tasks[:2] for s in students[:15]]
        return lambda: call('model.school.lesson.grid_save', lesson_id,
            {'attendance': [[s, None] for s in students], 'marks': marks},
            ctx)

    if args.call == 'lesson' and len(tasks) < 2:
        raise SystemExit('the lesson %s has fewer than two tasks' % lesson_id)
    for i in range(3):
        run(i)()

    # Count the queries of the calls
    original = Database.get_connection

    def get_connection(self, *a, **k):
        conn = original(self, *a, **k)
        if backend.name == 'sqlite':
            def trace(query):
                queries.append(query)
                if args.trace and args.trace in query:
                    print('--', query[:160])
                    print(''.join(traceback.format_stack(limit=14)[:-1]))
            conn.set_trace_callback(trace)
        return conn
    Database.get_connection = get_connection
    if backend.name == 'postgresql':
        import logging
        logger = logging.getLogger('trytond.backend.postgresql.database')
        logger.setLevel(logging.DEBUG)
        handler = logging.Handler()
        handler.emit = lambda record: queries.append(record.getMessage())
        logger.addHandler(handler)
        logger.propagate = False

    profile = cProfile.Profile()
    times, cpus, counts = [], [], []
    for i in range(args.runs):
        function = run(i)
        del queries[:]
        start, cpu = time.perf_counter(), time.process_time()
        if not args.timing:
            profile.enable()
        function()
        if not args.timing:
            profile.disable()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        counts.append(len(queries))
    if args.call == 'lesson':
        reset()
    times.sort()
    cpus.sort()
    print('%s: %d runs, median %.1f ms wall-clock, %.1f ms CPU (%s), '
        'queries per call %s; load %s' % (args.call, args.runs,
            times[len(times) // 2] * 1000, cpus[len(cpus) // 2] * 1000,
            'no profiler' if args.timing else 'with the profiler',
            sorted(set(counts)),
            tuple(round(x, 2) for x in os.getloadavg())))
    if args.timing:
        return
    if args.sql:
        kinds = Counter(q.split()[0].upper() for q in queries if q.strip())
        print(dict(kinds))
        for query in queries:
            print('  ', query[:400])
    stats = pstats.Stats(profile).sort_stats(args.sort)
    if args.dump:
        stats.dump_stats(args.dump)
    if args.callers:
        stats.print_callers(args.callers)
    elif args.callees:
        stats.print_callees(args.callees)
    else:
        stats.print_stats(args.limit)


if __name__ == '__main__':
    main()
