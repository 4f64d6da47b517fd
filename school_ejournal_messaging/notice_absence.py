# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The same-day absence notice.

When a line of today's lesson gets an absence (Н, Б or УП) — created or
written — each parent of the student who consented to a channel gets one
message that day by that channel: the outbox row's key is (student, date,
parent, channel), so the other lessons of the day add nothing.  The row is
written in the teacher's transaction: a rolled-back mark sends nothing.
"""
from sql import Literal, Null
from sql.operators import NotEqual

from school_ejournal.common import ABSENCE_REASONS
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


class LessonAttendance(metaclass=PoolMeta):
    __name__ = 'school.lesson.attendance'

    @classmethod
    def create(cls, vlist):
        lines = super().create(vlist)
        cls.notify_absence([l for l, v in zip(lines, vlist)
                if v.get('attendance') in ABSENCE_REASONS])
        return lines

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        absent = []
        for lines, values in zip(actions, actions):
            if values.get('attendance') in ABSENCE_REASONS:
                absent.extend(lines)
        cls.notify_absence(absent)

    @classmethod
    def notify_absence(cls, lines):
        """Add to the outbox the day's absence notices of the lines (those
        of today's lessons with an absence), one per student, parent and
        channel; return the number of rows added"""
        if not lines:
            return 0
        pool = Pool()
        Outbox = pool.get('school.message.outbox')
        messages = absence_messages([l.id for l in lines])
        return Outbox.enqueue(messages)


def absence_messages(line_ids):
    "Return the outbox messages of the absences of the lines, as dicts"
    pool = Pool()
    Line = pool.get('school.lesson.attendance')
    Lesson = pool.get('school.lesson')
    Guardian = pool.get('school.student.guardian')
    Parent = pool.get('school.parent')
    Student = pool.get('school.student')
    Subject = pool.get('school.subject')
    Date = pool.get('ir.date')
    Configuration = pool.get('ir.configuration')
    line = Line.__table__()
    lesson = Lesson.__table__()
    guardian = Guardian.__table__()
    parent = Parent.__table__()
    cursor = Transaction().connection.cursor()
    today = Date.today()

    consented = (
        ((parent.email_consent == Literal(True))
            & (parent.email != Null)
            & NotEqual(parent.email, ''))
        | ((parent.sms_consent == Literal(True))
            & (parent.phone != Null)
            & NotEqual(parent.phone, '')))
    rows = []
    for sub_ids in grouped_slice(
            line_ids, 1000):
        cursor.execute(*line
            .join(lesson, condition=lesson.id == line.lesson)
            .join(guardian, condition=guardian.student == line.student)
            .join(parent, condition=parent.id == guardian.parent)
            .select(line.student, lesson.date, lesson.number,
                lesson.subject, line.attendance, parent.id,
                parent.email, parent.email_consent, parent.phone,
                parent.sms_consent,
                where=line.id.in_(list(sub_ids))
                & line.attendance.in_(list(ABSENCE_REASONS))
                & (lesson.date == today)
                & (parent.active == Literal(True))
                & consented,
                order_by=[line.student, lesson.number]))
        rows.extend(cursor)
    if not rows:
        return []
    students = {s.id: s for s in Student.browse({r[0] for r in rows})}
    subjects = {s.id: s for s in Subject.browse({r[3] for r in rows})}
    attendance = dict(Line.fields_get(['attendance'])['attendance'][
            'selection'])
    language = Configuration.get_language()
    messages = []
    with Transaction().set_context(language=language):
        for (student_id, date, number, subject_id, value, parent_id,
                email, email_consent, phone, sms_consent) in rows:
            student = students[student_id]
            texts = {
                'student': student.rec_name,
                'date': date.strftime('%d.%m.%Y'),
                'subject': subjects[subject_id].rec_name,
                'number': number or '',
                'mark': attendance.get(value, value),
                }
            subject = gettext(
                'school_ejournal_messaging.msg_absence_subject', **texts)
            channels = []
            if email_consent and email:
                channels.append(('email', email, gettext(
                            'school_ejournal_messaging.msg_absence_email',
                            **texts)))
            if sms_consent and phone:
                channels.append(('sms', phone, gettext(
                            'school_ejournal_messaging.msg_absence_sms',
                            **texts)))
            for channel, recipient, body in channels:
                messages.append({
                        'key': 'absence:%s:%s:%s:%s' % (
                            student_id, date.isoformat(), parent_id, channel),
                        'channel': channel,
                        'recipient': recipient,
                        'subject': subject,
                        'body': body,
                        'parent': parent_id,
                        'student': student_id,
                        })
    return messages
