"""The pytest plugin behind `pytest checks/...`: targets, items, outcomes, feedback, results.

Loaded by the repository's conftest.py. It
- resolves `--target` and gives checks the `target` fixture;
- links checks to curriculum items (`@pytest.mark.item("ex3.2")`), adds a marker per
  exercise (`-m ex3`) and selects items with `--item ex3.2`;
- puts a time limit on every check's setup and call;
- turns failures into a few learner-facing lines (full traceback with -v or --tb=long),
  reports stubs still raising NotImplementedError as "not started" (pytest's skip outcome, one
  line per item; a run where nothing failed exits 0), the hint once per item;
- prints a per-exercise table at the end, then the next step as the last lines;
- writes Gradescope results.json (--dlgrade-json) and records the results of runs on the
  learner's exercises where `dlgrade next`/`report --cached`/the history read them (dlgrade/core/records.py).
"""
from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest

from dlgrade.checkkit.api_replay import explain as explain_replay_failure
from dlgrade.checkkit.feedback import CheckFailure, CheckTimeout
from dlgrade.checkkit.targets import SolutionsBlocker, Target, TargetError, resolve
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import i18n, render
from dlgrade.core import records as store
from dlgrade.core.i18n import tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import (
    FAILED,
    NOT_STARTED,
    PASSED,
    SKIPPED,
    CheckResult,
    assign_scores,
    gradescope,
    write_json_atomic,
)

DEFAULT_TIME_LIMIT_S = 60.0
CAPTURE_KEEP_CHARS = 2000
MESSAGE_MAX_LINES = 6

STATE_KEY = pytest.StashKey["GradingState"]()
# user_properties the plugin sets itself; any other (a check's record_property) is a measurement
# shown to the learner in the summary.
HARNESS_PROPERTIES = ("item", "dlgrade_status")
DEFAULT_REPORTCHARS = "fE"  # pytest's -r default


class GradingState:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.curriculum = curriculum_mod.load()
        # Checks phrase their messages through i18n.tr, which reads the process's language.
        self.lang = i18n.set_lang(config.getoption("dlgrade_lang"))
        self.target = Target(resolve(config.getoption("dlgrade_target")))
        self.json_path = config.getoption("dlgrade_json")
        self.progress_path = config.getoption("dlgrade_progress")
        self.progress: dict = {"collected": [], "items": {}, "current": None, "done": 0}
        self.visibility = config.getoption("dlgrade_visibility")
        self.results: dict[str, CheckResult] = {}
        self.setup_seconds: dict[str, float] = {}
        self.started = time.monotonic()
        self.detailed = config.getoption("verbose") > 0 or config.getoption("tbstyle") in ("long", "native")
        self.hinted: set[str] = set()  # items whose hint a failure block has shown
        self.complete_files: set[str] = set()  # check files none of whose checks was deselected
        self.record_path = _record_path(config.getoption("dlgrade_record"), self.target)
        self.recorded: list[CheckResult] | None = None

    def record(self) -> None:
        """Merge this run's results into the learner's store and add a dated line to the history."""
        if self.record_path is None or not self.results or hasattr(self.config, "workerinput"):
            return
        when = store.now()
        extra, prints = {}, {}
        for nodeid in self.results:
            check_file = store.check_file_of(nodeid)
            if check_file not in prints:
                path = self.config.rootpath / check_file
                prints[check_file] = store.fingerprint(path, self.target.root, self.lang) if path.exists() else ""
            extra[nodeid] = {"recorded_at": when, "fingerprint": prints[check_file]}
        self.recorded = store.merge(self.record_path, self.ordered_results(), extra, self.target.label,
                                    self.complete_files, self.curriculum)
        store.append_history(self.record_path, self.target.label, store.summary(
            self.curriculum, self.recorded, store.self_assessed_done(Project.locate().progress_file)))

    def ordered_results(self) -> list[CheckResult]:
        results = list(self.results.values())
        assign_scores(results, self.curriculum)
        return results

    def write_progress(self) -> None:
        if self.progress_path:
            write_json_atomic(Path(self.progress_path), self.progress)

    def write_json(self) -> None:
        if self.json_path:
            data = gradescope(self.ordered_results(), self.curriculum, self.lang, time.monotonic() - self.started)
            write_json_atomic(Path(self.json_path), data)


