# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests import test_tryton


class SchoolEjournalReportsTestCase(
        CompanyTestMixin, test_tryton.ModuleTestCase):
    "Test the school e-journal reports module"
    module = 'school_ejournal_reports'
