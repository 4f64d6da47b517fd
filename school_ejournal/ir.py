# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from secrets import compare_digest
from zoneinfo import ZoneInfo

from sql import Null
from sql.conditionals import Coalesce

import trytond.config as config
from trytond import backend
from trytond.cache import Cache
from trytond.pool import Pool, PoolMeta
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction

_SCHOOL_RULE_PREFIX = 'school.'
# Other models whose rules use the school scope
_SCHOOL_RULE_MODELS = {'party.party', 'res.user'}


def _school_model(model_name):
    return (model_name.startswith(_SCHOOL_RULE_PREFIX)
        or model_name in _SCHOOL_RULE_MODELS)


def _school_models(model_names):
    return any(_school_model(m) for m in model_names)


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        if _school_model(model_name):
            context.update(
                ('school_' + k, v) for k, v in User.get_school_scope().items())
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        if _school_models(model_names):
            key = (*key, tuple(sorted(User.get_school_scope().items())))
        return key


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('school.student|remind_data_check',
                "Remind Class Teachers to Check Personal Data"))


class Session(metaclass=PoolMeta):
    __name__ = 'ir.session'

    @classmethod
    def check(cls, user, key, domain=None):
        """Check the key as trytond does, on every authenticated request,
        with one python-sql query of the user's sessions from the address
        instead of an ORM search and read of them (about half the cost of a
        call that does nothing, more for a user who signed in from several
        places): the same sessions, the same answer, the expired ones
        deleted through the ORM as trytond does"""
        if domain:
            return super().check(user, key, domain=domain)
        now = dt.datetime.now()
        timeout = dt.timedelta(seconds=config.getint('session', 'max_age'))
        ip_address, _ = Transaction().remote_address()
        table = cls.__table__()
        where = table.create_uid == user
        if ip_address:
            where &= table.ip_address == str(ip_address)
        else:
            where &= table.ip_address == Null
        query = table.select(table.id, table.key,
            table.create_date.as_('created'),
            Coalesce(table.write_date, table.create_date).as_('modified'),
            where=where)
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, None, 'DATETIME', 'DATETIME'])
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        find, last_reset = None, None
        to_delete = []
        for id_, session_key, create_date, last_modified in cursor:
            if abs(create_date - now) < timeout:
                if compare_digest(session_key, key):
                    find = True
                    last_reset = last_modified
            else:
                if find is None and compare_digest(session_key, key):
                    find = False
                to_delete.append(id_)
        if to_delete:
            cls.delete(cls.browse(to_delete))
        if find:
            cls._session_reset_cache.set(key, last_reset)
        return find


class Date(metaclass=PoolMeta):
    __name__ = 'ir.date'

    # The time zone of each school (company), read once per worker instead
    # of once per call of today(): twice in a grid save, twice in an
    # e-diary page; forgotten when a company changes
    _timezones = Cache('school_ejournal.company_timezone', context=False)

    @classmethod
    def today(cls, timezone=None):
        pool = Pool()
        Company = pool.get('company.company')
        company_id = Transaction().context.get('company')
        if timezone is None and company_id is not None and company_id >= 0:
            name = cls._timezones.get(company_id, False)
            if name is False:
                name = Company(company_id).timezone
                cls._timezones.set(company_id, name)
            if name:
                timezone = ZoneInfo(name)
        return super().today(timezone=timezone)
