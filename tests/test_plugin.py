"""The pytest plugin (dlgrade.plugin) through pytest's own `pytester`: a one-file submission graded
by a synthetic check suite, in this process (no torch, no subprocess), so these run in the fast lane.

tests/test_harness.py runs the same kind of suite as a learner does, in a separate process.
"""
from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dlgrade.core import i18n
from dlgrade.core.curriculum import load as load_curriculum

pytest_plugins = ["pytester"]

CHECKS = '''
import pytest

@pytest.mark.item("ex3.1")
def test_answer(target):
    assert target.learner_module("ex3_openai.py").answer() == 42, "answer() should return 42"

@pytest.mark.item("ex3.1")
def test_answer_again(target):
    assert target.learner_module("ex3_openai.py").answer() == 42, "answer() should still return 42"

@pytest.mark.item("ex3.2")
@pytest.mark.hint("answer() is defined in ex3_openai.py: return the number")
def test_answer_with_its_own_hint(target):
    assert target.learner_module("ex3_openai.py").answer() == 42, "answer() should be 42 here too"
'''


@pytest.fixture(autouse=True)
def _keep_this_processs_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin sets the process's language for its run; these runs share this process."""
    monkeypatch.setattr(i18n, "_current", i18n._current)


@pytest.fixture
def grade(pytester: pytest.Pytester):
    """grade(learner_code, *args, checks=CHECKS) -> (RunResult, {test name: results.json entry})."""
    pytester.makeconftest('pytest_plugins = ["dlgrade.plugin"]\n')

    def run(learner_code: str, *args: str, checks: str = CHECKS):
        pytester.makepyfile(test_synthetic=textwrap.dedent(checks))
        submission = pytester.path / "submission"
        submission.mkdir(exist_ok=True)
        (submission / "ex3_openai.py").write_text(textwrap.dedent(learner_code))
        results = pytester.path / "results.json"
        result = pytester.runpytest("-p", "no:cacheprovider", "--target", str(submission), "--lang", "en",
                                    "--dlgrade-json", str(results), "--dlgrade-record", "none", *args)
        tests = json.loads(results.read_text())["tests"] if results.exists() else []
        return result, {t["extra_data"]["nodeid"].split("::")[-1]: t for t in tests}

    return run


def _block(output: str, test_name: str) -> list[str]:
    """The failure block pytest printed for `test_name` (the lines under its ___ header)."""
    after = output.split(f"{test_name} ___")[1].splitlines()[1:]
    block = []
    for line in after:
        if line.startswith(("=", "_")):
            break
        block.append(line)
    return [line for line in block if line.strip()]


def test_a_stub_is_not_started_one_line_per_item_and_exits_0(grade):
    result, tests = grade("def answer():\n    raise NotImplementedError\n")
    assert result.ret == pytest.ExitCode.OK
    assert {t["extra_data"]["dlgrade_status"] for t in tests.values()} == {"not_started"}
    result.assert_outcomes(skipped=3)
    output = result.stdout.str()
    assert "Traceback" not in output and "answer() still raises NotImplementedError" in output
    not_started = [line for line in output.splitlines() if line.startswith("[not started] ")]
    assert sorted(line.split()[2] for line in not_started) == ["ex3.1", "ex3.2"], not_started


def test_a_failure_is_a_short_block_with_the_items_hint_once(grade):
    result, tests = grade("def answer():\n    return 41\n")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    item_hint = load_curriculum().item("ex3.1").hint("en")
    first, second = _block(output, "test_answer"), _block(output, "test_answer_again")
    assert first[0].startswith("[failed] ex3.1 ") and len(first) <= 4, first
    assert f"  hint: {item_hint}" in first and not any("hint:" in line for line in second), (first, second)
    assert first[-1] == '  full traceback: pytest "test_synthetic.py::test_answer" -v'
    assert "FAILED test_synthetic.py" not in output  # the blocks name each failure; no second list
    assert tests["test_answer"]["extra_data"]["dlgrade_status"] == "failed"
    assert "answer() should return 42" in tests["test_answer"]["output"]
    assert output.strip().splitlines()[-1].strip().startswith("rerun:")  # the next step ends the output


def test_a_checks_own_hint_replaces_the_items(grade, pytester):
    result, tests = grade("def answer():\n    return 41\n", "--junitxml", "junit.xml")
    block = _block(result.stdout.str(), "test_answer_with_its_own_hint")
    assert "  hint: answer() is defined in ex3_openai.py: return the number" in block
    assert load_curriculum().item("ex3.2").hint("en") not in "\n".join(block)
    assert tests["test_answer_with_its_own_hint"]["output"].endswith(
        "hint: answer() is defined in ex3_openai.py: return the number")
    properties = _junit_properties(pytester.path / "junit.xml")
    assert properties["test_answer_with_its_own_hint"]["dlgrade_hint"] == "check"
    assert properties["test_answer"]["dlgrade_hint"] == "item"
    assert properties["test_answer"]["item"] == "ex3.1"
    assert properties["test_answer"]["dlgrade_status"] == "failed"


