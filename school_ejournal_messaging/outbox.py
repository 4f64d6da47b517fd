# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The outbox: every letter and SMS the school sends is first a row here.

A row is written in the transaction of the event that causes it (Outbox.
enqueue), so a rolled-back event sends nothing; its key is unique, so a
repeated event adds nothing.  The scheduled sender (Outbox.send_pending)
claims one row at a time in a transaction of its own (FOR UPDATE SKIP LOCKED
on PostgreSQL), marks it «sending» and commits, sends it, and records the
result in another transaction.  A row still «sending» after the lease is
one whose sender died between the claim and the record: it may or may not
have gone out, so it goes to «check» for a person, never resent.
"""
import datetime as dt
import logging
import mimetypes
import secrets
import smtplib
import socket
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sql import Conflict, For, Null
from sql.conditionals import Coalesce

from trytond import backend, config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval
from trytond.sendmail import get_smtp_server
from trytond.transaction import Transaction

from .sms import Doubtful, Permanent, Temporary, gateway, segments

logger = logging.getLogger(__name__)

STATES = [
    ('pending', "Pending"),
    ('sending', "Sending"),
    ('sent', "Sent"),
    ('failed', "Failed"),
    ('check', "To Check"),
    ]
CHANNELS = [
    ('email', "E-mail"),
    ('sms', "SMS"),
    ]
DELIVERIES = [
    (None, ""),
    ('waiting', "Awaiting Delivery"),
    ('delivered', "Delivered"),
    ('not_delivered', "Not Delivered"),
    ('unknown', "Unknown"),
    ]
# The gateway's answers (Gateway.status) as the row records them
GATEWAY_DELIVERY = {
    'queued': 'waiting',
    'delivered': 'delivered',
    'failed': 'not_delivered',
    }


def lease():
    "Seconds after which a row still «sending» is taken as abandoned"
    return config.getint('school_outbox', 'lease', default=600)


def max_attempts():
    return config.getint('school_outbox', 'max_attempts', default=8)


def backoff(attempts):
    "The delay before the next try after that many attempts"
    base = config.getint('school_outbox', 'retry_delay', default=60)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0),
            6 * 3600))


class SkipLocked(For):
    "FOR UPDATE SKIP LOCKED (python-sql knows NOWAIT only)"
    __slots__ = ()

    def __str__(self):
        return super().__str__() + ' SKIP LOCKED'


class Outbox(ModelSQL, ModelView):
    "A message to send, sent or that could not be sent"
    __name__ = 'school.message.outbox'

    key = fields.Char(
        "Key", required=True, readonly=True, strip=False,
        help="What the message is about; one message per key.")
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, readonly=True)
    recipient = fields.Char(
        "Recipient", required=True, readonly=True,
        help="The e-mail address or the phone number.")
    parent = fields.Many2One(
        'school.parent', "Parent", readonly=True, ondelete='SET NULL')
    student = fields.Many2One(
        'school.student', "Student", readonly=True, ondelete='SET NULL')
    subject = fields.Char("Subject", readonly=True)
    body = fields.Text("Text", required=True, readonly=True)
    attachment = fields.Binary(
        "Attachment", readonly=True, filename='attachment_name',
        states={'invisible': ~Eval('attachment_name')},
        help="The file sent with the e-mail (the information letter's PDF).")
    attachment_name = fields.Char(
        "Attachment Name", readonly=True,
        states={'invisible': ~Eval('attachment_name')})
    segments = fields.Function(
        fields.Integer("SMS Segments",
            states={'invisible': Eval('channel') != 'sms'},
            help="How many SMS the text takes: 70 Cyrillic characters in "
            "one, 67 in each of a longer one."),
        'get_segments')
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    attempts = fields.Integer("Attempts", required=True, readonly=True)
    next_try = fields.DateTime("Next Try", readonly=True)
    claimed_at = fields.DateTime("Claimed at", readonly=True)
    claim = fields.Char("Claim", readonly=True, strip=False)
    sent_at = fields.DateTime("Sent at", readonly=True)
    provider_id = fields.Char(
        "Provider Id", readonly=True,
        help="The id the SMS gateway gave the message.")
    last_error = fields.Text("Last Error", readonly=True)
    delivery = fields.Selection(
        DELIVERIES, "Delivery", readonly=True,
        states={'invisible': Eval('channel') != 'sms'},
        help="What the SMS gateway says of the sent SMS: asked every few "
        "minutes by a scheduled action until the answer is final.")
    delivery_checked = fields.DateTime(
        "Delivery Checked", readonly=True,
        states={'invisible': Eval('channel') != 'sms'},
        help="When the gateway was last asked.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.key),
                'school_ejournal_messaging.msg_outbox_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    (t.next_try, Index.Range())),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'retry': {
                    'invisible': ~Eval('state').in_(['failed', 'check']),
                    'depends': ['state'],
                    },
                'mark_sent': {
                    'invisible': Eval('state') != 'check',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    def get_segments(self, name):
        if self.channel == 'sms' and self.body:
            return segments(self.body)[0]

    def get_rec_name(self, name):
        return '%s: %s' % (self.recipient, self.subject or self.key)

    # --- Writing rows in the event's transaction ----------------------------

    @classmethod
    def enqueue(cls, messages):
        """Add the messages [{key, channel, recipient, body, subject?,
        attachment? (bytes), attachment_name?, parent?, student?}] to the
        outbox in the current transaction; a key already there is left as
        it is.  Return the number added."""
        if not messages:
            return 0
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.now()
        user = Transaction().user
        columns = [table.key, table.channel, table.recipient, table.subject,
            table.body, table.attachment, table.attachment_name,
            table.parent, table.student, table.state,
            table.attempts, table.next_try, table.create_uid,
            table.create_date]
        seen, values = set(), []
        for message in messages:
            if message['key'] in seen:
                continue
            seen.add(message['key'])
            values.append([message['key'], message['channel'],
                    message['recipient'], message.get('subject'),
                    message['body'], message.get('attachment'),
                    message.get('attachment_name'), message.get('parent'),
                    message.get('student'), 'pending', 0, now, user, now])
        added = 0
        # ON CONFLICT DO NOTHING: a concurrent transaction adding the same
        # key neither fails the event nor doubles the message
        for i in range(0, len(values), 500):
            cursor.execute(*table.insert(columns, values[i:i + 500],
                    on_conflict=_do_nothing(table)))
            added += max(cursor.rowcount, 0)
        return added

    # --- The scheduled sender -----------------------------------------------

    @classmethod
    @contextmanager
    def _step(cls):
        """A transaction of its own, committed at the end; the current one
        in tests that ask so (context outbox_same_transaction)"""
        transaction = Transaction()
        if transaction.context.get('outbox_same_transaction'):
            yield
            return
        with transaction.new_transaction() as new:
            yield
            new.commit()

    @classmethod
    def send_pending(cls, limit=None):
        """Send what is due (the scheduled action): first flag the rows
        abandoned while sending, then claim, send and record one row at a
        time.  Return {state: count} of the rows handled."""
        limit = limit or config.getint('school_outbox', 'batch', default=200)
        cls.flag_abandoned()
        done = {}
        for _ in range(limit):
            row = cls._claim()
            if row is None:
                break
            state = cls._send_and_record(row)
            done[state] = done.get(state, 0) + 1
        return done

    @classmethod
    def flag_abandoned(cls):
        "Move rows «sending» for longer than the lease to «check»"
        table = cls.__table__()
        now = dt.datetime.now()
        with cls._step():
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.state, table.last_error, table.write_date],
                    ['check', gettext(
                            'school_ejournal_messaging.msg_outbox_abandoned'),
                        now],
                    where=(table.state == 'sending')
                    & (table.claimed_at < now - dt.timedelta(
                            seconds=lease()))))

    @classmethod
    def _claim(cls):
        """Mark one due row «sending» and commit; return its values as a
        dict or None when nothing is due"""
        table = cls.__table__()
        now = dt.datetime.now()
        token = secrets.token_hex(16)
        while True:
            with cls._step():
                cursor = Transaction().connection.cursor()
                query = table.select(table.id,
                    where=(table.state == 'pending')
                    & (Coalesce(table.next_try, now) <= now),
                    order_by=[table.next_try.asc, table.id.asc],
                    limit=1)
                if backend.name == 'postgresql':
                    query.for_ = SkipLocked('UPDATE')
                cursor.execute(*query)
                found = cursor.fetchone()
                if not found:
                    return None
                id_, = found
                cursor.execute(*table.update(
                        [table.state, table.claim, table.claimed_at,
                            table.attempts, table.write_date],
                        ['sending', token, now, table.attempts + 1, now],
                        where=(table.id == id_)
                        & (table.state == 'pending')))
                if cursor.rowcount != 1:
                    # Taken by another sender between select and update
                    continue
                cursor.execute(*table.select(
                        table.id, table.channel, table.recipient,
                        table.subject, table.body, table.key,
                        table.attempts, table.attachment,
                        table.attachment_name,
                        where=table.id == id_))
                names = ['id', 'channel', 'recipient', 'subject', 'body',
                    'key', 'attempts', 'attachment', 'attachment_name']
                row = dict(zip(names, cursor.fetchone()))
                row['claim'] = token
                return row

    @classmethod
    def _send_and_record(cls, row):
        provider_id = None
        try:
            if row['channel'] == 'email':
                send_email(row)
            else:
                provider_id = gateway().send(row['recipient'], row['body'])
        except Temporary as e:
            if row['attempts'] >= max_attempts():
                return cls._record_result(row, 'failed', error=str(e))
            return cls._record_result(row, 'pending', error=str(e),
                next_try=dt.datetime.now() + backoff(row['attempts']))
        except Permanent as e:
            return cls._record_result(row, 'failed', error=str(e))
        except Doubtful as e:
            return cls._record_result(row, 'check', error=str(e))
        except Exception as e:
            # Not known to be harmless: a person decides
            logger.exception("outbox %s: unexpected error", row['id'])
            return cls._record_result(row, 'check', error=repr(e))
        return cls._record_result(row, 'sent', provider_id=provider_id)

    @classmethod
    def _record_result(cls, row, state, error=None, next_try=None,
            provider_id=None):
        table = cls.__table__()
        now = dt.datetime.now()
        columns = [table.state, table.last_error, table.write_date,
            table.claim]
        values = [state, error, now, Null]
        if state == 'sent':
            columns += [table.sent_at, table.provider_id]
            values += [now, provider_id]
            if row['channel'] == 'sms':
                columns.append(table.delivery)
                values.append('waiting')
        if next_try:
            columns.append(table.next_try)
            values.append(next_try)
        with cls._step():
            cursor = Transaction().connection.cursor()
            # Only the claim's own row: one flagged meanwhile stays flagged
            cursor.execute(*table.update(columns, values,
                    where=(table.id == row['id'])
                    & (table.claim == row['claim'])
                    & (table.state == 'sending')))
        return state

    # --- The SMS's delivery, asked of the gateway ---------------------------

    @classmethod
    def check_delivery(cls, limit=None):
        """Ask the gateway what became of the sent SMS still awaiting
        delivery (the scheduled action) and record each answer in its own
        transaction: delivered, not delivered, or still waiting.  An SMS
        the gateway has no final answer for after [school_outbox]
        delivery_days (2) is recorded «unknown».  A gateway that cannot be
        reached ends the round: asked again next time.  Return {delivery:
        count} of the rows asked."""
        limit = limit or config.getint('school_outbox', 'batch', default=200)
        table = cls.__table__()
        now = dt.datetime.now()
        give_up = now - dt.timedelta(days=config.getint(
                'school_outbox', 'delivery_days', default=2))
        with cls._step():
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(
                    table.id, table.provider_id, table.sent_at,
                    where=(table.channel == 'sms')
                    & (table.state == 'sent')
                    & (table.delivery == 'waiting')
                    & (table.provider_id != Null),
                    order_by=[Coalesce(
                            table.delivery_checked, table.sent_at).asc,
                        table.id.asc],
                    limit=limit))
            due = cursor.fetchall()
        if not due:
            return {}
        try:
            sms_gateway = gateway()
        except Temporary:
            return {}
        done = {}
        for id_, provider_id, sent_at in due:
            try:
                answer = sms_gateway.status(provider_id)
            except (Temporary, Doubtful) as e:
                logger.warning("outbox %s: no delivery status: %s", id_, e)
                break
            except Permanent as e:
                logger.warning("outbox %s: no delivery status: %s", id_, e)
                answer = 'unknown'
            delivery = GATEWAY_DELIVERY.get(answer, 'waiting')
            if delivery == 'waiting' and sent_at and sent_at < give_up:
                delivery = 'unknown'
            with cls._step():
                cursor = Transaction().connection.cursor()
                cursor.execute(*table.update(
                        [table.delivery, table.delivery_checked,
                            table.write_date],
                        [delivery, dt.datetime.now(), dt.datetime.now()],
                        where=(table.id == id_)
                        & (table.delivery == 'waiting')))
            done[delivery] = done.get(delivery, 0) + 1
        return done

    # --- What staff do with failed and doubtful rows ------------------------

    @classmethod
    @ModelView.button
    def retry(cls, rows):
        "Send again the rows a person checked were not received"
        cls.write(rows, {
                'state': 'pending',
                'next_try': dt.datetime.now(),
                'attempts': 0,
                })

    @classmethod
    @ModelView.button
    def mark_sent(cls, rows):
        "Record that a person found the message received"
        cls.write(rows, {
                'state': 'sent',
                })


def _do_nothing(table):
    return Conflict(table, indexed_columns=[table.key])


# --- E-mail ------------------------------------------------------------------

def email_from():
    return config.get('email', 'from', default='school@localhost')


def build_email(row):
    message = EmailMessage()
    message['From'] = email_from()
    message['To'] = row['recipient']
    message['Subject'] = row['subject'] or ''
    message['Date'] = formatdate(localtime=True)
    message['Message-ID'] = make_msgid(domain=None)
    # The outbox key lets a person find the row of a received letter
    message['X-School-Outbox'] = row['key']
    message.set_content(row['body'])
    if row.get('attachment'):
        name = row.get('attachment_name') or 'attachment'
        maintype, subtype = (mimetypes.guess_type(name)[0]
            or 'application/octet-stream').split('/', 1)
        message.add_attachment(bytes(row['attachment']), maintype=maintype,
            subtype=subtype, filename=name)
    return message


def send_email(row):
    """Send the row's e-mail through the SMTP server of trytond's config.

    Failures before the DATA phase and 4xx replies are Temporary, 5xx
    replies Permanent; a connection lost after the message was handed over
    and before the server's answer is Doubtful.
    """
    message = build_email(row)
    try:
        server = get_smtp_server(strict=True)
    except (OSError, smtplib.SMTPException) as e:
        raise Temporary(_describe(e)) from e
    try:
        try:
            server.ehlo_or_helo_if_needed()
            code, reply = server.mail(email_from())
            _check_reply(code, reply)
            code, reply = server.rcpt(row['recipient'])
            _check_reply(code, reply)
        except smtplib.SMTPResponseException as e:
            _check_reply(e.smtp_code, e.smtp_error)
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise Temporary(_describe(e)) from e
        try:
            # CRLF line ends: smtplib adds none to bytes, and a message of
            # bare LF is one line longer than SMTP's 1000 characters
            server.data(message.as_bytes(
                    policy=message.policy.clone(linesep='\r\n')))
        except smtplib.SMTPDataError as e:
            _check_reply(e.smtp_code, e.smtp_error)
        except (OSError, smtplib.SMTPServerDisconnected, socket.timeout) as e:
            # Handed over, no answer: the server may have taken it
            raise Doubtful(_describe(e)) from e
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()


def _check_reply(code, reply):
    if 200 <= code < 400:
        return
    if isinstance(reply, bytes):
        reply = reply.decode('utf-8', 'replace')
    text = 'SMTP %s %s' % (code, reply)
    if 400 <= code < 500:
        raise Temporary(text)
    raise Permanent(text)


def _describe(error):
    if isinstance(error, smtplib.SMTPResponseException):
        return 'SMTP %s %s' % (error.smtp_code, error.smtp_error)
    return '%s: %s' % (error.__class__.__name__, error)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('school.message.outbox|send_pending',
                    "Send the Outbox's Messages"),
                ('school.message.outbox|check_delivery',
                    "Ask the SMS Gateway What Was Delivered"),
                ])
