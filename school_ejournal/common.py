# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
import functools
import logging
from contextlib import contextmanager

from sql import Literal, Table
from sql.aggregate import Count
from sql.functions import Substring
from sql.operators import Concat, Like

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Model, ModelSQL, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, check_access

from .exceptions import ClosedFieldError, PeriodClosedError

logger = logging.getLogger(__name__)


def company_through(path):
    "Return a mixin giving records the school of the record in `path`"

    class CompanyThroughMixin:
        __slots__ = ()
        company = fields.Function(
            fields.Many2One('company.company', "School"),
            'on_change_with_company', searcher='search_company')

        @fields.depends(path, '_parent_%s.company' % path)
        def on_change_with_company(self, name=None):
            record = getattr(self, path)
            return record.company if record else None

        @classmethod
        def search_company(cls, name, clause):
            return [('%s.%s' % (path, clause[0]), *clause[1:])]

    return CompanyThroughMixin


def stamp(user_field, time_field=None):
    """Decorate a button (inside its Workflow.transition) to record on the
    records who acted, and when, after it succeeded; as sale's
    set_employee"""
    def decorator(func):
        @functools.wraps(func)
        def wrapper(cls, records, *args, **kwargs):
            result = func(cls, records, *args, **kwargs)
            values = {user_field: Transaction().user or None}
            if time_field:
                values[time_field] = dt.datetime.now()
            if records:
                cls.write(records, values)
            return result
        return wrapper
    return decorator


def system_context():
    """Return the context in which the journal itself writes closed fields.

    Clients cannot set it: trytond.rpc strips every context key starting
    with '_' from what a client sends."""
    return Transaction().set_context(_school_system=True)


class ClosedFieldsMixin:
    """Fields no client writes, whatever its role (the administrator too).

    ``_system_fields`` are set by the journal itself: workflow states
    (changed only by their buttons), stamps (who and when), computed values
    and values copied from another record.  A client may neither write them
    nor create a record with a value other than the default.

    ``_fixed_fields`` are given when the record is created and never
    written by a client afterwards.

    A client is a call with access checks on (RPC: proteus, sao, JSON-RPC);
    the journal's own code (buttons, wizards, ``system_context()``) is not.
    Models that fill values from other records on creation do it in
    ``_complete_values`` so that the client's own values are checked first.
    """
    __slots__ = ()
    _system_fields = frozenset()
    _fixed_fields = frozenset()

    @classmethod
    def _closed_by_client(cls, external=None):
        """Tell if the current call comes from a client; external is the
        flag given to check_modification, which runs without access checks
        """
        transaction = Transaction()
        if external is None:
            external = transaction.user and transaction.check_access
        return bool(external
            and not transaction.context.get('_school_system'))

    @classmethod
    def _is_default(cls, name, value):
        default = cls._defaults[name]() if name in cls._defaults else None
        if isinstance(cls._fields[name], fields.Boolean):
            return bool(value) == bool(default)
        if isinstance(value, Model):
            value = value.id
        return value is None or value == default

    @classmethod
    def check_closed_create(cls, vlist):
        "Refuse client values of system fields in vlist"
        if not cls._closed_by_client():
            return
        for values in vlist:
            for name in sorted(values.keys() & cls._system_fields):
                if not cls._is_default(name, values[name]):
                    raise ClosedFieldError(gettext(
                            'school_ejournal.msg_closed_field_create',
                            **cls.__names__(field=name)))

    @classmethod
    def check_closed_write(cls, records, values, external=True):
        "Refuse client writes of closed fields"
        if not records or not cls._closed_by_client(external):
            return
        for name in sorted(values.keys() & cls._system_fields):
            raise ClosedFieldError(gettext(
                    'school_ejournal.msg_closed_field_system',
                    **cls.__names__(field=name, record=records[0])))
        for name in sorted(values.keys() & cls._fixed_fields):
            raise ClosedFieldError(gettext(
                    'school_ejournal.msg_closed_field_fixed',
                    **cls.__names__(field=name, record=records[0])))

    @classmethod
    def _complete_values(cls, vlist):
        "Return vlist with the values the journal fills on creation"
        return vlist

    @classmethod
    def create(cls, vlist):
        cls.check_closed_create(vlist)
        return super().create(cls._complete_values([v.copy() for v in vlist]))

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        if mode == 'write':
            cls.check_closed_write(records, values, external=external)
        super().check_modification(
            mode, records, values=values, external=external)


