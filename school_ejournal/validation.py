# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Refuse bad input before it reaches the database.

`ValidationMixin`, in the bases of every school model, checks what a client
sends through `create`, `write`, `read`, `search` (and what builds on them:
`search_read`, `search_count`, buttons and `write`'s record ids) before any
SQL runs:

- every value has the type of its field (text for text, a whole number for a
  number, a record id for a relation, a list of actions for a list ...) and
  fits the database column (no integer overflow, no lone surrogate);
- text is at most the field's `size`: Char fields without one get
  `DEFAULT_SIZE['char']`, Text fields `DEFAULT_SIZE['text']` (so the client
  shows the limit and Tryton checks it too); it has no control character
  (Text allows newline, carriage return and tab);
- numbers and dates lie in their range: `LIMITS` for the fields that have
  one, `DEFAULT_LIMITS` by type for the others; `RECORD_DATE_LIMITS` adds the
  ranges that depend on the record (a homework due within the lesson's
  academic year) or on today (a birth date), checked by `validate`;
- search domains, sort orders, offsets, limits, field names and ids are
  well formed.

Each refusal is a `ValidationError` naming the field and the record (or "a
new record" on creation).
"""
import csv
import datetime as dt
import functools
import inspect
import io
import math
import re
import unicodedata
from decimal import Decimal

from sql import Expression, Query

from trytond.const import OPERATORS
from trytond.i18n import gettext
from trytond.model import Model, fields
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import PYSON
from trytond.rpc import RPC
from trytond.wizard import StateView

# The largest value of an SQL INTEGER column (ids, Integer fields)
SQL_INTEGER_MAX = 2 ** 31 - 1

DEFAULT_SIZE = {
    'char': 255,
    'text': 10_000,
    }
# Text searched for: longer is not a search but a payload
SEARCH_TEXT_SIZE = 1_000
# Nesting of a search domain
DOMAIN_DEPTH = 16

DEFAULT_LIMITS = {
    'integer': (0, 1_000_000),
    'float': (0, 1_000_000),
    'numeric': (0, 1_000_000),
    'date': (dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
    'datetime': (
        dt.datetime(2000, 1, 1), dt.datetime(2100, 12, 31, 23, 59, 59)),
    }

# {model: {field: (minimum, maximum)}}, where the default does not fit
LIMITS = {
    'school.bell': {'number': (0, 12)},
    'school.timetable': {'number': (0, 12)},
    'school.lesson': {'number': (0, 12)},
    'school.level': {'number': (0, 12), 'week_days': (5, 6)},
    'school.period': {'sequence': (1, 12)},
    'school.curriculum.line': {'hours': (0, 40)},
    'school.teaching': {'hours': (0, 40)},
    'school.thematic_plan.line': {'hours': (1, 200)},
    'school.task.type': {'check_days': (0, 60), 'weight': (0, 100)},
    'school.configuration': {
        'weeks': (1, 53), 'weeks_first': (1, 53),
        'grade_min_marks': (1, 100), 'grade_threshold': (0, 1)},
    'school.grade': {'average': (0, 100), 'marks': (0, 100_000)},
    'school.student': {
        'birth_date': (dt.date(1950, 1, 1), dt.date(2100, 12, 31))},
    }


def _age_limits(record):
    "A student is from 3 to 30 years old"
    today = Pool().get('ir.date').today()

    def years_ago(years):
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)
    return years_ago(30), years_ago(3)


def _lesson_year_limits(record):
    "Homework is due within the lesson's academic year"
    if record.period and record.date:
        return record.date, record.period.year.end_date


# {model: {field: function(record) -> (minimum, maximum) or None}}
RECORD_DATE_LIMITS = {
    'school.student': {'birth_date': _age_limits},
    'school.lesson': {'homework_due': _lesson_year_limits},
    }
# {model: {field: the other fields its limits depend on}}: a record's
# limits are checked when it is created or one of these is written
RECORD_DATE_DEPENDS = {
    'school.lesson': {'homework_due': {'date', 'period'}},
    }

_TEXT_TYPES = {'char', 'text'}
_NUMBER_TYPES = {'integer', 'float', 'numeric'}
_RELATION_TYPES = {'many2one', 'one2one'}
_X2MANY_TYPES = {'one2many', 'many2many'}
_X2MANY_ACTIONS = {'create', 'write', 'delete', 'add', 'remove', 'copy'}
_SORT = {'ASC', 'DESC'}
_NULLS = {None, 'NULLS FIRST', 'NULLS LAST'}
_SEARCH_TEXT_TYPES = (_TEXT_TYPES | _RELATION_TYPES | _X2MANY_TYPES
    | {'selection', 'multiselection', 'reference', 'dict'})
_ALLOWED_CONTROL = {'text': '\n\r\t', 'char': ''}


def _error(msg_id, **variables):
    return ValidationError(gettext('school_ejournal.' + msg_id, **variables))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value):
    return _is_int(value) and -SQL_INTEGER_MAX <= value <= SQL_INTEGER_MAX


def _format(value):
    if isinstance(value, dt.date):
        return value.strftime('%d.%m.%Y')
    text = str(value)
    return text if len(text) <= 40 else text[:40] + '…'


def text_problem(value, type_='char'):
    """Return (msg_id, variables) of what makes the text unfit, or None"""
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        return 'msg_guard_text_encoding', {}
    allowed = _ALLOWED_CONTROL.get(type_, '')
    for char in value:
        if (char < ' ' or '\x7f' <= char <= '\x9f') and char not in allowed:
            return 'msg_guard_text_control', {'code': 'U+%04X' % ord(char)}
        if char in '\u2028\u2029\ufeff' or (
                char > '\ufff0' and unicodedata.category(char) == 'Cn'):
            return 'msg_guard_text_control', {'code': 'U+%04X' % ord(char)}
    return None


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@(?:[A-Za-z0-9\u0400-\u04ff](?:[A-Za-z0-9\u0400-\u04ff-]{0,61}"
    r"[A-Za-z0-9\u0400-\u04ff])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59}|рф)$")


def plausible_email(value):
    """Tell if value looks like a deliverable address: a local part, an
    at sign and a domain with a top level of letters (as example.ru or
    школа.рф); checked whatever email_validator is installed or not"""
    return (isinstance(value, str) and len(value) <= 254
        and bool(_EMAIL.match(value)) and '..' not in value)


def _guard_label(Model_, record=None):
    if record is None:
        return gettext('school_ejournal.msg_guard_new_record')
    try:
        return record.rec_name
    except Exception:
        return '%s #%s' % (Model_.__names__()['model'], record.id)


def _guard_limits(Model_, name, field):
    limits = LIMITS.get(Model_.__name__, {}).get(name)
    if limits is None:
        limits = DEFAULT_LIMITS.get(field._type)
    return limits


def guard_values(Model_, values, record=None):
    "Raise if one of the values may not be stored in the field"
    if not isinstance(values, dict):
        raise _error('msg_guard_values', model=Model_.__names__()['model'])
    for name, value in values.items():
        field = Model_._fields.get(name) if isinstance(name, str) else None
        if field is None:
            raise _error('msg_guard_unknown_field',
                model=Model_.__names__()['model'], field=_format(name))
        if isinstance(field, fields.Function) and not field.setter:
            continue
        if value is None or isinstance(value, (Query, Expression)):
            continue
        problem = _guard_value(Model_, name, field, value)
        if problem:
            msg_id, variables = problem
            names = Model_.__names__(name)
            raise _error(msg_id, field=names['field'],
                model=names['model'],
                record=_guard_label(Model_, record), **variables)


def _guard_value(Model_, name, field, value):
    "Return (msg_id, variables) of what makes value unfit, or None"
    type_ = field._type
    if type_ in _TEXT_TYPES or type_ == 'selection':
        if not isinstance(value, str):
            return 'msg_guard_type_text', {}
        size = getattr(field, 'size', None)
        if not isinstance(size, int):
            size = DEFAULT_SIZE.get(type_, DEFAULT_SIZE['char'])
        if len(value) > size:
            return 'msg_guard_text_size', {
                'size': len(value), 'max_size': size}
        problem = text_problem(value, type_)
        if problem:
            return problem
        if (type_ == 'selection'
                and isinstance(field.selection, (list, tuple))
                and value not in dict(field.selection)):
            return 'msg_guard_selection', {'value': _format(value)}
    elif type_ in _NUMBER_TYPES:
        if type_ == 'integer':
            valid = _is_int(value)
        else:
            valid = (isinstance(value, (int, float, Decimal))
                and not isinstance(value, bool))
            if valid and isinstance(value, (float, Decimal)):
                valid = (value.is_finite() if isinstance(value, Decimal)
                    else math.isfinite(value))
        if not valid:
            return 'msg_guard_type_number', {}
        return _guard_range(Model_, name, field, value)
    elif type_ == 'boolean':
        if not isinstance(value, bool):
            return 'msg_guard_type_boolean', {}
    elif type_ == 'date':
        if (not isinstance(value, dt.date)
                or isinstance(value, dt.datetime)):
            return 'msg_guard_type_date', {}
        return _guard_range(Model_, name, field, value)
    elif type_ == 'datetime':
        if not isinstance(value, dt.datetime):
            return 'msg_guard_type_date', {}
        return _guard_range(Model_, name, field, value.replace(tzinfo=None))
    elif type_ == 'time':
        if not isinstance(value, dt.time):
            return 'msg_guard_type_time', {}
    elif type_ == 'timedelta':
        if not isinstance(value, dt.timedelta):
            return 'msg_guard_type_time', {}
    elif type_ in _RELATION_TYPES:
        if isinstance(value, Model):
            return None
        # 0 is the root user, the author of what the system does
        if not _is_id(value) or value < 0:
            return 'msg_guard_type_record', {}
    elif type_ in _X2MANY_TYPES:
        if not _guard_actions(value):
            return 'msg_guard_type_actions', {}
    elif type_ == 'binary':
        if not isinstance(value, (bytes, bytearray, memoryview)):
            return 'msg_guard_type_binary', {}
    return None


def guard_types(Model_, values):
    """Raise if one of the values has not the type of its field (the values
    of a record being edited: the sizes and ranges are checked on saving)"""
    for name, value in values.items():
        field = Model_._fields.get(name) if isinstance(name, str) else None
        if (field is None or value is None or name == 'id'
                or field._type in _X2MANY_TYPES):
            continue
        if field._type in _RELATION_TYPES:
            # an id, or the values of the record (a parent being edited)
            problem = None if _is_id(value) or isinstance(value, dict) else (
                'msg_guard_type_record', {})
        else:
            problem = _guard_value(Model_, name, field, value)
        if problem and (problem[0].startswith('msg_guard_type_')
                or problem[0] == 'msg_guard_text_encoding'):
            msg_id, variables = problem
            names = Model_.__names__(name)
            raise _error(msg_id, field=names['field'],
                model=names['model'], record=_guard_label(Model_),
                **variables)


def _guard_range(Model_, name, field, value):
    limits = _guard_limits(Model_, name, field)
    if limits and not (limits[0] <= value <= limits[1]):
        minimum, maximum = limits
        return 'msg_guard_range', {
            'value': _format(value),
            'min': _format(minimum), 'max': _format(maximum)}
    return None


def _guard_actions(value):
    "Tell if value is a list of One2Many/Many2Many actions"
    if not isinstance(value, (list, tuple)):
        return False

    def ids(value):
        return (isinstance(value, (list, tuple))
            and all(_is_id(i) or isinstance(i, Model) for i in value))
    for action in value:
        if (not isinstance(action, (list, tuple)) or not action
                or action[0] not in _X2MANY_ACTIONS):
            return False
        kind, args = action[0], action[1:]
        if kind == 'create':
            if (len(args) != 1 or not isinstance(args[0], (list, tuple))
                    or not all(isinstance(v, dict) for v in args[0])):
                return False
        elif kind == 'write':
            if not args or len(args) % 2:
                return False
            for ids_, values in zip(args[::2], args[1::2]):
                if not ids(ids_) or not isinstance(values, dict):
                    return False
        elif kind == 'copy':
            if (not 1 <= len(args) <= 2 or not ids(args[0])
                    or (len(args) == 2
                        and not isinstance(args[1], dict))):
                return False
        elif len(args) != 1 or not ids(args[0]):
            return False
    return True


class RPCGuardMixin:
    """Refuse malformed calls of clients with a user error, before the
    method runs: every RPC method is a GuardedRPC"""
    __slots__ = ()

    @classmethod
    def guard_values(cls, values, record=None):
        "Raise if one of the values may not be stored in its field"
        guard_values(cls, values, record)

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        for name, rpc in list(cls.__rpc__.items()):
            if not isinstance(rpc, GuardedRPC):
                cls.__rpc__[name] = GuardedRPC.guard(cls, name, rpc)

    @classmethod
    def guard_ids(cls, ids):
        "Raise unless ids is a list of record ids"
        if (not isinstance(ids, (list, tuple))
                or not all(_is_id(i) or isinstance(i, Model) for i in ids)):
            raise _error('msg_guard_ids', model=cls.__names__()['model'])

    @classmethod
    def browse(cls, ids):
        if not isinstance(ids, (list, tuple)):
            ids = list(ids)
        if not all(type(i) is int and -SQL_INTEGER_MAX <= i <= SQL_INTEGER_MAX
                for i in ids):
            cls.guard_ids(ids)
        return super().browse(ids)

    @classmethod
    def guard_fields_names(cls, fields_names, separator='.'):
        """Raise unless fields_names lists fields (or paths of fields, joined
        by the separator) of the model"""
        model = cls.__names__()['model']
        if fields_names is None:
            return
        if not isinstance(fields_names, (list, tuple)):
            raise _error('msg_guard_read_fields', model=model, field='')
        for name in fields_names:
            if not isinstance(name, str) or not _guard_path(cls,
                    name.split(':', 1)[0].replace(separator, '.')):
                raise _error('msg_guard_read_fields',
                    model=model, field=_format(name))

    @classmethod
    def guard_search(cls, domain, offset=0, limit=None, order=None):
        "Raise unless the arguments of search are well formed"
        model = cls.__names__()['model']
        if not _guard_domain(cls, domain):
            raise _error('msg_guard_domain', model=model)
        if not _is_int(offset) or not 0 <= offset <= SQL_INTEGER_MAX:
            raise _error('msg_guard_offset', model=model)
        if limit is not None and (
                not _is_int(limit) or not 0 <= limit <= SQL_INTEGER_MAX):
            raise _error('msg_guard_offset', model=model)
        if order is not None and order is not False:
            if not isinstance(order, (list, tuple)):
                raise _error('msg_guard_order', model=model, order='')
            for item in order:
                if not _guard_order_item(cls, item):
                    raise _error('msg_guard_order',
                        model=model, order=_format(item))

    @classmethod
    def guard_nested(cls, values, record=None):
        """Check values and the values of the records they create or write
        in their One2Many and Many2Many fields"""
        cls.guard_values(values, record)
        for name, value in values.items():
            field = cls._fields[name]
            if field._type not in _X2MANY_TYPES or not value:
                continue
            Target = field.get_target()
            if not hasattr(Target, 'guard_nested'):
                continue
            for action in value:
                if action[0] == 'create':
                    for child in action[1]:
                        Target.guard_nested(child)
                elif action[0] == 'write':
                    for child in action[2::2]:
                        Target.guard_nested(child)


class ValidationMixin(RPCGuardMixin):
    "Refuse values a school record may not hold, before SQL runs"
    __slots__ = ()

    @classmethod
    def __post_setup__(cls):
        super().__post_setup__()
        for field in cls._fields.values():
            if (field._type in _TEXT_TYPES
                    and not isinstance(field, fields.Function)
                    and field.size is None):
                field.size = DEFAULT_SIZE[field._type]

    @classmethod
    def _guard_record_dates(cls, records, field_names=None):
        "Check the limits of the fields written (all by default)"
        depends = RECORD_DATE_DEPENDS.get(cls.__name__, {})
        limits = {name: function for name, function in
            RECORD_DATE_LIMITS.get(cls.__name__, {}).items()
            if field_names is None or name in field_names
            or depends.get(name, set()) & field_names}
        if not limits:
            return
        for record in records:
            for name, function in limits.items():
                value = getattr(record, name)
                if value is None:
                    continue
                bounds = function(record)
                if bounds and not (bounds[0] <= value <= bounds[1]):
                    names = cls.__names__(name)
                    raise _error('msg_guard_range',
                        field=names['field'], model=names['model'],
                        record=_guard_label(cls, record),
                        value=_format(value),
                        min=_format(bounds[0]), max=_format(bounds[1]))

    @classmethod
    def preprocess_values(cls, mode, values):
        if mode == 'create':
            cls.guard_values(values)
        return super().preprocess_values(mode, values)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        if mode == 'write':
            # name the first record of several
            cls.guard_values(values, records[0] if records else None)
        super().check_modification(
            mode, records, values=values, external=external)

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        # Not on every write: a lesson's homework date is read only when
        # it, the date or the period is written
        cls._guard_record_dates(records, field_names)


class ValidationWizardMixin:
    "Refuse malformed data sent to the views of a wizard"
    __slots__ = ()

    @classmethod
    def execute(cls, session_id, data, state_name):
        if (not _is_id(session_id) or not isinstance(data, dict)
                or not isinstance(state_name, str)
                or state_name not in cls.states):
            raise _error('msg_guard_arguments',
                model=cls.__name__, method='execute')
        pool = Pool()
        for key, values in data.items():
            state = cls.states.get(key) if isinstance(key, str) else None
            if (not isinstance(state, StateView)
                    or not isinstance(values, dict)):
                raise _error('msg_guard_arguments',
                    model=cls.__name__, method='execute')
            View = pool.get(state.model_name)
            # the id and unknown keys are left to the wizard, as Tryton does
            guard_values(View, {
                    k: v for k, v in values.items()
                    if isinstance(k, str) and k in View._fields
                    and k != 'id'})
        return super().execute(session_id, data, state_name)


class GuardedRPC(RPC):
    """An RPC whose arguments are checked: their conversion (the
    instantiation of records) and the method's guard refuse malformed
    arguments with a user error"""
    __slots__ = ('model', 'method')

    @classmethod
    def guard(cls, Model_, method, rpc):
        guarded = cls(
            readonly=rpc.readonly, instantiate=rpc.instantiate,
            decorator=_rpc_guard(Model_, method, rpc.decorator),
            result=rpc.result, check_access=rpc.check_access,
            fresh_session=rpc.fresh_session, unique=rpc.unique,
            cache=rpc.cache, timeout=rpc.timeout,
            size_limits=rpc.size_limits)
        guarded.model = Model_
        guarded.method = method
        return guarded

    def convert(self, obj, *args, **kwargs):
        if (self.instantiate == 0 and args and isinstance(args[0], dict)
                and hasattr(obj, '_fields')):
            # a record built from values (on_change): only their types
            guard_types(obj, args[0])
        try:
            return super().convert(obj, *args, **kwargs)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError,
                OverflowError) as exception:
            raise _error('msg_guard_arguments',
                model=self.model.__names__()['model'],
                method=self.method) from exception


def _rpc_guard(Model_, method, decorator=None):
    """Return the decorator of the RPC method that refuses malformed
    arguments with a user error, before the method runs"""
    guard = _RPC_GUARDS.get(method)

    def decorate(func):
        if decorator:
            func = decorator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                signature = inspect.signature(func)
                signature.bind(*args, **kwargs)
            except (TypeError, ValueError):
                raise _error('msg_guard_arguments',
                    model=Model_.__names__()['model'], method=method)
            if guard:
                try:
                    guard(Model_, *args, **kwargs)
                except TypeError:
                    raise _error('msg_guard_arguments',
                        model=Model_.__names__()['model'], method=method)
            return func(*args, **kwargs)
        return wrapper
    return decorate


def _guard_create(Model_, vlist, *args, **kwargs):
    if not isinstance(vlist, (list, tuple)):
        raise TypeError
    for values in vlist:
        Model_.guard_nested(values)


def _guard_write(Model_, *args, **kwargs):
    if len(args) % 2:
        raise TypeError
    for records, values in zip(args[::2], args[1::2]):
        # name the first record of several
        Model_.guard_nested(values, records[0] if records else None)


def _guard_read(Model_, ids, fields_names, *args, **kwargs):
    Model_.guard_ids(ids)
    if fields_names is None:
        raise _error('msg_guard_read_fields',
            model=Model_.__names__()['model'], field='')
    Model_.guard_fields_names(fields_names)


def _guard_search(
        Model_, domain, offset=0, limit=None, order=None, *args, **kwargs):
    Model_.guard_search(domain, offset, limit, order)


def _guard_search_count(
        Model_, domain, offset=0, limit=None, *args, **kwargs):
    Model_.guard_search(domain, offset, limit)


def _guard_search_read(Model_, domain, offset=0, limit=None, order=None,
        fields_names=None, *args, **kwargs):
    Model_.guard_search(domain, offset, limit, order)
    Model_.guard_fields_names(fields_names)


def _guard_export_data_domain(Model_, domain, fields_names, offset=0,
        limit=None, order=None, *args, **kwargs):
    Model_.guard_search(domain, offset, limit, order)
    _guard_export_data(Model_, None, fields_names)


def _guard_export_data(Model_, records, fields_names, *args, **kwargs):
    Model_.guard_fields_names(fields_names, separator='/')
    if fields_names is None:
        raise TypeError
    for name in fields_names:
        _guard_export_path(Model_, name.split(':', 1)[0].split('/'))


def _guard_export_path(Model_, path):
    """Refuse the export of a model's personal data (`_personal_data`, read
    per record by `personal_data_domain`) reached through another record:
    its model's export_data filters it per record, a path cannot"""
    Target = Model_
    for i, name in enumerate(path):
        personal = getattr(Target, '_personal_data', ())
        if (name in personal and (i or Target is not Model_)
                and Target.personal_data_domain() is not None):
            raise _error('msg_guard_personal_export',
                model=Target.__names__()['model'])
        field = Target._fields.get(name)
        if field is None or not hasattr(field, 'get_target'):
            return
        Target = field.get_target()


def _guard_copy(Model_, records, default=None, *args, **kwargs):
    if default is not None:
        if not isinstance(default, dict):
            raise TypeError
        Model_.guard_values({
                k: v for k, v in default.items()
                if not isinstance(k, str) or '.' not in k})


def _guard_on_change(Model_, record, fieldnames, *args, **kwargs):
    if (not isinstance(fieldnames, (list, tuple))
            or not all(isinstance(n, str) and n in Model_._fields
                for n in fieldnames)):
        raise TypeError


def _guard_on_change_with(Model_, record, fieldnames, *args, **kwargs):
    _guard_on_change(Model_, record, fieldnames)
    if not all(hasattr(Model_, 'on_change_with_' + n) for n in fieldnames):
        raise TypeError


_RPC_GUARDS = {
    'on_change': _guard_on_change,
    'on_change_with': _guard_on_change_with,
    'create': _guard_create,
    'write': _guard_write,
    'read': _guard_read,
    'search': _guard_search,
    'search_count': _guard_search_count,
    'search_read': _guard_search_read,
    'export_data_domain': _guard_export_data_domain,
    'export_data': _guard_export_data,
    'copy': _guard_copy,
    }


def _guard_path(Model_, path):
    "Tell if the dotted path names fields from the model on"
    name, _, rest = path.partition('.')
    if name.startswith('_') and not rest:
        # _timestamp, _write, _delete of read
        return True
    field = Model_._fields.get(name)
    if field is None:
        return False
    if not rest:
        return True
    if not hasattr(field, 'get_target'):
        return False
    return _guard_path(field.get_target(), rest)


def _guard_order_item(Model_, item):
    if not isinstance(item, (list, tuple)) or len(item) != 2:
        return False
    path, direction = item
    if not isinstance(path, str) or not _path_field(Model_, path):
        return False
    if direction is None or direction == '':
        return True
    if not isinstance(direction, str):
        return False
    sort, _, nulls = direction.upper().partition(' ')
    return sort in _SORT and (nulls or None) in _NULLS


def _path_field(Model_, path):
    "Return the field at the end of the dotted path or None"
    field = None
    for name in path.split('.'):
        if field is not None:
            if not hasattr(field, 'get_target'):
                return None
            Model_ = field.get_target()
        field = Model_._fields.get(name)
        if field is None:
            return None
    return field


def _guard_domain(Model_, domain, depth=0):
    "Tell if the domain is well formed for the model"
    if depth > DOMAIN_DEPTH or not isinstance(domain, (list, tuple)):
        return False
    if not domain:
        return True
    if isinstance(domain[0], str) and domain[0] not in {'AND', 'OR'}:
        return _guard_leaf(Model_, domain, depth)
    items = domain[1:] if domain[0] in ('AND', 'OR') else domain
    return all(
        isinstance(d, (list, tuple)) and _guard_domain(Model_, d, depth + 1)
        for d in items)


def _guard_leaf(Model_, leaf, depth):
    if len(leaf) < 3 or len(leaf) > 4:
        return False
    path, operator, value = leaf[:3]
    if not isinstance(operator, str) or operator not in OPERATORS:
        return False
    name, _, rest = path.partition('.')
    field = Model_._fields.get(name)
    if field is None:
        return False
    target = field.get_target() if hasattr(field, 'get_target') else None
    if len(leaf) == 4:
        if not isinstance(leaf[3], str):
            return False
        if field._type == 'reference':
            try:
                target = Pool().get(leaf[3])
            except KeyError:
                return False
        elif not (target and leaf[3] in target._fields):
            return False
    if rest:
        if target is None:
            return False
        return _guard_leaf(target, (rest, operator, value), depth)
    if operator in {'where', 'not where'}:
        return target is not None and _guard_domain(target, value, depth + 1)
    if isinstance(value, (Query, Expression, PYSON)):
        return True
    if operator in {'in', 'not in'}:
        return (isinstance(value, (list, tuple))
            and all(_guard_search_value(field, v, operator) for v in value))
    return _guard_search_value(field, value, operator)


def _guard_search_value(field, value, operator):
    type_ = field._type
    if value is None or isinstance(value, Model):
        return True
    if isinstance(value, str):
        # text is compared with text and searched by name in relations
        return (len(value) <= SEARCH_TEXT_SIZE and not text_problem(value)
            and type_ in _SEARCH_TEXT_TYPES)
    if 'like' in operator:
        return False
    if type_ in _TEXT_TYPES | {'selection', 'multiselection', 'reference'}:
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -SQL_INTEGER_MAX <= value <= SQL_INTEGER_MAX or (
            type_ in {'numeric', 'float'} and abs(value) < 10 ** 15)
    if isinstance(value, float):
        return math.isfinite(value) and type_ in {'float', 'numeric'}
    if isinstance(value, Decimal):
        return value.is_finite() and type_ in {'float', 'numeric'}
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return type_ in {'date', 'datetime', 'timestamp', 'time', 'timedelta'}
    if isinstance(value, (list, tuple)):
        # child_of, parent_of and ranges of relations
        return (type_ in _RELATION_TYPES | _X2MANY_TYPES
            and all(_is_id(v) or isinstance(v, str) for v in value))
    return False


# Imported files

# The largest file and the most rows an import reads
IMPORT_SIZE = 2 * 1024 * 1024
IMPORT_ROWS = 5_000
XLSX_MAGIC = b'PK\x03\x04'


def read_table(data, filename, encodings=('utf-8-sig',)):
    """Return the rows of a CSV (in the first of encodings it decodes
    with, UTF-8 by default) or XLSX file as lists of text; raise a user
    error naming the file, and the row and column where it can, when the
    file is not what its name or content claims"""
    if not isinstance(filename, str):
        filename = ''
    name = filename or '—'
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _error('msg_guard_import_not_file', filename=name)
    data = bytes(data)
    if len(data) > IMPORT_SIZE:
        raise _error('msg_guard_import_size',
            filename=name, size=len(data), max_size=IMPORT_SIZE)
    is_xlsx = filename.lower().endswith('.xlsx')
    if data.startswith(XLSX_MAGIC) or is_xlsx:
        if not is_xlsx and filename and not filename.lower().endswith(
                '.xlsm'):
            raise _error('msg_guard_import_not_csv', filename=name)
        rows = _read_xlsx(data, name)
    else:
        rows = _read_csv(data, name, encodings)
    return [[_cell_text(c) for c in row] for row in rows]


def _cell_text(value):
    if value is None:
        return ''
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime):
        value = value.date() if not value.time() else value
    if isinstance(value, dt.date):
        return value.strftime('%d.%m.%Y')
    return str(value).strip()


