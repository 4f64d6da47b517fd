#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Time rendering the class journal page of a teaching for a period.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/journal_page.py \\
        [--db-uri sqlite:///FOLDER | --db-uri postgresql://... |
         --private-postgresql [DIR]] [--students 1000] [--runs 50] [--reuse]

The teaching: a whole-class subject of the largest class (with marks) and
the study period where it has the most held lessons (about 30 students ×
40 lessons).  Its teacher logs in over JSON-RPC and calls the report
`report.school.journal_page` `execute` with [teaching id] and data
{"model": "school.teaching", "id": …, "ids": […], "period": period id};
the HTML page is checked once (students and lessons are in it), then timed;
then the PDF (the report's PDF action, weasyprint), --runs / 5 times.
Prints median and p95 and the load average.
"""
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Client, RPCError, largest_class, say, start_server, summary)


def main():
    args, database, server, conn, cursor = start_server(
        __doc__.splitlines()[0])
    sql = database.sql
    today = dt.date.today()

    class_id, class_name, size = largest_class(database, cursor, today)
    # The whole-class teaching and period with the most held lessons
    cursor.execute(sql('SELECT l.teaching, l.period, COUNT(*), '
            'SUM(CASE WHEN l.state = %s THEN 1 ELSE 0 END) '
            'FROM school_lesson l '
            'WHERE l.class_ = %s AND l.subgroup IS NULL '
            "AND l.state != 'cancelled' "
            'GROUP BY l.teaching, l.period ORDER BY 4 DESC, 3 DESC, 1, 2'),
        ('held', class_id))
    teaching_id, period_id, count, held = cursor.fetchone()
    cursor.execute(sql('SELECT s.name, p.name, u.login '
            'FROM school_teaching t '
            'JOIN school_subject s ON s.id = t.subject '
            'JOIN school_period p ON p.id = %s '
            'JOIN "res_user-company_employee" r ON r.employee = t.teacher '
            'JOIN res_user u ON u.id = r."user" WHERE t.id = %s'),
        (period_id, teaching_id))
    subject, period, login = cursor.fetchone()
    cursor.execute(sql('SELECT COUNT(*) FROM school_mark m '
            'JOIN school_lesson l ON l.id = m.lesson '
            'WHERE l.teaching = %s AND l.period = %s'),
        (teaching_id, period_id))
    marks, = cursor.fetchone()
    cursor.execute(sql("SELECT id FROM ir_action_report "
            "WHERE report_name = %s AND extension = %s"),
        ('school.journal_page', 'pdf'))
    pdf_action, = cursor.fetchone()
    conn.close()
    say('%s, %s, %s: %d students, %d lessons (%d held), %d marks; '
        'teacher %s' % (class_name, subject, period, size, count, held,
            marks, login))

    client = Client(server.port, database.name, login, compressed=True)
    data = {'model': 'school.teaching', 'id': teaching_id,
        'ids': [teaching_id], 'period': period_id}

    def render():
        return client.timed('report.school.journal_page.execute',
            [teaching_id], data, client.context)

    try:
        _, (extension, content, _, name) = render()
    except RPCError as exception:
        raise SystemExit('bench: the journal page fails: %s' % exception)
    if isinstance(content, bytes):
        content = content.decode('utf-8')
    if extension != 'html' or class_name not in content:
        raise SystemExit('bench: the journal page is %r, not the HTML page '
            'of %s' % (extension, class_name))
    say('%s: %s, %d kB of HTML' % (name, extension, len(content) // 1024))
    for _ in range(args.warmup):
        render()
    times = [render()[0] for _ in range(args.runs)]
    load = os.getloadavg()

    def pdf():
        return client.timed('report.school.journal_page.execute',
            [teaching_id], dict(data, action_id=pdf_action), client.context)
    _, (extension, content, _, _) = pdf()
    if extension != 'pdf' or not bytes(content).startswith(b'%PDF-'):
        raise SystemExit('bench: the PDF journal page is %r' % extension)
    pdf_times = [pdf()[0] for _ in range(max(3, args.runs // 5))]

    print()
    print('journal page, %s, %d students, %s %s, %s: %d students × %d '
        'lessons' % (database.backend, args.students, class_name, subject,
            period, size, count))
    summary('report.school.journal_page (HTML)', times)
    print('  load average %.2f %.2f %.2f' % load)
    summary('report.school.journal_page (PDF)', pdf_times)
    print('  load average %.2f %.2f %.2f' % os.getloadavg())


if __name__ == '__main__':
    main()