def check_writable(records):
    """Refuse writing the records unless the user may write them as a
    client: wizards run without access checks, so their transitions ask"""
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    Rule = pool.get('ir.rule')
    if not records or not Transaction().user:
        return
    Model = records[0].__class__
    ids = {r.id for r in records}
    with check_access():
        ModelAccess.check(Model.__name__, 'write')
        domain = Rule.domain_get(Model.__name__, mode='write')
        if domain:
            ids -= {r.id for r in Model.search([
                        ('id', 'in', list(ids)), domain])}
    if ids:
        raise AccessError(gettext(
                'school_ejournal.msg_not_writable',
                record=Model(min(ids)).rec_name))


# The values of an attendance cell and of a mark, as the journal writes them
ATTENDANCE = [
    (None, ""),
    ('absent', "Н"),
    ('ill', "Б"),
    ('excused', "УП"),
    ('late', "ОП"),
    ]
ABSENCE_REASONS = {'absent', 'ill', 'excused'}
MARKS = [
    (None, ""),
    ('5', "5"),
    ('4', "4"),
    ('3', "3"),
    ('2', "2"),
    ('1', "1"),
    ('pass', "Pass"),
    ('fail', "Fail"),
    ]
NUMERIC_MARKS = {'1', '2', '3', '4', '5'}


def user_employees():
    return set(Pool().get('res.user').get_employees())


def user_in(*roles):
    "Tell if the user holds one of the school roles"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if Transaction().user == 0:
        return True
    groups = set(User.get_groups())
    return any(
        ModelData.get_id('school_ejournal', 'group_' + r) in groups
        for r in roles)


class PeriodLockMixin:
    "Records of a closed study period cannot change"
    __slots__ = ()
    # The Many2One fields leading from the record to its study period
    _lock_period_path = ('period',)

    def _lock_period(self):
        "Return the study period of the record"
        record = self
        for name in self._lock_period_path:
            record = getattr(record, name, None)
            if record is None:
                return None
        return record

    @classmethod
    def _closed_lock_periods(cls, ids):
        """Return {record id: period id} of the records whose study period
        is closed, with one query per slice of ids (the path's tables
        joined)"""
        pool = Pool()
        Period = pool.get('school.period')
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        query, current, Model_ = table, table, cls
        for name in cls._lock_period_path[:-1]:
            Target = Model_._fields[name].get_target()
            target = Target.__table__()
            query = query.join(target,
                condition=getattr(current, name) == target.id)
            current, Model_ = target, Target
        period = Period.__table__()
        query = query.join(period, condition=getattr(
                current, cls._lock_period_path[-1]) == period.id)
        closed = {}
        for sub_ids in grouped_slice(sorted(set(ids)),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(table.id, period.id,
                    where=fields.SQL_OPERATORS['in'](table.id, list(sub_ids))
                    & (period.state == 'closed')))
            closed.update(cursor)
        return closed

    @classmethod
    def check_period_open(cls, records, msg='modify'):
        """Refuse the records of a closed study period, naming the first:
        one query for the saved records, the others by their values"""
        pool = Pool()
        Period = pool.get('school.period')
        saved = [r for r in records if r.id is not None and r.id >= 0]
        closed = cls._closed_lock_periods([r.id for r in saved])
        for record in records:
            if record.id in closed:
                period = Period(closed[record.id])
            elif record.id is None or record.id < 0:
                period = record._lock_period()
                if not period or period.state != 'closed':
                    continue
            else:
                continue
            raise PeriodClosedError(gettext(
                    'school_ejournal.msg_period_closed_%s' % msg,
                    record=record.rec_name, period=period.rec_name))

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        # New records are checked by validate_fields
        if mode != 'create':
            cls.check_period_open(
                records, msg='delete' if mode == 'delete' else 'modify')

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        # Checked before a write: again only when the record moves to
        # another period (and on creation)
        if cls._lock_period_path[0] in field_names:
            cls.check_period_open(records)


