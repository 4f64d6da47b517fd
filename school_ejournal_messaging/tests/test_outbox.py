# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The outbox against real servers on loopback: an SMTP server (aiosmtpd)
and an HTTP server speaking SMS.ru's API (tests/outbox_support.py), and a
sender process killed with SIGKILL while sending.

The rows are written and sent in committed transactions, as the event and
the scheduled sender write them; each test starts from an empty outbox.
"""
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine

from school_ejournal.tests.clock import travel
from trytond import backend, config
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.transaction import Transaction, TransactionError

from ..sms import Permanent, SMSRu, normalise, preview, segments
from .outbox_support import Gateway, SMTPServer, Unreachable, free_port

MOTHER_EMAIL = 'smirnova@example.com'
MOTHER_PHONE = '+7 912 345-67-89'
WORKER = Path(__file__).with_name('outbox_worker.py')


@pytest.fixture(scope='module')
def school():
    from proteus import Model

    from school_ejournal.tests.tools import create_journal_school
    from trytond.tests.tools import activate_modules

    with travel():
        config_ = activate_modules('school_ejournal_messaging')
        school = create_journal_school(config=config_)
        Parent = Model.get('school.parent')
        mother = Parent(school['mother'].id)
        mother.email = MOTHER_EMAIL
        mother.email_consent = True
        mother.sms_consent = True
        mother.save()
        yield school
    drop_db()


def run(func, user=0, commit=True):
    "Call func(pool) in a transaction of its own, committed"
    extras = {}
    while True:
        with Transaction().start(DB_NAME, user, **extras) as transaction:
            try:
                result = func(Pool())
            except TransactionError as e:
                transaction.rollback()
                e.fix(extras)
                continue
            if commit:
                transaction.commit()
            else:
                transaction.rollback()
            return result


@pytest.fixture(autouse=True)
def empty_outbox(school):
    def clean(pool):
        table = pool.get('school.message.outbox').__table__()
        Transaction().connection.cursor().execute(*table.delete())
    run(clean)
    yield


@pytest.fixture
def smtp():
    saved = config.get('email', 'uri')
    with SMTPServer() as server:
        config.set('email', 'uri', server.uri)
        try:
            yield server
        finally:
            config.set('email', 'uri', saved)


@pytest.fixture
def short_timeout():
    set_option('sms_timeout', '1')
    yield
    set_option('sms_timeout', None)


def set_gateway(url):
    def write(pool):
        Configuration = pool.get('school.outbox.configuration')
        Configuration.write([Configuration(1)], {
                'sms_gateway': 'smsru', 'sms_api_id': 'test-key',
                'sms_url': url})
    run(write)


def enqueue(*messages):
    return run(lambda pool: pool.get('school.message.outbox').enqueue([
                dict({'subject': 'Notice', 'body': 'Text'}, **m)
                for m in messages]))


def email(key, recipient=MOTHER_EMAIL, **kw):
    return dict(key=key, channel='email', recipient=recipient, **kw)


def sms(key, recipient=MOTHER_PHONE, **kw):
    return dict(key=key, channel='sms', recipient=recipient, **kw)


def send():
    return run(lambda pool: pool.get('school.message.outbox').send_pending())


def rows():
    "Return {key: row} of the outbox, its values read"
    def read(pool):
        Outbox = pool.get('school.message.outbox')
        return {r['key']: SimpleNamespace(**r) for r in Outbox.read(
                [r.id for r in Outbox.search([])],
                ['key', 'state', 'attempts', 'last_error', 'next_try',
                    'sent_at', 'provider_id', 'body'])}
    return run(read, commit=False)


def set_option(name, value):
    if not config.has_section('school_outbox'):
        config.add_section('school_outbox')
    if value is None:
        # trytond.config has no remove_option; its getters are cached
        config._config.remove_option('school_outbox', name)
        config._cache_clear()
    else:
        config.set('school_outbox', name, value)


def later(minutes):
    return time_machine.travel(
        dt.datetime.now() + dt.timedelta(minutes=minutes), tick=True)


# --- Writing the rows --------------------------------------------------------

def test_repeated_event_adds_nothing(school):
    "A key already in the outbox is not added again"
    assert enqueue(email('k1'), email('k1'), email('k2')) == 2
    assert enqueue(email('k1', body='Another text')) == 0
    assert set(rows()) == {'k1', 'k2'}
    assert rows()['k1'].body == 'Text'


def test_rolled_back_event_sends_nothing(school):
    "A row written in a transaction rolled back is not there"
    run(lambda pool: pool.get('school.message.outbox').enqueue(
            [email('gone', subject='S', body='B')]), commit=False)
    assert rows() == {}


# --- E-mail through a real SMTP server ---------------------------------------

def test_email_delivered_once(school, smtp):
    "A letter goes once, with its key in a header; a second run sends none"
    enqueue(email('absence:1', subject='Отсутствие', body='Анна отсутствует'))
    assert send() == {'sent': 1}
    assert send() == {}
    delivered, = smtp.mailbox.delivered
    assert delivered['To'] == MOTHER_EMAIL
    assert delivered['Subject'] == 'Отсутствие'
    assert delivered['X-School-Outbox'] == 'absence:1'
    assert 'Анна отсутствует' in delivered.get_payload(decode=True).decode()
    row = rows()['absence:1']
    assert (row.state, row.attempts) == ('sent', 1)
    assert row.sent_at is not None


def test_email_4xx_then_sent(school, smtp):
    "SMTP 4xx is retried after a delay and then delivered once"
    smtp.mailbox.rcpt_replies = ['451 4.7.1 Greylisted, try again later']
    enqueue(email('grey'))
    assert send() == {'pending': 1}
    row = rows()['grey']
    assert (row.state, row.attempts) == ('pending', 1)
    assert '451' in row.last_error
    assert row.next_try > dt.datetime.now()
    assert send() == {}, "tried again before its time"
    with later(2):
        assert send() == {'sent': 1}
    assert len(smtp.mailbox.delivered) == 1
    assert rows()['grey'].attempts == 2


def test_email_5xx_fails_visibly(school, smtp):
    "SMTP 5xx is a failure, not retried, shown to the deputy"
    enqueue(email('bad', recipient='nobody@example.com'))
    assert send() == {'failed': 1}
    with later(600):
        assert send() == {}
    assert smtp.mailbox.delivered == []
    row = rows()['bad']
    assert row.state == 'failed' and '550' in row.last_error

    deputy = school['users']['zavuch'].id
    found = run(lambda pool: [r.key for r in pool.get(
                'school.message.outbox').search(
                [('state', 'in', ['failed', 'check'])])], user=deputy,
        commit=False)
    assert found == ['bad']


def test_email_server_down_is_retried(school, smtp):
    "A refused connection keeps the letter for a later try"
    config.set('email', 'uri', 'smtp://127.0.0.1:%s' % free_port())
    enqueue(email('down'))
    assert send() == {'pending': 1}
    assert 'ConnectionRefused' in rows()['down'].last_error
    config.set('email', 'uri', smtp.uri)
    with later(2):
        assert send() == {'sent': 1}
    assert len(smtp.mailbox.delivered) == 1


def test_attempts_end_in_failure(school):
    "A letter never accepted fails after the last attempt"
    set_option('max_attempts', '2')
    saved = config.get('email', 'uri')
    config.set('email', 'uri', 'smtp://127.0.0.1:%s' % free_port())
    try:
        enqueue(email('never'))
        assert send() == {'pending': 1}
        with later(5):
            assert send() == {'failed': 1}
    finally:
        set_option('max_attempts', None)
        config.set('email', 'uri', saved)


# --- SMS through a gateway on loopback ---------------------------------------

def test_sms_500_and_429_then_sent_once(school, short_timeout):
    "HTTP 500 and 429 are retried; the message is taken once"
    with Gateway() as gateway:
        set_gateway(gateway.url)
        gateway.behaviours = ['500', '429']
        enqueue(sms('s1', body='Анна отсутствует на уроке'))
        assert send() == {'pending': 1}
        assert 'HTTP 500' in rows()['s1'].last_error
        with later(2):
            assert send() == {'pending': 1}
        with later(10):
            assert send() == {'sent': 1}
        assert gateway.accepted == [
            ('79123456789', 'Анна отсутствует на уроке')]
        assert rows()['s1'].provider_id == '000000-00000001'
        assert gateway.requests == 3


def test_sms_refused_connection(school, short_timeout):
    "A gateway that refuses connections: retried later, nothing lost"
    set_gateway('http://127.0.0.1:%s' % free_port())
    enqueue(sms('s2'))
    assert send() == {'pending': 1}
    assert 'ConnectError' in rows()['s2'].last_error


def test_sms_timeout_before_accepting(school, short_timeout):
    "No connection within the timeout: not sent, retried"
    with Unreachable() as gateway:
        set_gateway(gateway.url)
        enqueue(sms('s3'))
        assert send() == {'pending': 1}
    assert 'ConnectTimeout' in rows()['s3'].last_error


def test_sms_timeout_after_accepting_is_checked(school, short_timeout):
    "The gateway took it and did not answer in time: flagged, not resent"
    with Gateway() as gateway:
        set_gateway(gateway.url)
        gateway.behaviours = ['hang']
        enqueue(sms('s4'), sms('s5', recipient='+79001234567'))
        assert send() == {'check': 1, 'sent': 1}
        with later(24 * 60):
            assert send() == {}
        assert sorted(gateway.accepted) == [
            ('79001234567', 'Text'), ('79123456789', 'Text')]
    row = rows()['s4']
    assert row.state == 'check' and 'ReadTimeout' in row.last_error


def test_sms_invalid_number(school, short_timeout):
    "A number that is not a mobile one fails without a request"
    with Gateway() as gateway:
        set_gateway(gateway.url)
        gateway.behaviours = ['refuse-number']
        enqueue(sms('bad-number', recipient='+7 123'),
            sms('refused', recipient='+7 900 000-00-00'))
        assert send() == {'failed': 2}
        assert gateway.requests == 1
    assert 'not a mobile' in rows()['bad-number'].last_error
    assert '207' in rows()['refused'].last_error


def test_staff_send_again_a_checked_message(school, short_timeout):
    "The school administrator sends again a message found not received"
    with Gateway() as gateway:
        set_gateway(gateway.url)
        gateway.behaviours = ['hang']
        enqueue(sms('again'))
        assert send() == {'check': 1}
        admin = school['users']['sysadmin'].id

        def retry(pool):
            Outbox = pool.get('school.message.outbox')
            Outbox.retry(Outbox.search([('key', '=', 'again')]))
        run(retry, user=admin)
        assert send() == {'sent': 1}
        assert len(gateway.accepted) == 2


def test_sms_status():
    "The gateway tells a message delivered, or unknown"
    with Gateway() as gateway:
        smsru = SMSRu('test-key', url=gateway.url)
        assert smsru.status('000000-00000001') == 'unknown'
        gateway.accepted.append(('79001234567', 'Text'))
        assert smsru.status('000000-00000001') == 'delivered'


def test_segments_and_preview():
    "Cyrillic SMS: 70 characters in one, 67 in each of a longer one"
    assert segments('') == (0, 0)
    assert segments('Я' * 70) == (1, 70)
    assert segments('Я' * 71) == (2, 71)
    assert segments('Я' * 134) == (2, 134)
    assert segments('Я' * 135) == (3, 135)
    assert segments('a' * 160) == (1, 160)
    assert segments('a' * 161) == (2, 161)
    assert normalise('8 (912) 345-67-89') == '79123456789'
    with pytest.raises(Permanent):
        normalise('12345')


@pytest.mark.usefixtures('school')
def test_preview():
    with Transaction().start(DB_NAME, 0):
        result = preview('Я' * 100, max_segments=1)
    assert (result['segments'], result['fits']) == (2, False)
    assert '100' in result['message']


# --- A sender killed while sending -------------------------------------------

def worker_database(tmp):
    """The database the worker processes use: the tests' own on
    PostgreSQL, a file copy of the in-memory one on SQLite"""
    if backend.name == 'postgresql':
        return DB_NAME, {}
    name = 'outbox_worker'

    def copy(pool):
        target = sqlite3.connect(os.path.join(tmp, name + '.sqlite'))
        Transaction().connection.backup(target)
        target.close()
    run(copy, commit=False)
    return name, {'TRYTOND_DATABASE__PATH': tmp}


def worker(database, env, mode, now=None, wait=True):
    command = [sys.executable, str(WORKER), database,
        (now or dt.datetime.now()).isoformat(), mode]
    environ = dict(os.environ, TRYTOND_SCHOOL_OUTBOX__SMS_TIMEOUT='2', **env)
    if not wait:
        return subprocess.Popen(command, env=environ, stdout=subprocess.PIPE)
    result = subprocess.run(command, env=environ, capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sender_killed_mid_send_loses_nothing(school):
    """A sender killed with SIGKILL while the gateway holds its request:
    the message is flagged for a person, the others go, none twice"""
    with Gateway() as gateway, tempfile.TemporaryDirectory() as tmp:
        set_gateway(gateway.url)
        enqueue(sms('k1', recipient='+79001111111'),
            sms('k2', recipient='+79002222222'),
            email('k3'))
        database, env = worker_database(tmp)
        gateway.behaviours = ['wait']
        process = worker(database, env, 'send', wait=False)
        try:
            assert gateway.arrived.wait(60), "the worker sent nothing"
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        gateway.release.set()
        assert process.returncode == -signal.SIGKILL
        states = {r['key']: r['state'] for r in worker(database, env, 'dump')}
        assert states == {'k1': 'sending', 'k2': 'pending', 'k3': 'pending'}

        # The next run, before the lease ends, leaves the claimed row alone
        # (its sender could still be alive) and sends the others
        with SMTPServer() as smtp:
            env['TRYTOND_EMAIL__URI'] = smtp.uri
            assert worker(database, env, 'send') == {'sent': 2}
            states = {r['key']: r['state']
                for r in worker(database, env, 'dump')}
            assert states == {'k1': 'sending', 'k2': 'sent', 'k3': 'sent'}
            # After the lease: flagged for a person, not sent again
            after = dt.datetime.now() + dt.timedelta(minutes=11)
            assert worker(database, env, 'send', now=after) == {}
            assert len(smtp.mailbox.delivered) == 1
        dump = {r['key']: r for r in worker(database, env, 'dump')}
        assert dump['k1']['state'] == 'check'
        assert 'stopped while sending' in dump['k1']['last_error']
        assert sorted(gateway.accepted) == [
            ('79001111111', 'Text'), ('79002222222', 'Text')]


# --- Absence notices and the weekly digest, as the teacher marks -------------

def hold(school, day, number, marks=(), absences=()):
    "The deputy plans a 5А mathematics lesson, its teacher holds and marks it"
    from proteus import Model

    from school_ejournal.tests.tools import task_type
    from trytond.tests.tools import set_user

    users, students = school['users'], school['students']
    Lesson = Model.get('school.lesson')
    set_user(users['zavuch'])
    lesson = Lesson(teaching=school['teachings']['5А math'], date=day,
        number=number)
    lesson.save()
    set_user(users['klass'])
    lesson = Lesson(lesson.id)
    lesson.click('hold')
    if marks:
        lesson.tasks.new(type=task_type('О'))
    lesson.save()
    lines = {l.student.id: l for l in lesson.lines}
    for name, mark in marks:
        lines[students[name].id].mark = mark
    for name in absences:
        lines[students[name].id].attendance = 'absent'
    lesson.save()
    set_user(1)
    return lesson


def test_absence_of_a_past_lesson_sends_nothing(school):
    "An absence put on last week's lesson writes no notice"
    last_week = dt.date.today() - dt.timedelta(days=7)
    hold(school, last_week, 6, absences=['Анна'])
    assert rows() == {}


def test_weekly_digest_once_per_parent_and_channel(school):
    "The digest: one letter and one SMS for the mother, the week's average"
    today = dt.date.today()
    hold(school, today, 5, marks=[('Анна', '5')], absences=['Вера'])
    # The absence notice is not about Анна's mother's child: none
    assert rows() == {}

    def digest(pool):
        from ..digest import Digest
        return Digest.send()
    assert run(digest) == 2
    assert run(digest) == 0
    monday = today - dt.timedelta(days=today.weekday())
    mother = school['mother'].id
    letter = rows()['digest:%s:%s:email' % (mother, monday.isoformat())]
    text = rows()['digest:%s:%s:sms' % (mother, monday.isoformat())]
    assert 'Смирнова Анна' in letter.body
    assert '5.00' in letter.body and 'missed: 0' in letter.body
    assert text.body.startswith('Анна: ') and '5.00' in text.body
