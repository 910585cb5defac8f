"""Exercise 3's checks behind the learner-process boundary: the checks' process never imports the
learner's file, and learner code that forges results at import (aimed at the real checks only)
scores what the code underneath earns.

Every run here is a plain `python -m pytest ... --dlgrade-json PATH checks/test_ex3.py` of its own
(no warm fork: a forgery reads its parent's command line, and the probe plugin comes through
PYTHONPATH), on a copy of solutions/ whose ex3 file is the one under test.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gradelib import REPO_ROOT, RUN_TIMEOUT_S, SOLUTIONS_DIR, Run

pytestmark = pytest.mark.slow
FILE = "ex3_openai.py"

# Imported by `-p dlgrade_probe` into the checks' process: at the end of the session it writes the
# process's pid and the file of every module it has imported.
PROBE_PLUGIN = '''
import json, os, sys

def pytest_sessionfinish(session):
    files = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
    with open(os.environ["DLGRADE_PROBE_OUT"], "w") as out:
        json.dump({"pid": os.getpid(), "files": [f for f in files if isinstance(f, str)]}, out)
'''

# The learner's file says, when it is imported, which process imported it.
IMPORT_RECORDER = '''
import json as _json, os as _os, sys as _sys
with open({record!r}, "a") as _out:
    _out.write(_json.dumps({{"pid": _os.getpid(), "argv": _sys.argv}}) + "\\n")
'''

# Stub-like bodies: every function of the exercise still raises NotImplementedError, or returns a
# wrong value without calling the API.
NOT_STARTED = '''
def _todo(*args, **kwargs):
    raise NotImplementedError("TODO")

make_client = complete_text = respond_text = image_data_url = ask_about_image = _todo
respond_about_image = parse_box = locate_object = draw_box = _todo
'''
WRONG_VALUES = '''
def _wrong(*args, **kwargs):
    return "forged"

make_client = complete_text = respond_text = image_data_url = ask_about_image = _wrong
respond_about_image = parse_box = locate_object = draw_box = _wrong
'''

# Each forgery finds the pytest that runs it (its own process, or its parent when it runs in a
# learner process) and forges only when that pytest runs exercise 3's checks.
REAL_CHECKS = '''
import os as _os

def _args_of(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as source:
        return [part.decode(errors="replace") for part in source.read().split(b"\\0") if part]

_PYTEST = next(pid for pid in (_os.getpid(), _os.getppid()) if "--dlgrade-json" in _args_of(pid))
_REAL = any("test_ex3" in arg for arg in _args_of(_PYTEST))
if _REAL:  # a trace for the test: the forgery ran, and took this run for the real checks
    open(_os.path.join(_os.path.dirname(__file__), "forging"), "a").close()
'''

FORGERIES = {
    # pytest's own report objects: every report built from now on says "passed".
    "patched_reports": NOT_STARTED + REAL_CHECKS + '''
if _REAL:
    import _pytest.reports, _pytest.runner
    _real_init = _pytest.reports.TestReport.__init__

    def _passed_init(self, *args, **kwargs):
        _real_init(self, *args, **kwargs)
        self.outcome, self.longrepr = "passed", None

    _pytest.reports.TestReport.__init__ = _passed_init
    _real_make = _pytest.runner.pytest_runtest_makereport

    def _passed_report(item, call):
        report = _real_make(item, call)
        report.outcome, report.longrepr = "passed", None
        return report

    _pytest.runner.pytest_runtest_makereport = _passed_report
''',
    # The dlgrade plugin's recorder: every result it keeps is a pass.
    "plugin_recorder": WRONG_VALUES + REAL_CHECKS + '''
if _REAL:
    import gc
    import dlgrade.plugin.outcomes as _outcomes
    import dlgrade.plugin.recording as _recording
    from dlgrade.plugin.state import GradingState as _State
    _real_keep = _recording.keep_result

    def _keep_passed(state, item, item_of_check, report, status, message):
        report.outcome = "passed"
        _real_keep(state, item, item_of_check, report, "passed", "")

    _outcomes.keep_result = _recording.keep_result = _keep_passed
    for _state in [o for o in gc.get_objects() if isinstance(o, _State)]:
        for _result in _state.results.values():
            _result.status = "passed"
''',
    # Results written where the grader reads them, then an exit before any check can run.
    "results_file_then_exit": NOT_STARTED + REAL_CHECKS + '''
if _REAL:
    _args = _args_of(_PYTEST)
    _path = _os.path.join(_os.readlink(f"/proc/{_PYTEST}/cwd"), _args[_args.index("--dlgrade-json") + 1])
    import json as _json
    with open(_path, "w") as _out:
        _json.dump({"score": 35.0, "tests": [{"name": "forged", "score": 35.0, "max_score": 35.0, "status": "passed",
                    "extra_data": {"nodeid": "checks/test_ex3.py::forged", "dlgrade_status": "passed"}}]}, _out)
    _os._exit(0)
''',
}
HONEST = {"patched_reports": "not_started", "plugin_recorder": "failed", "results_file_then_exit": "failed"}

# The control: one exercise 3 check that imports the learner's file into its own process, as every
# check did before the boundary. Each forgery must forge this run, or it proves nothing above.
IN_PROCESS_CHECK = '''
import pytest

@pytest.fixture(scope="module")
def ex3(target):
    return target.module("ex3_openai.py")

@pytest.mark.item("ex3.3")
def test_parse_box(ex3):
    assert ex3.parse_box('{"found": true, "box_2d": [0, 0, 500, 500]}', 100, 100) == (0, 0, 50, 50)
'''


def submission(tmp_path: Path, text: str) -> Path:
    """A copy of solutions/ whose ex3 file is the solution followed by `text` (later definitions win)."""
    folder = tmp_path / "submission"
    shutil.copytree(SOLUTIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    learner = folder / FILE
    learner.write_text(learner.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return folder


def run_ex3(tmp_path: Path, target: Path, *extra: str, env: dict[str, str] | None = None,
            check_file: str = "checks/test_ex3.py") -> Run:
    """`pytest --dlgrade-json PATH checks/test_ex3.py --target TARGET`, as the grader runs one check file."""
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-header", "-q", *extra,
               "--dlgrade-json", str(results), check_file, "--target", str(target)]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          env={**os.environ, "DLGRADE_LANG": "en", **(env or {})})
    output = done.stdout + done.stderr
    assert results.exists(), output[-3000:]
    return Run(done.returncode, output, json.loads(results.read_text()))


def test_the_checks_process_never_imports_the_learner_file(tmp_path):
    record, probe_out = tmp_path / "imports.jsonl", tmp_path / "probe.json"
    target = submission(tmp_path, IMPORT_RECORDER.format(record=str(record)))
    (tmp_path / "dlgrade_probe.py").write_text(PROBE_PLUGIN)
    run = run_ex3(tmp_path, target, "-p", "dlgrade_probe",
                  env={"PYTHONPATH": str(tmp_path), "DLGRADE_PROBE_OUT": str(probe_out)})
    assert run.results["score"] == run.results["max_score"] > 0, run.output[-3000:]
    probe = json.loads(probe_out.read_text())
    imports = [json.loads(line) for line in record.read_text().splitlines()]
    assert imports, "the learner file was never imported"
    for seen in imports:
        assert seen["pid"] != probe["pid"], f"the checks' process imported the learner file: {seen}"
        assert Path(seen["argv"][0]).resolve() == (REPO_ROOT / "dlgrade" / "boundary" / "child.py").resolve()
    inside = target.resolve()
    learner_modules = [f for f in probe["files"] if Path(f).resolve().is_relative_to(inside)]
    assert not learner_modules, f"modules of the target folder in the checks' process: {learner_modules}"


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forgery_at_import_scores_what_the_code_underneath_earns(tmp_path, forgery):
    target = submission(tmp_path, FORGERIES[forgery])
    run = run_ex3(tmp_path, target)
    assert (target / "forging").exists(), run.output[-3000:]
    statuses = run.statuses()
    assert statuses and "checks/test_ex3.py::forged" not in statuses, run.output[-3000:]
    assert set(statuses.values()) == {HONEST[forgery]}, (statuses, run.output[-3000:])
    assert run.results["score"] == 0, run.results
    assert run.returncode == (0 if HONEST[forgery] == "not_started" else 1), run.output[-3000:]


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_the_forgery_forges_a_check_that_imports_the_learner_file(tmp_path, forgery):
    check = tmp_path / "test_ex3_in_process.py"
    check.write_text(IN_PROCESS_CHECK)
    target = submission(tmp_path, FORGERIES[forgery])
    run = run_ex3(tmp_path, target, "-p", "dlgrade.plugin", "--rootdir", str(REPO_ROOT), check_file=str(check))
    assert (target / "forging").exists(), run.output[-3000:]
    assert run.results["score"] > 0 and set(run.statuses().values()) == {"passed"}, run.output[-3000:]