def _junit_properties(path: Path) -> dict[str, dict[str, str]]:
    root = ET.parse(path).getroot()
    return {case.get("name", ""): {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
            for case in root.iter("testcase")}


def test_passing_checks_exit_0_and_score_full(grade):
    result, tests = grade("def answer():\n    return 42\n")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=3)
    assert {t["extra_data"]["dlgrade_status"] for t in tests.values()} == {"passed"}
    assert all(t["score"] == t["max_score"] > 0 for t in tests.values())
    assert result.stdout.str().strip().endswith("every item of this run passes")


def test_exit_codes_of_failures_skips_and_errors(grade):
    learner_skip = "import pytest\n\ndef answer():\n    pytest.skip('later')\n"
    result, tests = grade(learner_skip)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the learner's code cannot skip a check
    assert tests["test_answer"]["extra_data"]["dlgrade_status"] == "failed"
    assert "your code called pytest.skip()" in tests["test_answer"]["output"]
    result, _ = grade("def answer():\n    return 42\n", checks="import pytest\n\ndef test_broken(:\n")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a check file that does not import: collection error
    result, _ = grade("def answer():\n    return 42\n", "--item", "ex9.9")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_item_option_selects_an_items_checks(grade):
    result, tests = grade("def answer():\n    return 42\n", "--item", "ex3.2")
    assert list(tests) == ["test_answer_with_its_own_hint"]
    result.assert_outcomes(passed=1, deselected=2)
    result, tests = grade("def answer():\n    return 42\n", "-m", "ex3")
    assert len(tests) == 3


def test_megabytes_of_output_are_cut(grade):
    result, tests = grade("def answer():\n    print('x' * 3_000_000)\n    return 41\n")
    output = result.stdout.str()
    assert len(output) < 50_000 and "characters cut ...]" in output


def test_verbose_shows_the_full_traceback(grade):
    result, _ = grade("def answer():\n    return 41\n", "-v")
    assert "def test_answer(target):" in result.stdout.str()


def test_a_check_past_its_time_limit_fails_and_says_so(grade):
    checks = ('import pytest\n\n@pytest.mark.item("ex3.1")\n@pytest.mark.time_limit(0.5)\n'
              'def test_answer(target):\n    target.learner_module("ex3_openai.py").answer()\n')
    result, tests = grade("def answer():\n    while True:\n        pass\n", checks=checks)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert tests["test_answer"]["output"] == (
        "this check ran past its time limit of 0.5 s (ex3_openai.py:2 in answer); an endless loop, or far too slow?")


def test_the_api_replayer_is_not_imported_by_a_run_without_cassettes(pytester):
    """vcrpy and PIL are imported only by checks that replay an API conversation (their replay server)."""
    pytester.makeconftest('pytest_plugins = ["dlgrade.plugin"]\n'
                          "import sys\n\n\ndef pytest_unconfigure():\n"
                          "    print('LOADED', sorted(m for m in ('vcr', 'PIL', 'dlgrade.checkkit.api_replay')"
                          " if m in sys.modules))\n")
    pytester.makepyfile(test_synthetic=textwrap.dedent(CHECKS))
    (pytester.mkdir("submission") / "ex3_openai.py").write_text("def answer():\n    return 41\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--target", "submission",
                                           "--dlgrade-record", "none")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["LOADED []"])


def test_the_learner_process_starts_for_the_exercise_files_the_command_line_checks(tmp_path):
    """A check file, a node of one, or a folder above checks/ names check files and the exercise files
    their items are written in; anything else none."""
    from dlgrade.core.project import Project
    from dlgrade.plugin.state import files_checked

    root = Project.locate().root
    curriculum = load_curriculum()

    def files(*args: str, at: Path = root) -> tuple[list[str], list[str]]:
        exercise_files, check_files = files_checked(list(args), at, curriculum, root)
        return exercise_files, [path.name for path in check_files]

    assert files("checks/test_ex2.py") == (["ex2_llm.py"], ["test_ex2.py"])
    assert files("checks/test_ex4.py::test_load_clip", "checks/test_ex3.py") == (
        ["ex3_openai.py", "ex4_clip.py"], ["test_ex3.py", "test_ex4.py"])
    assert files("test_ex5.py", at=root / "checks") == (["ex5_papers.py"], ["test_ex5.py"])
    distributed = files("checks/test_ex1_distributed.py")
    assert "ex1_distributed_common.py" in distributed[0] and "ex1_pytorch.py" not in distributed[0]
    everything = files("checks")
    assert everything == files(".") and {s.file for s in curriculum.sections if s.file} <= set(everything[0])
    assert files("tests") == files("tests/test_plugin.py") == files(str(tmp_path)) == ([], [])
