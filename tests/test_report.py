"""`dlgrade report`: every item is shown, in every format, for stubs and for the reference; it is incremental."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from dlgrade.core import curriculum
from dlgrade.core import records as store
from dlgrade.core.project import Project

EXERCISES_DIR = Project.locate().exercises
REPO_ROOT = Project.locate().root

# One module fixture serves every test here: keep them on one xdist worker.
pytestmark = [pytest.mark.xdist_group("report"), pytest.mark.slow]


def report(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlgrade", "report", "--progress", str(tmp_path / "progress.toml"),
         "--results", str(tmp_path / "results.json"), "--lang", "en", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "COLUMNS": "120"})


@pytest.fixture(scope="module")
def stub_report(tmp_path_factory):
    """A full report on a copy of the stubs (a copy: the incremental test below edits it)."""
    tmp = tmp_path_factory.mktemp("report")
    shutil.copytree(EXERCISES_DIR, tmp / "exercises", ignore=shutil.ignore_patterns("__pycache__"))
    proc = report(tmp, "--target", str(tmp / "exercises"), "--format", "json", "--output", str(tmp / "report.json"))
    assert proc.returncode == 0, proc.stderr
    return tmp, json.loads((tmp / "report.json").read_text())


def test_fresh_clone_shows_every_item_not_started_or_self_assessed(stub_report):
    tmp, data = stub_report
    cur = curriculum.load()
    assert [i["id"] for i in data["items"]] == [i.id for i in cur.items]
    assert {i["status"] for i in data["items"]} <= {"not_started", "todo", "planned"}
    assert data["summary"]["graded_passed"] == 0 and data["next"]["command"].startswith("pytest checks/")
    assert len((tmp / "history.jsonl").read_text().splitlines()) == 1  # a fresh run is kept for the trend


def test_report_after_one_edit_reruns_only_that_files_checks(stub_report):
    tmp, _ = stub_report
    exercises = tmp / "exercises"
    before = store.recorded_at(tmp / "results.json")
    with open(exercises / "ex3_openai.py", "a") as f:
        f.write("\n# the learner's edit\n")
    proc = report(tmp, "--target", str(exercises), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    after = store.recorded_at(tmp / "results.json")
    rerun = {nodeid.split("::")[0] for nodeid in after if after[nodeid] != before.get(nodeid)}
    assert rerun == {"checks/test_ex3.py"}, proc.stderr
    assert set(after) == set(before)
    unchanged = report(tmp, "--target", str(exercises), "--format", "json")
    assert store.recorded_at(tmp / "results.json") == after, unchanged.stderr  # nothing changed: nothing runs


def test_terminal_and_markdown_reuse_the_cached_results(stub_report):
    tmp, _ = stub_report
    terminal = report(tmp, "--cached")
    assert terminal.returncode == 0 and "not started" in terminal.stdout and "ex3.1" in terminal.stdout
    bars = [line for line in terminal.stdout.splitlines() if "░" in line]
    assert len(bars) == 2 and all(line.rstrip().endswith("%") for line in bars)  # nothing runs into a bar
    assert terminal.stdout.index("ex1.1") < terminal.stdout.index("linux.bash")  # exercises first
    markdown = report(tmp, "--cached", "--format", "markdown")
    assert markdown.stdout.count("- [ ] `") == len(curriculum.load().items)


def test_self_assessed_ticks_are_read_from_progress_toml(stub_report):
    tmp, _ = stub_report
    progress = tmp / "progress.toml"
    assert '"linux.bash" = false' in progress.read_text()
    progress.write_text(progress.read_text().replace('"linux.bash" = false', '"linux.bash" = true'))
    data = json.loads(report(tmp, "--cached", "--format", "json").stdout)
    assert {i["id"]: i["status"] for i in data["items"]}["linux.bash"] == "done"


def test_solutions_pass_every_graded_item(tmp_path, solutions_run):
    # The session's one run of every check on the reference (tests/conftest.py); running the
    # checks from `dlgrade report` is covered by the fresh-clone test above.
    (tmp_path / "results.json").write_text(json.dumps(solutions_run.results))
    proc = report(tmp_path, "--cached", "--format", "json")
    data = json.loads(proc.stdout)
    graded = [i for i in data["items"] if i["kind"] == "code" and i["status"] != "planned"]
    assert graded and all(i["status"] == "passed" for i in graded)
    assert data["next"] is None