# Models renamed, old name: new name (their tables are renamed by
# rename_model and setup/update compares their rows before and after)
RENAMED_MODELS = {
    'school.lesson.line': 'school.lesson.attendance',
    'school.plan': 'school.thematic_plan',
    'school.plan.line': 'school.thematic_plan.line',
    }


@contextmanager
def model_names_unlocked():
    """Let the names of ir.model change: on PostgreSQL the foreign keys to
    ir_model.name (without ON UPDATE CASCADE) are dropped meanwhile and
    added back, checked, at the end"""
    cursor = Transaction().connection.cursor()
    foreign_keys = []
    if backend.name == 'postgresql':
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, "
            "pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = 'ir_model'::regclass")
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute('ALTER TABLE %s DROP CONSTRAINT "%s"'
                % (table, name))
    yield
    for table, name, definition in foreign_keys:
        cursor.execute('ALTER TABLE %s ADD CONSTRAINT "%s" %s'
            % (table, name, definition))


def rename_model(Model, old_name):
    """Migrate the model renamed from old_name, from its __register__ before
    calling super: rename its table (with its history and sequence), drop the
    constraints named after the old table, and rename the model wherever the
    database names it (ir.model and its fields, model data, translations,
    references as attachments and notes, the views' and actions' models)."""
    TableHandler = backend.TableHandler
    cursor = Transaction().connection.cursor()
    old_table = old_name.replace('.', '_')
    new_name, new_table = Model.__name__, Model._table
    if not TableHandler.table_exist(old_table):
        return
    if TableHandler.table_exist(new_table):
        # A model registered before may have created the table, empty, as
        # the target of its foreign key
        cursor.execute(*Table(new_table).select(Count(Literal(1))))
        count, = cursor.fetchone()
        if count:
            return
        TableHandler.drop_table(new_name, new_table)
    logger.info("rename model %s to %s", old_name, new_name)
    TableHandler.table_rename(old_table, new_table)
    # A handler of the dropped table may be cached for the transaction
    table_h = TableHandler(Model)
    table_h._update_definitions(columns=True)
    for ident, _, _ in Model._sql_constraints:
        table_h.drop_constraint(ident, table=old_table)

    with model_names_unlocked():
        _rename_model_names(old_name, new_name)


def _rename_model_names(old_name, new_name):
    "Rename the model wherever the database names it"
    pool = Pool()
    TableHandler = backend.TableHandler
    cursor = Transaction().connection.cursor()
    # The models registered before may have added the new name to ir.model
    # (as the relation of their fields): the old rows are kept, with their ids
    Model_ = pool.get('ir.model')
    ModelField = pool.get('ir.model.field')
    ir_model = Model_.__table__()
    ir_model_field = ModelField.__table__()
    cursor.execute(*ir_model.select(ir_model.id,
            where=ir_model.name == old_name))
    if cursor.fetchone():
        cursor.execute(*ir_model_field.delete(
                where=ir_model_field.model == new_name))
        cursor.execute(*ir_model.delete(where=ir_model.name == new_name))

    prefix = old_name + ','
    for _, Other in pool.iterobject():
        if (not issubclass(Other, ModelSQL) or callable(Other.table_query)
                or not TableHandler.table_exist(Other._table)):
            continue
        table = Other.__table__()
        table_h = TableHandler(Other)
        for fname, field in Other._fields.items():
            if (not hasattr(field, 'sql_type')
                    or not table_h.column_exist(fname)):
                continue
            column = getattr(table, fname)
            if isinstance(field, fields.Reference) or (
                    Other.__name__ == 'ir.translation' and fname == 'name'):
                # 'model,id' or 'model,field'
                cursor.execute(*table.update([column],
                        [Concat(new_name,
                                Substring(column, len(old_name) + 1))],
                        where=Like(column, prefix + '%')))
            elif (isinstance(field, fields.Char)
                    and Other.__name__.startswith('ir.')
                    and fname in {'name', 'model', 'res_model', 'relation',
                        'resource', 'wiz_name', 'report_name'}):
                cursor.execute(*table.update([column], [new_name],
                        where=column == old_name))
