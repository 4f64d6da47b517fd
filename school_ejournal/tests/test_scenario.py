# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Run the proteus scenarios ``scenario_*.rst`` of this folder.

pytest ignores ``load_tests``, so a module's scenarios are turned here into
one pytest test each (``test_scenario[scenario_x.rst]``, or
``test_scenario[scenario_x.rst-1]`` for the second configuration of a
``scenario_x.json``), run exactly as ``trytond.tests.test_tryton.
load_doc_tests`` runs them: same setUp/tearDown, output checker and option
flags.  ``load_tests`` is kept for ``python -m unittest``.

Another module's ``tests/test_scenario.py`` only needs::

    from school_ejournal.tests.test_scenario import (
        scenario_tests)

    test_scenario, pytest_generate_tests, load_tests = scenario_tests(
        __name__, __file__)
"""
import doctest
import json
import os
import pathlib

from trytond import backend
from trytond.tests import test_tryton

from .clock import CALENDAR_EDGES, travel


def optionflags():
    "The doctest option flags of test_tryton.load_doc_tests"
    flags = (
        doctest.REPORT_ONLY_FIRST_FAILURE
        | doctest.ELLIPSIS
        | doctest.IGNORE_EXCEPTION_DETAIL)
    if backend.name == 'sqlite':
        flags |= test_tryton.STRIP_DECIMAL
    return flags


def expand(config):
    """Return the configurations of one entry of a scenario's .json:
    ``"today": "calendar edges"`` gives one per day of clock.CALENDAR_EDGES"""
    if config.get('today') == 'calendar edges':
        return [dict(config, today=day.isoformat()) for day in CALENDAR_EDGES]
    return [config]


def find_scenarios(directory):
    """Return [(id, path, globs)] for the scenario_*.rst of directory,
    one per configuration of the scenario's .json (if any)"""
    result = []
    for path in sorted(pathlib.Path(directory).glob('scenario_*.rst')):
        config = path.with_suffix('.json')
        if config.exists():
            with config.open(encoding='utf-8') as fp:
                configs = json.load(fp)
        else:
            configs = [{}]
        configs = [c for entry in configs for c in expand(entry)]
        for i, globs in enumerate(configs):
            if 'today' in globs:
                id_ = f"{path.name}-{globs['today']}"
            else:
                id_ = path.name if i == 0 else f'{path.name}-{i}'
            result.append((id_, str(path), globs))
    return result


def run_scenario(path, globs=None):
    """Run one scenario; raise AssertionError carrying doctest's report
    (failed example, expected and got) when it fails.

    The scenario runs at the day of globs['today'] (YYYY-MM-DD) when given,
    else at clock.school_today(), the clock moved there by time-machine."""
    globs = dict(globs or {})
    with travel(globs.pop('today', None)):
        _run_scenario(path, globs)


def _run_scenario(path, globs):
    suite = doctest.DocFileSuite(
        os.path.abspath(path), module_relative=False,
        globs=globs,
        setUp=test_tryton.doctest_setup,
        tearDown=test_tryton.doctest_teardown,
        encoding='utf-8',
        checker=test_tryton.doctest_checker,
        optionflags=optionflags())
    for case in suite:
        case.setUp()
        try:
            case.runTest()
        finally:
            case.tearDown()


def scenario_tests(name, file):
    """Return (test_scenario, pytest_generate_tests, load_tests) for the
    scenarios next to file (a test module's __file__; name its __name__)"""
    directory = os.path.dirname(os.path.abspath(file))

    def test_scenario(scenario):
        import pytest
        path, globs = scenario
        try:
            run_scenario(path, globs)
        except AssertionError as exception:
            report = str(exception)
        else:
            return
        pytest.fail(report, pytrace=False)  # outside except: no chained copy
    test_scenario.__module__ = name
    test_scenario.__doc__ = f"Run the scenario_*.rst of {directory}"

    def pytest_generate_tests(metafunc):
        if metafunc.definition.name == 'test_scenario':
            scenarios = find_scenarios(directory)
            metafunc.parametrize(
                'scenario', [(p, g) for _, p, g in scenarios],
                ids=[i for i, _, _ in scenarios])

    def load_tests(*args, **kwargs):
        return test_tryton.load_doc_tests(name, file, *args, **kwargs)

    return test_scenario, pytest_generate_tests, load_tests


test_scenario, pytest_generate_tests, load_tests = scenario_tests(
    __name__, __file__)
