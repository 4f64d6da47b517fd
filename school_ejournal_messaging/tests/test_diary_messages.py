# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The e-diary's messages and class pages through trytond's WSGI
application, as the parent or student who reads and writes them."""
import datetime as dt
import re

import pytest

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, check_access

from . import test_diary as diary
from .test_diary import BASE, PASSWORD, SCRIPT, csrf_of, sign_in, text

# The school and the HTTP client of the e-diary's tests
school = diary.school
client = diary.client


def as_user(user_id):
    return Transaction().start(DB_NAME, user_id, context={'language': 'en'})


@pytest.fixture(scope='module')
def threads(school):
    "Threads, a class event and a notice, each made by its author"
    from proteus import Model

    from school_ejournal.tests.tools import create_user
    from trytond.tests.tools import set_user

    users, students = school['users'], school['students']
    Parent = Model.get('school.parent')
    otec = create_user('otec', ['parent'], company=school['company'])
    otec.password = PASSWORD
    otec.save()
    father = Parent(last_name='Смирнов', first_name='Олег', user=otec)
    father.children.new(student=students['Глеб'], relation='father')
    father.save()
    set_user(1)
    result = {}
    today = dt.date.today()
    with as_user(users['klass'].id) as t:
        pool = Pool()
        Thread = pool.get('school.message.thread')
        Event = pool.get('school.class.event')
        Notice = pool.get('school.notice')
        result['to_mother'] = Thread.create([{
                    'subject': 'Анна и контрольная',
                    'kind': 'parent',
                    'parent': school['mother'].id,
                    'student': students['Анна'].id,
                    'messages': [('create', [{
                                    'body': 'Анна пропустила контрольную.',
                                    'attachments': [('create', [{
                                                    'name': 'retake.txt',
                                                    'data': b'Friday 15:00',
                                                    }])],
                                    }])],
                    }])[0].id
        result['to_5a'] = Thread.start({
                'subject': 'Собрание 5А',
                'kind': 'class',
                'class_': school['classes']['5А'].id,
                }, SCRIPT).id
        Event.create([{
                    'class_': school['classes']['5А'].id,
                    'date': today + dt.timedelta(days=3),
                    'title': 'Поход в музей',
                    'description': 'Сбор у школы в 9:00',
                    }])
        Notice.create([{
                    'title': 'Сменная обувь', 'audience': 'class',
                    'class_': school['classes']['5А'].id,
                    'body': 'Не забудьте сменную обувь.'}])
        t.commit()
    with as_user(users['uchitel'].id) as t:
        Thread = Pool().get('school.message.thread')
        result['to_father'] = Thread.start({
                'subject': 'Глеб и олимпиада',
                'kind': 'parent',
                'parent': father.id,
                'student': students['Глеб'].id,
                }, 'Глеб прошёл на олимпиаду.').id
        t.commit()
    yield result


def count(model, domain):
    with Transaction().start(DB_NAME, 0) as t:
        result = Pool().get(model).search_count(domain)
        t.rollback()
    return result


def thread_url(student, thread_id=None):
    url = BASE + '%s/messages' % student.id
    if thread_id:
        url += '/%s' % thread_id
    return url


def test_parent_reads_and_replies(client, school, threads):
    "The mother reads her thread and replies to the class teacher"
    anna = school['students']['Анна']
    sign_in(client, 'roditel')
    page = text(client.get(thread_url(anna)))
    assert 'Анна и контрольная' in page
    assert 'Собрание 5А' in page
    assert 'Глеб' not in page
    response = client.get(thread_url(anna, threads['to_mother']))
    assert response.status_code == 200
    page = text(response)
    assert 'Анна пропустила контрольную.' in page
    assert 'retake.txt' in page
    url = re.search(r'href="([^"]*/files/\d+)"', page).group(1)
    download = client.get(url)
    assert download.status_code == 200
    assert download.get_data() == b'Friday 15:00'
    assert 'attachment' in download.headers['Content-Disposition']
    before = count('school.message', [('thread', '=', threads['to_mother'])])
    response = client.post(thread_url(anna, threads['to_mother']), data={
            'csrf': csrf_of(response), 'body': 'Спасибо, придём.'})
    assert response.status_code == 303
    assert count('school.message', [
            ('thread', '=', threads['to_mother']),
            ('author', '=', school['users']['roditel'].id),
            ('body', '=', 'Спасибо, придём.'),
            ]) == 1
    assert count('school.message', [
            ('thread', '=', threads['to_mother'])]) == before + 1
    # The class teacher finds it unread with the receipt of the mother's
    # reading of hers
    assert count('school.message.receipt', [
            ('message.thread', '=', threads['to_mother']),
            ('user', '=', school['users']['roditel'].id),
            ]) == before + 1


def test_reply_refused_without_csrf_or_text(client, school, threads):
    "A forged form or an empty reply saves nothing"
    anna = school['students']['Анна']
    sign_in(client, 'roditel')
    url = thread_url(anna, threads['to_mother'])
    page = client.get(url)
    before = count('school.message', [])
    response = client.post(url, data={'csrf': 'forged', 'body': 'Hi'})
    assert response.status_code == 403
    assert 'The form is out of date.' in text(response)
    response = client.post(url, data={'csrf': csrf_of(page), 'body': ' '})
    assert response.status_code == 400
    assert 'A message needs a text.' in text(response)
    assert count('school.message', []) == before


def test_parent_writes_to_class_teacher(client, school, threads):
    "A new thread from the e-diary goes to the class teacher"
    vera = school['students']['Вера']
    sign_in(client, 'roditel')
    page = client.get(thread_url(vera))
    before = count('school.message.thread', [])
    response = client.post(thread_url(vera), data={
            'csrf': csrf_of(page), 'subject': 'Справка', 'body': ''})
    assert response.status_code == 400
    assert count('school.message.thread', []) == before
    response = client.post(thread_url(vera), data={
            'csrf': csrf_of(page), 'subject': 'Справка',
            'body': 'Вера болела, справку принесём.'})
    assert response.status_code == 303
    thread_id = int(response.headers['Location'].rsplit('/', 1)[1])
    assert count('school.message.participant', [
            ('thread', '=', thread_id),
            ('user', '=', school['users']['klass'].id)]) == 1
    # The thread is Вера's: not on Анна's pages
    anna = school['students']['Анна']
    assert client.get(thread_url(anna, thread_id)).status_code == 404


def test_other_thread_not_found(client, school, threads):
    "Another family's or child's thread id answers 404 in every address"
    students = school['students']
    sign_in(client, 'roditel')
    page = client.get(thread_url(students['Анна']))
    csrf = csrf_of(page)
    before = count('school.message', [])
    for student, thread_id in [
            (students['Анна'], threads['to_father']),
            (students['Вера'], threads['to_mother']),
            (students['Глеб'], threads['to_father']),
            (students['Анна'], 999999)]:
        url = thread_url(student, thread_id)
        for response in [
                client.get(url),
                client.post(url, data={'csrf': csrf, 'body': 'x'}),
                client.get(url + '/files/1')]:
            assert response.status_code == 404, url
            assert 'олимпиад' not in text(response)
    for name in ['Борис', 'Глеб']:
        for page in ['messages', 'class']:
            assert client.get(BASE + '%s/%s' % (
                    students[name].id, page)).status_code == 404
    assert count('school.message', []) == before


def test_message_script_shown_as_text(client, school, threads):
    "A script in a message is escaped, never run"
    sign_in(client, 'roditel')
    page = text(client.get(thread_url(
                school['students']['Анна'], threads['to_5a'])))
    assert '<script>' not in page
    assert '&lt;script&gt;alert("x")&lt;/script&gt; No. 5' in page


def test_student_writes_only_messages(client, school, threads):
    "Анна writes to her class teacher and reads not her mother's thread"
    anna = school['students']['Анна']
    sign_in(client, 'uchenik')
    page = client.get(thread_url(anna))
    assert 'Анна и контрольная' not in text(page)
    assert client.get(
        thread_url(anna, threads['to_mother'])).status_code == 404
    response = client.post(thread_url(anna), data={
            'csrf': csrf_of(page), 'subject': 'Проект',
            'body': 'Можно сдать в понедельник?'})
    assert response.status_code == 303
    # Every other page only reads
    for page in ['week', 'marks', 'class']:
        assert client.post(BASE + '%s/%s' % (anna.id, page), data={
                'csrf': csrf_of(response and client.get(thread_url(anna))),
                }).status_code == 405


def test_class_page(client, school, threads):
    "The class's coming events and notices for its families"
    sign_in(client, 'roditel')
    page = text(client.get(BASE + '%s/class' % school['students']['Анна'].id))
    assert 'Поход в музей' in page
    assert 'Сбор у школы в 9:00' in page
    assert 'Сменная обувь' in page
    sign_in(client, 'otec')
    page = text(client.get(BASE + '%s/class' % school['students']['Глеб'].id))
    assert 'Поход в музей' not in page
    assert 'No events are planned.' in page


def test_parent_letter_pdf(school, threads):
    "The class teacher prints Анна's letter; the mother reads it back"
    import io

    from pypdf import PdfReader

    from trytond.model.exceptions import AccessError

    users, anna = school['users'], school['students']['Анна']
    period = school['periods'][2]
    with as_user(users['klass'].id) as t:
        pool = Pool()
        Letter = pool.get('school.parent.letter')
        LetterReport = pool.get('school.parent.letter', type='report')
        letter, = Letter.create([{
                    'student': anna.id, 'period': period.id,
                    'comment': 'Анна старательна, но пропустила урок.'}])
        letter_id = letter.id
        t.commit()
    with as_user(users['roditel'].id) as t, check_access():
        pool = Pool()
        LetterReport = pool.get('school.parent.letter', type='report')
        ext, content, _, name = LetterReport.execute([letter_id], {})
        t.rollback()
    assert ext == 'pdf'
    pdf = PdfReader(io.BytesIO(content))
    page = ' '.join(p.extract_text() for p in pdf.pages)
    page = ' '.join(page.split())
    assert 'Смирнова Анна' in page
    assert '5А' in page
    # О weighs 1, К weighs 2: (5 + 2·3) / 3, as the e-diary says
    assert '3.67' in page or '3,67' in page
    assert '5 3' in page
    assert 'Анна старательна, но пропустила урок.' in page
    # The letter of another class's teacher or of a parent: refused
    for login in ['uchitel', 'roditel']:
        with as_user(users[login].id) as t:
            Letter = Pool().get('school.parent.letter')
            with pytest.raises(AccessError):
                with check_access():
                    Letter.create([{
                                'student': anna.id,
                                'period': school['periods'][1].id}])
            t.rollback()
