#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""setup/backup and setup/restore: the code is the module's
(school_ejournal/backup_archive.py), shared with the scheduled backup of
trytond-cron."""
import sys

from school_ejournal.backup_archive import *  # noqa: F401,F403
from school_ejournal.backup_archive import main

if __name__ == '__main__':
    sys.exit(main())
