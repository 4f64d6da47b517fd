# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""What every call pays, made cheaper by school_ejournal without changing
the answers: the session check of every authenticated request
(ir.session.check, one query) gives trytond's own answer for a valid, a
wrong, an expired and another user's key, from this address or another, and
over HTTP a staff member's call is answered while the session lives and
refused once it has expired; the school's day (ir.date.today, the school's
time zone kept) follows a change of the time zone at once."""
import base64
import datetime as dt
import json

import pytest
from werkzeug.test import Client

from trytond.ir.session import Session as TrytondSession
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.transaction import Transaction
from trytond.wsgi import app

from .clock import travel

PASSWORD = 'Session-secret-2026'
HTTPS = 'https://localhost'


@pytest.fixture(scope='module')
def users():
    from proteus import Model

    from trytond.modules.company.tests.tools import create_company
    from trytond.tests.tools import activate_modules

    with travel():
        activate_modules('school_ejournal')
        create_company()
        User = Model.get('res.user')
        ids = {}
        for login in ['zavuch', 'uchitel']:
            user = User(name=login, login=login, password=PASSWORD)
            user.save()
            ids[login] = user.id
        yield ids
    drop_db()


@pytest.fixture(autouse=True)
def clock():
    with travel():
        yield


def sign_in(login, address='127.0.0.1'):
    "Sign in as the web client does: (authorization, user id, key)"
    response = Client(app, Response).post('/%s/rpc/' % DB_NAME, base_url=HTTPS,
        json={'id': 1, 'method': 'common.db.login',
            'params': [login, {'password': PASSWORD}, 'ru']},
        environ_base={'REMOTE_ADDR': address})
    assert response.status_code == 200, response.get_data(as_text=True)
    user_id, key = json.loads(response.get_data(as_text=True))['result'][:2]
    token = base64.b64encode(
        ('%s:%s:%s' % (login, user_id, key)).encode()).decode()
    return 'Session ' + token, user_id, key


def call(authorization, address='127.0.0.1'):
    "The user's preferences, asked with the session from the address"
    return Client(app, Response).post('/%s/rpc/' % DB_NAME, base_url=HTTPS,
        json={'id': 1, 'method': 'model.res.user.get_preferences',
            'params': [False, {}]},
        headers={'Authorization': authorization},
        environ_base={'REMOTE_ADDR': address})


def both_checks(user_id, key, address):
    "(school_ejournal's answer, trytond's answer) for the key"
    with Transaction().start(DB_NAME, user_id, context={'_request': {
                    'remote_addr': address}}) as transaction:
        Session = Pool().get('ir.session')
        ours = Session.check(user_id, key)
        transaction.rollback()
    with Transaction().start(DB_NAME, user_id, context={'_request': {
                    'remote_addr': address}}) as transaction:
        Session = Pool().get('ir.session')
        theirs = TrytondSession.check.__func__(Session, user_id, key)
        transaction.rollback()
    return ours, theirs


def age(key, days):
    "Move the session's sign-in back by days"
    with Transaction().start(DB_NAME, 0) as transaction:
        Session = Pool().get('ir.session')
        table = Session.__table__()
        cursor = transaction.connection.cursor()
        cursor.execute(*table.update([table.create_date],
                [dt.datetime.now() - dt.timedelta(days=days)],
                where=table.key == key))
        transaction.commit()


def exists(key):
    with Transaction().start(DB_NAME, 0):
        Session = Pool().get('ir.session')
        return bool(Session.search([('key', '=', key)]))


def test_same_answer_as_trytond(users):
    "Valid, wrong, another user's, another address, expired: as trytond"
    _, zavuch, key = sign_in('zavuch')
    _, uchitel, other_key = sign_in('uchitel')
    # A second place of the deputy's, from another address
    sign_in('zavuch', address='10.0.0.7')
    assert both_checks(zavuch, key, '127.0.0.1') == (True, True)
    assert both_checks(zavuch, 'not-a-key', '127.0.0.1') == (None, None)
    assert both_checks(zavuch, other_key, '127.0.0.1') == (None, None)
    assert both_checks(uchitel, key, '127.0.0.1') == (None, None)
    # The key signed in at one address is not valid from another
    assert both_checks(zavuch, key, '10.0.0.8') == (None, None)
    age(key, 31)
    assert both_checks(zavuch, key, '127.0.0.1') == (False, False)


def test_call_answered_then_refused_once_expired(users):
    "The teacher's call is answered; after max_age: 401, session deleted"
    authorization, user_id, key = sign_in('uchitel')
    answer = call(authorization)
    assert answer.status_code == 200
    preferences = json.loads(answer.get_data(as_text=True))['result']
    assert preferences['name'] == 'uchitel'
    # The same session called from another address is refused
    assert call(authorization, address='10.0.0.9').status_code == 401
    assert exists(key)
    age(key, 31)
    assert call(authorization).status_code == 401
    assert not exists(key)


def test_today_follows_the_school_time_zone(users):
    "The school's day in its time zone, kept, and changed with the zone"
    def set_zone(name):
        with Transaction().start(DB_NAME, 0):
            Company = Pool().get('company.company')
            company, = Company.search([])
            company.timezone = name
            company.save()
            return company.id

    def today(company_id):
        with Transaction().start(DB_NAME, 0, context={
                    'company': company_id}):
            return Pool().get('ir.date').today()
    company_id = set_zone('Europe/Moscow')
    # 10:00 in Moscow (the tests' clock): 20:00 the day before in Pago Pago
    moscow = today(company_id)
    assert today(company_id) == moscow == dt.date.today()
    try:
        set_zone('Pacific/Pago_Pago')
        assert today(company_id) == moscow - dt.timedelta(days=1)
    finally:
        set_zone('Europe/Moscow')
    assert today(company_id) == moscow
