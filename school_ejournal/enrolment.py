# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from collections import defaultdict

from sql import Null

from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import ClosedFieldsMixin
from .exceptions import DateError, OverlapError
from .validation import ValidationMixin
from .year import overlaps


class Enrolment(ValidationMixin, ClosedFieldsMixin, ModelSQL, ModelView):
    "A stay of a student in a class, opened and closed by orders"
    __name__ = 'school.enrolment'
    # Written only by applying orders
    _system_fields = frozenset({
            'student', 'class_', 'start_date', 'end_date', 'start_order',
            'end_order'})

    student = fields.Many2One(
        'school.student', "Student", required=True, ondelete='CASCADE',
        readonly=True)
    class_ = fields.Many2One(
        'school.class', "Class", required=True, ondelete='RESTRICT',
        readonly=True)
    start_date = fields.Date(
        "Start Date", required=True, readonly=True,
        help="The first day in the class.")
    end_date = fields.Date(
        "End Date", readonly=True,
        help="The last day in the class; empty while the student stays.")
    start_order = fields.Many2One(
        'school.order', "Start Order", readonly=True, ondelete='RESTRICT',
        help="The order that put the student in the class.")
    end_order = fields.Many2One(
        'school.order', "End Order", readonly=True, ondelete='RESTRICT',
        help="The order that took the student out of the class.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t,
                    (t.student, Index.Equality()),
                    (t.start_date, Index.Range())),
                Index(t,
                    (t.class_, Index.Equality()),
                    (t.start_date, Index.Range())),
                })
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    def get_rec_name(self, name):
        return '%s: %s' % (self.student.rec_name, self.class_.rec_name)

    @classmethod
    def check_modification(
            cls, mode, enrolments, values=None, external=False):
        super().check_modification(
            mode, enrolments, values=values, external=external)
        if external and not Transaction().context.get('_school_order'):
            raise AccessError(gettext(
                    'school_ejournal.msg_enrolment_by_order'))

    @classmethod
    def validate(cls, enrolments):
        super().validate(enrolments)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for enrolment in enrolments:
            year = enrolment.class_.year
            for date in [enrolment.start_date, enrolment.end_date]:
                year.check_date(date, enrolment, enrolment.class_.rec_name)
            if (enrolment.end_date
                    and enrolment.end_date < enrolment.start_date):
                raise DateError(gettext(
                        'school_ejournal.msg_enrolment_dates',
                        enrolment=enrolment.rec_name))
            cursor.execute(*table.select(table.id,
                    where=overlaps(table, enrolment.start_date,
                        enrolment.end_date or dt.date.max,
                        (table.student == enrolment.student.id)
                        & (table.id != enrolment.id)),
                    limit=1))
            other = cursor.fetchone()
            if other:
                other = cls(other[0])
                raise OverlapError(gettext(
                        'school_ejournal.msg_enrolment_overlap',
                        student=enrolment.student.rec_name,
                        class_=enrolment.class_.rec_name,
                        other=other.class_.rec_name,
                        date=max(other.start_date, enrolment.start_date
                            ).strftime('%d.%m.%Y')))

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        pool = Pool()
        super().on_modification(mode, records, field_names=field_names)
        pool.get('res.user')._school_scope_cache.clear()

    @classmethod
    def _where_date(cls, table, date):
        return ((table.start_date <= date)
            & ((table.end_date == Null) | (table.end_date >= date)))

    @classmethod
    def students_by_class(cls, class_ids, date=None, anytime=False):
        "Return {class id: [student ids]} enrolled on the date"
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = defaultdict(list)
        for sub_ids in grouped_slice(class_ids, MAX_QUERY_PARAMS):
            where = fields.SQL_OPERATORS['in'](table.class_, sub_ids)
            if not anytime:
                where &= cls._where_date(table, date)
            cursor.execute(*table.select(
                    table.class_, table.student,
                    where=where, group_by=[table.class_, table.student]))
            for class_id, student_id in cursor:
                result[class_id].append(student_id)
        return result

    @classmethod
    def class_by_student(cls, student_ids, date=None):
        "Return {student id: class id} on the date"
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys(student_ids)
        for sub_ids in grouped_slice(student_ids, MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.student, table.class_,
                    where=fields.SQL_OPERATORS['in'](table.student, sub_ids)
                    & cls._where_date(table, date)))
            result.update(cursor)
        return result

    @classmethod
    def covering(cls, student, date):
        "Return the enrolment of the student on the date, or None"
        enrolments = cls.search([
                ('student', '=', student.id),
                ('start_date', '<=', date),
                ['OR',
                    ('end_date', '=', None),
                    ('end_date', '>=', date),
                    ],
                ], limit=1)
        return enrolments[0] if enrolments else None
