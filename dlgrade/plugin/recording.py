"""Each check's result: kept as the run goes, written where asked, recorded for the learner.

- `--dlgrade-json PATH`: Gradescope results.json, rewritten after every result (a run that dies
  leaves the results so far) and at the end;
- `--dlgrade-progress PATH`: {collected, items, current, done}, for progress bars and to know
  which check a crashed run was in;
- runs on the learner's exercises/ are merged into .dlgrade/last-results.json with a dated line
  in the history (dlgrade/core/records.py), where `next`, `report --cached` and the charts read them.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from dlgrade.core import records
from dlgrade.core.jsonio import write_json_atomic
from dlgrade.core.project import Project
from dlgrade.core.results import PASSED, CheckResult, gradescope
from dlgrade.plugin.state import STATE_KEY, GradingState, state_of

# user_properties the plugin sets itself; any other (a check's record_property) is a measurement
# shown to the learner in the summary.
HARNESS_PROPERTIES = ("item", "dlgrade_status", "dlgrade_hint")


def write_json(state: GradingState) -> None:
    if state.json_path:
        data = gradescope(state.ordered_results(), state.curriculum, state.lang, time.monotonic() - state.started)
        write_json_atomic(Path(state.json_path), data)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    state = state_of(item.config)
    if state.progress_path:
        state.progress["current"] = item.nodeid
        state.write_progress()


def keep_result(state: GradingState, item: pytest.Item, item_of_check: str, report: pytest.TestReport,
                status: str, message: str) -> None:
    """Keep the check's result: a failed or skipped setup, else the call; a failing teardown
    spoils a pass. A passed setup is not a result yet (a run that dies in the call must not
    leave the check looking passed), only its duration is kept."""
    if report.when == "setup" and report.passed:
        state.setup_seconds[item.nodeid] = report.duration
        return
    previous = state.results.get(item.nodeid)
    if report.when == "teardown" and (previous is None or not report.failed or previous.status != PASSED):
        return
    marker = item.get_closest_marker("item")
    weight = float(marker.kwargs.get("weight", 1.0)) if marker else 1.0
    measured = {key: value for key, value in item.user_properties if key not in HARNESS_PROPERTIES}
    state.results[item.nodeid] = CheckResult(
        nodeid=item.nodeid, item=item_of_check, status=status, output=message, weight=weight,
        duration=state.setup_seconds.get(item.nodeid, 0.0) + report.duration, visibility=state.visibility,
        measured=measured,
    )
    state.progress["done"] = len(state.results)
    write_json(state)
    state.write_progress()


def record(state: GradingState) -> None:
    """Merge this run's results into the learner's store and add a dated line to the history."""
    if state.record_path is None or not state.results or hasattr(state.config, "workerinput"):
        return
    when = records.now()
    extra, prints = {}, {}
    for nodeid in state.results:
        check_file = records.check_file_of(nodeid)
        if check_file not in prints:
            path = state.config.rootpath / check_file
            prints[check_file] = records.fingerprint(path, state.target.root, state.lang) if path.exists() else ""
        extra[nodeid] = {"recorded_at": when, "fingerprint": prints[check_file]}
    state.recorded = records.merge(state.record_path, state.ordered_results(), extra, state.target.label,
                                   state.complete_files, state.curriculum)
    records.append_history(state.record_path, state.target.label, records.summary(
        state.curriculum, state.recorded, records.self_assessed_done(Project.locate().progress_file)))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The results as they stand at the end, before the summary's next step reads them."""
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None:
        write_json(state)
        record(state)
