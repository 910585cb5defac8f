"""`dlgrade grade` on a class of synthetic submissions, the hostile ones included."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dlgrade.paths import EXERCISES_DIR, REPO_ROOT, SOLUTIONS_DIR

SOLUTION = (SOLUTIONS_DIR / "ex3_openai.py").read_text()
# Exercise 3's points per check (curriculum.toml points / checks of the item): ex3.1 10 / 5,
# ex3.2 10 / 4, ex3.3 15 / 12. A submission that breaks complete_text() loses the two ex3.1
# checks that call it (text generation, rate limit): 4 points.
FULL, WITHOUT_COMPLETE_TEXT, WITHOUT_RESPOND_TEXT = 35.0, 31.0, 33.0


def patched(before: str, after: str) -> str:
    assert SOLUTION.count(before) == 1
    return SOLUTION.replace(before, after)


COMPLETE_TEXT_BODY = ("    completion = client.chat.completions.create(\n        model=model,\n"
                      "        messages=[{\"role\": \"user\", \"content\": prompt}],\n")
RESPOND_TEXT_BODY = "    response = client.responses.create(model=model, input=prompt)\n"
SUBMISSIONS = {
    "perfect": (SOLUTION, FULL),
    "stub": ((EXERCISES_DIR / "ex3_openai.py").read_text(), 0.0),
    "endless_loop": (patched(RESPOND_TEXT_BODY, "    while True:\n        pass\n" + RESPOND_TEXT_BODY),
                     WITHOUT_RESPOND_TEXT),
    "segfault": (patched(RESPOND_TEXT_BODY, "    import ctypes\n    ctypes.string_at(0)\n" + RESPOND_TEXT_BODY),
                 WITHOUT_RESPOND_TEXT),
    "os_exit": (patched(COMPLETE_TEXT_BODY, "    os._exit(0)\n" + COMPLETE_TEXT_BODY), WITHOUT_COMPLETE_TEXT),
    "prints_100mb": (patched(COMPLETE_TEXT_BODY, "    print('x' * 100_000_000)\n" + COMPLETE_TEXT_BODY), FULL),
    "imports_solutions": (patched(COMPLETE_TEXT_BODY, "    from solutions.ex3_openai import complete_text as c\n"
                                  + COMPLETE_TEXT_BODY), WITHOUT_COMPLETE_TEXT),
    "edits_checks": (SOLUTION + "\nfrom pathlib import Path as _P\n"
                     "for _f in (_P.cwd() / 'checks').glob('*.py'):\n"
                     "    _f.write_text('def test_free_points():\\n    pass\\n')\n", FULL),
    "opens_socket": (patched(COMPLETE_TEXT_BODY, "    import socket\n"
                             "    socket.create_connection(('93.184.216.34', 80), timeout=5)\n" + COMPLETE_TEXT_BODY),
                     WITHOUT_COMPLETE_TEXT),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    for name, (source, _) in SUBMISSIONS.items():
        (root / name / "exercises").mkdir(parents=True)
        (root / name / "exercises" / "ex3_openai.py").write_text(source)
    # a learner's own copy of the checks, rigged: ignored by the grader
    (root / "edits_checks" / "checks").mkdir()
    (root / "edits_checks" / "checks" / "test_ex3.py").write_text("def test_free():\n    pass\n")
    shutil.make_archive(str(root / "zipped"), "zip", root / "perfect")
    out = root / "grades"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", *[str(root / n) for n in SUBMISSIONS],
                           str(root / "zipped.zip"),
                           "--checks", "checks/test_ex3.py", "--out", str(out), "--jobs", "2", "--time-limit", "240"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, time.monotonic() - started, root


def test_gradebook_has_one_correct_row_per_submission(graded):
    out, _, _ = graded
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert sorted(r["submission"] for r in rows) == sorted([*SUBMISSIONS, "zipped"])
    for row in rows:
        expected = FULL if row["submission"] == "zipped" else SUBMISSIONS[row["submission"]][1]
        assert float(row["total"]) == pytest.approx(expected), row
        assert float(row["max_total"]) == pytest.approx(FULL), row


def test_each_submission_has_gradescope_results_and_junit(graded):
    out, _, _ = graded
    for name in SUBMISSIONS:
        data = json.loads((out / name / "results.json").read_text())
        assert len(data["tests"]) == 21 and data["max_score"] == pytest.approx(FULL)
        assert (out / name / "junit.xml").exists()


def test_failures_say_why(graded):
    out, _, _ = graded
    outputs = {name: " ".join(t["output"] for t in json.loads((out / name / "results.json").read_text())["tests"])
               for name in SUBMISSIONS}
    assert "time limit" in outputs["endless_loop"]
    assert "killed by signal 11" in outputs["segfault"]
    assert "exited with code 0 before finishing" in outputs["os_exit"]
    assert "not allowed" in outputs["imports_solutions"]
    assert "network access is disabled" in outputs["opens_socket"]


def test_the_run_stays_within_limits_and_leaves_nothing_running(graded):
    out, wall_s, root = graded
    assert wall_s < 300
    assert (out / "prints_100mb" / "log.txt").stat().st_size <= 1_000_000
    workspaces = (str(Path(tempfile.gettempdir()) / "dlgrade-")).encode()
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if workspaces in cmdline or str(root).encode() in cmdline:
                leftovers.append(cmdline.decode(errors="replace"))
    assert not leftovers


def test_resume_skips_graded_submissions(graded):
    out, _, root = graded
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), str(root / "stub"),
                           "--checks", "checks/test_ex3.py", "--out", str(out), "--resume"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and time.monotonic() - started < 10
    assert "graded perfect" not in proc.stderr


def test_hidden_checks_are_graded_as_hidden(graded, tmp_path):
    _, _, root = graded
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_hidden_ex3.py").write_text(
        "import pytest\n\n\n@pytest.mark.item('ex3.3')\ndef test_box_of_a_tiny_image(target):\n"
        "    ex3 = target.module('ex3_openai.py')\n"
        "    assert ex3.parse_box('{\"found\": true, \"box_2d\": [0, 0, 1000, 1000]}', 8, 6) == (0, 0, 8, 6)\n")
    out = tmp_path / "grades"
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), "--checks",
                           "checks/test_ex3.py", "--hidden", str(hidden), "--out", str(out)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tests = json.loads((out / "perfect" / "results.json").read_text())["tests"]
    hidden_tests = [t for t in tests if t["visibility"] == "hidden"]
    assert len(hidden_tests) == 1 and hidden_tests[0]["status"] == "passed"
    assert len(tests) == 22
