# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from decimal import Decimal

from trytond.modules.company.tests import CompanyTestMixin
from trytond.pool import Pool
from trytond.tests import test_tryton

from ..audit import window_dates


class SchoolEjournalReportsTestCase(
        CompanyTestMixin, test_tryton.ModuleTestCase):
    "Test the school e-journal reports module"
    module = 'school_ejournal_reports'

    def test_window_dates(self):
        "A window runs from the start of its week, month or half to the date"
        day = dt.date(2026, 11, 19)
        for window, start in [
                ('week', dt.date(2026, 11, 16)),
                ('month', dt.date(2026, 11, 1)),
                ('half', dt.date(2026, 9, 1)),
                ('year', dt.date(2026, 9, 1)),
                ]:
            with self.subTest(window=window):
                self.assertEqual(
                    window_dates(window, day), (start, day))
        self.assertEqual(window_dates('half', dt.date(2027, 2, 3)),
            (dt.date(2027, 1, 1), dt.date(2027, 2, 3)))

    @test_tryton.with_transaction()
    def test_accumulation_due(self):
        "The marks due scale with the weekly hours as the settings say"
        pool = Pool()
        Run = pool.get('school.audit.run')
        run = Run()
        for hours, week_3, week_4, term in [
                (1, 0, 2, 3),
                (2, 1, 2, 5),
                (3, 1, 2, 8),
                (5, 2, 4, 13),
                (6, 3, 6, 15),
                ]:
            with self.subTest(hours=hours):
                self.assertEqual(
                    [run._accumulation_due(c, Decimal(hours))
                        for c in ['week_3', 'week_4', 'term']],
                    [week_3, week_4, term])
