# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""A district: one database per school on a shared PostgreSQL, the same
app servers serving them all (Tryton's multi-database, the database in the
URL).  Two schools are made by setup/new-school on setup/test's private
cluster (the first by activating the modules, the second as a copy of it
with --from, as a district copies its empty template); one gunicorn of two
workers serves both; each school's administrator logs in with the
school's own password, and what one school writes is not seen in the
other.  Runs in the PostgreSQL pass of setup/test.
"""
import os
import time

import pytest
from district_support import Gunicorn, RPCError, new_school, write_config

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
pytestmark = pytest.mark.skipif(
    not URI.startswith('postgresql'),
    reason="a district runs on PostgreSQL (setup/test's PostgreSQL pass)")

SCHOOLS = {
    'district_school_a': 'Shkola-A-2026-pass',
    'district_school_b': 'Shkola-B-2026-pass',
    }


def login(district, database, user, password):
    """Log in, waiting out the throttle of a login that failed a moment ago
    (429: the school's doubling wait after a wrong password)"""
    for _ in range(30):
        try:
            return district.client(database, user, password)
        except RPCError as exception:
            if 'HTTP 429' not in str(exception):
                raise
            time.sleep(1)
    raise AssertionError(f'{user} throttled on {database} for 30 s')


def drop(names):
    import psycopg
    with psycopg.connect(URI.rstrip('/') + '/postgres',
            autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope='module')
def district(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('district')
    config = write_config(tmp, URI)
    drop(SCHOOLS)
    (a, password_a), (b, password_b) = SCHOOLS.items()
    try:
        output = new_school(config, a, password_a, '--modules', 'core')
        assert f'{a} ready' in output, output
        output = new_school(config, b, password_b, '--from', a)
        assert f'{b} ready' in output, output
        # An existing school is never overwritten
        with pytest.raises(AssertionError, match='exists already'):
            new_school(config, a, 'Another-pass-2026', '--modules', 'core')
        server = Gunicorn(config, SCHOOLS, workers=2)
        try:
            yield server
        finally:
            server.stop()
    finally:
        drop(SCHOOLS)


def test_each_school_its_own_login(district):
    "Each administrator logs in to the school with its own password"
    for name, password in SCHOOLS.items():
        assert district.health(name) == 200
        admin = login(district, name, 'admin', password)
        user, = admin.call(
            'model.res.user.read', [admin.user_id], ['login'], {})
        assert user['login'] == 'admin'
    (a, password_a), (b, password_b) = SCHOOLS.items()
    with pytest.raises(RPCError):
        district.client(b, 'admin', password_a)
    with pytest.raises(RPCError):
        district.client(a, 'admin', password_b)


def test_schools_share_no_rows(district):
    "A person and a login made in one school are not in the other"
    (a, password_a), (b, password_b) = SCHOOLS.items()
    admin_a = login(district, a, 'admin', password_a)
    admin_b = login(district, b, 'admin', password_b)
    party, = admin_a.call('model.party.party.create', [{
                'name': 'Районова Алиса Петровна',
                }], {})
    found = [['name', '=', 'Районова Алиса Петровна']]
    for _ in range(10):  # whichever worker answers
        assert admin_a.call(
            'model.party.party.search', found, 0, None, None, {}) == [party]
        assert admin_b.call(
            'model.party.party.search', found, 0, None, None, {}) == []
    admin_a.call('model.res.user.create', [{
                'login': 'uchitel_a', 'name': 'Учитель школы А',
                'password': 'Uchitel-A-2026-pass',
                }], {})
    assert login(district, a, 'uchitel_a', 'Uchitel-A-2026-pass')
    with pytest.raises(RPCError):
        district.client(b, 'uchitel_a', 'Uchitel-A-2026-pass')
