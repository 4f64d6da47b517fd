# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The SMS's delivery status: the scheduled action asks the SMS.ru gateway
(its /sms/status, here the HTTP server on loopback of outbox_support.py)
about every sent SMS awaiting delivery and records the answer, which the
deputy sees in the outbox."""
from trytond.pool import Pool
from trytond.transaction import check_access

from . import test_outbox as outbox
from .outbox_support import Gateway
from .test_outbox import enqueue, later, rows, run, send, set_gateway, sms

# The school and the outbox's fixtures of the outbox's tests
school = outbox.school
empty_outbox = outbox.empty_outbox
short_timeout = outbox.short_timeout


def check():
    return run(lambda pool: pool.get(
            'school.message.outbox').check_delivery())


def delivery(key):
    def read(pool):
        Outbox = pool.get('school.message.outbox')
        row, = Outbox.search([('key', '=', key)])
        return row.delivery
    return run(read, commit=False)


def sent(gateway, *keys):
    "Send the SMS of the keys; return their provider ids"
    set_gateway(gateway.url)
    enqueue(*(sms(k, body='Анна отсутствует') for k in keys))
    assert send() == {'sent': len(keys)}
    ids = [rows()[k].provider_id for k in keys]
    assert all(ids)
    return ids


def test_delivered(school, short_timeout):
    "Delivered at the first asking; a delivered SMS is not asked again"
    with Gateway() as gateway:
        sms_id, = sent(gateway, 'd1')
        assert delivery('d1') == 'waiting'
        gateway.statuses[sms_id] = [103]
        assert check() == {'delivered': 1}
        assert delivery('d1') == 'delivered'
        assert check() == {}
        assert gateway.status_asked == [sms_id]


def test_waiting_then_delivered(school, short_timeout):
    "On its way (102) the first time, delivered (103) the next"
    with Gateway() as gateway:
        sms_id, = sent(gateway, 'd2')
        gateway.statuses[sms_id] = [102, 103]
        assert check() == {'waiting': 1}
        assert delivery('d2') == 'waiting'
        assert rows()['d2'].state == 'sent'
        with later(10):
            assert check() == {'delivered': 1}
        assert delivery('d2') == 'delivered'
        assert gateway.status_asked == [sms_id, sms_id]


def test_not_delivered_shown_to_deputy(school, short_timeout):
    """Not delivered (104: its lifetime ended) is recorded; the deputy
    finds it among the outbox's SMS not delivered"""
    with Gateway() as gateway:
        failed, fine = sent(gateway, 'd3', 'd4')
        gateway.statuses[failed] = [104]
        gateway.statuses[fine] = [103]
        assert check() == {'not_delivered': 1, 'delivered': 1}

    deputy = school['users']['zavuch'].id

    def search(pool):
        Outbox = pool.get('school.message.outbox')
        with check_access():
            found = Outbox.search([('delivery', '=', 'not_delivered')])
            return [(r.key, r.delivery, r.state) for r in found]
    assert run(search, user=deputy, commit=False) == [
        ('d3', 'not_delivered', 'sent')]


def test_gateway_error_asks_again(school, short_timeout):
    "A gateway answering 500 to the status leaves the SMS to ask again"
    with Gateway() as gateway:
        sms_id, = sent(gateway, 'd5')
        gateway.statuses[sms_id] = ['500', 103]
        assert check() == {}
        assert delivery('d5') == 'waiting'
        with later(10):
            assert check() == {'delivered': 1}


def test_no_answer_for_days_is_unknown(school, short_timeout):
    "A gateway that never gives a final answer: «unknown» after two days"
    with Gateway() as gateway:
        sms_id, = sent(gateway, 'd6')
        gateway.statuses[sms_id] = [-1]
        assert check() == {'waiting': 1}
        with later(3 * 24 * 60):
            assert check() == {'unknown': 1}
            assert check() == {}
        assert delivery('d6') == 'unknown'


def test_email_not_asked(school, short_timeout):
    "Only SMS are asked about"
    with Gateway() as gateway:
        set_gateway(gateway.url)
        run(lambda pool: Pool().get('school.message.outbox').enqueue([{
                        'key': 'mail', 'channel': 'email',
                        'recipient': 'a@example.com', 'body': 'x'}]))
        assert check() == {}
        assert gateway.status_asked == []
