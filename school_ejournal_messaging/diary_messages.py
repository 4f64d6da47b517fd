# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The e-diary's pages of messages and of the class (events and notices).

As every page of the e-diary, they run as the signed-in parent's or
student's own res.user with access checks on (routes.signed_in): the record
rules of thread.xml and notice.xml decide what is read.  A thread belongs
to a child's pages when it is about the child or to the child's class;
another child's or family's thread id answers 404 like an unknown one.
"""
import datetime as dt
from urllib.parse import quote

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, redirect, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

from .diary import Diary
from .routes import base_url, harden, localized, not_found, render, signed_in

MAX_BODY = 5000
MAX_SUBJECT = 120


def _family_page(func):
    """Find the family's student of the address (and the thread when the
    address has one) or answer 404; render the template the page returns"""
    def wrapper(request, pool, session, csrf, student_id, **kwargs):
        database_name = request.view_args['database_name']
        students = Diary.family()
        student = next((s for s in students if s.id == student_id), None)
        if student is None:
            return not_found(request, database_name, csrf=csrf,
                session=session, students=students)
        class_ = Diary.class_of(student)
        if 'thread_id' in kwargs:
            thread = thread_of(student, class_, kwargs.pop('thread_id'))
            if thread is None:
                return not_found(request, database_name, csrf=csrf,
                    session=session, students=students)
            kwargs['thread'] = thread
        values = func(request, pool, session, student, class_, **kwargs)
        if not isinstance(values, dict):
            return values
        template = values.pop('template')
        status = values.pop('status', HTTPStatus.OK)
        return render(request, database_name, template, status=status,
            csrf=csrf, session=session, students=students, student=student,
            class_name=class_.rec_name if class_ else None, **values)
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def threads_domain(student, class_):
    "The threads of the child's pages, among those the user takes part in"
    domain = ['OR', ('student', '=', student.id)]
    if class_:
        domain.append([('kind', '=', 'class'), ('class_', '=', class_.id)])
    return domain


def thread_of(student, class_, thread_id):
    "Return the thread of the id on the child's pages, or None"
    Thread = Pool().get('school.message.thread')
    threads = Thread.search([
            ('id', '=', thread_id),
            threads_domain(student, class_),
            ], limit=1)
    return threads[0] if threads else None


def _form_refused(request, session):
    "Return the message of a refused form (CSRF), or None"
    if not session.check_csrf(request.form.get('csrf') or ''):
        return gettext('school_ejournal_messaging.msg_diary_csrf')
    return None


def _text(request, name, limit):
    return (request.form.get(name) or '').strip()[:limit]


def _messages_values(pool, student, class_, **values):
    Thread = pool.get('school.message.thread')
    threads = Thread.search(threads_domain(student, class_))
    return {
        'template': 'messages.html',
        'tab': 'messages',
        'threads': threads,
        'can_start': bool(class_ and class_.class_teacher),
        'subject': '',
        'body': '',
        **values,
        }


@app.route('/<database_name>/diary/<int:student_id>/messages',
    methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_messages(request, pool, session, student, class_):
    "The threads about the child or the child's class"
    return _messages_values(pool, student, class_)


@app.route('/<database_name>/diary/<int:student_id>/messages',
    methods=['POST'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_message_start(request, pool, session, student, class_):
    "Start a thread with the class teacher"
    Thread = pool.get('school.message.thread')
    subject = _text(request, 'subject', MAX_SUBJECT)
    body = _text(request, 'body', MAX_BODY)
    refused = _form_refused(request, session)
    if refused:
        return _messages_values(pool, student, class_, message=refused,
            status=HTTPStatus.FORBIDDEN, subject=subject, body=body)
    try:
        thread = Thread.start({
                'subject': subject,
                'kind': 'family',
                'student': student.id,
                }, body)
    except UserError as exception:
        Transaction().rollback()
        return _messages_values(pool, student, class_,
            message=exception.message, status=HTTPStatus.BAD_REQUEST,
            subject=subject, body=body)
    return harden(redirect('%s%s/messages/%s' % (
                base_url(request, request.view_args['database_name']),
                student.id, thread.id), 303))


def _thread_values(pool, student, thread, **values):
    Message = pool.get('school.message')
    Attachment = pool.get('school.message.attachment')
    messages = Message.search([('thread', '=', thread.id)])
    files = {}
    for attachment in Attachment.search([
                ('message', 'in', [m.id for m in messages]),
                ]):
        files.setdefault(attachment.message.id, []).append(attachment)
    return {
        'template': 'thread.html',
        'tab': 'messages',
        'thread': thread,
        'messages': messages,
        'files': files,
        'user_id': Transaction().user,
        'body': '',
        **values,
        }


@app.route(
    '/<database_name>/diary/<int:student_id>/messages/<int:thread_id>',
    methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_thread(request, pool, session, student, class_, thread):
    "A thread's messages, marked as read by the reader"
    Message = pool.get('school.message')
    values = _thread_values(pool, student, thread)
    Message.mark_read(values['messages'])
    return values


@app.route(
    '/<database_name>/diary/<int:student_id>/messages/<int:thread_id>',
    methods=['POST'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_thread_reply(request, pool, session, student, class_, thread):
    "Reply in the thread"
    Message = pool.get('school.message')
    body = _text(request, 'body', MAX_BODY)
    refused = _form_refused(request, session)
    if refused:
        return _thread_values(pool, student, thread, message=refused,
            status=HTTPStatus.FORBIDDEN, body=body)
    try:
        Message.create([{'thread': thread.id, 'body': body}])
    except UserError as exception:
        Transaction().rollback()
        return _thread_values(pool, student, thread,
            message=exception.message, status=HTTPStatus.BAD_REQUEST,
            body=body)
    return harden(redirect('%s%s/messages/%s' % (
                base_url(request, request.view_args['database_name']),
                student.id, thread.id), 303))


@app.route(
    '/<database_name>/diary/<int:student_id>/messages/<int:thread_id>'
    '/files/<int:file_id>', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_thread_file(request, pool, session, student, class_, thread,
        file_id):
    "A file of a message of the thread, as a download"
    Attachment = pool.get('school.message.attachment')
    try:
        files = Attachment.search([
                ('id', '=', file_id),
                ('message.thread', '=', thread.id),
                ], limit=1)
    except AccessError:
        files = []
    if not files:
        return not_found(request, request.view_args['database_name'])
    file, = files
    response = Response(bytes(file.data or b''),
        content_type='application/octet-stream')
    response.headers['Content-Disposition'] = (
        "attachment; filename*=UTF-8''%s"
        % quote(file.name or 'file', safe=''))
    return harden(response)


@app.route('/<database_name>/diary/<int:student_id>/class', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_class(request, pool, session, student, class_):
    "The class's events journal and notices"
    Event = pool.get('school.class.event')
    Notice = pool.get('school.notice')
    Date = pool.get('ir.date')
    today = Date.today()
    events = Event.of_class(class_.id) if class_ else []
    notices = Notice.of_classes([class_.id], limit=30) if class_ else []
    return {
        'template': 'class.html',
        'tab': 'class',
        'today': today,
        'coming': sorted((e for e in events if e.date >= today),
            key=lambda e: (e.date, e.time or dt.time.min, e.id)),
        'past': [e for e in events if e.date < today],
        'notices': notices,
        }
