"""The harness's own behaviour: targets, stubs, outcomes, feedback, time limits, results schema."""
from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import time

import pytest
from gradelib import run_checks

from dlgrade.checkkit.targets import Target, TargetError
from dlgrade.core import curriculum, stubs
from dlgrade.core.messages import msg
from dlgrade.core.project import Project

EXERCISES_DIR = Project.locate().exercises
FIXTURES_DIR = Project.locate().fixtures
REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions

SYNTHETIC_CHECKS = '''
import pytest

@pytest.mark.item("ex3.1")
@pytest.mark.time_limit(2)
def test_answer(target):
    assert target.learner_module("ex3_openai.py").answer() == 42, "answer() should return 42"
'''


def synthetic_run(tmp_path, learner_code: str, checks: str = SYNTHETIC_CHECKS, *args: str):
    """Grade a one-file submission with a one-check suite, from outside the repository."""
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_synthetic.py").write_text(textwrap.dedent(checks))
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "ex3_openai.py").write_text(textwrap.dedent(learner_code))
    started = time.monotonic()
    run = run_checks(tmp_path / "results.json", "-p", "dlgrade.plugin", "checks", *args,
                     target=tmp_path / "submission", cwd=tmp_path, timeout=120)
    run.wall_s = time.monotonic() - started
    (test,) = run.results["tests"]
    return run, test


# ---------------------------------------------------------------- targets


def test_target_loads_a_foreign_folder_by_path(tmp_path):
    (tmp_path / "ex3_openai.py").write_text("VALUE = 7\n")
    target = Target(tmp_path)
    assert target.learner_module("ex3_openai.py").VALUE == 7
    with pytest.raises(TargetError) as missing:
        target.learner_module("ex9_missing.py").load()
    assert missing.value.not_started


@pytest.mark.parametrize("code,expected", [
    ("import json\nraise RuntimeError('boom')\n", "RuntimeError: boom (ex3_openai.py:2 in <module>)"),
    ("def f(:\n", "SyntaxError at line 1"),
    ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
])
def test_target_import_errors_are_one_line(tmp_path, code, expected):
    (tmp_path / "ex3_openai.py").write_text(code)
    with pytest.raises(TargetError) as error:
        Target(tmp_path).learner_module("ex3_openai.py").load()
    assert expected in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_target_raising_at_import_is_graded_as_failed(tmp_path):
    run, test = synthetic_run(tmp_path, "raise ValueError('bad import')\n")
    assert test["extra_data"]["dlgrade_status"] == "failed"
    assert "importing submission/ex3_openai.py failed: ValueError: bad import" in test["output"].replace(
        str(tmp_path) + "/", "")


# ---------------------------------------------------------------- outcomes and feedback


@pytest.mark.slow
def test_not_implemented_is_not_started(tmp_path):
    run, test = synthetic_run(tmp_path, "def answer():\n    raise NotImplementedError\n")
    assert test["extra_data"]["dlgrade_status"] == "not_started"
    assert "not started" in run.output and "Traceback" not in run.output


@pytest.mark.slow
def test_failure_is_a_few_lines_with_the_hint(tmp_path):
    run, test = synthetic_run(tmp_path, "def answer():\n    return 41\n")
    assert test["extra_data"]["dlgrade_status"] == "failed"
    after = run.output.split("test_answer ___")[1].splitlines()[1:]
    block = [line for line in itertools.takewhile(lambda line: not line.startswith("="), after)]
    assert len(block) <= 5, block
    assert any("hint:" in line for line in block) and "answer() should return 42" in test["output"]


TWO_CHECKS_OF_ONE_ITEM = SYNTHETIC_CHECKS + '''

@pytest.mark.item("ex3.1")
def test_answer_again(target):
    assert target.learner_module("ex3_openai.py").answer() == 42, "answer() should still return 42"
'''


