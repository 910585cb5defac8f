"""Fixtures shared by the harness tests.

The suite runs under pytest-xdist (`-n auto --dist loadgroup`, see README). Three things follow:
- Tests marked `xdist_group` must share a worker (their module fixture is made once). xdist
  3.8 marks a group by setting `item._nodeid`, which pytest 9 no longer reads (it keeps
  `item._id`), so groups were silently ignored; the hook below sets the id pytest 9 reads.
- xdist tells its workers who they are through PYTEST_XDIST_* variables, which every pytest
  these tests start would inherit — and pytest-benchmark switches itself off when it sees
  them. They are dropped here, at import time in each worker.
- A session fixture runs once per worker. The two full runs of the checks (solutions, stubs)
  are made once per test session instead: the first worker to need one runs it under a file
  lock in the folder all workers share, the others read what it stored.

Tests that run the checks, a grader, a release, a build or torch ranks in subprocesses carry
`@pytest.mark.slow` (a module's `pytestmark` where all of its tests do): `pytest -m "not slow"`
is the fast lane, the pure modules and the plugin (tests/test_plugin.py, through `pytester`).
"""
import dataclasses
import json
import os

import pytest
from _pytest.nodeid import coerce_node_id  # private, pinned pytest 9.2: see the module docstring
from filelock import FileLock
from gradelib import Run, run_checks

from dlgrade.core import i18n

for _name in [name for name in os.environ if name.startswith("PYTEST_XDIST_")]:
    del os.environ[_name]


def once_per_session(request, tmp_path_factory, name: str, make) -> Run:
    """`make(folder)` run once per test session, whichever xdist worker asks first."""
    root = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # an xdist worker: the parent is this session's shared folder
        root = root.parent
    stored = root / f"{name}-run.json"
    with FileLock(str(root / f"{name}-run.lock")):
        if stored.exists():
            return Run(**json.loads(stored.read_text()))
        folder = root / f"{name}-run"
        folder.mkdir(exist_ok=True)
        run = make(folder)
        stored.write_text(json.dumps(dataclasses.asdict(run)))
        return run


@pytest.fixture(autouse=True)
def _the_language_of_this_process_is_put_back():
    """A test that runs a dlgrade command in this process with --lang sets the process's language; the
    next test on this worker must not read its messages in it."""
    lang = i18n.get_lang()
    yield
    i18n.set_lang(lang)


@pytest.fixture(scope="session")
def solutions_run(request, tmp_path_factory) -> Run:
    """Every check on the reference solutions, once per session."""
    return once_per_session(request, tmp_path_factory, "solutions", lambda folder: run_checks(
        folder / "results.json", "checks", "--durations=10", target="solutions"))


@pytest.fixture(scope="session")
def stubs_run(request, tmp_path_factory) -> Run:
    """Every check on the shipped stubs (exercises/), once per session, in Chinese.

    Chinese because a learner's first run is the one that most needs it and the catalogue test
    (tests/test_i18n.py) reads it; the other stub tests go by statuses, not words. Nothing is
    recorded in the repository's .dlgrade/.
    """
    return once_per_session(request, tmp_path_factory, "stubs", lambda folder: run_checks(
        folder / "results.json", "checks", "--lang", "zh", "--dlgrade-record", "none",
        extra_env={"DLGRADE_LANG": "zh"}))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give grouped tests the `<nodeid>@<group>` id xdist's loadgroup scheduler goes by."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{mark.args[0]}")
            assert item.nodeid.endswith(f"@{mark.args[0]}"), "pytest's node ids changed: see tests/conftest.py"