def _record_path(option: str | None, target: Target) -> Path | None:
    """Where this run's results are recorded: by default the learner's store, for runs on exercises/."""
    if option == "none":
        return None
    if option:
        return Path(option)
    return Project.locate().last_results if target.root.resolve() == Project.locate().exercises.resolve() else None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade")
    group.addoption("--target", dest="dlgrade_target", default=None,
                    help="what to grade: 'exercises' (default), 'solutions', or a folder with the same file names")
    group.addoption("--item", dest="dlgrade_items", action="append", default=[],
                    help="run only the checks of this item (ex3.2) or exercise (ex3); repeatable")
    group.addoption("--lang", dest="dlgrade_lang", default=None, choices=curriculum_mod.LANGS,
                    help="language of titles and hints (default: DLGRADE_LANG, then the locale)")
    group.addoption("--dlgrade-json", dest="dlgrade_json", default=None,
                    help="write results in the Gradescope results.json schema to this path")
    group.addoption("--dlgrade-progress", dest="dlgrade_progress", default=None,
                    help="keep {collected, items, current, done} in this JSON file as the run goes "
                         "(for progress bars, and to know which check a crashed run was in)")
    group.addoption("--dlgrade-manifest", dest="dlgrade_manifest", default=None,
                    help="write the collected checks and their items as JSON to this path (harness tests)")
    group.addoption("--dlgrade-record", dest="dlgrade_record", default=None,
                    help="merge the results into this store (default: .dlgrade/last-results.json when grading "
                         "exercises/; 'none': do not record)")
    group.addoption("--dlgrade-visibility", dest="dlgrade_visibility", default="visible",
                    help="Gradescope visibility of these checks (visible, hidden, after_due_date, after_published)")
    parser.addini("dlgrade_time_limit", "default per-check time limit in seconds (setup and call each)",
                  default=str(DEFAULT_TIME_LIMIT_S))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "item(id, weight=1): the curriculum item (curriculum.toml) a check grades")
    config.addinivalue_line("markers", "time_limit(seconds): this check's time limit, setup and call each")
    config.addinivalue_line("markers", "hint(text): the check's own hint (a catalogue msgid), shown when it fails")
    state = GradingState(config)
    for section in state.curriculum.sections:
        config.addinivalue_line("markers", f"{section.id}: checks of {section.title('en')}")
    config.stash[STATE_KEY] = state
    if not state.target.is_reference and not any(isinstance(f, SolutionsBlocker) for f in sys.meta_path):
        sys.meta_path.insert(0, SolutionsBlocker())


