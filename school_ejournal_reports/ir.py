# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('school.audit.run|run_weekly',
                    "Run the Weekly Journal Analysis"),
                ('school.audit.run|run_monthly',
                    "Run the Monthly Journal Analysis"),
                ('school.audit.run|run_term',
                    "Run the Term Journal Analysis"),
                ])
