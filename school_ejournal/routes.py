# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import json
import os

from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app


@app.route('/<database_name>/school/health', methods={'GET'})
@with_pool
@with_transaction(readonly=True)
def health(request, pool):
    """Answer 200 when the database answers and the module is activated,
    for a proxy's or a monitor's health check, with the database, the
    module's version and the worker process that answered"""
    Module = pool.get('ir.module')
    cursor = Transaction().connection.cursor()
    cursor.execute('SELECT 1')
    cursor.fetchone()
    modules = Module.search([('name', '=', 'school_ejournal')], limit=1)
    state = modules[0].state if modules else 'not activated'
    return Response(
        json.dumps({
                'status': 'ok' if state == 'activated' else state,
                'database': Transaction().database.name,
                'module': modules[0].version if modules else None,
                'worker': os.getpid(),
                }) + '\n',
        status=200 if state == 'activated' else 503,
        content_type='application/json')
