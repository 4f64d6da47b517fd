# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import ClosedFieldsMixin, stamp
from .exceptions import EnrolmentError, OrderError
from .validation import ValidationMixin

ORDER_KINDS = [
    ('enrolment', "Enrolment"),
    ('transfer', "Transfer"),
    ('leaving', "Leaving"),
    ]


class Order(ValidationMixin, ClosedFieldsMixin, Workflow, ModelSQL, ModelView):
    "An order of the head (приказ) that moves students"
    __name__ = 'school.order'
    _system_fields = frozenset({'state', 'applied_by'})

    _states = {
        'readonly': Eval('state') != 'draft',
        }

    company = fields.Many2One(
        'company.company', "School", required=True, states=_states,
        help="The school that issued the order.")
    number = fields.Char(
        "Number", required=True, states=_states,
        help="The number of the order, as «76/8».")
    date = fields.Date(
        "Date", required=True, states=_states,
        help="The date the order was signed.")
    kind = fields.Selection(
        ORDER_KINDS, "Kind", required=True, states=_states,
        help="Enrolment puts students in a class, transfer moves them "
        "to another class, leaving takes them out of the school.")
    description = fields.Text("Description", states=_states)
    lines = fields.One2Many(
        'school.order.line', 'order', "Students",
        states=_states,
        # sao does not run the lines' on_change of the order: the defaults
        # of a new line come from this context
        context={
            'order_date': Eval('date'),
            'order_kind': Eval('kind'),
            },
        help="The students the order concerns.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", readonly=True, required=True, sort=False)
    applied_by = fields.Many2One(
        'res.user', "Applied By", readonly=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update({
                'apply': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return gettext('school_ejournal.msg_order_rec_name',
            number=self.number, date=self.date.strftime('%d.%m.%Y'))

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number', *clause[1:])]

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and values.keys() - {
                    'state', 'applied_by'}):
            for order in orders:
                if order.state != 'draft':
                    raise OrderError(gettext(
                            'school_ejournal.msg_order_done_%s' % mode,
                            order=order.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    @stamp('applied_by')
    def apply(cls, orders):
        "Apply the order to the students' enrolments"
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        for order in orders:
            if not order.lines:
                raise OrderError(gettext(
                        'school_ejournal.msg_order_no_line',
                        order=order.rec_name))
            closings, creations = [], []
            for line in order.lines:
                close, create = getattr(line, '_apply_%s' % order.kind)()
                closings.extend(close)
                creations.extend(create)
            with Transaction().set_context(_school_order=order.id):
                by_date = defaultdict(list)
                for enrolment, end_date in closings:
                    by_date[end_date].append(enrolment)
                for end_date, enrolments in by_date.items():
                    Enrolment.write(enrolments, {
                            'end_date': end_date,
                            'end_order': order.id,
                            })
                Enrolment.create(creations)


class OrderLine(ValidationMixin, ClosedFieldsMixin, ModelSQL, ModelView):
    "A student named in an order"
    __name__ = 'school.order.line'
    _fixed_fields = frozenset({'order'})

    _states = {
        'readonly': Eval('order_state') != 'draft',
        }

    order = fields.Many2One(
        'school.order', "Order", required=True, ondelete='CASCADE',
        states=_states)
    order_kind = fields.Function(
        fields.Selection(ORDER_KINDS, "Order Kind"),
        'on_change_with_order_kind')
    order_state = fields.Function(
        fields.Selection('get_order_states', "Order State"),
        'on_change_with_order_state')
    company = fields.Function(
        fields.Many2One('company.company', "School"),
        'on_change_with_company')
    student = fields.Many2One(
        'school.student', "Student", required=True, states=_states,
        domain=[('company', '=', Eval('company', -1))],
        help="The student the order concerns.")
    date = fields.Date(
        "Effective Date", required=True, states=_states,
        help="Enrolment and transfer: the first day in the new class. "
        "Leaving: the last day at school.")
    class_ = fields.Many2One(
        'school.class', "Class",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': _states['readonly'],
            'required': Eval('order_kind').in_(['enrolment', 'transfer']),
            'invisible': Eval('order_kind') == 'leaving',
            },
        help="The class the student goes to.")
    reason = fields.Char(
        "Reason", states=_states,
        help="As «transferred to school No. 3 of Omsk».")

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')

    @classmethod
    def default_order_kind(cls):
        return Transaction().context.get('order_kind')

    @classmethod
    def default_order_state(cls):
        return 'draft'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Transaction().context.get('order_date')

    @classmethod
    def get_order_states(cls):
        pool = Pool()
        Order = pool.get('school.order')
        return Order.fields_get(['state'])['state']['selection']

    @fields.depends('order', '_parent_order.kind')
    def on_change_with_order_kind(self, name=None):
        return self.order.kind if self.order else None

    @fields.depends('order', '_parent_order.state')
    def on_change_with_order_state(self, name=None):
        return self.order.state if self.order else 'draft'

    @fields.depends('order', '_parent_order.company')
    def on_change_with_company(self, name=None):
        return self.order.company if self.order else None

    @fields.depends('order', '_parent_order.date', 'date')
    def on_change_order(self):
        if self.order and self.order.date and not self.date:
            self.date = self.order.date

    def get_rec_name(self, name):
        return '%s: %s' % (self.order.rec_name, self.student.rec_name)

    def _enrolment_values(self):
        return {
            'student': self.student.id,
            'class_': self.class_.id,
            'start_date': self.date,
            'start_order': self.order.id,
            }

    def _current(self, date):
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        enrolment = Enrolment.covering(self.student, date)
        if not enrolment:
            raise EnrolmentError(gettext(
                    'school_ejournal.msg_order_not_enrolled',
                    student=self.student.rec_name,
                    date=date.strftime('%d.%m.%Y'),
                    order=self.order.rec_name))
        return enrolment

    def _close(self, enrolment, end_date):
        if end_date < enrolment.start_date:
            raise EnrolmentError(gettext(
                    'school_ejournal.msg_order_before_start',
                    student=self.student.rec_name,
                    class_=enrolment.class_.rec_name,
                    date=enrolment.start_date.strftime('%d.%m.%Y'),
                    order=self.order.rec_name))
        if enrolment.end_date and enrolment.end_date > end_date:
            raise EnrolmentError(gettext(
                    'school_ejournal.msg_order_later_enrolment',
                    student=self.student.rec_name,
                    order=self.order.rec_name))
        return (enrolment, end_date)

    # Each _apply_<kind> returns the enrolments to close with their end date
    # and the values of the enrolments to create.

    def _apply_enrolment(self):
        return [], [self._enrolment_values()]

    def _apply_transfer(self):
        enrolment = self._current(self.date)
        if enrolment.class_ == self.class_:
            raise EnrolmentError(gettext(
                    'school_ejournal.msg_order_same_class',
                    student=self.student.rec_name,
                    class_=self.class_.rec_name,
                    order=self.order.rec_name))
        return ([self._close(enrolment, self.date - dt.timedelta(days=1))],
            [self._enrolment_values()])

    def _apply_leaving(self):
        enrolment = self._current(self.date)
        return [self._close(enrolment, self.date)], []
