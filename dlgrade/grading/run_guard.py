"""The grader's side of a `dlgrade grade` pytest run (loaded with `-p dlgrade.grading.run_guard`).

- `--dlgrade-collect PATH`: writes {nodeid: {item, weight, time_limit}} for the checks
  collected. `dlgrade grade` runs this with `--collect-only` and no submission, so the list of
  checks, their items, weights and limits never come from a process that ran learner code.
- `--dlgrade-time-cap S`: no check's limit above S seconds (instructors trading thoroughness
  for speed, and the hostile-submission tests).
- The grader's canary check (a file the grader writes, with a name made afresh for each run)
  is moved to the end of the run, after learner code had every chance to patch pytest.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

CANARY_PREFIX = "test_dlgrade_canary_"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade grading")
    group.addoption("--dlgrade-collect", dest="dlgrade_collect", default=None,
                    help="write the collected checks with their items, weights and time limits to this JSON file")
    group.addoption("--dlgrade-time-cap", dest="dlgrade_time_cap", type=float, default=None,
                    help="lower every check's time limit to at most this many seconds")


def _limit(item: pytest.Item) -> float:
    marker = item.get_closest_marker("time_limit")
    return float(marker.args[0]) if marker else float(item.config.getini("dlgrade_time_limit"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    cap = config.getoption("dlgrade_time_cap")
    if cap:
        for item in items:
            item.add_marker(pytest.mark.time_limit(min(cap, _limit(item))), append=False)
    items.sort(key=lambda item: item.name.startswith(CANARY_PREFIX))
    path = config.getoption("dlgrade_collect")
    if path:
        checks = {}
        for item in items:
            marker = item.get_closest_marker("item")
            if marker and marker.args:
                checks[item.nodeid] = {"item": marker.args[0], "weight": float(marker.kwargs.get("weight", 1.0)),
                                       "time_limit": _limit(item)}
        Path(path).write_text(json.dumps(checks, indent=1))


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
