from school_ejournal.tests.test_scenario import scenario_tests

test_scenario, pytest_generate_tests, load_tests = scenario_tests(
    __name__, __file__)
