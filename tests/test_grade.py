"""`dlgrade grade` on a class of synthetic submissions, the hostile ones (tests/hostile/) included.

One `dlgrade grade --jobs 2` run grades them all (module fixture `graded`); the tests then
look at its rows, outputs, the instructor's tree, the other submissions, processes and
temporary folders. Exercise 3's checks only, their time limits capped at CAP_S: they are the
fastest checks, and the capped limit keeps the endless-loop cases short.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from dlgrade.core.project import Project
from dlgrade.grading import gradebook, intake
from dlgrade.grading import sandbox as isolation

EXERCISES_DIR = Project.locate().exercises
REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions

# One module fixture serves every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group("grade")

FILE = "ex3_openai.py"
SOLUTION = (SOLUTIONS_DIR / FILE).read_text()
STUB = (EXERCISES_DIR / FILE).read_text()
HOSTILE = Path(__file__).parent / "hostile"
CAP_S = 8
CHECKS = ["--checks", "checks/test_ex3.py", "--check-time-cap", str(CAP_S)]
# Checks (node ID substrings) that call a function, for the submissions that break it.
CALLS = {"complete_text": ["test_text_generation_chat_completions", "test_rate_limit_is_retried", "[complete_text-"],
         "respond_text": ["test_text_generation_responses_api", "[respond_text-"],
         "draw_box": ["test_draw_box"]}
ALL = ["::"]


def patched(before: str, after: str) -> str:
    assert SOLUTION.count(before) == 1
    return SOLUTION.replace(before, after)


COMPLETE_TEXT_BODY = ("    completion = client.chat.completions.create(\n        model=model,\n"
                      "        messages=[{\"role\": \"user\", \"content\": prompt}],\n")
RESPOND_TEXT_BODY = "    response = client.responses.create(model=model, input=prompt)\n"


def canary_code(host: str, port: int) -> str:
    return f"import socket; socket.create_connection(({host!r}, {port}), 5)"


def own_address() -> str | None:
    """This machine's address on its default route (not loopback), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 9))  # UDP: chooses a route, sends nothing
        except OSError:
            return None
        host = probe.getsockname()[0]
    return None if host.startswith("127.") else host


class Listener:
    """A server that counts who reaches it: TCP on this machine's outside address, or a Unix socket."""

    def __init__(self, unix_path: Path | None = None):
        self.host = own_address()
        if unix_path is None:
            self.server = socket.create_server(("", 0))
            self.port = self.server.getsockname()[1]
        else:
            self.server = socket.socket(socket.AF_UNIX)
            self.server.bind(str(unix_path))
            self.server.listen()
        self.server.settimeout(0.2)
        self.connections = 0

    def count(self) -> int:
        while True:
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                return self.connections
            conn.close()
            self.connections += 1


def classic_submissions(listener: Listener) -> dict[str, tuple[str, list[str]]]:
    """name: (source, the checks it loses) for the plain misbehaviours."""
    return {
        "perfect": (SOLUTION, []),
        "stub": (STUB, ALL),
        "endless_loop": (patched(RESPOND_TEXT_BODY, "    while True:\n        pass\n" + RESPOND_TEXT_BODY),
                         CALLS["respond_text"]),
        "segfault": (patched(RESPOND_TEXT_BODY, "    import ctypes\n    ctypes.string_at(0)\n" + RESPOND_TEXT_BODY),
                     CALLS["respond_text"]),
        "os_exit": (patched(COMPLETE_TEXT_BODY, "    os._exit(0)\n" + COMPLETE_TEXT_BODY), CALLS["complete_text"]),
        "prints_100mb": (patched(COMPLETE_TEXT_BODY, "    print('x' * 100_000_000)\n" + COMPLETE_TEXT_BODY), []),
        "opens_socket": (patched(COMPLETE_TEXT_BODY, "    import socket\n    socket.create_connection("
                                 "('93.184.216.34', 80), timeout=5)\n" + COMPLETE_TEXT_BODY),
                         CALLS["complete_text"]),
        # `python -I` skips sitecustomize, so only the network namespace stops this one; it hides
        # the failure and answers correctly, so its score says nothing: the listener does.
        "bypasses_python_guard": (patched(COMPLETE_TEXT_BODY, "    import subprocess, sys as _sys\n"
                                          f"    subprocess.run([_sys.executable, '-I', '-c', "
                                          f"{canary_code(listener.host or '127.0.0.1', listener.port)!r}])\n"
                                          + COMPLETE_TEXT_BODY), []),
    }


