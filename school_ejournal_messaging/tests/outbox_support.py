# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Real servers on loopback for the outbox's tests: an SMTP server
(aiosmtpd) keeping what it received, and an HTTP server speaking SMS.ru's
API whose answers the test scripts (accept, 500, 429, hang after
accepting, wait for the test, refuse the number)."""
import email
import email.policy
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Mailbox:
    "The aiosmtpd handler: what it was told to answer, what it received"

    def __init__(self):
        self.rcpt_replies = []     # replies to the next RCPT TO, in turn
        self.delivered = []        # email.message.Message received

    async def handle_RCPT(
            self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            reply = self.rcpt_replies.pop(0)
            if reply:
                return reply
        if address.startswith('nobody@'):
            return '550 5.1.1 <%s>: mailbox unavailable' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.delivered.append(email.message_from_bytes(
                envelope.original_content or envelope.content,
                policy=email.policy.default))
        return '250 2.0.0 Message accepted'


class SMTPServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(
            self.mailbox, hostname='127.0.0.1', port=self.port)

    @property
    def uri(self):
        return 'smtp://127.0.0.1:%s' % self.port

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class Gateway(ThreadingHTTPServer):
    """SMS.ru on loopback (send and status).  behaviours: what to do
    with the next send requests, in turn ('ok' once the list is empty):
    'ok', '500', '429', 'hang' (accept the message, answer after the
    client gave up), 'wait' (accept, tell the test through `arrived`,
    answer when `release` is set), 'refuse-number' (code 207)."""
    daemon_threads = True

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _GatewayHandler)
        self.behaviours = []
        self.accepted = []     # (to, text) of the messages it took
        # sms_id: the status codes /sms/status answers in turn (103
        # delivered, 102 on its way, 104/107 not delivered, '500' an
        # HTTP error); without: 103 for a message it took
        self.statuses = {}
        self.status_asked = []
        self.requests = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.hang = 3.0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%s' % self.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.shutdown()
        self.server_close()


class _GatewayHandler(BaseHTTPRequestHandler):

    def log_message(self, *args):
        pass

    def do_POST(self):
        gateway = self.server
        length = int(self.headers.get('Content-Length', 0))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if self.path == '/sms/status':
            sms_id = form['sms_id'][0]
            with gateway.lock:
                gateway.status_asked.append(sms_id)
                script = gateway.statuses.get(sms_id)
                if script:
                    # The scripted codes in turn, the last one for ever
                    code = script.pop(0) if len(script) > 1 else script[0]
                else:
                    code = (103 if int(sms_id.split('-')[1])
                        <= len(gateway.accepted) else -1)
            if code in {'500', '429'}:
                return self._answer(int(code), {'status': 'ERROR'})
            return self._answer(200, {'status': 'OK', 'status_code': 100,
                    'sms': {sms_id: {'status': 'OK', 'status_code': code,
                            'status_text': 'status %s' % code}}})
        to, text = form['to'][0], form['msg'][0]
        with gateway.lock:
            gateway.requests += 1
            behaviour = (gateway.behaviours.pop(0) if gateway.behaviours
                else 'ok')
        if behaviour in {'500', '429'}:
            return self._answer(int(behaviour), {'status': 'ERROR'})
        if behaviour == 'refuse-number':
            return self._answer(200, {'status': 'OK', 'status_code': 100,
                    'sms': {to: {'status': 'ERROR', 'status_code': 207,
                            'status_text': 'На этот номер нельзя'}}})
        with gateway.lock:
            gateway.accepted.append((to, text))
            sms_id = '000000-%08d' % len(gateway.accepted)
        if behaviour == 'hang':
            time.sleep(gateway.hang)
        elif behaviour == 'wait':
            gateway.arrived.set()
            gateway.release.wait(30)
        self._answer(200, {'status': 'OK', 'status_code': 100,
                'sms': {to: {'status': 'OK', 'status_code': 100,
                        'sms_id': sms_id}},
                'balance': 100.5})

    def _answer(self, code, data):
        body = json.dumps(data).encode()
        try:
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


class Unreachable:
    """A port whose connections time out: a listening socket whose accept
    queue is full, so the kernel drops new connection requests"""

    def __enter__(self):
        self.socket = socket.socket()
        self.socket.bind(('127.0.0.1', 0))
        self.socket.listen(0)
        self.fill = []
        for _ in range(3):
            client = socket.socket()
            client.setblocking(False)
            try:
                client.connect(self.socket.getsockname())
            except BlockingIOError:
                pass
            self.fill.append(client)
        time.sleep(0.2)
        return self

    @property
    def url(self):
        return 'http://127.0.0.1:%s' % self.socket.getsockname()[1]

    def __exit__(self, *exc):
        for client in self.fill:
            client.close()
        self.socket.close()
