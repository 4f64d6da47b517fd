# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The parent information letter («Информационное письмо для родителей»,
C4): per student and study period, the marks by subject with their
weighted averages, the attendance and the class teacher's comment, printed
as PDF (weasyprint, through trytond's HTML report as the journal page).

The marks and attendance come from the e-diary's builders (diary.Diary),
which use the core's query layer and read as the printing user: the
record rules decide what the letter may hold.

The class teacher (or a deputy) e-mails it with «Send by E-mail»: one
outbox row per parent who chose e-mail, the PDF attached, keyed by letter
and parent (pressing again sends nothing twice).  The family reads its
letters in the e-diary (diary_letters.py).
"""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report
from trytond.transaction import Transaction, without_check_access

from .diary import Diary
from .exceptions import MessageError


class Letter(ModelSQL, ModelView):
    "Parent Information Letter"
    __name__ = 'school.parent.letter'

    student = fields.Many2One('school.student', "Student", required=True,
        ondelete='CASCADE', states={'readonly': Eval('id', -1) >= 0})
    period = fields.Many2One('school.period', "Period", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    class_ = fields.Many2One('school.class', "Class", readonly=True)
    comment = fields.Text("Class Teacher's Comment",
        help="Printed at the end of the letter.")
    author_name = fields.Char("Class Teacher", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('student_period_unique', Unique(t, t.student, t.period),
                'school_ejournal_messaging.msg_letter_unique'),
            ]
        cls._order = [('period', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'send_email': {
                    'invisible': Eval('id', -1) < 0,
                    'depends': ['id'],
                    },
                })

    def get_rec_name(self, name):
        return '%s, %s' % (self.student.rec_name, self.period.rec_name)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        User = pool.get('res.user')
        Student = pool.get('school.student')
        Period = pool.get('school.period')
        with without_check_access():
            name = User(Transaction().user).rec_name
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            student = Student(values['student'])
            class_ = Diary.class_of(student)
            period = Period(values['period'])
            if not class_ or (period.year and class_.year
                    and period.year.id != class_.year.id):
                with without_check_access():
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_letter_period',
                            student=student.rec_name,
                            period=period.rec_name))
            values['class_'] = class_.id
            values['author_name'] = name
        return super().create(vlist)

    @classmethod
    @ModelView.button
    def send_email(cls, letters):
        """Put in the outbox the letters' PDF for each parent of the
        student who chose e-mail; a letter with no such parent is refused
        and nothing is queued"""
        pool = Pool()
        Outbox = pool.get('school.message.outbox')
        Guardian = pool.get('school.student.guardian')
        LetterReport = pool.get('school.parent.letter', type='report')
        messages = []
        for letter in letters:
            # The letter was read as the user (its rules); the family's
            # addresses are the school's
            with without_check_access():
                guardians = Guardian.search([
                        ('student', '=', letter.student.id),
                        ], order=[('parent', 'ASC')])
                parents = [g.parent for g in guardians
                    if g.parent.active and g.parent.email_consent
                    and (g.parent.email or '').strip()]
                if not parents:
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_letter_no_email',
                            student=letter.student.rec_name,
                            period=letter.period.rec_name))
            _, content, _, name = LetterReport.execute([letter.id], {})
            values = {
                'student': letter.student.rec_name,
                'period': letter.period.rec_name,
                'teacher': letter.author_name or '',
                }
            for parent in parents:
                messages.append({
                        'key': 'letter:%s:parent:%s' % (letter.id, parent.id),
                        'channel': 'email',
                        'recipient': parent.email.strip(),
                        'subject': gettext(
                            'school_ejournal_messaging.msg_letter_subject',
                            **values),
                        'body': gettext(
                            'school_ejournal_messaging.msg_letter_body',
                            **values),
                        'attachment': bytes(content),
                        'attachment_name': '%s.pdf' % name,
                        'parent': parent.id,
                        'student': letter.student.id,
                        })
        Outbox.enqueue(messages)


class LetterReport(Report):
    "Parent Information Letter"
    __name__ = 'school.parent.letter'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['letters'] = [cls.letter(r) for r in records]
        return context

    @classmethod
    def letter(cls, letter):
        "Return what the letter of the record says"
        rows, total = Diary.attendance(letter.student, letter.period)
        return {
            'student': letter.student,
            'class_': letter.class_,
            'period': letter.period,
            'subjects': Diary.marks(letter.student, letter.period),
            'attendance': rows,
            'total': total,
            'comment': letter.comment,
            'teacher': letter.author_name,
            }