@pytest.mark.slow
def test_an_items_hint_is_printed_once_and_the_output_ends_with_the_next_step(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_synthetic.py").write_text(textwrap.dedent(TWO_CHECKS_OF_ONE_ITEM))
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "ex3_openai.py").write_text("def answer():\n    return 41\n")
    run = run_checks(tmp_path / "results.json", "-p", "dlgrade.plugin", "checks", target=tmp_path / "submission",
                     cwd=tmp_path, timeout=120)
    assert run.returncode == 1 and run.output.count("answer() should") == 2
    assert run.output.count("hint:") == 1, run.output
    tail = run.output.strip().splitlines()[-2:]  # the item's hint was shown: next and rerun only
    assert tail[0].startswith("next: ex3.1") and tail[-1].strip().startswith("rerun:"), tail
    assert "FAILED checks/" not in run.output  # the failure blocks say it; no second list pushes the next step up


@pytest.mark.slow
def test_a_stub_run_is_one_line_per_item_and_exits_0(stubs_run):
    assert stubs_run.returncode == 0, stubs_run.output[-3000:]
    lines = stubs_run.output.splitlines()
    for item in curriculum.load().items:
        if item.graded:
            mine = [line for line in lines if line.startswith(f"[{msg('not_started', 'zh')}] {item.id} ")]
            assert len(mine) == 1, (item.id, mine)
    assert "FAILED" not in stubs_run.output and "Traceback" not in stubs_run.output
    assert lines[-1].strip().startswith(f"{msg('rerun', 'zh')}: pytest checks/"), lines[-5:]


@pytest.mark.slow
def test_verbose_shows_the_full_traceback(tmp_path):
    run, _ = synthetic_run(tmp_path, "def answer():\n    return 41\n", SYNTHETIC_CHECKS, "-vv")
    assert "def test_answer(target):" in run.output


@pytest.mark.slow
def test_hanging_check_times_out_with_a_clear_message(tmp_path):
    run, test = synthetic_run(tmp_path, "def answer():\n    while True:\n        pass\n")
    assert test["extra_data"]["dlgrade_status"] == "failed"
    assert "time limit of 2 s" in test["output"] and "in answer)" in test["output"]
    assert run.wall_s < 60


@pytest.mark.slow
def test_swallowing_exceptions_cannot_hide_a_timeout(tmp_path):
    code = """
        def answer():
            while True:
                try:
                    while True:
                        pass
                except Exception:
                    pass
        """
    _, test = synthetic_run(tmp_path, code)
    assert "time limit" in test["output"]


@pytest.mark.slow
def test_megabytes_of_output_are_cut(tmp_path):
    run, test = synthetic_run(tmp_path, "def answer():\n    print('x' * 2_000_000)\n    return 0\n")
    assert test["extra_data"]["dlgrade_status"] == "failed"
    assert len(run.output) < 20_000 and "characters cut" in run.output


@pytest.mark.slow
def test_learner_cannot_skip_a_check(tmp_path):
    _, test = synthetic_run(tmp_path, "import pytest\ndef answer():\n    pytest.skip('later')\n")
    assert test["extra_data"]["dlgrade_status"] == "failed" and test["score"] == 0


@pytest.mark.slow
def test_learner_cannot_import_the_solutions(tmp_path):
    # The repository on sys.path, as it is for `pytest checks/...` run from its root.
    _, test = synthetic_run(tmp_path, f"import sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\n"
                                      "def answer():\n    import solutions.ex3_openai\n    return 42\n")
    assert test["extra_data"]["dlgrade_status"] == "failed"
    assert "not allowed" in test["output"]


@pytest.mark.slow
def test_item_option_selects_checks_and_exercise_marker_works():
    for selector in (["--item", "ex3.2"], ["-m", "ex3 and not ex2"]):
        proc = subprocess.run([sys.executable, "-m", "pytest", "checks", "--collect-only", "-q", *selector],
                              cwd=REPO_ROOT, capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if "::" in line]
        assert lines and all("test_ex3.py" in line for line in lines), proc.stdout
        if selector[0] == "--item":
            assert all("image" in line for line in lines), lines


