# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The scheduled backup: its retention rule on archives dated over several
weeks (the tests' fixed clock), its settings closed to all but the school
administrator, and a run of trytond-cron's task: on PostgreSQL an archive
is written and the older ones pruned by the rule; a failing backup is
logged, recorded in the settings, notified to the administrators and
removes nothing."""
import datetime as dt
import os
import tarfile
import unittest
from pathlib import Path
from tempfile import TemporaryDirectory

from proteus import Model

from trytond import config as tryton_config
from trytond.model.exceptions import AccessError
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules, set_user

from ..backup_archive import archive_time, retained
from .clock import school_today, travel
from .tools import create_user

TODAY = school_today()
NAME = 'school'
POSTGRESQL = os.environ.get(
    'TRYTOND_DATABASE_URI', '').startswith('postgresql')


def stamp(day, hour=3):
    return f'{NAME}-{day:%Y%m%d}-{hour:02d}0000.tar.gz'


class RetentionTestCase(unittest.TestCase):
    "Which archives the rule keeps"

    def kept(self, names, keep_daily, keep_weekly):
        archives = [(archive_time(Path(n), NAME), n) for n in names]
        return sorted(retained(archives, keep_daily, keep_weekly))

    def test_daily_and_weekly(self):
        "7 daily and 4 weekly of six weeks of nightly backups: 11 kept"
        # A backup every night of the six weeks up to the tests' day, two
        # on the last day
        days = [TODAY - dt.timedelta(days=n) for n in range(42)]
        names = [stamp(d) for d in days] + [stamp(TODAY, 22)]
        kept = self.kept(names, 7, 4)
        # The 7 last days (the last day's newest only), then the newest of
        # each of the 4 weeks before them: the Sundays
        daily = [stamp(TODAY - dt.timedelta(days=n)) for n in range(1, 7)]
        daily.append(stamp(TODAY, 22))
        first_daily = TODAY - dt.timedelta(days=6)
        sunday = first_daily - dt.timedelta(days=first_daily.isoweekday())
        weekly = [stamp(sunday - dt.timedelta(weeks=n)) for n in range(4)]
        self.assertEqual(len(kept), 11)
        self.assertEqual(kept, sorted(daily + weekly))
        self.assertIn(stamp(TODAY, 22), kept)
        self.assertNotIn(stamp(TODAY), kept)

    def test_gaps(self):
        "Days without a backup do not count; the newest is always kept"
        # Backups stopped three weeks ago: the last ones are kept
        last = TODAY - dt.timedelta(weeks=3)
        names = [stamp(last - dt.timedelta(days=n)) for n in range(30)]
        kept = self.kept(names, 2, 1)
        # The last two days, then the newest of the week before the second
        # one's: its Sunday
        second = last - dt.timedelta(days=1)
        sunday = second - dt.timedelta(days=second.isoweekday())
        self.assertEqual(kept, sorted(
                [stamp(last), stamp(second), stamp(sunday)]))
        self.assertEqual(len(kept), 3)
        self.assertEqual(self.kept(names, 1, 0), [stamp(last)])


class ScheduledBackupTestCase(unittest.TestCase):
    "The settings and trytond-cron's task"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with travel():
            cls.config = activate_modules('school_ejournal')
            cls.admin = create_user('direktor_it', ['school_admin'])
            cls.teacher = create_user('uchitel', ['teacher'])

    @classmethod
    def tearDownClass(cls):
        # The database's connections closed, for the next test's database
        drop_db()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        tmp = TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.folder = Path(tmp.name) / 'backups'
        self.folder.mkdir()
        if not tryton_config.has_section('school'):
            tryton_config.add_section('school')
        tryton_config.set('school', 'backup_folder', str(self.folder))
        self.addCleanup(tryton_config.set, 'school', 'backup_folder', '')
        self.addCleanup(set_user, 1, config=self.config)
        # Old archives of this database: a night's backup for five weeks
        self.old = [
            self.folder / f'{DB_NAME}-{TODAY - dt.timedelta(days=n):%Y%m%d}'
            '-030000.tar.gz' for n in range(1, 36)]
        for path in self.old:
            path.write_bytes(b'old archive')

    def settings(self, keep_daily, keep_weekly):
        "The administrator sets the retention"
        set_user(self.admin, config=self.config)
        Settings = Model.get('school.backup.configuration')
        settings = Settings(1)
        settings.keep_daily = keep_daily
        settings.keep_weekly = keep_weekly
        settings.save()
        return settings

    def run_cron(self):
        "Run the task as trytond-cron does"
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(DB_NAME, 0) as transaction:
            Cron = Pool().get('ir.cron')
            crons = Cron.search([
                    ('method', '=',
                        'school.backup.configuration|run_backup'),
                    ])
            self.assertEqual(len(crons), 1)
            Cron.run_once(crons)
            transaction.commit()

    def last_run(self):
        set_user(self.admin, config=self.config)
        return Model.get('school.backup.configuration')(1)

    def test_settings_closed_to_staff(self):
        "Only the school administrator reads and sets the backups"
        settings = self.settings(5, 3)
        self.assertEqual((settings.keep_daily, settings.keep_weekly), (5, 3))
        self.assertEqual(settings.folder, str(self.folder))
        set_user(self.teacher, config=self.config)
        Settings = Model.get('school.backup.configuration')
        with self.assertRaises(AccessError):
            Settings(1).keep_daily

    def test_failing_backup(self):
        "A failing backup is logged, recorded, notified; nothing removed"
        self.settings(1, 0)
        path = os.environ.get('PATH', '')
        if POSTGRESQL:
            # The server has no pg_dump
            os.environ['PATH'] = str(self.folder)
            self.addCleanup(os.environ.__setitem__, 'PATH', path)
        # (on SQLite, the tests' database is in memory: nothing to copy)
        with self.assertLogs(level='ERROR') as logs:
            self.run_cron()
        os.environ['PATH'] = path
        self.assertTrue(any('scheduled backup of' in line
                for line in logs.output), logs.output)
        settings = self.last_run()
        self.assertEqual(settings.last_state, 'failed')
        self.assertTrue(settings.last_error)
        self.assertEqual(sorted(self.folder.iterdir()), sorted(self.old))
        Notification = Model.get('res.notification')
        notices = Notification.find([('user', '=', self.admin.id)])
        self.assertTrue(notices)
        self.assertIn(DB_NAME, notices[0].label)

    @unittest.skipUnless(POSTGRESQL, "the tests' SQLite database is in "
        "memory (setup/backup of a file: tests/test_backup.py)")
    def test_backup_and_prune(self):
        "The nightly task writes an archive and keeps 3 daily + 2 weekly"
        self.settings(3, 2)
        self.run_cron()
        settings = self.last_run()
        self.assertEqual(settings.last_state, 'done', settings.last_error)
        new = self.folder / settings.last_archive
        with tarfile.open(new) as tar:
            self.assertIn('manifest.json', tar.getnames())
        kept = sorted(p.name for p in self.folder.iterdir())
        self.assertEqual(len(kept), 5)
        self.assertEqual(kept[-1], new.name)
        # The tests' day is a Tuesday: daily the new one, Monday and
        # Sunday; weekly the two Sundays before
        expected = [TODAY - dt.timedelta(days=n) for n in [1, 2, 9, 16]]
        self.assertEqual(kept[:-1], sorted(
                f'{DB_NAME}-{d:%Y%m%d}-030000.tar.gz' for d in expected))
