"""The grader's side of a `dlgrade grade` pytest run (loaded with `-p dlgrade.grading.run_guard`).

- `--dlgrade-channel FD`: the run reports to the grader over this pipe, which the grader owns,
  never through the file system: JSON lines `{"collected": {nodeid: {item, weight, time_limit,
  optional}}}` (with --collect-only), `{"current": nodeid}` as each check starts and
  `{"result": {nodeid, status, output, duration}}` as it ends. `dlgrade grade` collects with no
  submission, so the list of checks, their items, weights and limits never come from a process
  that ran learner code; what a graded run says is only believed for checks the grader collected.
- `--dlgrade-time-cap S`: no check's limit above S seconds (instructors trading thoroughness
  for speed, and the hostile-submission tests).
- The grader's canary check (a file the grader writes, with a name made afresh for each run)
  is moved to the end of the run, after learner code had every chance to patch pytest.
- `@pytest.mark.optional`: a check the instructor marked optional (it may skip, e.g. without
  the real model); any other check that does not pass scores 0 in a grade.
"""
from __future__ import annotations

import json
import os
from collections.abc import Generator
from pathlib import Path

import pytest

from dlgrade.grading.policy import OUTPUT_LIMIT_CHARS
from dlgrade.plugin import STATE_KEY, time_limit

CANARY_PREFIX = "test_dlgrade_canary_"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade grading")
    group.addoption("--dlgrade-channel", dest="dlgrade_channel", type=int, default=None,
                    help="report the collected checks and the results as JSON lines on this file descriptor")
    group.addoption("--dlgrade-time-cap", dest="dlgrade_time_cap", type=float, default=None,
                    help="lower every check's time limit to at most this many seconds")


def _send(config: pytest.Config, message: dict) -> None:
    fd = config.getoption("dlgrade_channel")
    if fd is None:
        return
    data = (json.dumps(message, ensure_ascii=True, default=str) + "\n").encode()
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass  # the grader has stopped listening (or the submission closed the pipe): it will say so


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    cap = config.getoption("dlgrade_time_cap")
    if cap:
        for item in items:
            item.add_marker(pytest.mark.time_limit(min(cap, time_limit(item))), append=False)
    items.sort(key=lambda item: item.name.startswith(CANARY_PREFIX))
    if config.getoption("collectonly"):
        checks = {}
        for item in items:
            marker = item.get_closest_marker("item")
            if marker and marker.args:
                checks[item.nodeid] = {"item": marker.args[0], "weight": float(marker.kwargs.get("weight", 1.0)),
                                       "time_limit": time_limit(item),
                                       "optional": item.get_closest_marker("optional") is not None}
        _send(config, {"collected": checks})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    _send(item.config, {"current": item.nodeid})
    try:
        return (yield)
    finally:
        result = item.config.stash[STATE_KEY].results.get(item.nodeid)
        if result is not None:
            _send(item.config, {"result": {"nodeid": result.nodeid, "status": result.status,
                                           "output": result.output[:OUTPUT_LIMIT_CHARS],
                                           "duration": result.duration}})


CANARY_SOURCE = '''"""The grader's canary: it must fail. A pass means something in this run forges results."""
import pytest


@pytest.mark.item({item!r}, weight=0)
def {name}():
    raise AssertionError("the grader's canary check fails on purpose")
'''


def write_canary(folder: Path, token: str, item: str) -> tuple[Path, str]:
    """A canary check file in `folder`; returns (its path, the test function's name)."""
    name = f"{CANARY_PREFIX}{token}"
    path = folder / f"{name}.py"
    path.write_text(CANARY_SOURCE.format(item=item, name=name))
    return path, name
