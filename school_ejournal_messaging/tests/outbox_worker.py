# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""A sender of the outbox in a process of its own, for the tests that kill
it: python outbox_worker.py DATABASE NOW send|dump

NOW (ISO) is the tests' clock, the process's clock starts there.  «send»
runs the scheduled sender once and prints what it did; «dump» prints the
outbox's rows.  The database is the environment's (TRYTOND_DATABASE__URI,
TRYTOND_DATABASE__PATH)."""
import datetime as dt
import json
import sys

import time_machine


def main(database, now, mode):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with time_machine.travel(dt.datetime.fromisoformat(now), tick=True):
        Pool.start()
        pool = Pool(database)
        pool.init()
        with Transaction().start(database, 0) as transaction:
            Outbox = pool.get('school.message.outbox')
            if mode == 'send':
                print(json.dumps(Outbox.send_pending()), flush=True)
            else:
                rows = Outbox.search([], order=[('id', 'ASC')])
                print(json.dumps([{
                                'key': r.key, 'state': r.state,
                                'attempts': r.attempts,
                                'last_error': r.last_error,
                                } for r in rows]), flush=True)
            transaction.commit()


if __name__ == '__main__':
    main(*sys.argv[1:4])
