"""What a check's outcome means for the learner, and the few lines that say so.

A stub still raising NotImplementedError is "not started" (pytest's skip outcome, so a run where
nothing failed exits 0); a skip raised by the learner's code is a failure; any other failure is
one short paragraph — what was expected, what came back, a hint — unless -v or --tb=long asks
for pytest's full traceback.
"""
from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from dlgrade.boundary.proxy import LearnerProcessError, remote_where
from dlgrade.checkkit.feedback import CheckFailure, CheckTimeout
from dlgrade.checkkit.targets import Target, TargetError
from dlgrade.core import render
from dlgrade.core.i18n import tr
from dlgrade.core.messages import msg
from dlgrade.core.results import FAILED, NOT_STARTED, PASSED, SKIPPED
from dlgrade.core.tracebacks import innermost_frame, location
from dlgrade.plugin.recording import keep_result
from dlgrade.plugin.state import GradingState, item_id, state_of

CAPTURE_KEEP_CHARS = 2000
MESSAGE_MAX_LINES = 6


def _trim(text: str, max_lines: int = MESSAGE_MAX_LINES) -> str:
    lines = text.strip().splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines] + ["... " + tr("({count} more lines)", count=len(lines) - max_lines)]
    return "\n".join(line if len(line) <= 300 else line[:300] + " ..." for line in lines)


