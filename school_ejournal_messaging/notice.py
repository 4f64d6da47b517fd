# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The notice board (for staff, and per class for its families) and the
class events journal (C12, A3).

Who reads and writes what is said by record rules (notice.xml): staff read
every notice and event; a parent or a student reads the notices and events
of the classes of his family; a class teacher writes those of the classes
he leads; the deputies and the school's administrator write all.
"""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import MessageError


class Notice(ModelSQL, ModelView):
    "Notice"
    __name__ = 'school.notice'

    date = fields.Date("Date", required=True)
    title = fields.Char("Title", required=True)
    body = fields.Text("Text")
    audience = fields.Selection([
            ('staff', "Staff"),
            ('class', "Families of a Class"),
            ], "For", required=True,
        help="Staff notices are read by the school's staff (the weekly "
        "journal analysis is published there); class notices also by the "
        "class's parents and students.")
    class_ = fields.Many2One('school.class', "Class",
        states={
            'required': Eval('audience') == 'class',
            'invisible': Eval('audience') != 'class',
            })
    author_name = fields.Char("Author", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_date():
        return Pool().get('ir.date').today()

    @staticmethod
    def default_audience():
        return 'staff'

    def get_rec_name(self, name):
        return self.title

    @classmethod
    def validate_fields(cls, notices, field_names):
        super().validate_fields(notices, field_names)
        for notice in notices:
            if not (notice.title or '').strip():
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_notice_no_title'))
            if notice.audience == 'class' and not notice.class_:
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_notice_no_class',
                        notice=notice.title))

    @classmethod
    def create(cls, vlist):
        User = Pool().get('res.user')
        # Checked before the record rules say who may write for which class
        for values in vlist:
            if not (values.get('title') or '').strip():
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_notice_no_title'))
            if values.get('audience') == 'class' and not values.get('class_'):
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_notice_no_class',
                        notice=values['title']))
        with without_check_access():
            name = User(Transaction().user).rec_name
        vlist = [{**v, 'author_name': name} for v in vlist]
        return super().create(vlist)

    @classmethod
    def of_classes(cls, class_ids, limit=None):
        "Return the notices of the classes, the newest first"
        return cls.search([
                ('audience', '=', 'class'),
                ('class_', 'in', list(class_ids)),
                ], limit=limit)


class ClassEvent(ModelSQL, ModelView):
    "Class Event"
    __name__ = 'school.class.event'

    class_ = fields.Many2One('school.class', "Class", required=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    time = fields.Time("Time")
    title = fields.Char("Title", required=True)
    description = fields.Text("Description")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.class_, Index.Equality()),
                (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('time', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_date():
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return '%s %s' % (self.date.strftime('%d.%m.%Y'), self.title)

    @classmethod
    def validate_fields(cls, events, field_names):
        pool = Pool()
        Class = pool.get('school.class')
        super().validate_fields(events, field_names)
        for event in events:
            if not (event.title or '').strip():
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_event_no_title'))
            with without_check_access():
                class_ = Class(event.class_.id)
                year = class_.year
                if year and not (
                        year.start_date - dt.timedelta(days=31)
                        <= event.date <= year.end_date):
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_event_date',
                            event=event.title, class_=class_.rec_name,
                            date=event.date.strftime('%d.%m.%Y')))

    @classmethod
    def of_class(cls, class_id, start=None, end=None):
        domain = [('class_', '=', class_id)]
        if start:
            domain.append(('date', '>=', start))
        if end:
            domain.append(('date', '<=', end))
        return cls.search(domain)