def hostile_fragment(path: Path) -> dict:
    """BASE, EXPECT and the source of a tests/hostile/ file."""
    values: dict = {"NEEDS_PROCESS_CAP": False}
    exec(compile("\n".join(line for line in path.read_text().splitlines()
                           if line.startswith(("BASE =", "EXPECT =", "NEEDS_PROCESS_CAP ="))), str(path), "exec"),
         values)
    return {"base": values["BASE"], "expect": values["EXPECT"], "source": path.read_text(),
            "needs_process_cap": values["NEEDS_PROCESS_CAP"]}


def process_cap_holds() -> bool:
    """RLIMIT_NPROC holds for a grader that is not root; for root, only a pids cgroup caps processes."""
    cap = isolation.ProcessCap(1)
    cap.close()
    return os.geteuid() != 0 or cap.path is not None


def write_submission(folder: Path, source: str) -> None:
    (folder / "exercises").mkdir(parents=True)
    (folder / "exercises" / FILE).write_text(source)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def our_processes(markers: list[bytes]) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if any(m in cmdline for m in markers):
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def private_tmp(tmp_path_factory) -> dict[str, str]:
    """An environment whose TMPDIR is a folder of its own, to see what the grader leaves there."""
    return {**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("tmpdir"))}


def leftovers(env: dict[str, str]) -> list[str]:
    return [p.name for p in Path(env["TMPDIR"]).iterdir()]


SECRET = f"sk-dlgrade-test-{secrets.token_hex(8)}"
BAD_NAME = os.fsdecode(b"bad\xff-name")
FORMULA_NAME = '=SUM(1,2)'


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    tcp = Listener()
    unix = Listener(root / "grader.sock")
    out = root / "grades"
    # other helpers' work changes checks/ and solutions/ meanwhile: files of our own stand for them
    sentinels = [folder / f".dlgrade-sentinel-{os.getpid()}" for folder in (REPO_ROOT, REPO_ROOT / "checks")]
    for sentinel in sentinels:
        sentinel.write_text("instructor's file\n")
    expected: dict[str, list[str] | str] = {}
    for name, (source, lost) in classic_submissions(tcp).items():
        write_submission(root / name, source)
        expected[name] = lost
    for path in sorted(HOSTILE.glob("*.py")):
        fragment = hostile_fragment(path)
        if fragment["needs_process_cap"] and not process_cap_holds():
            continue
        source = (SOLUTION if fragment["base"] == "solution" else STUB) + "\n" + fragment["source"]
        source = (source.replace("__OUT__", str(out)).replace("__REPO__", str(REPO_ROOT))
                  .replace("__OTHER__", str(root / "perfect" / "exercises" / FILE))
                  .replace("__SENTINEL__", str(sentinels[0]))
                  .replace("__CHECKS_SENTINEL__", str(sentinels[1])).replace("__SOCKET__", str(root / "grader.sock")))
        write_submission(root / path.stem, source)
        expect = fragment["expect"]
        expected[path.stem] = ("tampered" if expect == "tampered" else [] if expect == "full" else ALL
                               if expect == 0 else CALLS[expect.removeprefix("without ")])
    # a rigged dlgrade package and conftest.py beside the exercise files: never taken
    (root / "leaks_secrets" / "exercises" / "dlgrade").mkdir()
    (root / "leaks_secrets" / "exercises" / "dlgrade" / "__init__.py").write_text("raise SystemExit('hijacked')\n")
    (root / "leaks_secrets" / "exercises" / "conftest.py").write_text("raise SystemExit('hijacked')\n")
    # class 6: names and files
    bad = root / BAD_NAME
    write_submission(bad, SOLUTION)
    (bad / "exercises" / "notes.txt").symlink_to("/nonexistent/dangling")
    (bad / "exercises" / "checkpoints").mkdir()
    (bad / "exercises" / "checkpoints" / "everything").symlink_to("/usr")
    expected[intake.display_name(bad)] = []
    write_submission(root / FORMULA_NAME, SOLUTION)
    expected[FORMULA_NAME] = []
    for name, link in (("symlink_absolute", SOLUTIONS_DIR / FILE), ("symlink_relative", None)):
        (root / name / "exercises").mkdir(parents=True)
        where = root / name / "exercises" / FILE
        where.symlink_to(link or os.path.relpath(SOLUTIONS_DIR / FILE, where.parent))
        expected[name] = ALL
    write_submission(root / "alice", STUB)
    write_submission(root / "zipped" / "alice", SOLUTION)
    with zipfile.ZipFile(root / "alice.zip", "w") as archive:
        archive.write(root / "zipped" / "alice" / "exercises" / FILE, f"alice/exercises/{FILE}")
    expected["alice"], expected["alice.zip"] = ALL, []
    submissions = [p for p in sorted(root.iterdir()) if p.name not in ("grades", "zipped", "grader.sock")]
    before = {"class": digests(root), "sentinels": [s.read_bytes() for s in sentinels]}
    env = {**private_tmp(tmp_path_factory), "OPENAI_API_KEY": SECRET, "DLGRADE_TEST_SECRET": SECRET}
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", *map(str, submissions), *CHECKS,
                               "--out", str(out), "--jobs", "2", "--time-limit", "300"],
                              cwd=REPO_ROOT, capture_output=True, timeout=900,
                              env=env)
        wall_s = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs_at_end = digests(out)
        time.sleep(5)  # the daemon's moment
        yield {"out": out, "root": root, "wall_s": wall_s, "proc": proc, "expected": expected, "before": before,
               "sentinels": sentinels, "outputs_at_end": outputs_at_end, "tcp": tcp, "unix": unix,
               "env": env}
    finally:
        for sentinel in sentinels:
            sentinel.unlink()


