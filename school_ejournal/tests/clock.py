# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The day the tests run on, whatever the machine's clock says.

Every test of the modules runs at one fixed day (``DEFAULT_TODAY``, or the
day of ``$SCHOOL_TODAY`` as YYYY-MM-DD) with the clock moved there by
time-machine: ``datetime.date.today()``, ``datetime.now()`` and so
``ir.date.today()`` answer that day, and time goes on from 10:00 Moscow
time.  A scenario's ``.json`` may give a ``today`` per configuration, so the
same story runs at the calendar's edges (``CALENDAR_EDGES``).

    SCHOOL_TODAY=2027-08-31 setup/test --sqlite-only
"""
import datetime as dt
import os

import time_machine

# A Tuesday of the second quarter of the Russian school year
DEFAULT_TODAY = dt.date(2026, 11, 17)

# The days a story about "today" is tried on (quarters as in
# tools.create_school: 1 Sep–26 Oct, 5 Nov–28 Dec, 12 Jan–22 Mar,
# 1 Apr–26 May): a Monday and a Saturday of a term, a day of the autumn
# holidays, the first day of the year, the last day of summer (no current
# period), the last day of the calendar year, a day of the winter
# holidays, the first and the last day of a quarter, the 29th of February.
CALENDAR_EDGES = [
    dt.date(2026, 11, 16),  # Monday of the 2nd quarter
    dt.date(2026, 11, 21),  # Saturday of the 2nd quarter
    dt.date(2026, 11, 2),  # autumn holidays
    dt.date(2026, 9, 1),  # the first day of the year
    dt.date(2027, 8, 31),  # summer: no current period
    dt.date(2026, 12, 31),  # the last day of the calendar year
    dt.date(2027, 1, 9),  # a Saturday of the winter holidays
    dt.date(2027, 1, 12),  # the first day of the 3rd quarter
    dt.date(2027, 3, 22),  # the last day of the 3rd quarter
    dt.date(2028, 2, 29),  # a leap day
    ]

MOSCOW = dt.timezone(dt.timedelta(hours=3))


def school_today():
    "Return the day the tests run on"
    value = os.environ.get('SCHOOL_TODAY')
    return dt.date.fromisoformat(value) if value else DEFAULT_TODAY


def travel(day=None):
    "Return a time-machine travel to 10:00 of the day, the clock running"
    day = day or school_today()
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    return time_machine.travel(
        dt.datetime.combine(day, dt.time(10, 0), tzinfo=MOSCOW), tick=True)
