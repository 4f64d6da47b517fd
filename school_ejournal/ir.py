# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.pool import Pool, PoolMeta

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