def rows(out: Path) -> dict[str, dict]:
    with (out / "gradebook.csv").open(encoding="utf-8") as f:
        return {r["submission"].removeprefix("'"): r for r in csv.DictReader(f)}


def points_lost(out: Path, lost: list[str]) -> float:
    tests = json.loads((out / "perfect" / "results.json").read_text())["tests"]
    return sum(t["max_score"] for t in tests if any(s in t["extra_data"]["nodeid"] for s in lost))


def test_every_row_is_present_and_right(graded):
    out, expected = graded["out"], graded["expected"]
    book = rows(out)
    assert sorted(book) == sorted(expected)
    full = float(book["perfect"]["max_total"])
    assert full == float(book["perfect"]["total"]) > 0
    for name, lost in expected.items():
        row = book[name]
        if lost == "tampered":
            assert row["status"] == "tampered" and float(row["total"]) == 0, row
            assert "tampered" in row["notes"]
        else:
            assert row["status"] == "graded", row
            assert float(row["total"]) == pytest.approx(full - points_lost(out, lost), abs=1e-3), (name, row)
            assert float(row["max_total"]) == pytest.approx(full), row
        assert row["sandboxed"] == "yes"


def test_symlinks_are_reported_not_followed(graded):
    book = rows(graded["out"])
    for name in ("symlink_absolute", "symlink_relative"):
        assert f"{FILE} is a symlink: not followed" in book[name]["notes"]
    bad = book[intake.display_name(graded["root"] / BAD_NAME)]
    assert "checkpoints/everything/ is a symlink" in bad["notes"]


def test_a_formula_name_is_text_in_the_gradebook(graded):
    text = (graded["out"] / "gradebook.csv").read_text(encoding="utf-8")
    assert "\n'=SUM(1,2)" in text.replace('"', "")
    assert not any(line.startswith(("=", "+", "-", "@")) for line in text.splitlines())


def test_the_review_column_flags_grader_internals(graded):
    book = rows(graded["out"])
    assert "sys.modules" in book["forge_patch_runtest"]["review"]
    assert "gc.get_objects" in book["forge_gc_check_functions"]["review"]
    assert "/proc" in book["reads_answers"]["review"]
    assert book["perfect"]["review"] == "" and book["stub"]["review"] == ""


