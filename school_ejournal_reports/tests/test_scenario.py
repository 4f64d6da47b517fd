# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from school_ejournal.tests.test_scenario import scenario_tests

test_scenario, pytest_generate_tests, load_tests = scenario_tests(
    __name__, __file__)
