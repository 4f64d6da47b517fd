# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""pytest configuration of the cross-module tests.

Each ``tests/scenario_*.rst`` (a proteus doctest spanning several modules)
is collected as one test per configuration, run like the modules' own
scenarios (see ``school_ejournal/tests/test_scenario.py``).
"""
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent


def pytest_collect_file(file_path, parent):
    if (file_path.suffix == '.rst'
            and file_path.name.startswith('scenario_')
            and file_path.resolve().parent == HERE):
        return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):

    def collect(self):
        from school_ejournal.tests.test_scenario import find_scenarios
        for id_, path, globs in find_scenarios(self.path.parent):
            if pathlib.Path(path).name == self.path.name:
                yield ScenarioItem.from_parent(
                    self, name=id_, scenario_path=path, globs=globs)


class ScenarioItem(pytest.Item):

    def __init__(self, *, scenario_path, globs, **kwargs):
        super().__init__(**kwargs)
        self.scenario_path = scenario_path
        self.globs = globs

    def runtest(self):
        from school_ejournal.tests.test_scenario import run_scenario
        try:
            run_scenario(self.scenario_path, self.globs)
        except AssertionError as exception:
            report = str(exception)
        else:
            return
        pytest.fail(report, pytrace=False)  # outside except: no chained copy

    def reportinfo(self):
        return self.path, 0, f'scenario: {self.name}'