def _assertion_message(text: str) -> str:
    """A plain assert's message without pytest's '+ where ...' introspection lines.

    With a custom message ("assert x, 'msg'") pytest appends "assert ..." and the
    introspection; the learner needs only the message then.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("+")]
    for i, line in enumerate(lines):
        if i > 0 and line.startswith("assert "):
            lines = lines[:i]
            break
    return _trim("\n".join(lines) or tr("assertion failed"), 3)


def classify(excinfo: pytest.ExceptionInfo[BaseException], target: Target) -> tuple[str, str]:
    """(status, one-paragraph message) for a check that raised (a CheckFailure's own hint not included)."""
    exc = excinfo.value
    where = innermost_frame(excinfo.tb, target.root) or remote_where(exc)
    at = f" ({location(where)})" if where else ""
    if isinstance(exc, TargetError):
        return (NOT_STARTED if exc.not_started else FAILED), str(exc)
    if isinstance(exc, LearnerProcessError):
        return FAILED, str(exc)
    if isinstance(exc, NotImplementedError):
        if where is None:
            return NOT_STARTED, tr("a function in {folder}/ still raises NotImplementedError", folder=target.label)
        return NOT_STARTED, tr("{function}() still raises NotImplementedError ({where})", function=where.name,
                               where=f"{target.label}/{Path(where.filename).name}:{where.lineno}")
    if isinstance(exc, CheckTimeout):
        return FAILED, tr("{message}{at}; an endless loop, or far too slow?", message=exc, at=at)
    if isinstance(exc, CheckFailure):
        return FAILED, _trim(exc.detail)
    if isinstance(exc, AssertionError):
        return FAILED, _assertion_message(str(exc))
    if where is not None:
        return FAILED, tr("your code raised {error}: {message}{at}", error=type(exc).__name__,
                          message=_trim(str(exc), 3) or repr(exc), at=at)
    return FAILED, f"{type(exc).__name__}: {_trim(str(exc), 3)}"


def _shorten_sections(report: pytest.TestReport) -> None:
    """Keep the tail of captured output: a learner's code may print megabytes."""
    trimmed = []
    for title, content in report.sections:
        if len(content) > CAPTURE_KEEP_CHARS:
            cut = tr("[... {count} characters cut ...]", count=len(content) - CAPTURE_KEEP_CHARS)
            content = cut + "\n" + content[-CAPTURE_KEEP_CHARS:]
        trimmed.append((title, content))
    report.sections = trimmed


def _marked_hint(item: pytest.Item) -> str | None:
    """The check's own hint, `@pytest.mark.hint(N_("..."))`, in the run's language."""
    marker = item.get_closest_marker("hint")
    return tr(marker.args[0]) if marker and marker.args else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = state_of(item.config)
    item_of_check = item_id(item)
    if item_of_check is None:
        return report  # not a curriculum check (the harness's own tests): plain pytest behaviour
    # junitxml writes the properties of the teardown report, which copies item.user_properties.
    if call.when == "setup":
        item.user_properties.append(("item", item_of_check))
    _shorten_sections(report)

    check_hint = None  # a CheckFailure's hint for its own mistake, shown instead of the item's
    # pytest.skip() in learner code: a skip raised here through a learner frame, or pytest's Skipped
    # come back from the learner process (proxy.py rebuilds it under its name, which pytest gives as
    # builtins.Skipped).
    learner_skip = call.excinfo is not None and (
        getattr(call.excinfo.type, "dlgrade_learner_class", None) in ("builtins.Skipped", "_pytest.outcomes.Skipped")
        or report.skipped and bool(innermost_frame(call.excinfo.tb, state.target.root)
                                   or remote_where(call.excinfo.value)))
    if learner_skip:
        report.outcome = "failed"  # a skip raised by the learner's code must not hide a check
        status, message = FAILED, tr("your code called pytest.skip(); checks decide what is skipped")
    elif report.failed and call.excinfo is not None:
        status, message = classify(call.excinfo, state.target)
        check_hint = getattr(call.excinfo.value, "hint", None) or _marked_hint(item)
    elif report.skipped:
        status, message = SKIPPED, str(call.excinfo.value) if call.excinfo else msg("skipped", state.lang)
    else:
        status, message = PASSED, ""

    if status == NOT_STARTED:
        # Not started is not a failure: pytest's skip outcome (exit status 0), with the reason;
        # the summary shows it as one line per item.
        line = item.location[1] or 0
        report.outcome = "skipped"
        report.longrepr = (str(item.path), line + 1, f"{msg(NOT_STARTED, state.lang)}: {message}")
    elif report.failed:
        # A tuple longrepr is a skip turned into a failure above; pytest cannot print it as one.
        if not state.detailed or isinstance(report.longrepr, tuple):
            report.longrepr = learner_text(state, item, item_of_check, status, message, check_hint)
    if check_hint:
        message = f"{message}\n{msg('hint', state.lang)}: {check_hint}"
    if status == FAILED:
        # Whether the learner saw a hint for this check's own mistake (the self-tests insist on it).
        item.user_properties.append(("dlgrade_hint", "check" if check_hint else "item"))
    keep_result(state, item, item_of_check, report, status, message)
    if item.nodeid in state.results:
        # junitxml writes the teardown report's copy of user_properties: the last status wins.
        item.user_properties[:] = [p for p in item.user_properties if p[0] != "dlgrade_status"]
        item.user_properties.append(("dlgrade_status", state.results[item.nodeid].status))
    return report


def learner_text(state: GradingState, item: pytest.Item, item_of_check: str, status: str, message: str,
                 check_hint: str | None = None) -> str:
    """The failure block: status and item, the message, a hint (the check's own, else the item's once)."""
    lang = state.lang
    try:
        entry = state.curriculum.item(item_of_check)
        lines = [f"[{msg(status, lang)}] {item_of_check} {entry.title(lang)}"]
    except KeyError:
        entry = None
        lines = [f"[{msg(status, lang)}] {item_of_check}"]
    lines.append("  " + message.replace("\n", "\n  "))
    if check_hint:
        lines.append(f"  {msg('hint', lang)}: {check_hint}")
    elif entry is not None and entry.hint and item_of_check not in state.hinted:
        state.hinted.add(item_of_check)
        lines.append(f"  {msg('hint', lang)}: {entry.hint(lang)}")
    rerun = render.suggest(f'pytest "{item.nodeid}" -v', lang)
    lines.append(f"  {msg('more', lang)}: {rerun}")
    return "\n".join(lines)
