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
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.project import Project
from dlgrade.grading import gradebook, intake, policy
from dlgrade.grading import sandbox as isolation
from dlgrade.grading.class_grader import Grade, grade_checks, learner_results, score
from dlgrade.grading.watched_run import RunOutcome

EXERCISES_DIR = Project.locate().exercises
REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions

# One module fixture serves every test here: keep them on one xdist worker.
pytestmark = [pytest.mark.xdist_group("grade"), pytest.mark.slow]

FILE = "ex3_openai.py"
SOLUTION = (SOLUTIONS_DIR / FILE).read_text()
STUB = (EXERCISES_DIR / FILE).read_text()
HOSTILE = Path(__file__).parent / "hostile"
CAP_S = 8
MEMORY_GIB = 2  # tests/hostile/hogs_resources.py takes its share of this
TIME_LIMIT_S = 300
CHECKS = ["--checks", "checks/test_ex3.py", "--check-time-cap", str(CAP_S), "--memory-limit", str(MEMORY_GIB)]
# Checks (node ID substrings) that call a function, for the submissions that break it.
CALLS = {"complete_text": ["test_text_generation_chat_completions", "[complete_text-"],
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


FLAGS = ("NEEDS_PROCESS_CAP", "NEEDS_CGROUPS", "HIDDEN_RUN")


def hostile_fragment(path: Path) -> dict:
    """BASE, EXPECT, the flags and the source of a tests/hostile/ file."""
    values: dict = dict.fromkeys(FLAGS, False)
    exec(compile("\n".join(line for line in path.read_text().splitlines()
                           if line.startswith(("BASE =", "EXPECT =", *(f"{f} =" for f in FLAGS)))), str(path), "exec"),
         values)
    return {"base": values["BASE"], "expect": values["EXPECT"], "source": path.read_text(),
            **{flag.lower(): values[flag] for flag in FLAGS}}


def cgroups_missing() -> list[str]:
    """The per-sandbox cgroups this grader cannot make here."""
    cap = isolation.ResourceCap(isolation.Limits())
    missing = cap.missing
    cap.close()
    return missing


def process_cap_holds() -> bool:
    """RLIMIT_NPROC holds for a grader that is not root; for root, only a pids cgroup caps processes."""
    return os.geteuid() != 0 or "pids" not in cgroups_missing()


def hostile_source(path: Path, fragment: dict, placeholders: dict[str, str]) -> str:
    source = (SOLUTION if fragment["base"] == "solution" else STUB) + "\n" + fragment["source"]
    for key, value in placeholders.items():
        source = source.replace(key, value)
    return source


def expected_loss(expect) -> list[str] | str:
    return "tampered" if expect == "tampered" else [] if expect == "full" else ALL if expect == 0 \
        else CALLS[expect.removeprefix("without ")]


def leftover_cgroups(pid: int) -> list[str]:
    """The cgroups a grader of process id `pid` made that are still there."""
    parents = {Path("/sys/fs/cgroup")} | {p for c in ("pids", "memory", "cpu") for p in isolation._cgroup_parents(c)}
    return [str(p) for parent in parents for p in parent.glob(f"dlgrade-{pid}-*")]


def write_submission(folder: Path, source: str) -> None:
    (folder / "exercises").mkdir(parents=True)
    (folder / "exercises" / FILE).write_text(source)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def our_processes(markers: list[bytes], orphaned: tuple[bytes, ...] = (b"/grading/",)) -> list[str]:
    """Processes whose command line holds one of `markers` (paths of this test's own), or one of
    `orphaned` while no parent is left to them (a sandboxed run names /grading/ whoever started it:
    another test's grader, running beside this one, is its live parent)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes()
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if any(m in cmdline for m in markers) or (parent == 1 and any(m in cmdline for m in orphaned)):
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
    env = {**private_tmp(tmp_path_factory), "OPENAI_API_KEY": SECRET, "DLGRADE_TEST_SECRET": SECRET}
    placeholders = {"__OUT__": str(out), "__REPO__": str(REPO_ROOT), "__TMPDIR__": env["TMPDIR"],
                    "__OTHER__": str(root / "perfect" / "exercises" / FILE), "__SENTINEL__": str(sentinels[0]),
                    "__CHECKS_SENTINEL__": str(sentinels[1]), "__SOCKET__": str(root / "grader.sock")}
    missing = cgroups_missing()
    for path in sorted(HOSTILE.glob("*.py")):
        fragment = hostile_fragment(path)
        if (fragment["needs_process_cap"] and not process_cap_holds()) or fragment["hidden_run"] \
                or (fragment["needs_cgroups"] and missing):
            continue
        write_submission(root / path.stem, hostile_source(path, fragment, placeholders))
        expected[path.stem] = expected_loss(fragment["expect"])
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
    started = time.monotonic()
    try:
        grader = subprocess.Popen([sys.executable, "-m", "dlgrade", "grade", *map(str, submissions), *CHECKS,
                                   "--out", str(out), "--jobs", "2", "--time-limit", str(TIME_LIMIT_S)],
                                  cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        proc = subprocess.CompletedProcess(grader.args, 0, *grader.communicate(timeout=900))
        proc.returncode = grader.returncode
        wall_s = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs_at_end = digests(out)
        time.sleep(5)  # the daemon's moment
        yield {"out": out, "root": root, "wall_s": wall_s, "proc": proc, "expected": expected, "before": before,
               "sentinels": sentinels, "outputs_at_end": outputs_at_end, "tcp": tcp, "unix": unix,
               "env": env, "cgroups_missing": missing, "pid": grader.pid}
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
    assert "killed by signal 11 (SIGSEGV)" in outputs["segfault"]
    assert "exited with code 0 during this call" in outputs["os_exit"]
    assert "the checks run offline, and your code tried to reach" in outputs["opens_socket"]
    assert "ran past its time limit" in outputs["starves"]
    # pytest.skip() in the learner process is an exception like any other there: the check fails (the
    # grader's own rule, a collected check that was skipped scores 0, is tested on tests of the policy)
    skipped = json.loads((out / "skips_checks" / "results.json").read_text())["tests"]
    assert any("Skipped" in t["output"] and t["score"] == 0 < t["max_score"] for t in skipped)


def test_junit_holds_every_check_the_grader_accepted_over_restarts(graded):
    import xml.etree.ElementTree as ET

    out = graded["out"]
    tests = json.loads((out / "os_exit" / "results.json").read_text())["tests"]
    cases = ET.parse(out / "os_exit" / "junit.xml").getroot().findall("testcase")
    assert len(cases) == len(tests) == len(json.loads((out / "perfect" / "results.json").read_text())["tests"])
    failures = [c.find("failure").text for c in cases if c.find("failure") is not None]
    calls = [t for t in tests if any(s in t["extra_data"]["nodeid"] for s in CALLS["complete_text"])]
    assert len(failures) == len(calls) > 0 and all("os._exit" in f for f in failures)


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
    assert graded["wall_s"] < 900
    assert (out / "prints_100mb" / "log.txt").stat().st_size <= 1_000_000
    assert not our_processes([str(root).encode(), b"sleep\x00600"])
    assert leftovers(graded["env"]) == []
    assert leftover_cgroups(graded["pid"]) == []


def strict_json(path: Path) -> dict:
    """The file as JSON the strict way: UTF-8 without lone surrogates, no NaN or Infinity."""
    def no_constant(name):
        raise ValueError(f"{path}: {name} is not JSON")

    text = path.read_bytes().decode("utf-8")
    text.encode("utf-8")
    return json.loads(text, parse_constant=no_constant)


def test_every_output_is_valid_whatever_a_submission_wrote(graded):
    import xml.etree.ElementTree as ET

    out = graded["out"]
    book = rows(out)  # CSV, UTF-8
    for name in book:
        strict_json(out / name / "results.json")
        ET.parse(out / name / "junit.xml")
    strict_json(out / ".dlgrade-ledger.json")
    corrupt = strict_json(out / "corrupts_outputs" / "results.json")
    assert any("lone \\ud800 surrogate" in t["output"] for t in corrupt["tests"])  # escaped, kept readable


def test_the_grader_reads_nothing_the_run_left_behind(graded):
    out = graded["out"]
    data = strict_json(out / "follows_scratch_files" / "results.json")
    assert data["execution_time"] < TIME_LIMIT_S + 30  # the FIFO held nothing
    assert float(rows(out)["follows_scratch_files"]["total"]) == 0


def test_limits_hold_per_submission_or_the_notes_say_which_do_not(graded):
    book = rows(graded["out"])
    missing = graded["cgroups_missing"]
    for name in ("perfect", "stub"):
        assert ("limits:" in book[name]["notes"]) == bool(missing), book[name]["notes"]
    if not missing:
        assert "hogs_resources" in book  # graded, and full marks (test_every_row_is_present_and_right)


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


def test_hidden_checks_are_graded_as_hidden_and_say_nothing_else_to_learners(graded, tmp_path):
    root = graded["root"]
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_hidden_secret_name.py").write_text(
        "import pytest\n\n\n@pytest.mark.item('ex3.3')\ndef test_box_of_a_tiny_image(target):\n"
        "    ex3 = target.learner_module('ex3_openai.py')\n"
        "    assert ex3.parse_box('{\"found\": true, \"box_2d\": [0, 0, 1000, 1000]}', 8, 6) == (0, 0, 8, 6)\n")
    path = HOSTILE / "hidden_exit_code.py"
    write_submission(tmp_path / "hidden_exit_code", hostile_source(path, hostile_fragment(path), {}))
    out = tmp_path / "grades"
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), str(root / "leaks_secrets"),
                           str(tmp_path / "hidden_exit_code"), *CHECKS, "--hidden", str(hidden), "--out", str(out),
                           "--jobs", "2"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tests = json.loads((out / "perfect" / "results.json").read_text())["tests"]
    hidden_tests = [t for t in tests if t["visibility"] == "hidden"]
    assert len(hidden_tests) == 1 and hidden_tests[0]["status"] == "passed"
    leaked = json.loads((out / "leaks_secrets" / "results.json").read_text())["tests"]
    visible_output = " ".join(t["output"] for t in leaked if t["visibility"] == "visible")
    assert "hidden=[]" in visible_output and "secret_name" not in visible_output
    # the run that exits with a byte of the hidden file's name: the learner sees failed, nothing more
    talker = json.loads((out / "hidden_exit_code" / "results.json").read_text())
    code = str(ord("t"))
    assert code not in talker["output"] and "exited" not in talker["output"]
    for test in talker["tests"]:
        if test["visibility"] == "hidden":
            assert test["status"] == "failed" and test["output"] == "" and test["extra_data"]["duration_s"] == 0
    # the instructor's files say it: the hidden check's own message names the learner process's exit
    assert f"exited with code {code}" in (out / "hidden_exit_code" / "junit.xml").read_text(encoding="utf-8")


def test_sigterm_kills_everything_and_keeps_finished_rows(graded, tmp_path, tmp_path_factory):
    root = graded["root"]
    out = tmp_path / "grades"
    env = private_tmp(tmp_path_factory)
    # every function of this one hangs, so every check runs to its time limit: minutes of grading
    write_submission(tmp_path / "hangs", SOLUTION + "\nimport inspect, time\n"
                     "for _name, _f in list(globals().items()):\n"
                     "    if inspect.isfunction(_f) and _f.__module__ == __name__:\n"
                     "        globals()[_name] = lambda *a, **k: time.sleep(3600)\n")
    proc = subprocess.Popen([sys.executable, "-m", "dlgrade", "grade", str(root / "stub"), str(tmp_path / "hangs"),
                             *CHECKS, "--out", str(out), "--jobs", "2"],
                            cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        if line.startswith("graded stub"):
            break
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    assert sorted(rows(out)) == ["stub"]
    assert not our_processes([str(tmp_path).encode()])
    assert leftovers(env) == []


def test_refuses_without_a_sandbox_unless_told(graded, tmp_path):
    root = graded["root"]
    env = {**os.environ, "PATH": "/nonexistent"}
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(root / "perfect"), *CHECKS,
                           "--out", str(tmp_path / "a")], cwd=REPO_ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "refusing to grade without a sandbox" in proc.stderr
    assert "`bwrap` is not installed" in proc.stderr and not (tmp_path / "a" / "gradebook.csv").exists()
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
    [snap] = intake.copy_submissions([sub], tmp_path / "snap", EXERCISES_DIR)
    files = sorted(str(p.relative_to(snap.folder)) for p in snap.folder.rglob("*") if p.is_file())
    assert files == ["checkpoints/deep/model.pt", FILE]
    assert any("ex2_llm.py is a symlink" in n for n in snap.notes)
    assert any("checkpoints/root" in n for n in snap.notes)


def test_snapshot_takes_notebooks_of_the_exercises_and_reviews_their_code(tmp_path):
    import nbformat

    sub = tmp_path / "sub"
    write_submission(sub, "x = 1\n")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("sys.modules in prose is not code"),
        nbformat.v4.new_code_cell("import sys\nsys.modules['pytest']")])
    nbformat.write(notebook, sub / "exercises" / "ex3_openai.ipynb")
    (sub / "exercises" / "notes.ipynb").write_text("{}")
    [snap] = intake.copy_submissions([sub], tmp_path / "snap", EXERCISES_DIR)
    files = sorted(str(p.relative_to(snap.folder)) for p in snap.folder.rglob("*") if p.is_file())
    assert files == ["ex3_openai.ipynb", FILE]
    assert intake.review_flags(snap.folder, EXERCISES_DIR) == ["ex3_openai.ipynb: sys.modules"]


def test_snapshot_of_a_zip_skips_escapes_and_links(tmp_path):
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"bob/exercises/{FILE}", "x = 1\n")
        z.writestr("bob/../../evil.py", "evil\n")
        link = zipfile.ZipInfo("bob/exercises/ex2_llm.py")
        link.external_attr = (0o120777 << 16)
        z.writestr(link, "/work/main/solutions/ex2_llm.py")
    [snap] = intake.copy_submissions([archive], tmp_path / "snap", EXERCISES_DIR)
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
    snaps = intake.copy_submissions(paths, tmp_path / "snap", EXERCISES_DIR)
    assert [s.name for s in snaps] == ["caf\\xe9", "alice", "alice~2", "alice.zip"]
    assert (snaps[3].folder / FILE).read_text() == "x = 2\n"


def test_gradebook_cells_that_look_like_formulas_are_text():
    assert [gradebook.safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "alice", "")] == \
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "alice", ""]


# -- the grader's rules (dlgrade/grading/policy.py) and its bookkeeping over scripted runs ----

COLLECTED = {f"checks/test_x.py::test_{i}": policy.CheckMeta("ex3.1", 1.0, 5) for i in range(10)}


def outcome(code, results=(), canary="failed", current=None, overrun=None):
    return RunOutcome(code, [policy.Reported(n, s, "", 0.0) for n, s in results], canary, current, overrun)


def scripted(tmp_path, outcomes: list, collected=COLLECTED) -> tuple[Grade, list]:
    """grade_checks over `collected`, its runs returning `outcomes` in turn (each a function of the pending checks)."""
    grade, calls = Grade("x"), []

    def run_once(pending):
        calls.append(list(pending))
        return outcomes[min(len(calls), len(outcomes)) - 1](list(pending))

    grade_checks(collected, "visible", run_once, grade)
    return grade, calls


def test_when_restarts_run_out_the_rest_fail_with_the_reason(tmp_path):
    # every run dies by a signal in its first check
    result, calls = scripted(tmp_path, [lambda p: outcome(-11, canary=None, current=p[0])])
    assert len(calls) == policy.MAX_RESTARTS + 1
    outputs = [r.output for r in result.results]
    assert len(outputs) == 10 and all(r.status == "failed" for r in result.results)
    assert sum("killed by signal 11" in o and "while running this check" in o for o in outputs) == 6
    assert sum(o.startswith("not run: the grader restarted the checks 5 times") for o in outputs) == 4
    assert result.notes[-1] == "4 checks not run: restarts ran out" and result.status == policy.GRADED


def test_results_the_grader_did_not_ask_for_are_ignored(tmp_path):
    result, _ = scripted(tmp_path, [lambda p: outcome(1, [(n, "passed") for n in p]
                                                      + [("checks/test_x.py::test_free", "passed")])])
    assert sorted(r.nodeid for r in result.results) == sorted(COLLECTED)
    assert {(r.item, r.weight) for r in result.results} == {("ex3.1", 1.0)}  # the grader's, not the run's


@pytest.mark.parametrize("run", [
    lambda p: outcome(1, [(n, "passed") for n in p], canary="passed"),  # pytest patched: the canary passes
    lambda p: outcome(0, [(n, "passed") for n in p], canary=None),  # results without the canary
    lambda p: outcome(3, [(n, "passed") for n in p], canary=None),  # ... whatever the exit code
    lambda p: outcome(None, [(n, "passed") for n in p], canary=None, current=p[-1]),  # ... even killed
], ids=["canary-passed", "canary-missing", "canary-missing-exit-3", "canary-missing-killed"])
def test_a_canary_that_does_not_fail_marks_the_row_tampered(tmp_path, run):
    result, _ = scripted(tmp_path, [run])
    assert result.status == policy.TAMPERED and "tampered" in result.notes[0]


def test_a_crash_before_the_end_is_not_tampering():
    facts = policy.RunFacts(code=-11, pending=["a", "b"], remaining=["b"], canary=None, current="b")
    judgement = policy.judge_run(facts)
    assert judgement.tampered is None and not judgement.finished and judgement.blamed == "b"


def test_a_check_that_did_not_pass_scores_zero_unless_optional(tmp_path):
    collected = {"checks/test_x.py::test_a": policy.CheckMeta("ex3.1"),
                 "checks/test_x.py::test_b": policy.CheckMeta("ex3.1"),
                 "checks/test_x.py::test_real": policy.CheckMeta("ex3.1", optional=True)}
    statuses = {"checks/test_x.py::test_a": "passed", "checks/test_x.py::test_b": "skipped",
                "checks/test_x.py::test_real": "skipped"}
    result, _ = scripted(tmp_path, [lambda p: outcome(0, [(n, statuses[n]) for n in p])], collected)
    score(result, curriculum_mod.load())
    by_id = {r.nodeid.split("::")[1]: r for r in result.results}
    points = curriculum_mod.load().item("ex3.1").points
    assert by_id["test_b"].status == "failed" and by_id["test_b"].score == 0
    assert by_id["test_b"].max_score == by_id["test_a"].max_score == points / 2  # not moved to test_a
    assert by_id["test_real"].max_score == 0 and result.score == points / 2
    assert policy.graded_status("skipped", optional=False) == "failed"
    assert policy.graded_status("not_started", optional=False) == "not_started"


def test_hidden_runs_keep_their_notes_from_the_learner(tmp_path):
    grade = Grade("x")
    grade_checks(COLLECTED, "hidden", lambda p: outcome(98, canary=None, current=next(iter(p))), grade)
    assert grade.notes == [] and any("code 98" in n for n in grade.staff_notes)
    for result in grade.results:
        result.duration = 1.5
    data = learner_results(grade, curriculum_mod.load(), "en")
    assert all(t["output"] == "" and t["extra_data"]["duration_s"] == 0 for t in data["tests"])
    assert "98" not in data["output"]


HOSTILE_STRINGS = ["lone \ud800 surrogate", "nul \x00 esc \x1b[31m vt \x0b ff \x0c", "]]> </failure> & <x>",
                   "\ufffe\uffff", "=cmd|' /C calc'!A0", "tab\tnewline\nok", "中文 ok"]


def test_accepted_text_and_numbers_are_safe_for_every_format():
    pending = {f"n{i}": policy.CheckMeta("ex3.1") for i in range(len(HOSTILE_STRINGS))}
    reported = [policy.Reported(f"n{i}", "failed", text, value)
                for i, (text, value) in enumerate(zip(HOSTILE_STRINGS, [float("nan"), float("inf"), -1.0, "x", None,
                                                                        True, 2.5], strict=True))]
    accepted = policy.accept(reported, pending, set())
    assert [a.duration for a in accepted] == [0, 0, 0, 0, 0, 0, 2.5]
    for a in accepted:
        a.output.encode("utf-8")
        assert not any(c in a.output for c in "\x00\x1b\x0b\x0c\ufffe\uffff\ud800")
    assert accepted[-2].output == "tab\tnewline\nok" and accepted[-1].output == "中文 ok"
    assert policy.accept([policy.Reported("n0", "bogus"), policy.Reported(["n0"], "passed")], pending, set()) == []


def test_junit_is_valid_xml_with_hostile_strings(tmp_path):
    import xml.etree.ElementTree as ET

    from dlgrade.core.results import CheckResult

    results = [CheckResult(f"checks/{s}.py::test_{s}", s, status, s, duration=float("nan"))
               for s in HOSTILE_STRINGS for status in ("failed", "skipped", "passed")]
    gradebook.write_junit(results, tmp_path / "junit.xml")
    cases = ET.parse(tmp_path / "junit.xml").getroot().findall("testcase")
    assert len(cases) == len(results) and {c.get("time") for c in cases} == {"0.000"}


def test_json_outputs_are_valid_with_hostile_strings(tmp_path):
    data = policy.json_safe({"output": HOSTILE_STRINGS, "score": float("nan"), "n": [float("-inf"), 1, True, None],
                             HOSTILE_STRINGS[0]: {"nested": HOSTILE_STRINGS}})
    gradebook.save_ledger(tmp_path, data)
    from dlgrade.core.jsonio import write_json_atomic

    write_json_atomic(tmp_path / "results.json", data)
    for path in (tmp_path / gradebook.LEDGER, tmp_path / "results.json"):
        loaded = strict_json(path)
        assert loaded["score"] == 0.0 and loaded["n"] == [0.0, 1, True, None]


def test_gradebook_csv_is_valid_with_hostile_strings(tmp_path):
    rows_in = [{"submission": s, "items": {"ex3.1": float("nan")}, "total": 0, "max_total": 1, "status": "graded",
                "sandboxed": "yes", "review": s, "notes": s} for s in HOSTILE_STRINGS]
    gradebook.write_gradebook(rows_in, ["ex3.1"], tmp_path / "gradebook.csv")
    text = (tmp_path / "gradebook.csv").read_bytes().decode("utf-8")
    assert "\x00" not in text and "\ud800" not in text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    with (tmp_path / "gradebook.csv").open(encoding="utf-8", newline="") as f:
        read = list(csv.DictReader(f))
    assert len(read) == len(HOSTILE_STRINGS) and all(not r["notes"].startswith("=") for r in read)


# -- the sandbox itself ------------------------------------------------------------------------

def sandboxed_python(tmp_path, code: str, mounts=()) -> subprocess.CompletedProcess:
    layout = isolation.python_layout()
    launch = isolation.sandbox_launch([layout.executable, "-P", "-c", code], mounts=list(mounts),
                                      env={"PATH": "/usr/bin:/bin", "PYTHONPATH": layout.pythonpath}, cwd="/tmp",
                                      etc=isolation.write_etc(tmp_path / "etc"), limits=isolation.Limits())
    try:
        return subprocess.run(launch.argv, capture_output=True, text=True, timeout=120, pass_fds=launch.pass_fds)
    finally:
        launch.close()


@pytest.mark.skipif(not isolation.sandbox_available()[0], reason="no bubblewrap sandbox here")
def test_the_sandbox_works_from_tmp_and_shows_no_host_path(tmp_path):
    assert str(tmp_path).startswith(tempfile.gettempdir())  # a checkout under /tmp, as in the issue
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("seen")
    code = ("import os, sys, dlgrade\n"
            "print(open('/data/x.txt').read(), dlgrade.__file__, sys.executable)\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            "        print(open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())\n")
    proc = sandboxed_python(tmp_path, code, [isolation.Mount(tmp_path / "data", "/data")])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("seen /opt/dlgrade/lib/dlgrade/__init__.py /opt/dlgrade/")
    assert str(tmp_path) not in proc.stdout and str(REPO_ROOT) not in proc.stdout


@pytest.mark.skipif("cpu" in cgroups_missing(), reason="no CPU cgroup can be made here")
def test_a_sandbox_gets_a_cpu_quota_and_a_memory_cgroup():
    cap = isolation.ResourceCap(isolation.Limits(cpus=1.5, memory_bytes=isolation.GiB))
    try:
        cpu = cap.paths["cpu"]
        quota = (cpu / "cpu.cfs_quota_us").read_text() if (cpu / "cpu.cfs_quota_us").exists() \
            else (cpu / "cpu.max").read_text().split()[0]
        assert int(quota) == 150_000
        if "memory" in cap.paths:
            memory = cap.paths["memory"]
            limit = memory / ("memory.limit_in_bytes" if (memory / "memory.limit_in_bytes").exists() else "memory.max")
            assert int(limit.read_text()) == isolation.GiB
        made = list(cap.paths.values())
    finally:
        cap.close()
    assert made and not any(p.exists() for p in made)


@pytest.mark.skipif(not isolation.sandbox_available()[0], reason="no bubblewrap sandbox here")
def test_a_notebook_only_submission_is_graded_in_the_sandbox_and_writes_nothing_under_home(tmp_path):
    """A submission of exercises/ex3_openai.ipynb alone is graded as the .py would be: its learner process
    reads it inside the sandbox with nbformat and IPython's input transformer. Neither needs to write
    under HOME (IPython's ~/.ipython, Jupyter's folders): in a sandbox, the notebook loads with HOME
    read-only and leaves a writable HOME empty."""
    import nbformat
    from test_notebooks import filled_notebook

    sub = tmp_path / "notebook_only"
    (sub / "exercises").mkdir(parents=True)
    nbformat.write(filled_notebook("ex3"), sub / "exercises" / "ex3_openai.ipynb")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(sub), *CHECKS, "--out", str(out)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = rows(out)["notebook_only"]
    assert row["sandboxed"] == "yes" and float(row["total"]) == float(row["max_total"]) > 0, row
    assert {t["status"] for t in json.loads((out / "notebook_only" / "results.json").read_text())["tests"]} == \
        {"passed"}

    homes = {"/home/writable": tmp_path / "home", "/home/readonly": tmp_path / "readonly-home"}
    for folder in homes.values():
        folder.mkdir()
    mounts = [isolation.Mount(sub / "exercises", "/submission"),
              isolation.Mount(homes["/home/writable"], "/home/writable", writable=True),
              isolation.Mount(homes["/home/readonly"], "/home/readonly")]
    for home in homes:
        code = (f"import os\nos.environ['HOME'] = {home!r}\nfrom pathlib import Path\n"
                "from dlgrade.boundary.loader import load_module\n"
                "module = load_module(Path('/submission'), 'ex3_openai.py')\n"
                "print(module.__file__, module.complete_text.__name__)\n")
        loaded = sandboxed_python(tmp_path, code, mounts)
        assert loaded.returncode == 0, loaded.stderr
        assert loaded.stdout.split() == ["/submission/ex3_openai.ipynb", "complete_text"]
        assert loaded.stderr == ""  # no warning about a HOME it could not write to
    assert list(homes["/home/writable"].iterdir()) == []


def test_the_notebooks_of_a_release_raise_no_review_flag(tmp_path):
    """The paired notebooks a learner release ships carry `from dlgrade import check` in their own cells
    (commented out in the paired .py): not graded code, so not a sign of tampering."""
    from dlgrade.core import curriculum as curriculum_mod
    from dlgrade.learner import notebook

    sub = tmp_path / "sub"
    (sub / "exercises").mkdir(parents=True)
    curriculum = curriculum_mod.load()
    for section_id in notebook.NOTEBOOK_EXERCISES:
        section = curriculum.section(section_id)
        py_path = sub / "exercises" / section.file
        stub = (EXERCISES_DIR / section.file).read_text(encoding="utf-8")
        notebook.pair(notebook.build(curriculum, section, stub, "zh"), py_path.with_suffix(".ipynb"), py_path)
    assert "dlgrade" in (sub / "exercises" / "ex3_openai.ipynb").read_text(encoding="utf-8")
    [snap] = intake.copy_submissions([sub], tmp_path / "snap", EXERCISES_DIR)
    assert intake.review_flags(snap.folder, EXERCISES_DIR) == []
