# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"Every test of the module runs at the day of clock.school_today()"
import pytest

from school_ejournal.tests.clock import travel


@pytest.fixture(autouse=True)
def school_clock():
    with travel():
        yield
