# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The e-diary's page of the parent information letters of a child and
their PDF.

As every page of the e-diary, they run as the signed-in parent's own
res.user with access checks on (routes.signed_in): the record rule «Parents:
letters of their children» of letter.xml decides what is read.  A letter
of another child, of another family, or the page for a user without access
to letters (a student) answers 404 like an unknown address.
"""
from urllib.parse import quote

from trytond.model.exceptions import AccessError
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.wsgi import app

from .diary_messages import _family_page
from .routes import harden, localized, not_found, signed_in


def letters_of(pool, student, letter_id=None):
    "Return the letters of the student the user may read ([] without)"
    Letter = pool.get('school.parent.letter')
    domain = [('student', '=', student.id)]
    if letter_id is not None:
        domain.append(('id', '=', letter_id))
    try:
        return Letter.search(domain,
            order=[('period.start_date', 'DESC'), ('id', 'DESC')])
    except AccessError:
        return None


@app.route('/<database_name>/diary/<int:student_id>/letters',
    methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_letters(request, pool, session, student, class_):
    "The information letters of the child, newest period first"
    letters = letters_of(pool, student)
    if letters is None:
        return not_found(request, request.view_args['database_name'])
    return {
        'template': 'letters.html',
        'tab': 'letters',
        'letters': letters,
        }


@app.route('/<database_name>/diary/<int:student_id>/letters/'
    '<int:letter_id>.pdf', methods=['GET'])
@with_pool
@with_transaction(readonly=False)
@localized
@signed_in
@_family_page
def diary_letter_pdf(request, pool, session, student, class_, letter_id):
    "A letter as PDF, printed as the parent (the letter's rules)"
    letters = letters_of(pool, student, letter_id)
    if not letters:
        return not_found(request, request.view_args['database_name'])
    letter, = letters
    LetterReport = pool.get('school.parent.letter', type='report')
    _, content, _, name = LetterReport.execute([letter.id], {})
    response = Response(bytes(content), content_type='application/pdf')
    response.headers['Content-Disposition'] = (
        "inline; filename*=UTF-8''%s" % quote('%s.pdf' % name, safe=''))
    return harden(response)