def _read_xlsx(data, name):
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        workbook = load_workbook(
            io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > IMPORT_ROWS:
                raise _error('msg_guard_import_rows',
                    filename=name, max_rows=IMPORT_ROWS)
        return rows
    except ValidationError:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError,
            ValueError, TypeError, OSError, EOFError) as exception:
        raise _error('msg_guard_import_not_xlsx', filename=name) \
            from exception


def _read_csv(data, name, encodings=('utf-8-sig',)):
    first = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exception:
            first = first or exception
    else:
        raise _encoding_error(data, first.start, name) from first
    if '\x00' in text:
        raise _encoding_error(data, data.index(b'\x00'), name)
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=';,\t')
    except csv.Error:
        dialect = csv.excel
    rows = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > IMPORT_ROWS:
                raise _error('msg_guard_import_rows',
                    filename=name, max_rows=IMPORT_ROWS)
    except csv.Error as exception:
        raise _error('msg_guard_import_row',
            filename=name, row=reader.line_num) from exception
    return rows


def _encoding_error(data, position, name):
    "Return the error of a byte not in UTF-8 at position of the CSV data"
    line_start = data.rfind(b'\n', 0, position) + 1
    row = data.count(b'\n', 0, position) + 1
    prefix = data[line_start:position].decode('utf-8', 'replace')
    delimiter = max(';,\t', key=prefix.count)
    column = prefix.count(delimiter) + 1 if prefix else 1
    return _error('msg_guard_import_encoding',
        filename=name, row=row, column=column)


def guard_cell(Model_, field_name, value, filename, row, column):
    "Raise a user error naming the cell unless value fits the field"
    try:
        Model_.guard_values({field_name: value})
    except ValidationError as exception:
        raise _error('msg_guard_import_cell', filename=filename or '—',
            row=row, column=column, error=exception.message) from exception