def test_failures_say_why(graded):
    out = graded["out"]
    outputs = {name: " ".join(t["output"] for t in json.loads((out / name / "results.json").read_text())["tests"])
               for name in ("endless_loop", "segfault", "os_exit", "opens_socket", "starves")}
    assert "time limit" in outputs["endless_loop"]
    assert "killed by signal 11" in outputs["segfault"]
    assert "exited with code 0 before finishing" in outputs["os_exit"]
    assert "network access is disabled" in outputs["opens_socket"]
    assert "stopped by the grader" in outputs["starves"]


def test_junit_holds_every_check_the_grader_accepted_over_restarts(graded):
    import xml.etree.ElementTree as ET

    out = graded["out"]
    tests = json.loads((out / "os_exit" / "results.json").read_text())["tests"]
    cases = ET.parse(out / "os_exit" / "junit.xml").getroot().findall("testcase")
    assert len(cases) == len(tests) == len(json.loads((out / "perfect" / "results.json").read_text())["tests"])
    failures = [c.find("failure").get("message") for c in cases if c.find("failure") is not None]
    assert len(failures) == len(CALLS["complete_text"]) and all("os._exit" in f for f in failures)


def test_nothing_outside_the_submission_changed(graded):
    before, root = graded["before"], graded["root"]
    assert {k: v for k, v in digests(root).items() if not k.startswith("grades/")} == before["class"]
    assert [s.read_bytes() for s in graded["sentinels"]] == before["sentinels"]


def test_outputs_stay_the_graders_after_it_exits(graded):
    assert digests(graded["out"]) == graded["outputs_at_end"]


def test_no_secret_in_any_output(graded):
    out, proc = graded["out"], graded["proc"]
    assert SECRET.encode() not in proc.stdout + proc.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    leaks = json.loads((out / "leaks_secrets" / "results.json").read_text())
    assert "env=" in json.dumps(leaks)  # the leak was attempted, with nothing to leak


def test_no_graded_process_reaches_the_network_or_a_host_socket(graded):
    tcp, unix = graded["tcp"], graded["unix"]
    assert unix.count() == 0, "a graded submission reached a Unix socket of the grader's machine"
    if tcp.host is None:
        pytest.skip("this machine has no address outside loopback to put a listener on")
    assert tcp.count() == 0, "a graded submission reached the listener"
    # The listener can tell: the same code outside the sandbox gets through.
    subprocess.run([sys.executable, "-I", "-c", canary_code(tcp.host, tcp.port)], check=True)
    assert tcp.count() == 1


def test_the_run_leaves_nothing_running_or_on_disk(graded):
    out, root = graded["out"], graded["root"]
    assert graded["wall_s"] < 600
    assert (out / "prints_100mb" / "log.txt").stat().st_size <= 1_000_000
    assert not our_processes([b"/grading/", str(root).encode(), b"sleep\x00600"])
    assert leftovers(graded["env"]) == []


def test_resume_trusts_only_what_the_grader_wrote(graded):
    out, root = graded["out"], graded["root"]
    forged = out / "perfect" / "results.json"
    data = json.loads(forged.read_text())
    data["tests"] = [{**t, "status": "passed", "score": t["max_score"]} for t in data["tests"]]
    (out / "stub" / "results.json").write_text(json.dumps(data))  # the stub's row, forged full marks
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), str(root / "stub"),
                           *CHECKS, "--out", str(out), "--resume"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "graded perfect" not in proc.stderr and "graded stub: 0/" in proc.stderr
    assert float(rows(out)["stub"]["total"]) == 0


def test_hidden_checks_are_graded_as_hidden_and_invisible_to_visible_runs(graded, tmp_path):
    root = graded["root"]
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_hidden_secret_name.py").write_text(
        "import pytest\n\n\n@pytest.mark.item('ex3.3')\ndef test_box_of_a_tiny_image(target):\n"
        "    ex3 = target.module('ex3_openai.py')\n"
        "    assert ex3.parse_box('{\"found\": true, \"box_2d\": [0, 0, 1000, 1000]}', 8, 6) == (0, 0, 8, 6)\n")
    out = tmp_path / "grades"
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), str(root / "leaks_secrets"),
                           *CHECKS, "--hidden", str(hidden), "--out", str(out), "--jobs", "2"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tests = json.loads((out / "perfect" / "results.json").read_text())["tests"]
    hidden_tests = [t for t in tests if t["visibility"] == "hidden"]
    assert len(hidden_tests) == 1 and hidden_tests[0]["status"] == "passed"
    leaked = json.loads((out / "leaks_secrets" / "results.json").read_text())["tests"]
    visible_output = " ".join(t["output"] for t in leaked if t["visibility"] == "visible")
    assert "hidden=[]" in visible_output and "secret_name" not in visible_output


