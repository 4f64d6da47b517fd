# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The parent information letter e-mailed by the class teacher through the
outbox to a real SMTP server on loopback (aiosmtpd), its PDF read back with
pypdf, and the letters read in the e-diary by their family only."""
import io

import pytest
from pypdf import PdfReader

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, check_access

from . import test_diary as diary
from . import test_diary_messages as messages
from . import test_outbox as outbox
from .test_diary import BASE, sign_in, text

# The school, the second family (otec) and the HTTP client of the
# e-diary's tests; the SMTP server on loopback of the outbox's tests
school = diary.school
client = diary.client
threads = messages.threads
smtp = outbox.smtp

MOTHER_EMAIL = 'smirnova.maria@example.com'
COMMENT = 'Анна старательна, в четверти пропустила один урок.'


def run(user, func, commit=True):
    "Call func(pool) as the user with access checks, committed"
    with Transaction().start(DB_NAME, user, context={
                'language': 'ru'}) as transaction, check_access():
        result = func(Pool())
        if commit:
            transaction.commit()
        else:
            transaction.rollback()
        return result


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    return ' '.join(' '.join(p.extract_text() for p in reader.pages).split())


@pytest.fixture(scope='module')
def letter(school, threads):
    "Анна's letter of the 2nd quarter written by the class teacher"
    from proteus import Model
    Parent = Model.get('school.parent')
    mother = Parent(school['mother'].id)
    mother.email = MOTHER_EMAIL
    mother.email_consent = True
    mother.save()
    anna, period = school['students']['Анна'], school['periods'][2]

    def write(pool):
        Letter = pool.get('school.parent.letter')
        letter, = Letter.create([{'student': anna.id, 'period': period.id,
                    'comment': COMMENT}])
        return letter.id
    return run(school['users']['klass'].id, write)


def outbox_rows(pool):
    Outbox = pool.get('school.message.outbox')
    return [(r.key, r.recipient, r.attachment_name, r.state)
        for r in Outbox.search([('key', 'like', 'letter:%')])]


def test_class_teacher_emails_letter(school, letter, smtp):
    """The class teacher presses «Send by E-mail»: the mother, who chose
    e-mail, gets the PDF once, however often the button is pressed"""
    klass = school['users']['klass'].id

    def press(pool):
        Letter = pool.get('school.parent.letter')
        Letter.send_email([Letter(letter)])
    run(klass, press)
    run(klass, press)
    rows = run(0, outbox_rows, commit=False)
    assert len(rows) == 1, rows
    key, recipient, name, state = rows[0]
    assert recipient == MOTHER_EMAIL and state == 'pending'
    assert name.endswith('.pdf')

    done = run(0, lambda pool: pool.get(
            'school.message.outbox').send_pending())
    assert done == {"sent": 1}, run(0, outbox_rows, commit=False)
    run(klass, press)
    assert run(0, lambda pool: pool.get(
            'school.message.outbox').send_pending()) == {}

    mail, = smtp.mailbox.delivered
    assert mail['To'] == MOTHER_EMAIL
    assert mail['X-School-Outbox'] == key
    assert 'Смирнова Анна' in mail['Subject']
    body = mail.get_body(('plain',)).get_content()
    assert 'attached' in body
    attachment, = list(mail.iter_attachments())
    assert attachment.get_content_type() == 'application/pdf'
    assert attachment.get_filename().endswith('.pdf')
    page = pdf_text(attachment.get_content())
    assert 'Смирнова Анна' in page
    assert '5А' in page
    assert COMMENT in page


def test_letter_without_email_parent_refused(school, letter):
    "Борис has no parent who chose e-mail: refused, naming him, none queued"
    klass = school['users']['klass'].id
    boris = school['students']['Борис']

    def write(pool):
        Letter = pool.get('school.parent.letter')
        return Letter.create([{'student': boris.id,
                    'period': school['periods'][2].id}])[0].id
    boris_letter = run(klass, write)

    def press(pool):
        Letter = pool.get('school.parent.letter')
        Letter.send_email([Letter(boris_letter)])
    with pytest.raises(UserError) as info:
        run(klass, press)
    assert 'Борис' in info.value.message
    assert 'chose e-mail' in info.value.message
    keys = [r[0] for r in run(0, outbox_rows, commit=False)]
    assert not any(k.startswith('letter:%s:' % boris_letter) for k in keys)


def test_other_teacher_cannot_send(school, letter):
    "A teacher who does not lead the class cannot e-mail its letter"
    from trytond.model.exceptions import AccessError

    def press(pool):
        Letter = pool.get('school.parent.letter')
        Letter.send_email([Letter(letter)])
    with pytest.raises(AccessError):
        run(school['users']['uchitel'].id, press, commit=False)


def test_mother_reads_letters_in_diary(school, letter, client):
    "The mother finds the letter in the e-diary and downloads the PDF"
    anna = school['students']['Анна']
    sign_in(client, 'roditel')
    page = client.get(BASE + '%s/letters' % anna.id)
    assert page.status_code == 200, text(page)
    html = text(page)
    assert 'Information letters' in html
    assert school['periods'][2].name in html
    assert '%s/letters/%s.pdf' % (anna.id, letter) in html
    week = text(client.get(BASE + '%s/week' % anna.id))
    assert '/letters">Letters</a>' in week
    pdf = client.get(BASE + '%s/letters/%s.pdf' % (anna.id, letter))
    assert pdf.status_code == 200
    assert pdf.headers['Content-Type'] == 'application/pdf'
    assert COMMENT in pdf_text(pdf.get_data())
    # Her other child has no letter; Анна's letter is not Вера's
    vera = school['students']['Вера']
    assert 'written no letter yet' in text(
        client.get(BASE + '%s/letters' % vera.id))
    assert client.get(BASE + '%s/letters/%s.pdf' % (
            vera.id, letter)).status_code == 404


def test_other_family_gets_404(school, letter, client):
    "Another family's parent and Анна herself: no letter of Анна's"
    anna, gleb = school['students']['Анна'], school['students']['Глеб']
    sign_in(client, 'otec')
    for url in ['%s/letters' % anna.id, '%s/letters/%s.pdf' % (
                anna.id, letter), '%s/letters/%s.pdf' % (gleb.id, letter)]:
        response = client.get(BASE + url)
        assert response.status_code == 404, url
        assert COMMENT not in text(response)
    assert client.get(BASE + '%s/letters' % gleb.id).status_code == 200

    # Анна herself: letters are written to her parents
    sign_in(client, 'uchenik')
    week = text(client.get(BASE + '%s/week' % anna.id))
    assert '>Letters</a>' not in week
    for url in ['%s/letters' % anna.id, '%s/letters/%s.pdf' % (
                anna.id, letter)]:
        assert client.get(BASE + url).status_code == 404, url
