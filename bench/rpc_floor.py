#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Time trytond's fixed cost per JSON-RPC call: the floor under any call.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/rpc_floor.py \\
        [--db-uri ... | --private-postgresql [DIR]] [--students 1000] \\
        [--runs 100] [--reuse]

The same server, client (keep-alive HTTP, gzip asked) and teacher as
bench/grid.py: the grid's teaching's teacher logs in, then calls

- `system.methodSignature`: no transaction, but trytond checks the
  session of any request that carries one (HTTP, dispatch, the session
  check: two queries in a transaction of its own);
- `model.res.user.get_preferences`: the cheapest authenticated call (the
  session check, a read-only transaction, `Cache.sync`, the user's
  preferences);
- `model.school.lesson.read([id], ['_timestamp'])`: a one-record read
  (model access, record rules of the lesson, one SELECT);
- `model.res.user.set_preferences({})`: a call in a write transaction that
  writes nothing (the commit's cost, the session's refresh);
- plain SQL: `SELECT 1` and `COMMIT` on a connection of its own.

Prints median and p95 of each with the load average.
"""
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Client, largest_class, say, start_server, summary)


def main():
    args, database, server, conn, cursor = start_server(
        __doc__.splitlines()[0])
    sql = database.sql
    today = dt.date.today()
    class_id, class_name, size = largest_class(database, cursor, today)
    cursor.execute(sql('SELECT l.teaching, MAX(l.id) FROM school_lesson l '
            'WHERE l.class_ = %s AND l.subgroup IS NULL AND l.date <= %s '
            'GROUP BY l.teaching ORDER BY COUNT(*) DESC, 1'),
        (class_id, today))
    teaching_id, lesson_id = cursor.fetchone()
    cursor.execute(sql('SELECT u.login FROM school_teaching t '
            'JOIN "res_user-company_employee" r ON r.employee = t.teacher '
            'JOIN res_user u ON u.id = r."user" WHERE t.id = %s'),
        (teaching_id,))
    login, = cursor.fetchone()
    conn.commit()
    client = Client(server.port, database.name, login, compressed=True)
    say('teacher %s, lesson %s' % (login, lesson_id))
    calls = [
        ('system.methodSignature (session)',
            lambda: client.timed('system.methodSignature')),
        ('res.user.get_preferences',
            lambda: client.timed('model.res.user.get_preferences', True,
                client.context)),
        ('school.lesson.read 1 record',
            lambda: client.timed('model.school.lesson.read', [lesson_id],
                ['_timestamp'], client.context)),
        ('res.user.set_preferences({})',
            lambda: client.timed('model.res.user.set_preferences', {},
                client.context)),
        ]

    def plain():
        start = time.perf_counter()
        cursor.execute('SELECT 1')
        cursor.fetchall()
        conn.commit()
        return time.perf_counter() - start, None
    calls.append(('plain SQL: SELECT 1, COMMIT', plain))
    print()
    print('trytond per-call floor, %s, %d students, teacher of %s' % (
            database.backend, args.students, class_name))
    for label, call in calls:
        for _ in range(args.warmup):
            call()
        summary(label, [call()[0] for _ in range(args.runs)])
        print('  load average %.2f %.2f %.2f' % os.getloadavg(), flush=True)
    conn.close()


if __name__ == '__main__':
    main()