def test_sigterm_kills_everything_and_keeps_finished_rows(graded, tmp_path, tmp_path_factory):
    root = graded["root"]
    out = tmp_path / "grades"
    env = private_tmp(tmp_path_factory)
    # every check of this one hangs: minutes of watchdog kills and restarts
    write_submission(tmp_path / "hangs", SOLUTION + "\nimport signal, time\n"
                     "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\ntime.sleep(3600)\n")
    proc = subprocess.Popen([sys.executable, "-m", "dlgrade", "grade", str(root / "stub"), str(tmp_path / "hangs"),
                             *CHECKS, "--out", str(out), "--jobs", "2"],
                            cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        if line.startswith("graded stub"):
            break
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert sorted(rows(out)) == ["stub"]
    assert not our_processes([b"/grading/", str(tmp_path).encode()])
    assert leftovers(env) == []


def test_refuses_without_a_sandbox_unless_told(graded, tmp_path):
    root = graded["root"]
    env = {**os.environ, "PATH": "/nonexistent"}
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), *CHECKS,
                           "--out", str(tmp_path / "a")], cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "refusing to grade without a sandbox" in proc.stderr
    assert "bwrap" in proc.stderr and not (tmp_path / "a" / "gradebook.csv").exists()
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), *CHECKS, "--no-sandbox",
                           "--out", str(tmp_path / "b")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = rows(tmp_path / "b")["perfect"]
    assert row["sandboxed"] == "no" and row["total"] == row["max_total"]


def test_checks_outside_checks_or_not_found_are_refused(tmp_path):
    for spec, message in (("solutions/ex3_openai.py", "not a check file or folder"),
                          ("checks/test_ex3.py::no_such_check", "collecting the visible checks failed")):
        proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(tmp_path), "--checks", spec,
                               "--out", str(tmp_path / "out")], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-2000:]


# -- the snapshot and the gradebook, without grading ---------------------------------------

def test_snapshot_takes_regular_exercise_files_only(tmp_path):
    sub = tmp_path / "sub"
    write_submission(sub, "x = 1\n")
    (sub / "exercises" / "ex2_llm.py").symlink_to(SOLUTIONS_DIR / "ex2_llm.py")
    (sub / "exercises" / "solutions.py").write_text("stolen\n")
    (sub / "exercises" / "checkpoints" / "deep").mkdir(parents=True)
    (sub / "exercises" / "checkpoints" / "deep" / "model.pt").write_bytes(b"\0weights")
    (sub / "exercises" / "checkpoints" / "root").symlink_to("/")
    [snap] = intake.copy_submissions([sub], tmp_path / "snap")
    files = sorted(str(p.relative_to(snap.folder)) for p in snap.folder.rglob("*") if p.is_file())
    assert files == ["checkpoints/deep/model.pt", FILE]
    assert any("ex2_llm.py is a symlink" in n for n in snap.notes)
    assert any("checkpoints/root" in n for n in snap.notes)


def test_snapshot_of_a_zip_skips_escapes_and_links(tmp_path):
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"bob/exercises/{FILE}", "x = 1\n")
        z.writestr("bob/../../evil.py", "evil\n")
        link = zipfile.ZipInfo("bob/exercises/ex2_llm.py")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/work/main/solutions/ex2_llm.py")
    [snap] = intake.copy_submissions([archive], tmp_path / "snap")
    assert snap.name == "bob" and (snap.folder / FILE).read_text() == "x = 1\n"
    assert not (snap.folder / "ex2_llm.py").exists() and not (tmp_path / "evil.py").exists()
    assert any("symlink in the zip" in n for n in snap.notes)


