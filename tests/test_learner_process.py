"""Every exercise's checks behind the learner-process boundary (docs/boundary.md): the checks' process
never imports a learner file, and learner code that forges results when it is imported, aimed at the
real checks only, scores what the code underneath earns.

Each run is a plain `python -m pytest --dlgrade-json PATH checks/test_exN.py` of its own (no warm
fork: a forgery reads its parent's command line, and the probe plugin comes through PYTHONPATH), on
a copy of solutions/ whose exercise file is the stub followed by a forgery and an import recorder.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gradelib import REPO_ROOT, RUN_TIMEOUT_S, SOLUTIONS_DIR, Run

from dlgrade.core.project import Project

pytestmark = pytest.mark.slow
CHILD = REPO_ROOT / "dlgrade" / "boundary" / "child.py"

# Imported by `-p dlgrade_probe` into the checks' process: at the end of the session it writes the
# process's pid and the file of every module it has imported.
PROBE_PLUGIN = '''
import json, os, sys

def pytest_sessionfinish(session):
    files = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
    with open(os.environ["DLGRADE_PROBE_OUT"], "w") as out:
        json.dump({"pid": os.getpid(), "files": [f for f in files if isinstance(f, str)]}, out)
'''

# First in the learner's file: says, when it is imported, which process imported it.
IMPORT_RECORDER = '''
import json as _json, os as _os, sys as _sys
with open({record!r}, "a") as _out:
    _out.write(_json.dumps({{"pid": _os.getpid(), "argv": _sys.argv}}) + "\\n")
'''

# Each forgery finds the pytest that runs it (its own process, or its parent when it runs in a
# learner process) and forges only when that pytest runs this exercise's checks: the canary and
# every other run are left alone.
REAL_CHECKS = '''
def _args_of(pid):
    with open(f"/proc/{{pid}}/cmdline", "rb") as source:
        return [part.decode(errors="replace") for part in source.read().split(b"\\0") if part]

_PYTEST = next(pid for pid in (_os.getpid(), _os.getppid()) if "--dlgrade-json" in _args_of(pid))
_REAL = any({check!r} in arg for arg in _args_of(_PYTEST))
if _REAL:  # a trace for the test: the forgery ran, and took this run for the real checks
    open(_os.path.join(_os.path.dirname(__file__), "forging"), "a").close()
'''

FORGERIES = {
    # pytest's own report objects: every report built from now on says "passed".
    "patched_reports": '''
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
    "plugin_recorder": '''
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
    "results_file_then_exit": '''
if _REAL:
    _args = _args_of(_PYTEST)
    _path = _os.path.join(_os.readlink(f"/proc/{_PYTEST}/cwd"), _args[_args.index("--dlgrade-json") + 1])
    with open(_path, "w") as _out:
        _json.dump({"score": 35.0, "tests": [{"name": "forged", "score": 35.0, "max_score": 35.0, "status": "passed",
                    "extra_data": {"nodeid": "checks/forged.py::forged", "dlgrade_status": "passed"}}]}, _out)
    _os._exit(0)
''',
}

# Per exercise: its file, its check file and a selection of its checks that all pass on solutions/.
# Exercise 3 meets every forgery; the others one each, in turn (each run is a cold pytest).
EXERCISES = {
    "ex3": ("ex3_openai.py", "checks/test_ex3.py", ["-k", "parse_box or draw_box"], sorted(FORGERIES)),
    "ex1": ("ex1_pytorch.py", "checks/test_ex1.py", ["-k", "resnet_shape or plot_curves"], ["patched_reports"]),
    "ex1.5": ("ex1_distributed_common.py", "checks/test_ex1_distributed.py", ["-k", "choose_backend"],
              ["results_file_then_exit"]),
    "ex2": ("ex2_llm.py", "checks/test_ex2.py", ["-k", "download or load_model"], ["plugin_recorder"]),
    "ex4": ("ex4_clip.py", "checks/test_ex4.py", ["-k", "download or plot_attention"], ["results_file_then_exit"]),
    "ex5": ("ex5_papers.py", "checks/test_ex5.py", ["-k", "mask_meaning or lora_starts or dpo_gradient or two_tools"],
            ["plugin_recorder"]),
}
CASES = [(exercise, forgery) for exercise, (*_, forgeries) in EXERCISES.items() for forgery in forgeries]


def forged_submission(tmp_path: Path, filename: str, check_file: str, forgery: str, record: Path) -> Path:
    """A copy of solutions/ whose `filename` is the stub, recording who imports it, then forging."""
    folder = tmp_path / "submission"
    subprocess.run(["cp", "-r", str(SOLUTIONS_DIR), str(folder)], check=True)
    stub = (Project.locate().exercises / filename).read_text(encoding="utf-8")
    (folder / filename).write_text(
        stub + IMPORT_RECORDER.format(record=str(record)) + REAL_CHECKS.format(check=Path(check_file).stem)
        + FORGERIES[forgery], encoding="utf-8")
    return folder


def run_plain(tmp_path: Path, target: Path, check_file: str, *extra: str, env: dict[str, str] | None = None) -> Run:
    """`pytest --dlgrade-json PATH CHECK_FILE --target TARGET` in a process of its own, as the grader runs it."""
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-header", "-q", *extra,
               "--dlgrade-json", str(results), check_file, "--target", str(target)]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          env={**os.environ, "DLGRADE_LANG": "en", **(env or {})})
    output = done.stdout + done.stderr
    assert results.exists(), output[-3000:]
    return Run(done.returncode, output, json.loads(results.read_text()))


@pytest.mark.parametrize("exercise,forgery", CASES, ids=[f"{e}-{f}" for e, f in CASES])
def test_a_forgery_at_import_earns_nothing_and_runs_only_in_the_learner_process(tmp_path, exercise, forgery):
    filename, check_file, selection, _ = EXERCISES[exercise]
    record, probe_out = tmp_path / "imports.jsonl", tmp_path / "probe.json"
    target = forged_submission(tmp_path, filename, check_file, forgery, record)
    (tmp_path / "dlgrade_probe.py").write_text(PROBE_PLUGIN)
    run = run_plain(tmp_path, target, check_file, "-p", "dlgrade_probe", *selection,
                    env={"PYTHONPATH": str(tmp_path), "DLGRADE_PROBE_OUT": str(probe_out)})
    assert (target / "forging").exists(), f"the forgery never took the run for the real checks\n{run.output[-3000:]}"
    statuses = run.statuses()
    assert statuses and not any("forged" in nodeid for nodeid in statuses), run.output[-3000:]
    assert "passed" not in statuses.values() and run.results["score"] == 0, (statuses, run.output[-3000:])
    probe = json.loads(probe_out.read_text())
    imports = [json.loads(line) for line in record.read_text().splitlines()]
    for seen in imports:
        assert seen["pid"] != probe["pid"], f"the checks' process imported the learner file: {seen}"
        assert Path(seen["argv"][0]).resolve() == CHILD.resolve(), seen
    inside = target.resolve()
    learner_modules = [f for f in probe["files"] if Path(f).resolve().is_relative_to(inside)]
    assert not learner_modules, f"modules of the target folder in the checks' process: {learner_modules}"


# The control: a check that imports the learner's file into its own process, as every check did
# before the boundary. Each forgery must forge this run, or the test above proves nothing.
IN_PROCESS_CHECK = '''
import importlib.util

import pytest


@pytest.fixture(scope="module")
def ex3(target):
    spec = importlib.util.spec_from_file_location("learner_ex3", target.root / "ex3_openai.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.item("ex3.3")
def test_parse_box(ex3):
    assert ex3.parse_box('{"found": true, "box_2d": [0, 0, 500, 500]}', 100, 100) == (0, 0, 50, 50)
'''


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_each_forgery_forges_a_check_that_imports_the_learner_file(tmp_path, forgery):
    check = tmp_path / "test_ex3_in_process.py"
    check.write_text(IN_PROCESS_CHECK)
    target = forged_submission(tmp_path, "ex3_openai.py", "checks/test_ex3.py", forgery, tmp_path / "imports.jsonl")
    run = run_plain(tmp_path, target, str(check), "-p", "dlgrade.plugin", "--rootdir", str(REPO_ROOT))
    assert (target / "forging").exists(), run.output[-3000:]
    assert run.results["score"] > 0 and set(run.statuses().values()) == {"passed"}, run.output[-3000:]