def _state(config: pytest.Config) -> GradingState:
    return config.stash[STATE_KEY]


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The folder being graded; checks load modules and scripts through it."""
    return _state(request.config).target


def _item_id(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("item")
    return marker.args[0] if marker and marker.args else None


def _wanted(item_id: str | None, selectors: list[str]) -> bool:
    if item_id is None:
        return False
    return any(item_id == s or item_id.split(".")[0] == s for s in selectors)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    selectors = config.getoption("dlgrade_items")
    keep, drop = [], []
    for item in items:
        item_id = _item_id(item)
        if item_id:
            item.add_marker(item_id.split(".")[0])
        (keep if not selectors or _wanted(item_id, selectors) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    state = _state(config)
    state.complete_files = {store.check_file_of(i.nodeid) for i in keep} - {store.check_file_of(i.nodeid) for i in drop}
    state.progress.update(collected=[item.nodeid for item in items],
                          items={item.nodeid: _item_id(item) for item in items})
    state.write_progress()
    manifest = config.getoption("dlgrade_manifest")
    if manifest:
        write_json_atomic(Path(manifest), {"checks": [
            {"nodeid": item.nodeid, "item": _item_id(item),
             "items": [m.args[0] for m in item.iter_markers("item") if m.args]} for item in items]})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem) -> None:
    state = _state(item.config)
    if state.progress_path:
        state.progress["current"] = item.nodeid
        state.write_progress()


def _time_limit_of(item: pytest.Item) -> float:
    """A curriculum check's limit; 0 (none) for other tests, such as the harness's own."""
    marker = item.get_closest_marker("time_limit")
    if marker:
        return float(marker.args[0])
    if _item_id(item) is None:
        return 0.0
    return float(item.config.getini("dlgrade_time_limit"))


@contextmanager
def _deadline(seconds: float, what: str):
    """Raise CheckTimeout in the main thread after `seconds` (SIGALRM; a no-op where that is unavailable)."""
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise CheckTimeout(tr(what, seconds=f"{seconds:g}"))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with _deadline(_time_limit_of(item), i18n.N_("preparing this check ran past its time limit of {seconds} s")):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with _deadline(_time_limit_of(item), i18n.N_("this check ran past its time limit of {seconds} s")):
        return (yield)


def _innermost_in(tb, folder: Path) -> traceback.FrameSummary | None:
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve().is_relative_to(folder.resolve())]
    return frames[-1] if frames else None


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


def _classify(excinfo: pytest.ExceptionInfo, target: Target) -> tuple[str, str]:
    """(status, one-paragraph message) for a check that raised (a CheckFailure's own hint not included)."""
    exc = excinfo.value
    where = _innermost_in(excinfo.tb, target.root)
    at = f" ({Path(where.filename).name}:{where.lineno} in {where.name})" if where else ""
    if isinstance(exc, TargetError):
        return (NOT_STARTED if exc.not_started else FAILED), str(exc)
    if isinstance(exc, NotImplementedError):
        if where is None:
            return NOT_STARTED, tr("a function in {folder}/ still raises NotImplementedError", folder=target.label)
        return NOT_STARTED, tr("{function}() still raises NotImplementedError ({where})", function=where.name,
                               where=f"{target.label}/{Path(where.filename).name}:{where.lineno}")
    replay_problem = explain_replay_failure(exc)
    if replay_problem:
        return FAILED, tr("your request differs from the recorded one: {problem}", problem=replay_problem)
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report: pytest.TestReport = yield
    state = _state(item.config)
    item_id = _item_id(item)
    if item_id is None:
        return report  # not a curriculum check (the harness's own tests): plain pytest behaviour
    # junitxml writes the properties of the teardown report, which copies item.user_properties.
    if call.when == "setup":
        item.user_properties.append(("item", item_id))
    _shorten_sections(report)

    check_hint = None  # a CheckFailure's hint for its own mistake, shown instead of the item's
    if report.skipped and call.excinfo is not None and _innermost_in(call.excinfo.tb, state.target.root):
        report.outcome = "failed"  # a skip raised by the learner's code must not hide a check
        status, message = FAILED, tr("your code called pytest.skip(); checks decide what is skipped")
    elif report.failed and call.excinfo is not None:
        status, message = _classify(call.excinfo, state.target)
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
            report.longrepr = _learner_text(state, item, item_id, status, message, check_hint)
    if check_hint:
        message = f"{message}\n{msg('hint', state.lang)}: {check_hint}"
    if status == FAILED:
        # Whether the learner saw a hint for this check's own mistake (the self-tests insist on it).
        item.user_properties.append(("dlgrade_hint", "check" if check_hint else "item"))
    _record(state, item, item_id, report, status, message)
    if item.nodeid in state.results:
        # junitxml writes the teardown report's copy of user_properties: the last status wins.
        item.user_properties[:] = [p for p in item.user_properties if p[0] != "dlgrade_status"]
        item.user_properties.append(("dlgrade_status", state.results[item.nodeid].status))
    return report


def _marked_hint(item: pytest.Item) -> str | None:
    """The check's own hint, `@pytest.mark.hint(N_("..."))`, in the run's language."""
    marker = item.get_closest_marker("hint")
    return tr(marker.args[0]) if marker and marker.args else None


def _learner_text(state: GradingState, item: pytest.Item, item_id: str | None, status: str, message: str,
                  check_hint: str | None = None) -> str:
    lang = state.lang
    lines = []
    if item_id:
        try:
            entry = state.curriculum.item(item_id)
            lines.append(f"[{msg(status, lang)}] {item_id} {entry.title(lang)}")
        except KeyError:
            entry = None
            lines.append(f"[{msg(status, lang)}] {item_id}")
    else:
        entry = None
    lines.append("  " + message.replace("\n", "\n  "))
    if check_hint:
        lines.append(f"  {msg('hint', lang)}: {check_hint}")
    elif entry is not None and entry.hint and item_id not in state.hinted:
        state.hinted.add(item_id)
        lines.append(f"  {msg('hint', lang)}: {entry.hint(lang)}")
    lines.append(f"  {msg('more', lang)}: pytest \"{item.nodeid}\" -v")
    return "\n".join(lines)


def _record(state: GradingState, item: pytest.Item, item_id: str | None, report: pytest.TestReport,
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
        nodeid=item.nodeid, item=item_id, status=status, output=message, weight=weight,
        duration=state.setup_seconds.get(item.nodeid, 0.0) + report.duration, visibility=state.visibility,
        measured=measured,
    )
    state.progress["done"] = len(state.results)
    state.write_json()
    state.write_progress()


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config):
    state = _state(config)
    graded = [r for r in state.ordered_results() if r.item]
    if graded and config.getoption("reportchars") == DEFAULT_REPORTCHARS:
        # Each failure already printed its block and the summary below names every item: pytest's
        # one-line-per-failed-check summary would only push the next step out of sight.
        terminalreporter.reportchars = terminalreporter.reportchars.replace("f", "")
    try:
        return (yield)
    finally:
        if graded:
            _write_summary(terminalreporter, state)


def _write_summary(terminalreporter, state: GradingState) -> None:
    results = state.ordered_results()
    graded = [r for r in results if r.item]
    lang = state.lang
    ran = {r.item for r in graded}
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
def pytest_sessionfinish(session: pytest.Session, exitstatus):
    """Record the results, and end the output with the next step (after pytest's own last line)."""
    state = session.config.stash.get(STATE_KEY, None)
    if state is not None:
        state.write_json()
        state.record()
    try:
        return (yield)
    finally:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if state is not None and reporter is not None and any(r.item for r in state.results.values()):
            for line in _next_lines(state):
                reporter.write_line(line)


def _next_lines(state: GradingState) -> list[str]:
    """With recorded results, the next item over the whole curriculum; else among the items of this run."""
    ran = {r.item for r in state.results.values() if r.item}
    if state.recorded is not None:
        return render.next_step_lines(state.curriculum, state.recorded, state.lang, ran=ran, hinted=state.hinted)
    return render.next_step_lines(state.curriculum, state.ordered_results(), state.lang, only=ran, hinted=state.hinted)
