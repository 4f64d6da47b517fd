# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The production arrangement of the README, on the private PostgreSQL.

A school database is created with trytond-admin, then served by gunicorn
with two workers, `[cache] clean_timeout = 0` and PYTHONOPTIMIZE=1, as the
README's deployment says.  The health route answers from both workers; a
role granted by the administrator through one worker is in force at once
in every worker (cache invalidation through PostgreSQL).  Runs in the
PostgreSQL pass of setup/test (SQLite has no cross-process cache
invalidation, and the README deploys on PostgreSQL).
"""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
pytestmark = pytest.mark.skipif(
    not URI.startswith('postgresql'),
    reason="the production arrangement runs in setup/test's PostgreSQL pass")

BIN = Path(sys.executable).parent
DATABASE = 'school_production_test'
PASSWORD = 'Prod-2026-school'


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Client:
    "JSON-RPC as sao speaks it"

    def __init__(self, base, login, password):
        self.base = base
        self.login = login
        user_id, session, *_ = self.call(
            'common.db.login', login, {'password': password}, auth=False)
        token = base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        self.headers = {'Authorization': f'Session {token}'}

    def call(self, method, *params, auth=True):
        request = urllib.request.Request(
            f'{self.base}/{DATABASE}/rpc/',
            data=json.dumps({
                    'id': 1, 'method': method, 'params': list(params),
                    }).encode(),
            headers={'Content-Type': 'application/json',
                **(self.headers if auth else {})})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        if answer.get('error'):
            raise RPCError(answer['error'])
        return answer['result']


class RPCError(Exception):
    pass


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    import psycopg
    tmp = tmp_path_factory.mktemp('production')
    admin = URI.rstrip('/') + '/postgres'
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    config = tmp / 'trytond.conf'
    config.write_text(
        f'[database]\nuri = {URI}\npath = {tmp}\n'
        '[cache]\nclean_timeout = 0\n'
        '[session]\nmax_attempt = 50\n')
    passfile = tmp / 'admin-pass'
    passfile.write_text(PASSWORD)
    env = dict(os.environ, TRYTONPASSFILE=str(passfile),
        TRYTOND_CONFIG=str(config), TRYTOND_DATABASE_NAMES=DATABASE,
        PYTHONOPTIMIZE='1')
    for var in ['TRYTOND_DATABASE_URI', 'DB_NAME', 'DB_CACHE']:
        env.pop(var, None)
    subprocess.run([BIN / 'trytond-admin', '-c', config, '-d', DATABASE,
            '-u', 'school_ejournal', '--activate-dependencies',
            '--email', 'admin@school.example', '-l', 'ru'],
        env=env, check=True, capture_output=True, timeout=600)
    port = free_port()
    log = open(tmp / 'gunicorn.log', 'w')
    process = subprocess.Popen([BIN / 'gunicorn', '-w', '2',
            '-b', f'127.0.0.1:{port}', '--timeout', '120',
            'trytond.application:app'],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                        f'{base}/{DATABASE}/school/health', timeout=30):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(
                        'gunicorn did not answer: '
                        + (tmp / 'gunicorn.log').read_text()[-3000:])
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def test_health_from_every_worker(server):
    "The health route answers 200 from each of the two workers"
    def health(_):
        with urllib.request.urlopen(
                f'{server}/{DATABASE}/school/health', timeout=30) as response:
            return response.status, json.load(response)

    # Requests sent together: one worker busy, the other answers
    workers = set()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            for status, answer in pool.map(health, range(40)):
                assert status == 200
                assert answer['status'] == 'ok'
                assert answer['database'] == DATABASE
                workers.add(answer['worker'])
            if len(workers) == 2:
                break
    assert len(workers) == 2, workers
    # An unknown database is not found, not an error
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f'{server}/nowhere/school/health', timeout=30)
    assert info.value.code == 404


def test_role_granted_in_every_worker_at_once(server):
    "A role the administrator grants is in force in every worker at once"
    admin = Client(server, 'admin', PASSWORD)
    group_ids = {
        name: admin.call('model.ir.model.data.get_id',
            'school_ejournal', f'group_{name}', {})
        for name in ['teacher', 'deputy_academic']}
    user_id, = admin.call('model.res.user.create', [{
                'login': 'uchitel', 'name': 'Петрова Ольга Ивановна',
                'password': 'Uchitel-2026-school',
                'groups': [['add', [group_ids['teacher']]]],
                }], {})
    teacher = Client(server, 'uchitel', 'Uchitel-2026-school')

    # A teacher may not read orders, in whichever worker answers
    for _ in range(20):
        with pytest.raises(RPCError):
            teacher.call('model.school.order.search_count', [], {})

    admin.call('model.res.user.write', [user_id], {
            'groups': [['add', [group_ids['deputy_academic']]]]}, {})

    # Made deputy, she reads them at once in every worker
    for _ in range(20):
        assert teacher.call('model.school.order.search_count', [], {}) == 0
