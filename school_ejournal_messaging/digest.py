# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The weekly digest: each parent who consented to a channel gets, by that
channel, one message of the week (Monday to Sunday, the last one begun)
about each child: the marks by subject with the week's weighted average and
the absences.  Its outbox key is (parent, week, channel): the scheduled
action run twice in a week adds nothing."""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null
from sql.operators import NotEqual

from school_ejournal.common import ABSENCE_REASONS
from school_ejournal.mark import weighted_average
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


def week_of(date):
    "Return (monday, sunday) of the week of the date"
    monday = date - dt.timedelta(days=date.weekday())
    return monday, monday + dt.timedelta(days=6)


class Digest:
    "The weekly digest's messages"

    @classmethod
    def send(cls, date=None):
        """Add to the outbox the digests of the week of the date (today
        by default); return the number of rows added"""
        pool = Pool()
        Outbox = pool.get('school.message.outbox')
        Date = pool.get('ir.date')
        monday, sunday = week_of(date or Date.today())
        return Outbox.enqueue(cls.messages(monday, sunday))

    @classmethod
    def messages(cls, start, end):
        pool = Pool()
        Guardian = pool.get('school.student.guardian')
        Parent = pool.get('school.parent')
        Student = pool.get('school.student')
        Subject = pool.get('school.subject')
        Mark = pool.get('school.mark')
        Line = pool.get('school.lesson.attendance')
        Configuration = pool.get('ir.configuration')
        guardian = Guardian.__table__()
        parent = Parent.__table__()
        cursor = Transaction().connection.cursor()

        consented = (
            ((parent.email_consent == Literal(True))
                & (parent.email != Null)
                & NotEqual(parent.email, ''))
            | ((parent.sms_consent == Literal(True))
                & (parent.phone != Null)
                & NotEqual(parent.phone, '')))
        cursor.execute(*guardian
            .join(parent, condition=parent.id == guardian.parent)
            .select(parent.id, parent.email, parent.email_consent,
                parent.phone, parent.sms_consent, guardian.student,
                where=(parent.active == Literal(True)) & consented,
                order_by=[parent.id, guardian.student]))
        parents, children = {}, defaultdict(list)
        for (parent_id, email, email_consent, phone, sms_consent,
                student_id) in cursor:
            parents[parent_id] = (email if email_consent else None,
                phone if sms_consent else None)
            children[parent_id].append(student_id)
        student_ids = sorted({s for c in children.values() for s in c})
        if not student_ids:
            return []

        def in_week(table, lesson):
            return ((lesson.date >= start) & (lesson.date <= end)
                & table.student.in_(sub_ids))

        averages = defaultdict(dict)   # student: {subject: average}
        absences = defaultdict(int)    # student: lessons missed
        for sub_ids in grouped_slice(
                student_ids, 1000):
            sub_ids = list(sub_ids)
            cursor.execute(*Mark.average_query(
                    where=in_week, group_by=('student', 'subject')))
            for student_id, subject_id, weighted, weights, _ in cursor:
                averages[student_id][subject_id] = weighted_average(
                    weighted, weights)
            cursor.execute(*Line.attendance_query(
                    where=in_week, group_by=('student',)))
            for student_id, attendance, count in cursor:
                if attendance in ABSENCE_REASONS:
                    absences[student_id] += count
        students = {s.id: s for s in Student.browse(student_ids)}
        subjects = {s.id: s for s in Subject.browse(
                {s for a in averages.values() for s in a})}

        messages = []
        language = Configuration.get_language()
        with Transaction().set_context(language=language):
            week = {'start': start.strftime('%d.%m'),
                'end': end.strftime('%d.%m.%Y')}
            for parent_id, students_ids in children.items():
                parts, short = [], []
                for student_id in students_ids:
                    student = students[student_id]
                    marks = ', '.join('%s %s' % (
                            subjects[s].rec_name, averages[student_id][s])
                        for s in sorted(averages[student_id],
                            key=lambda s: subjects[s].rec_name))
                    texts = {
                        'student': student.rec_name,
                        'marks': marks or gettext(
                            'school_ejournal_messaging.msg_digest_no_marks'),
                        'absences': absences[student_id],
                        }
                    parts.append(gettext(
                            'school_ejournal_messaging.msg_digest_student',
                            **texts))
                    short.append(gettext(
                            'school_ejournal_messaging.msg_digest_sms',
                            first_name=student.first_name, **texts))
                subject = gettext(
                    'school_ejournal_messaging.msg_digest_subject', **week)
                email, phone = parents[parent_id]
                channels = []
                if email:
                    channels.append(('email', email, '\n\n'.join(
                                [subject] + parts + [gettext(
                                        'school_ejournal_messaging.'
                                        'msg_digest_footer')])))
                if phone:
                    channels.append(('sms', phone, ' '.join(short)))
                for channel, recipient, body in channels:
                    messages.append({
                            'key': 'digest:%s:%s:%s' % (
                                parent_id, start.isoformat(), channel),
                            'channel': channel,
                            'recipient': recipient,
                            'subject': subject,
                            'body': body,
                            'parent': parent_id,
                            })
        return messages


class Outbox(metaclass=PoolMeta):
    __name__ = 'school.message.outbox'

    @classmethod
    def send_weekly_digest(cls):
        "The scheduled action of the weekly digest"
        Digest.send()


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('school.message.outbox|send_weekly_digest',
                "Send the Weekly Digest to Parents"))
