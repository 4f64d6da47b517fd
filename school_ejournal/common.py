# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.model import fields


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
