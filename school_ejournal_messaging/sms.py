# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""SMS: segments, phone numbers and the gateways behind one interface.

A gateway sends one text to one number (send -> the provider's message id)
and tells a message's delivery status (status).  Its failures are one of
Temporary (not sent, try later), Permanent (will never be sent) or Doubtful
(may have been sent: a person checks).  The SMS.ru adapter speaks its
documented HTTP API (https://sms.ru/api/send, /api/status) over httpx, on
one address, without retrying by itself.
"""
import math

import httpx
import phonenumbers

from trytond import config
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = set('^{}\\[~]|€')


class Temporary(Exception):
    "Not sent; the same message may be tried again later"


class Permanent(Exception):
    "Will never be sent as it is"


class Doubtful(Exception):
    "May or may not have been sent: a person must check"


def segments(text):
    """Return (segments, characters) of the text as SMS: 160 GSM characters
    in one SMS or 153 in each part of a longer one; with any other
    character (Cyrillic) 70 in one, 67 in each part."""
    text = text or ''
    if all(c in GSM7 or c in GSM7_EXT for c in text):
        length = sum(2 if c in GSM7_EXT else 1 for c in text)
        single, part = 160, 153
    else:
        # UCS-2: a character outside the BMP takes two
        length = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, part = 70, 67
    if length == 0:
        return 0, 0
    if length <= single:
        return 1, length
    return math.ceil(length / part), length


def preview(text, max_segments=1):
    """What a staff member sees before sending: the text, its length,
    segments and whether it fits max_segments"""
    count, length = segments(text)
    return {
        'text': text,
        'characters': length,
        'segments': count,
        'fits': count <= max_segments,
        'message': gettext('school_ejournal_messaging.msg_sms_preview',
            characters=length, segments=count, max=max_segments),
        }


def normalise(phone, region='RU'):
    """Return the number as digits with the country code (79001234567),
    the form SMS gateways take; raise Permanent if it is no mobile number"""
    try:
        number = phonenumbers.parse(phone or '', region)
    except phonenumbers.NumberParseException:
        number = None
    if (number is None or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in {
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}):
        raise Permanent(gettext(
                'school_ejournal_messaging.msg_sms_invalid_number',
                phone=phone or ''))
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164).lstrip('+')


class Gateway:
    "The interface of the SMS gateways"

    @property
    def timeout(self):
        "Seconds to wait for the gateway (5 at most to connect)"
        return config.getfloat('school_outbox', 'sms_timeout', default=15)

    def send(self, phone, text):
        "Send text to phone; return the provider's message id"
        raise NotImplementedError

    def status(self, provider_id):
        "Return 'queued', 'delivered', 'failed' or 'unknown'"
        raise NotImplementedError

    def _post(self, url, data, sending):
        """POST the form; map transport failures to Temporary or, once the
        request may have reached the gateway (sending), Doubtful"""
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5))
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as client:
                response = client.post(url, data=data)
        except (httpx.ConnectError, httpx.ConnectTimeout,
                httpx.PoolTimeout) as e:
            raise Temporary('%s: %s' % (e.__class__.__name__, e)) from e
        except httpx.TransportError as e:
            # Written (or partly) and no answer: it may have been taken
            if sending:
                raise Doubtful('%s: %s' % (e.__class__.__name__, e)) from e
            raise Temporary('%s: %s' % (e.__class__.__name__, e)) from e
        if response.status_code == 429 or response.status_code >= 500:
            raise Temporary('HTTP %s' % response.status_code)
        if response.status_code >= 400:
            raise Permanent('HTTP %s' % response.status_code)
        try:
            return response.json()
        except ValueError as e:
            if sending:
                raise Doubtful('HTTP %s: %s' % (
                        response.status_code, response.text[:200])) from e
            raise Temporary(response.text[:200]) from e


class SMSRu(Gateway):
    "SMS.ru (https://sms.ru/api)"
    # Their codes: the message will never go as it is
    invalid_number = {202, 207, 209}
    # The account or the gateway, not the message: sent later
    temporary = {201, 206, 220, 230, 231, 232, 233}

    def __init__(self, api_id, sender=None, url='https://sms.ru'):
        self.api_id = api_id
        self.sender = sender
        self.url = url.rstrip('/')

    def send(self, phone, text):
        to = normalise(phone)
        data = {'api_id': self.api_id, 'to': to, 'msg': text, 'json': 1}
        if self.sender:
            data['from'] = self.sender
        answer = self._post(self.url + '/sms/send', data, sending=True)
        code = _code(answer)
        if code != 100 or answer.get('status') != 'OK':
            self._refuse(code, answer, phone)
        result = (answer.get('sms') or {}).get(to)
        if not result:
            raise Doubtful('SMS.ru: %r' % answer)
        code = _code(result)
        if code != 100 or result.get('status') != 'OK':
            self._refuse(code, result, phone)
        return result.get('sms_id')

    def _refuse(self, code, answer, phone):
        text = 'SMS.ru %s %s' % (code, answer.get('status_text', ''))
        if code in self.invalid_number:
            raise Permanent(gettext(
                    'school_ejournal_messaging.msg_sms_invalid_number',
                    phone=phone) + ' (%s)' % text)
        if code in self.temporary:
            raise Temporary(text)
        raise Permanent(text)

    def status(self, provider_id):
        answer = self._post(self.url + '/sms/status', {
                'api_id': self.api_id, 'sms_id': provider_id, 'json': 1,
                }, sending=False)
        result = (answer.get('sms') or {}).get(provider_id) or {}
        code = _code(result)
        if code in {100, 101, 102}:
            return 'queued'
        if code in {103, 110}:
            return 'delivered'
        if code in {104, 105, 106, 107, 108, 150}:
            return 'failed'
        return 'unknown'


def _code(answer):
    try:
        return int(answer.get('status_code'))
    except (TypeError, ValueError):
        return None


GATEWAYS = {
    'smsru': SMSRu,
    }


def gateway():
    "Return the gateway of the messaging settings"
    Configuration = Pool().get('school.outbox.configuration')
    config = Configuration(1)
    if not config.sms_gateway or not config.sms_api_id:
        raise Temporary(gettext(
                'school_ejournal_messaging.msg_sms_not_configured'))
    return GATEWAYS[config.sms_gateway](
        config.sms_api_id, sender=config.sms_sender,
        url=config.sms_url or 'https://sms.ru')


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "The settings of the school's letters and SMS"
    __name__ = 'school.outbox.configuration'

    sms_gateway = fields.Selection([
            (None, ""),
            ('smsru', "SMS.ru"),
            ], "SMS Gateway",
        help="The provider the school's SMS are sent through.")
    sms_api_id = fields.Char(
        "API Key", strip=True,
        help="The key of the school's account at the gateway (api_id).")
    sms_sender = fields.Char(
        "Sender Name",
        help="The sender name agreed with the gateway; empty: its default.")
    sms_url = fields.Char(
        "Gateway Address",
        help="The gateway's address, https://sms.ru by default.")
    sms_max_segments = fields.Integer(
        "Most SMS per Message", required=True,
        help="The preview warns of a text longer than that many SMS.")

    @classmethod
    def default_sms_url(cls):
        return 'https://sms.ru'

    @classmethod
    def default_sms_max_segments(cls):
        return 2
