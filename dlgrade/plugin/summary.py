"""The end of a run of the checks: a table per exercise, the measurements, then the next step.

The next step comes last, after pytest's own `=== N failed ... ===` line, so that it is what the
learner reads first; pytest's one-line-per-failed-check summary is dropped for curriculum runs
(each failure already printed its block, and the table names every item).
"""
from __future__ import annotations

from collections.abc import Generator

import pytest

from dlgrade.core import render
from dlgrade.core.messages import msg
from dlgrade.core.results import FAILED, PASSED
from dlgrade.plugin.state import STATE_KEY, GradingState, state_of

DEFAULT_REPORTCHARS = "fE"  # pytest's -r default


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> Generator[None, None, None]:
    state = state_of(config)
    graded = [r for r in state.ordered_results() if r.item]
    if graded and config.getoption("reportchars") == DEFAULT_REPORTCHARS:
        terminalreporter.reportchars = terminalreporter.reportchars.replace("f", "")
    try:
        return (yield)
    finally:
        if graded:
            _write_summary(terminalreporter, state)


def _write_summary(terminalreporter: pytest.TerminalReporter, state: GradingState) -> None:
    results = state.ordered_results()
    graded = [r for r in results if r.item]
    lang = state.lang
    ran = {r.item for r in graded if r.item}
    terminalreporter.section(f"dlgrade: {state.target.label}")
    for line in render.not_started_lines(state.curriculum, results, lang, ran):
        terminalreporter.write_line(line)
    table = render.exercise_table(state.curriculum, results, lang, ran)
    terminalreporter.write(render.to_text(table, width=terminalreporter._tw.fullwidth))
    for result in graded:
        if result.status not in (PASSED, FAILED):
            continue  # a check that did not run its learner's code measured nothing worth a line
        for key, value in result.measured.items():
            check = result.nodeid.split("::")[-1]
            terminalreporter.write_line(f"{msg('measured', lang)}: {check}: {key} = {value}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    """End the output with the next step, after pytest's own last line."""
    try:
        return (yield)
    finally:
        state = session.config.stash.get(STATE_KEY, None)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if state is not None and reporter is not None and any(r.item for r in state.results.values()):
            for line in _next_lines(state):
                reporter.write_line(line)


def _next_lines(state: GradingState) -> list[str]:
    """With recorded results, the next item over the whole curriculum; else among the items of this run."""
    ran = {r.item for r in state.results.values() if r.item}
    if state.recorded is not None:
        return render.next_step_lines(state.curriculum, state.recorded, state.lang, ran=ran, hinted=state.hinted)
    return render.next_step_lines(state.curriculum, state.ordered_results(), state.lang, only=ran,
                                  hinted=state.hinted)
