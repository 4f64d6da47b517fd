# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The e-diary's pages: trytond routes under /<database>/diary/.

Every page but the sign-in runs as the signed-in person's own res.user with
access checks on (Transaction.set_user + check_access, as trytond's
user_application does), so the record rules decide what is read.  The
session lives in school.diary.session behind a cookie of its own; forms
carry a CSRF token; failed sign-ins go through res.user.get_login, whose
attempts are committed with the 401 page that answers them.
"""
import datetime as dt
import hmac
import os
import secrets
import threading
from collections.abc import Mapping

from genshi.core import Markup, escape
from genshi.filters import Translator
from genshi.template import TemplateLoader

from trytond import config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, redirect, with_pool, with_transaction)
from trytond.transaction import Transaction, check_access
from trytond.wsgi import app

from . import diary_cache
from .diary import Diary

SESSION_COOKIE = 'school_diary'
CSRF_COOKIE = 'school_diary_csrf'
HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, 'templates')
STATIC = os.path.join(HERE, 'static')
STATIC_FILES = {
    'diary.css': 'text/css; charset=utf-8',
    'favicon.svg': 'image/svg+xml',
    }
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
REPORT_NAME = 'school.diary'


_translated = {}


def translate(text):
    """Return the text in the language of the transaction (locale/*.po),
    looked up once per database, language and worker (the pages' words are
    a few hundred; a changed translation shows after a restart, as for the
    templates)"""
    if not text or not text.strip():
        return text
    transaction = Transaction()
    key = (transaction.database.name, transaction.language, text)
    try:
        return _translated[key]
    except KeyError:
        pass
    Translation = Pool().get('ir.translation')
    value = Translation.get_report(REPORT_NAME, text)
    if len(_translated) < 10000:
        _translated[key] = value
    return value


_translator = Translator(translate,
    include_attrs=Translator.INCLUDE_ATTRS | {'aria-label'})
_loaders = {}
_loaders_lock = threading.Lock()


def load(name):
    """Return the template in the language of the transaction: its own
    words (texts and the attributes a reader sees) are translated once per
    database, language and worker, when first loaded, instead of at every
    page (the Translator filter then walked every event of every page); the
    layout it includes is inlined first (auto_reload off), so is translated
    with it.  A changed translation shows after a restart, as a changed
    template does."""
    transaction = Transaction()
    key = (transaction.database.name, transaction.language)
    with _loaders_lock:
        loader = _loaders.get(key)
        if loader is None:
            loader = _loaders[key] = TemplateLoader(
                TEMPLATES, auto_reload=False)
        template = loader.load(name)
        if not getattr(template, 'school_translated', False):
            template._stream = list(_translator(template.stream))
            template.school_translated = True
    return template


def diary_language():
    "The language of the e-diary's pages ([school_diary] language)"
    return config.get('school_diary', 'language', default='ru')


def localized(func):
    "Run the page in the e-diary's language"
    def wrapper(request, pool, *args, **kwargs):
        with Transaction().set_context(language=diary_language()):
            return func(request, pool, *args, **kwargs)
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def secure_cookie():
    "Whether the cookies carry Secure ([school_diary] secure_cookie)"
    return config.getboolean('school_diary', 'secure_cookie', default=True)


def base_url(request, database_name):
    return '%s/%s/diary/' % (request.script_root, database_name)


def set_cookie(response, request, database_name, name, value):
    response.set_cookie(name, value, path=base_url(request, database_name),
        secure=secure_cookie(), httponly=True, samesite='Strict')


def delete_cookie(response, request, database_name, name):
    response.set_cookie(name, '', expires=0,
        path=base_url(request, database_name),
        secure=secure_cookie(), httponly=True, samesite='Strict')


def harden(response):
    "Add the headers every page of the e-diary carries"
    response.headers['Content-Security-Policy'] = CSP
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['X-Frame-Options'] = 'DENY'
    response.headers['Referrer-Policy'] = 'same-origin'
    response.headers['Cache-Control'] = 'no-store'
    return response


def format_date(date, with_year=False):
    if not date:
        return ''
    return date.strftime('%d.%m.%Y' if with_year else '%d.%m')


def format_average(value):
    if value is None:
        return '—'
    return ('%.2f' % value).replace('.', ',')


def format_grade(value):
    if not value:
        return ''
    return {
        'pass': translate('pass'),
        'fail': translate('fail'),
        'na': translate('n/a'),
        }.get(value, value)


ABSENCES = {
    'absent': 'Absent',
    'ill': 'Absent: ill',
    'excused': 'Absent: excused',
    'late': 'Late',
    }


def _words(text):
    "The text with its words translated, spaces kept (as Translator does)"
    words = text.strip()
    return text.replace(words, translate(words)) if words else text


def lesson_html(lesson):
    """Return the inside of a lesson's <article> on the week page as one
    Markup, every value escaped (genshi.core.escape), instead of some
    forty template events: Genshi's time grows with the events, and the
    thirty lessons of a week were most of the page's.  The words are those
    of locale/ru.po (report school.diary), as the template's were."""
    def text(value):
        return escape(str(value), quotes=False)

    def attr(value):
        return escape(str(value))
    parts = ['\n<header>\n<span class="number">%s</span>\n'
        '<span class="subject">%s</span>\n' % (
            text(lesson['number']), text(lesson['subject']))]
    if lesson['time']:
        parts.append('<span class="time">%s</span>\n' % text(lesson['time']))
    marks = lesson['marks']
    if marks:
        parts.append('<span class="marks">\n')
        for mark in marks:
            value = mark['value']
            if value in {'pass', 'fail'}:
                value = translate(value)
            parts.append('<span class="mark mark-%s" title="%s">%s'
                '<small>%s</small></span>' % (attr(mark['value']),
                    attr(mark['type_name']), text(value),
                    text(mark['type_code'])))
        parts.append('\n</span>\n')
    parts.append('</header>\n')
    if lesson['state'] == 'cancelled':
        parts.append('<p class="cancelled">%s</p>\n'
            % text(translate('The lesson is cancelled.')))
    if lesson['attendance']:
        parts.append('<p class="absence absence-%s">%s</p>\n' % (
                attr(lesson['attendance']),
                text(translate(ABSENCES[lesson['attendance']]))))
    if lesson['topic']:
        parts.append('<p class="topic"><span class="label">%s</span> %s'
            '</p>\n' % (text(translate('Topic:')), text(lesson['topic'])))
    if lesson['homework']:
        due = ''
        if lesson['homework_due']:
            due = ' <small>%s%s%s</small>' % (text(_words('(due ')),
                text(format_date(lesson['homework_due'])), text(_words(')')))
        parts.append('<p class="homework"><span class="label">%s</span> '
            '<span class="text">%s</span>%s</p>\n' % (
                text(translate('Homework:')), text(lesson['homework']), due))
    if marks:
        parts.append('<ul class="mark-types">\n%s\n</ul>\n' % ''.join(
                '<li>%s%s%s%s</li>' % (text(m['type_name']),
                    text(_words(' (')), text(m['type_code']),
                    text(_words(')'))) for m in marks))
    return Markup(''.join(parts))


def letters_readable():
    "Whether the user may read information letters (parents do)"
    ModelAccess = Pool().get('ir.model.access')
    return ModelAccess.check(
        'school.parent.letter', 'read', raise_exception=False)


def render(request, database_name, template, status=HTTPStatus.OK,
        **values):
    values.setdefault('message', None)
    values.setdefault('session', None)
    values.setdefault('students', [])
    values.setdefault('student', None)
    values.setdefault('tab', None)
    values.setdefault('letters_tab', letters_readable())
    values.update({
            'base': base_url(request, database_name),
            '_': translate,
            'format_date': format_date,
            'format_average': format_average,
            'grade': format_grade,
            'language': Transaction().language or 'ru',
            })
    stream = load(template).generate(**values)
    body = stream.render('html', doctype='html5', encoding='utf-8')
    response = Response(body, status=status,
        content_type='text/html; charset=utf-8')
    return harden(response)


def installed(pool):
    "Whether the database has the e-diary module activated"
    try:
        pool.get('school.diary.session')
    except KeyError:
        return False
    return True


def not_found(request, database_name, **values):
    return render(request, database_name, 'error.html',
        status=HTTPStatus.NOT_FOUND, **values)


def login_page(request, database_name, status=HTTPStatus.OK, message=None,
        login=''):
    "Render the sign-in form with a fresh CSRF cookie"
    token = secrets.token_urlsafe(32)
    response = render(request, database_name, 'login.html', status=status,
        message=message, csrf=token, login=login)
    set_cookie(response, request, database_name, CSRF_COOKIE, token)
    return response


def _thaw(value):
    "A mutable copy of a value kept in a trytond Cache"
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def user_context(user_id):
    """Return the context of the user's preferences (language, company),
    read once per user and worker: kept until the user, his employees or
    companies change (res.user and its relations clear the cache)"""
    User = Pool().get('res.user')
    context = User._diary_context_cache.get(user_id)
    if context is None:
        with Transaction().set_user(user_id):
            context = User.get_preferences(context_only=True)
        context.pop('_request', None)
        context = User._diary_context_cache.set(user_id, context)
    context = _thaw(context)
    # The pages speak the school's language whatever the user's preference
    context['language'] = diary_language()
    return context


def signed_in(func):
    """Run the page as the session's user with access checks, or send to
    the sign-in form"""
    def wrapper(request, pool, *args, **kwargs):
        database_name = request.view_args['database_name']
        if not installed(pool):
            return Response(status=HTTPStatus.NOT_FOUND)
        Session = pool.get('school.diary.session')
        token = request.cookies.get(SESSION_COOKIE)
        session = Session.find(token)
        if session is None:
            # To the sign-in form, telling why when a session has ended
            url = base_url(request, database_name) + 'login'
            if token:
                url += '?expired=1'
            response = harden(redirect(url, 303))
            if token:
                delete_cookie(response, request, database_name,
                    SESSION_COOKIE)
            return response
        transaction = Transaction()
        user_id = session.user.id
        csrf = session.csrf
        with transaction.set_context(user_context(user_id)), \
                transaction.set_user(user_id), check_access():
            return func(request, pool, session, csrf, *args, **kwargs)
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@app.route('/<database_name>/diary/<any(%s):name>' % ', '.join(
        '"%s"' % n for n in STATIC_FILES), methods=['GET'])
def diary_static(request, database_name, name):
    "The stylesheet and the icon of the e-diary"
    with open(os.path.join(STATIC, name), 'rb') as fp:
        response = Response(fp.read(), content_type=STATIC_FILES[name])
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Cache-Control'] = 'public, max-age=3600'
    return response


@app.route('/<database_name>/diary/login', methods=['GET'])
@with_pool
@with_transaction(readonly=True)
@localized
def diary_login_form(request, pool):
    database_name = request.view_args['database_name']
    if not installed(pool):
        return Response(status=HTTPStatus.NOT_FOUND)
    message = None
    if request.args.get('expired'):
        message = gettext('school_ejournal_messaging.msg_diary_expired')
    return login_page(request, database_name, message=message)


@app.route('/<database_name>/diary/login', methods=['POST'])
@with_pool
@with_transaction(readonly=False)
@localized
def diary_login(request, pool):
    """Sign in with the res.user login and password; a failure answers a
    page (never raises) so the failed attempt is committed and counts"""
    database_name = request.view_args['database_name']
    if not installed(pool):
        return Response(status=HTTPStatus.NOT_FOUND)
    User = pool.get('res.user')
    Session = pool.get('school.diary.session')
    login = (request.form.get('login') or '').strip()
    password = request.form.get('password') or ''
    cookie = request.cookies.get(CSRF_COOKIE) or ''
    sent = request.form.get('csrf') or ''
    if not (cookie and sent and hmac.compare_digest(
                cookie.encode('utf-8'), sent.encode('utf-8'))):
        return login_page(request, database_name,
            status=HTTPStatus.FORBIDDEN, login=login,
            message=gettext('school_ejournal_messaging.msg_diary_csrf'))
    try:
        user_id = User.get_login(login, {'password': password})
    except RateLimitException:
        return login_page(request, database_name,
            status=HTTPStatus.TOO_MANY_REQUESTS, login=login,
            message=gettext('school_ejournal_messaging.msg_diary_throttled'))
    if not user_id:
        return login_page(request, database_name,
            status=HTTPStatus.UNAUTHORIZED, login=login,
            message=gettext(
                'school_ejournal_messaging.msg_diary_wrong_login'))
    token, _ = Session.start(user_id)
    response = harden(redirect(base_url(request, database_name), 303))
    set_cookie(response, request, database_name, SESSION_COOKIE, token)
    delete_cookie(response, request, database_name, CSRF_COOKIE)
    return response


@app.route('/<database_name>/diary/logout', methods=['POST'])
@with_pool
@with_transaction(readonly=False)
@localized
def diary_logout(request, pool):
    database_name = request.view_args['database_name']
    if not installed(pool):
        return Response(status=HTTPStatus.NOT_FOUND)
    Session = pool.get('school.diary.session')
    token = request.cookies.get(SESSION_COOKIE)
    session = Session.find(token)
    if session is None:
        response = login_page(request, database_name,
            status=HTTPStatus.UNAUTHORIZED)
    elif not session.check_csrf(request.form.get('csrf') or ''):
        return render(request, database_name, 'error.html',
            status=HTTPStatus.FORBIDDEN,
            message=gettext('school_ejournal_messaging.msg_diary_csrf'))
    else:
        Session.end(token)
        response = login_page(request, database_name, message=gettext(
                'school_ejournal_messaging.msg_diary_signed_out'))
    delete_cookie(response, request, database_name, SESSION_COOKIE)
    return response


@app.route('/<database_name>/diary/', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
def diary_home(request, pool, session, csrf):
    "Open the week of the first child, or say there is none"
    database_name = request.view_args['database_name']
    students = Diary.family()
    if len(students) >= 1:
        return harden(redirect('%s%s/week' % (
                    base_url(request, database_name), students[0].id), 303))
    return render(request, database_name, 'home.html', csrf=csrf,
        session=session)


def _student_page(func):
    "Find the family's student of the address or answer 404"
    def wrapper(request, pool, session, csrf, student_id):
        database_name = request.view_args['database_name']
        students = Diary.family()
        student = next((s for s in students if s.id == student_id), None)
        if student is None:
            return not_found(request, database_name, csrf=csrf,
                session=session, students=students)
        values = func(request, pool, student)
        if not isinstance(values, dict):
            return values
        template = values.pop('template')
        class_ = Diary.class_of(student)
        return render(request, database_name, template, csrf=csrf,
            session=session, students=students, student=student,
            class_name=class_.rec_name if class_ else None, **values)
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _kept_week(func):
    """Answer the week page kept for the session, child, week and school
    day (diary_cache), or render it and keep it; run after signed_in, so
    only for a live session, as its user"""
    def wrapper(request, pool, session, csrf, student_id):
        if not diary_cache.enabled():
            return func(request, pool, session, csrf, student_id)
        today = pool.get('ir.date').today()
        day = _date_arg(request, 'date')
        if day is False:
            return func(request, pool, session, csrf, student_id)
        monday = (day or today) - dt.timedelta(days=(day or today).weekday())
        key = (session.id, student_id, monday.isoformat(), today.isoformat(),
            Transaction().language, request.script_root)
        body = diary_cache.kept(key)
        if body is not None:
            return harden(Response(body, status=HTTPStatus.OK,
                    content_type='text/html; charset=utf-8'))
        response = func(request, pool, session, csrf, student_id)
        if response.status_code == HTTPStatus.OK:
            diary_cache.keep(
                key, student_id, day or today, response.get_data())
        return response
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _date_arg(request, name):
    value = request.args.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return False


def _period_arg(request, student):
    "Return (periods, period chosen) or (periods, False) for a bad one"
    periods, current = Diary.periods(student)
    value = request.args.get('period')
    if value:
        try:
            period_id = int(value)
        except ValueError:
            return periods, False
        return periods, next(
            (p for p in periods if p.id == period_id), False)
    return periods, current


@app.route('/<database_name>/diary/<int:student_id>/week', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_kept_week
@_student_page
def diary_week(request, pool, student):
    "The week: lessons with topic, homework, marks and absences"
    Date = pool.get('ir.date')
    today = Date.today()
    day = _date_arg(request, 'date')
    if day is False:
        return not_found(request, request.view_args['database_name'])
    week, due_date, homework = Diary.week(student, day or today, today)
    for day_ in week['days']:
        for lesson in day_['lessons']:
            lesson['html'] = lesson_html(lesson)
    return {
        'template': 'week.html',
        'tab': 'week',
        'today': today,
        'week': week,
        'due_date': due_date,
        'homework': homework,
        }


@app.route('/<database_name>/diary/<int:student_id>/marks', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_student_page
def diary_marks(request, pool, student):
    "The marks of a period by subject with the weighted averages"
    periods, period = _period_arg(request, student)
    if period is False:
        return not_found(request, request.view_args['database_name'])
    return {
        'template': 'marks.html',
        'tab': 'marks',
        'periods': periods,
        'period': period,
        'subjects': Diary.marks(student, period) if period else [],
        }


@app.route('/<database_name>/diary/<int:student_id>/attendance',
    methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_student_page
def diary_attendance(request, pool, student):
    "The lessons missed in a period, by subject and reason"
    periods, period = _period_arg(request, student)
    if period is False:
        return not_found(request, request.view_args['database_name'])
    rows, total = (Diary.attendance(student, period) if period
        else ([], None))
    return {
        'template': 'attendance.html',
        'tab': 'attendance',
        'periods': periods,
        'period': period,
        'rows': rows,
        'total': total,
        }


@app.route('/<database_name>/diary/<int:student_id>/grades', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_student_page
def diary_grades(request, pool, student):
    "The term and year grades"
    periods, rows = Diary.grades(student)
    return {
        'template': 'grades.html',
        'tab': 'grades',
        'periods': periods,
        'rows': rows,
        }
