"""`dlgrade grade` on a class of synthetic submissions, the hostile ones included."""
from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dlgrade.paths import EXERCISES_DIR, REPO_ROOT, SOLUTIONS_DIR

# One module fixture serves every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group("grade")


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
    # `python -I` skips sitecustomize, so only the network namespace stops this one; it hides
    # the failure and answers correctly, so its score says nothing: the canary server does.
    "bypasses_python_guard": (patched(COMPLETE_TEXT_BODY, "    import subprocess, sys as _sys\n"
                                      "    subprocess.run([_sys.executable, '-I', '-c', os.environ['CANARY_CODE']])\n"
                                      + COMPLETE_TEXT_BODY), FULL),
}
CANARY_CODE = ("import os, socket; "
               "socket.create_connection((os.environ['CANARY_HOST'], int(os.environ['CANARY_PORT'])), 5)")


def own_address() -> str | None:
    """This machine's address on its default route (not loopback), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))  # UDP: chooses a route, sends nothing
        except OSError:
            return None
        host = probe.getsockname()[0]
    return None if host.startswith("127.") else host


class Canary:
    """A TCP server on this machine's outside address that counts who reaches it."""

    def __init__(self):
        self.host = own_address()
        self.connections = 0
        self.server = socket.create_server(("", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.env = {"CANARY_CODE": CANARY_CODE, "CANARY_HOST": self.host or "127.0.0.1",
                    "CANARY_PORT": str(self.port)}

    def count(self) -> int:
        while True:
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                return self.connections
            conn.close()
            self.connections += 1


@pytest.fixture(scope="module")
def canary():
    server = Canary()
    yield server
    server.server.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, canary):
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
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **canary.env})
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


def test_no_graded_process_reaches_the_network_even_around_the_python_guard(graded, canary):
    from dlgrade import isolation

    prefix, how = isolation.network_namespace()
    if prefix is None:
        pytest.skip(how)
    if canary.host is None:
        pytest.skip("this machine has no address outside loopback to put a canary on")
    assert canary.count() == 0, "a graded submission reached the canary server"
    # The canary can fail: the same code outside the namespace gets through.
    subprocess.run([sys.executable, "-I", "-c", CANARY_CODE], env={**os.environ, **canary.env}, check=True)
    assert canary.count() == 1
    subprocess.run([*prefix, sys.executable, "-I", "-c", CANARY_CODE], env={**os.environ, **canary.env})
    assert canary.count() == 1


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
