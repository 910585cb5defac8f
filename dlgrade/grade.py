"""`dlgrade grade SUBMISSION...`: grade a class's submissions, each in its own sandboxed run.

Each submission (a folder holding exercises/ or the exercise files themselves, a clone of the
repository, or a .zip of either) is graded in a subprocess against a fresh temporary copy of
checks/ and fixtures/ (DLGRADE_ROOT points there); only the submission's exercise files are
copied in — its own checks/ or solutions/, if any, are ignored, and `import solutions` fails.
Network access is off: each run in a network namespace of its own where the kernel allows it
(dlgrade/isolation.py), and always the Python-level guard (dlgrade/sandbox/sitecustomize.py),
which gives the learner a clear message. Every check has its
time limit (the plugin), every submission a wall-clock limit; a run that dies (segfault,
os._exit, killed) is restarted without the checks already done and the one that was running,
which is marked failed with the reason, so nothing already graded is lost.

Outputs in --out: <name>/results.json (Gradescope), <name>/junit.xml, <name>/log.txt (capped),
gradebook.csv (one row per submission, one column per item, total), all written atomically.
--resume skips submissions whose results.json exists. --hidden DIR adds instructor-only check
files, graded with visibility "hidden".
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dlgrade import curriculum as curriculum_mod
from dlgrade import isolation
from dlgrade.paths import PACKAGE_ROOT, REPO_ROOT
from dlgrade.results import CheckResult, assign_scores, from_gradescope, gradescope, write_json_atomic
from dlgrade.targets import resolve

SANDBOX_DIR = PACKAGE_ROOT / "dlgrade" / "sandbox"
COPIED = ("checks", "fixtures", "curriculum.toml", "conftest.py", "pyproject.toml")
LOG_LIMIT_BYTES = 1_000_000
MAX_RESTARTS = 5


@dataclass
class Grade:
    name: str
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def submission_name(path: Path) -> str:
    return path.stem if path.suffix == ".zip" else path.name


def unpack(submission: Path, into: Path) -> Path:
    """The folder of exercise files inside a submission (a folder or a zip)."""
    if submission.suffix == ".zip":
        with zipfile.ZipFile(submission) as archive:
            archive.extractall(into / "unzipped")
        submission = into / "unzipped"
        entries = [p for p in submission.iterdir() if not p.name.startswith(("__MACOSX", "."))]
        if len(entries) == 1 and entries[0].is_dir():
            submission = entries[0]
    folder = resolve(str(submission))
    return folder


def refresh_grader_files(workspace: Path) -> None:
    """(Re)copy checks, fixtures and configuration: a run may have changed its copy."""
    for name in COPIED:
        source, copy = REPO_ROOT / name, workspace / name
        if copy.is_dir():
            shutil.rmtree(copy)
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, copy)


def prepare_workspace(submission: Path, workspace: Path, hidden: Path | None) -> Path:
    """A fresh copy of what grading needs, with only the submission's exercise files from the learner."""
    refresh_grader_files(workspace)
    if hidden is not None:
        shutil.copytree(hidden, workspace / "hidden_checks", ignore=shutil.ignore_patterns("__pycache__"))
    learner = workspace / "submission"
    shutil.copytree(unpack(submission, workspace), learner, symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", ".git", "checks", "solutions", "fixtures"))
    return learner


def _run_pytest(workspace: Path, check_paths: list[str], visibility: str, done: set[str], deadline: float,
                log) -> tuple[int | None, dict, dict]:
    """One pytest process over the checks not yet done; returns (exit code or None if killed, results, progress)."""
    results_path = workspace / f"results-{visibility}.json"
    progress_path = workspace / f"progress-{visibility}.json"
    results_path.unlink(missing_ok=True)
    progress_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", *check_paths, "-q", "-p", "no:cacheprovider", "--no-header",
               "--target", "submission", "--dlgrade-json", str(results_path), "--dlgrade-visibility", visibility,
               "--dlgrade-progress", str(progress_path), "--junitxml", str(workspace / f"junit-{visibility}.xml")]
    for nodeid in sorted(done):
        command += ["--deselect", nodeid]
    env = {**os.environ, "DLGRADE_ROOT": str(workspace), "DLGRADE_LANG": os.environ.get("DLGRADE_LANG", "en"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(SANDBOX_DIR), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    offline_prefix, _ = isolation.network_namespace()
    if offline_prefix:
        command = [*offline_prefix, *command]
        env.update(isolation.LOOPBACK_ENV)
    proc = subprocess.Popen(command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    written = 0

    def pump():
        nonlocal written
        for chunk in iter(lambda: proc.stdout.read(65536), b""):
            if written < LOG_LIMIT_BYTES:
                log.write(chunk[: LOG_LIMIT_BYTES - written])
                written += len(chunk)

    import threading

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    killed = False
    while proc.poll() is None:
        if time.monotonic() > deadline:
            killed = True
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    proc.wait()
    reader.join(timeout=5)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything the run left behind
    except ProcessLookupError:
        pass
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    progress = json.loads(progress_path.read_text()) if progress_path.exists() else {}
    return (None if killed else proc.returncode), results, progress


def _grade_checks(workspace: Path, check_paths: list[str], visibility: str, deadline: float, log,
                  grade: Grade) -> None:
    done: dict[str, CheckResult] = {}
    for _ in range(MAX_RESTARTS + 1):
        refresh_grader_files(workspace)
        code, results, progress = _run_pytest(workspace, check_paths, visibility, set(done), deadline, log)
        for result in from_gradescope(results):
            done[result.nodeid] = result
        collected = set(progress.get("collected", []))
        remaining = collected - set(done)
        if code is not None and not remaining and collected:
            break
        current = progress.get("current")
        if code is None:
            reason = "the submission's time limit ran out"
        elif code < 0:
            reason = f"the grading process was killed by signal {-code} (a crash in native code?)"
        else:
            reason = f"the grading process exited with code {code} before finishing (sys.exit/os._exit?)"
        if current and current not in done:
            done[current] = CheckResult(nodeid=current, item=progress.get("items", {}).get(current), status="failed",
                                        output=f"{reason} while running this check", visibility=visibility)
        if code is None or not remaining:
            for nodeid in sorted(remaining - set(done)):
                done[nodeid] = CheckResult(nodeid=nodeid, item=progress.get("items", {}).get(nodeid),
                                           status="failed", output=f"not run: {reason}", visibility=visibility)
            grade.notes.append(reason)
            break
        grade.notes.append(f"restarted after: {reason}")
    grade.results.extend(done.values())


def grade_submission(submission: Path, out_dir: Path, *, checks: list[str], hidden: Path | None,
                     time_limit_s: float, keep: bool = False) -> Grade:
    grade = Grade(submission_name(submission))
    started = time.monotonic()
    target_dir = out_dir / grade.name
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"dlgrade-{grade.name}-") as tmp:
        workspace = Path(tmp)
        try:
            prepare_workspace(submission, workspace, hidden)
        except (OSError, zipfile.BadZipFile, ValueError) as exc:
            grade.notes.append(f"could not read the submission: {exc}")
        else:
            deadline = started + time_limit_s
            with open(target_dir / "log.txt", "wb") as log:
                _grade_checks(workspace, checks, "visible", deadline, log, grade)
                if hidden is not None:
                    _grade_checks(workspace, ["hidden_checks"], "hidden", deadline, log, grade)
            for name in ("junit-visible.xml", "junit-hidden.xml"):
                if (workspace / name).exists():
                    shutil.copy(workspace / name, target_dir / name.replace("-visible", ""))
    curriculum = curriculum_mod.load()
    assign_scores(grade.results, curriculum)
    grade.wall_s = time.monotonic() - started
    data = gradescope(grade.results, curriculum, "en", grade.wall_s)
    data["output"] = "; ".join(grade.notes)
    write_json_atomic(target_dir / "results.json", data)
    return grade


def load_grade(name: str, results_json: Path) -> Grade:
    data = json.loads(results_json.read_text())
    return Grade(name, from_gradescope(data), [n for n in data.get("output", "").split("; ") if n],
                 data.get("execution_time", 0.0))


def write_gradebook(grades: list[Grade], path: Path) -> None:
    """One row per submission, one column per graded item (its points), the total; atomically."""
    items = [i.id for i in curriculum_mod.load().items if i.graded]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["submission", *items, "total", "max_total", "notes"])
    for grade in sorted(grades, key=lambda g: g.name):
        per_item = {i: round(sum(r.score for r in grade.results if r.item == i), 4) for i in items}
        writer.writerow([grade.name, *[per_item[i] for i in items], round(grade.score, 4),
                         round(grade.max_score, 4), "; ".join(grade.notes)])
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def summary_table(grades: list[Grade]) -> Table:
    table = Table(title="dlgrade: gradebook")
    for column in ("submission", "score", "checks passed", "time", "notes"):
        table.add_column(column)
    for grade in sorted(grades, key=lambda g: g.name):
        passed = sum(r.status == "passed" for r in grade.results)
        table.add_row(grade.name, f"{grade.score:.4g}/{grade.max_score:.4g}", f"{passed}/{len(grade.results)}",
                      f"{grade.wall_s:.1f} s", "; ".join(grade.notes)[:80])
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, help="submission folders or .zip files")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="where results and the gradebook go")
    parser.add_argument("--checks", nargs="*", default=["checks"], help="check files or folders (default: all)")
    parser.add_argument("--hidden", type=Path, default=None, help="instructor-only check files (visibility hidden)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--time-limit", type=float, default=1800, help="wall-clock seconds per submission")
    parser.add_argument("--resume", action="store_true", help="skip submissions already graded in --out")


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    grades, todo = [], []
    for submission in args.submissions:
        existing = args.out / submission_name(submission) / "results.json"
        if args.resume and existing.exists():
            grades.append(load_grade(submission_name(submission), existing))
        else:
            todo.append(submission)

    def one(submission: Path) -> Grade:
        grade = grade_submission(submission, args.out, checks=args.checks, hidden=args.hidden,
                                 time_limit_s=args.time_limit)
        console.print(f"graded {grade.name}: {grade.score:.4g}/{grade.max_score:.4g} in {grade.wall_s:.1f} s")
        return grade

    console.print(isolation.network_namespace()[1])
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for grade in pool.map(one, todo):
            grades.append(grade)
            write_gradebook(grades, args.out / "gradebook.csv")
    write_gradebook(grades, args.out / "gradebook.csv")
    Console().print(summary_table(grades))
    return 0
