#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Where the time of the analysis PDF goes.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/audit_pdf.py \\
        [--students 250] [--window month] [--runs 3] [--reuse] \\
        [--db-uri ... | --private-postgresql DIR]

In the benchmark's demo school (bench/common.py, school_ejournal_reports
activated as bench/audit.py does), in this process and as the academic
deputy (zavuch): runs the school-wide analysis of the window up to
yesterday, then prints the analysis PDF (`school.audit.report`) of that run
--runs times, timing apart each phase of trytond's Report._execute: the
figures (`get_context`: the remarks, their texts and names), the template
(`render`: Genshi), and weasyprint (`convert`: HTML to PDF), and once the
import of weasyprint (what the first PDF of a server process pays).  The
transaction is rolled back: the database is left as it was.
"""
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit import activate  # noqa: E402
from common import Database, parser, percentile, say  # noqa: E402


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument('--window', default='month',
        help="the analysis' window (default: month, as the browser test)")
    p.set_defaults(runs=3, students=250)
    args = p.parse_args()
    database = Database(args)
    database.ensure()
    activate(database)

    start, cpu = time.perf_counter(), time.process_time()
    import weasyprint  # noqa: F401
    say('import weasyprint: %.2f s (CPU %.2f s)' % (
            time.perf_counter() - start, time.process_time() - cpu))

    from trytond.config import config
    config.update_etc(str(database.conf))
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(database.name)
    pool.init()
    with Transaction().start(database.name, 0, readonly=True):
        User = pool.get('res.user')
        user, = User.search([('login', '=', 'zavuch')])
        company = user.company.id
    context = {'company': company, 'language': 'ru'}
    with Transaction().start(
            database.name, user.id, context=context) as transaction:
        Run = pool.get('school.audit.run')
        Remark = pool.get('school.audit.remark')
        ActionReport = pool.get('ir.action.report')
        Report = pool.get('school.audit.report', type='report')
        date = dt.date.today() - dt.timedelta(days=1)
        run = Run(company=company, scope='school', window=args.window,
            date=date)
        run.save()
        start = time.perf_counter()
        Run.run([run])
        say('analysis of the %s: %.2f s, %d remarks' % (args.window,
                time.perf_counter() - start,
                Remark.search_count([('last_run', '=', run.id)])))
        action, = ActionReport.search(
            [('report_name', '=', Report.__name__)])
        phases = {'get_context': [], 'render': [], 'convert': [],
            'total': []}
        cpus = {name: [] for name in phases}
        for _ in range(args.runs):
            # A fresh cache, as a new request has
            transaction.cache.clear()
            records = Report._get_records([run.id], Run.__name__, {})
            # Wall-clock and CPU time (the machine may be shared)
            t0, c0 = time.perf_counter(), time.process_time()
            report_context = Report.get_context(records, {}, {})
            t1, c1 = time.perf_counter(), time.process_time()
            html = Report.render(action, report_context)
            t2, c2 = time.perf_counter(), time.process_time()
            _, pdf = Report.convert(action, html)
            t3, c3 = time.perf_counter(), time.process_time()
            for name, value, cpu in [('get_context', t1 - t0, c1 - c0),
                    ('render', t2 - t1, c2 - c1),
                    ('convert', t3 - t2, c3 - c2),
                    ('total', t3 - t0, c3 - c0)]:
                phases[name].append(value)
                cpus[name].append(cpu)
        say('PDF of %d bytes, HTML of %d characters' % (len(pdf), len(html)))
        for name, seconds in phases.items():
            print('  %-12s median %6.2f s   max %6.2f s   CPU median %6.2f s'
                % (name, percentile(seconds, 0.5), max(seconds),
                    percentile(cpus[name], 0.5)), flush=True)
        print('  load average %s' % ' '.join(
                '%.2f' % v for v in os.getloadavg()), flush=True)
        transaction.rollback()


if __name__ == '__main__':
    main()
