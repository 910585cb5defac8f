"""Fixtures shared by the harness tests."""
import pytest

from gradelib import run_checks


@pytest.fixture(scope="session")
def solutions_run(tmp_path_factory):
    """Every check on the reference solutions, once per session."""
    return run_checks(tmp_path_factory.mktemp("solutions") / "results.json", "checks", "--durations=10",
                      target="solutions")


@pytest.fixture(scope="session")
def stubs_run(tmp_path_factory):
    """Every check on the shipped stubs (exercises/), once per session."""
    return run_checks(tmp_path_factory.mktemp("stubs") / "results.json", "checks")