# ---------------------------------------------------------------- results schema


@pytest.mark.slow
def test_results_json_follows_the_gradescope_schema(solutions_run, stubs_run):
    for run in (solutions_run, stubs_run):
        data = run.results
        assert isinstance(data["score"], (int, float)) and isinstance(data["max_score"], (int, float))
        assert data["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-6
        for test in data["tests"]:
            assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
            assert test["status"] in ("passed", "failed")
            assert 0 <= test["score"] <= test["max_score"]
            assert isinstance(test["name"], str) and isinstance(test["output"], str)
    assert solutions_run.results["score"] == pytest.approx(solutions_run.results["max_score"])


@pytest.mark.slow
def test_junitxml_still_works(tmp_path):
    xml = tmp_path / "junit.xml"
    run_checks(tmp_path / "r.json", "checks/test_ex3.py", "--item", "ex3.1", "--junitxml", str(xml))
    text = xml.read_text()
    assert "<testsuite" in text and 'name="item" value="ex3.1"' in text and "not_started" in text


# ---------------------------------------------------------------- stubs


def test_stub_generation_round_trip():
    source = textwrap.dedent('''
        def f(x: int) -> int:
            """Double x."""
            # BEGIN SOLUTION
            y = x * 2
            return y
            # END SOLUTION


        class A:
            def g(self):
                """Nothing."""
                # BEGIN SOLUTION
                return 1
                # END SOLUTION
        ''')
    stub = stubs.generate_stub(source)
    assert '"""Double x."""' in stub and "x * 2" not in stub and "return 1" not in stub
    assert stub.count("raise NotImplementedError") == 2
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    assert stubs.generate_stub(stub) == stub


@pytest.mark.parametrize("source,message", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the region"),
])
def test_unpaired_markers_are_rejected(source, message):
    with pytest.raises(stubs.StubError, match=message):
        stubs.generate_stub(source)


def test_committed_exercises_match_the_generated_stubs():
    assert stubs.drifted(SOLUTIONS_DIR, EXERCISES_DIR) == [], "exercises/ is stale: run `dlgrade dev stubs` and commit"


def test_drift_is_detected_and_repaired(tmp_path):
    exercises = tmp_path / "exercises"
    assert stubs.write_stubs(SOLUTIONS_DIR, exercises, tmp_path / "backups")
    assert stubs.drifted(SOLUTIONS_DIR, exercises) == []
    edited = next(exercises.glob("*.py"))
    edited.write_text(edited.read_text() + "\n# a learner's edit\n")
    assert stubs.drifted(SOLUTIONS_DIR, exercises) == [edited.relative_to(exercises)]
    for command in (["dev", "stubs"], ["stubs"]):  # `dlgrade stubs` is kept for tools that call it
        proc = subprocess.run([sys.executable, "-m", "dlgrade", *command, "--check", "--exercises", str(exercises)],
                              cwd=REPO_ROOT, capture_output=True, text=True)
        assert proc.returncode == 1 and "stale" in proc.stdout, command


def test_every_solution_has_a_stub_and_every_stub_a_solution():
    solutions = {p.name for p in SOLUTIONS_DIR.glob("*.py")}
    exercises = {p.name for p in EXERCISES_DIR.glob("*.py")}
    assert solutions == exercises


# ---------------------------------------------------------------- cassettes


def test_no_secret_ever_lands_in_a_cassette():
    import yaml

    from dlgrade.checkkit.api_replay import SECRET_HEADERS
    cassettes = list((FIXTURES_DIR / "cassettes").rglob("*.yaml"))
    assert cassettes
    for path in cassettes:
        text = path.read_text()
        assert "sk-" not in text.replace("sk-synthetic", "").replace("sk-dlgrade", ""), path
        for interaction in yaml.safe_load(text)["interactions"]:
            for part in (interaction["request"], interaction["response"]):
                names = {name.lower() for name in part.get("headers", {})}
                assert not names & set(SECRET_HEADERS), (path, names & set(SECRET_HEADERS))
