# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The internal-control schedule (график ВШК): the administrative control
works («КА») the deputies plan per class, subject and day; the analysis
checks the journal against it (issue rule 4)."""
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import AuditError


class ControlSchedule(ModelSQL, ModelView):
    "An administrative control work of the internal-control schedule (ВШК)"
    __name__ = 'school.control.schedule'

    company = fields.Many2One('company.company', "School", required=True)
    class_ = fields.Many2One(
        'school.class', "Class", required=True, ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))])
    subject = fields.Many2One(
        'school.subject', "Subject", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    date = fields.Date(
        "Date", required=True,
        help="The day the control work is planned; the analysis accepts "
        "a work of the «КА» type within the school's days around it.")
    description = fields.Char(
        "Description", help="What is checked, as «входная контрольная».")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t,
                (t.class_, Index.Equality()), (t.date, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return '%s, %s, %s' % (self.date.strftime('%d.%m.%Y'),
            self.class_.rec_name, self.subject.rec_name)

    @classmethod
    def validate(cls, records):
        super().validate(records)
        for record in records:
            if (record.class_.company != record.company
                    or record.subject.company != record.company):
                raise AuditError(gettext(
                        'school_ejournal_reports.msg_control_schedule_company',
                        control=record.rec_name))