def test_names_keep_every_byte_and_never_merge(tmp_path):
    paths = [tmp_path / os.fsdecode(b"caf\xe9"), tmp_path / "x" / "alice", tmp_path / "y" / "alice",
             tmp_path / "alice.zip"]
    for path in paths[:3]:
        write_submission(path, "x = 1\n")
    with zipfile.ZipFile(paths[3], "w") as z:
        z.writestr(FILE, "x = 2\n")
    snaps = intake.copy_submissions(paths, tmp_path / "snap")
    assert [s.name for s in snaps] == ["caf\\xe9", "alice", "alice~2", "alice.zip"]
    assert (snaps[3].folder / FILE).read_text() == "x = 2\n"


def test_gradebook_cells_that_look_like_formulas_are_text():
    assert [gradebook.safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "alice", "")] == \
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "alice", ""]


# -- the grader's bookkeeping over runs, with the runs replaced by scripted outcomes ---------

def scripted_grader(tmp_path, outcomes: list) -> tuple[object, list]:
    """A Grader over ten collected checks whose runs return `outcomes` in turn (a function of the pending checks)."""
    from dlgrade.grading import grader as grade
    from dlgrade.grading import sandbox as isolation

    settings = grade.Settings(out=tmp_path, checks=["checks"], hidden=None, time_limit_s=60, sandbox=True,
                              limits=isolation.Limits())
    grader = grade.Grader(settings, tmp_path)
    grader.collected["visible"] = {f"checks/test_x.py::test_{i}": {"item": "ex3.1", "weight": 1.0, "time_limit": 5}
                                   for i in range(10)}
    calls = []

    def run_once(sub, visibility, pending, deadline, log):
        calls.append(list(pending))
        return outcomes[min(len(calls), len(outcomes)) - 1](list(pending))

    grader._run_once = run_once
    return grader, calls


def outcome(code, results=(), canary="failed", current=None, overrun=None):
    from dlgrade.core.results import CheckResult
    from dlgrade.grading.grader import RunOutcome

    return RunOutcome(code, [CheckResult(nodeid=n, item="ex9.9", status=s, weight=99.0) for n, s in results],
                      canary, current, overrun)


def test_when_restarts_run_out_the_rest_fail_with_the_reason(tmp_path):
    from dlgrade.grading import grader as grade

    # every run dies by a signal in its first check
    grader, calls = scripted_grader(tmp_path, [lambda p: outcome(-11, canary=None, current=p[0])])
    result = grade.Grade("x")
    grader._grade_checks(None, "visible", 0, None, result)
    assert len(calls) == grade.MAX_RESTARTS + 1
    outputs = [r.output for r in result.results]
    assert len(outputs) == 10 and all(r.status == "failed" for r in result.results)
    assert sum("killed by signal 11" in o and "while running this check" in o for o in outputs) == 6
    assert sum(o.startswith("not run: the grader restarted the checks 5 times") for o in outputs) == 4
    assert result.notes[-1] == "4 checks not run: restarts ran out" and result.status == grade.GRADED


def test_results_the_grader_did_not_ask_for_are_ignored(tmp_path):
    from dlgrade.grading import grader as grade

    grader, _ = scripted_grader(tmp_path, [lambda p: outcome(1, [(n, "passed") for n in p]
                                                             + [("checks/test_x.py::test_free", "passed")])])
    result = grade.Grade("x")
    grader._grade_checks(None, "visible", 0, None, result)
    assert sorted(r.nodeid for r in result.results) == sorted(grader.collected["visible"])
    assert {(r.item, r.weight) for r in result.results} == {("ex3.1", 1.0)}  # the grader's, not the run's


@pytest.mark.parametrize("run", [
    lambda p: outcome(1, [(n, "passed") for n in p], canary="passed"),  # pytest patched: the canary passes
    lambda p: outcome(0, [(n, "passed") for n in p], canary=None),  # a results file without the canary
], ids=["canary-passed", "canary-missing"])
def test_a_canary_that_does_not_fail_marks_the_row_tampered(tmp_path, run):
    from dlgrade.grading import grader as grade

    grader, _ = scripted_grader(tmp_path, [run])
    result = grade.Grade("x")
    grader._grade_checks(None, "visible", 0, None, result)
    assert result.status == grade.TAMPERED and "tampered" in result.notes[0]
