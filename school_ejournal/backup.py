# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The scheduled backup: trytond-cron runs the code of setup/backup
(backup_archive.py) on the school's database every night, keeps the
number of daily and weekly archives the settings say, and records how the
last run went for the administrator."""
import datetime as dt
import logging
import subprocess
from pathlib import Path

from trytond import config
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from . import backup_archive
from .common import ClosedFieldsMixin
from .validation import ValidationMixin

logger = logging.getLogger(__name__)


def backup_folder():
    """The folder of the scheduled archives: `[school] backup_folder` of
    trytond.conf, or `backups` in the database path; a server's folder is
    set by whoever runs the server, not through the web"""
    folder = config.get('school', 'backup_folder', default=None)
    if folder:
        return Path(folder)
    return Path(config.get('database', 'path')) / 'backups'


class BackupConfiguration(
        ValidationMixin, ClosedFieldsMixin, ModelSingleton, ModelSQL,
        ModelView):
    "The scheduled backup's settings and its last run"
    __name__ = 'school.backup.configuration'
    # How the last run went is written by the backup itself
    _system_fields = frozenset({
            'last_run', 'last_state', 'last_archive', 'last_error',
            'last_success'})

    keep_daily = fields.Integer(
        "Daily Archives Kept", required=True,
        domain=[('keep_daily', '>=', 1), ('keep_daily', '<=', 366)],
        help="The newest archive of each of these last days with a backup "
        "is kept.")
    keep_weekly = fields.Integer(
        "Weekly Archives Kept", required=True,
        domain=[('keep_weekly', '>=', 0), ('keep_weekly', '<=', 520)],
        help="Besides the daily ones, the newest archive of each of these "
        "weeks before them is kept.")
    folder = fields.Function(
        fields.Char("Folder", help="Set in the server's configuration "
            "([school] backup_folder)."), 'get_folder')
    last_run = fields.Timestamp("Last Run", readonly=True)
    last_state = fields.Selection([
            (None, ""),
            ('done', "Done"),
            ('failed', "Failed"),
            ], "Last Result", readonly=True)
    last_archive = fields.Char("Last Archive", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    last_success = fields.Timestamp("Last Successful Backup", readonly=True)

    @classmethod
    def default_keep_daily(cls):
        return 7

    @classmethod
    def default_keep_weekly(cls):
        return 4

    def get_folder(self, name):
        return str(backup_folder())

    @classmethod
    @without_check_access
    def run_backup(cls):
        """Back up the database into the folder and prune the archives by
        the retention; a failure is logged, recorded and notified to the
        administrators, and removes nothing"""
        settings = cls(1)
        database = Transaction().database.name
        folder = backup_folder()
        now = dt.datetime.now()
        try:
            db = backup_archive.Database(None, database)
            archive = backup_archive.backup(
                db, folder, settings.keep_daily, settings.keep_weekly)
        except (backup_archive.BackupError, subprocess.CalledProcessError,
                OSError) as exception:
            logger.error(
                "scheduled backup of %s into %s failed: %s",
                database, folder, exception)
            cls.write([settings], {
                    'last_run': now,
                    'last_state': 'failed',
                    'last_error': str(exception),
                    })
            cls.notify_failure(database, exception)
            return None
        logger.info("scheduled backup of %s: %s", database, archive)
        cls.write([settings], {
                'last_run': now,
                'last_state': 'done',
                'last_archive': archive.name,
                'last_error': None,
                'last_success': now,
                })
        return archive

    @classmethod
    def notify_failure(cls, database, exception):
        "Tell every school administrator that the backup failed"
        pool = Pool()
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        ActWindow = pool.get('ir.action.act_window')
        group = ModelData.get_id('school_ejournal', 'group_school_admin')
        action = ActWindow(ModelData.get_id(
                'school_ejournal', 'act_backup_configuration_form')).action
        users = User.search([
                ('groups', '=', group),
                ('active', '=', True),
                ])
        notices = []
        for user in users:
            # In the administrator's language, not the scheduler's
            language = user.language.code if user.language else None
            with Transaction().set_context(language=language):
                label = gettext('school_ejournal.msg_backup_failed',
                    database=database)
            notices.append({
                    'user': user.id,
                    'label': label,
                    'description': str(exception)[:500],
                    'icon': 'tryton-warning',
                    'action': action.id,
                    })
        Notification.create(notices)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('school.backup.configuration|run_backup',
                "Back Up the School's Database"))
