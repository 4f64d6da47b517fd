# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
import datetime as dt

import time_machine

from trytond.modules.company.tests import CompanyTestMixin
from trytond.pool import Pool
from trytond.tests import test_tryton

from ..diary import trend_chart


class SchoolEjournalMessagingTestCase(
        CompanyTestMixin, test_tryton.ModuleTestCase):
    "Test the school e-journal messaging module"
    module = 'school_ejournal_messaging'

    @test_tryton.with_transaction()
    def test_session_expires(self):
        "An idle session ends after its timeout and is deleted"
        pool = Pool()
        Session = pool.get('school.diary.session')
        User = pool.get('res.user')
        user, = User.create([{'login': 'mother'}])
        token, session = Session.start(user.id)
        self.assertNotIn(token, session.key)
        self.assertEqual(Session.find(token), session)
        self.assertIsNone(Session.find(token + 'x'))
        with time_machine.travel(
                dt.datetime.now() + dt.timedelta(hours=1), tick=False):
            self.assertIsNone(Session.find(token))
        self.assertEqual(Session.search([]), [])

    @test_tryton.with_transaction()
    def test_session_end_and_clean(self):
        "Signing out and the scheduled clean delete sessions"
        pool = Pool()
        Session = pool.get('school.diary.session')
        User = pool.get('res.user')
        user, = User.create([{'login': 'mother'}])
        token, _ = Session.start(user.id)
        Session.end(token)
        self.assertIsNone(Session.find(token))
        Session.start(user.id)
        with time_machine.travel(
                dt.datetime.now() + dt.timedelta(days=1), tick=False):
            Session.clean()
        self.assertEqual(Session.search([]), [])

    def test_trend_chart(self):
        "The trend is drawn inside its box, 5 at the top"
        self.assertIsNone(trend_chart([]))
        self.assertIsNone(trend_chart([4]))
        chart = trend_chart([5, 3, 1], width=100, height=20, pad=0)
        self.assertEqual(chart['points'], '0.0,0.0 50.0,10.0 100.0,20.0')
