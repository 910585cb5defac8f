"""`dlgrade grade SUBMISSION...`: grade a class's submissions, each run in a sandbox, the grader owning the truth.

1. Every submission (a folder holding exercises/ or the exercise files themselves, a clone of
   the repository, or a .zip of either) is snapshotted before any grading starts
   (dlgrade/grading/intake.py): exercise files and exercises/checkpoints/ only, regular files only.
2. The grader collects the checks itself (`pytest --collect-only` with no submission, so no
   learner code runs): their IDs, items, weights and time limits come from there, never
   from a run that imported learner code.
3. Each pytest run (visible checks, hidden checks, every restart) starts in a fresh workspace
   inside a bubblewrap sandbox (dlgrade/grading/sandbox.py): the checks, fixtures and the
   submission's copy, nothing else of the host, an allow-listed environment, loopback only,
   memory/process/CPU limits. Hidden checks are mounted into the hidden run only. Without
   bwrap, grading refuses unless --no-sandbox (the gradebook then says "no").
4. Results are accepted only for checks the grader collected and had not yet accepted, with
   the grader's own items and weights. Every run ends with a canary check, written afresh
   under a random name, that must fail; if it passes, or a run reports every check but not
   the canary, the submission's row is `tampered` (score 0, a note).
5. Limits from outside: the grader watches the run's progress file and kills a run whose
   check overran twice its limit (setup and call each have one) plus a grace; that check fails
   with the reason and a fresh run goes on with the rest. A run that dies (segfault, os._exit)
   is restarted the same way; when restarts run out, or the submission's wall-clock limit
   does, the checks not run yet are failed with the reason, never dropped.
6. SIGINT/SIGTERM kill every sandbox, the gradebook is written for the finished submissions,
   and the workspaces are removed.

Outputs in --out: <name>/results.json (Gradescope), <name>/junit.xml (both from the results the grader
accepted), <name>/log.txt (capped),
gradebook.csv (dlgrade/grading/gradebook.py) and the ledger --resume trusts.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.project import Project
from dlgrade.core.results import (
    FAILED,
    NOT_STARTED,
    PASSED,
    SKIPPED,
    CheckResult,
    assign_scores,
    from_gradescope,
    gradescope,
    write_json_atomic,
)
from dlgrade.grading import gradebook, intake
from dlgrade.grading import run_guard as gradeguard
from dlgrade.grading import sandbox as isolation

SANDBOX_SITE = Path(__file__).resolve().parent / "sandbox_site"
GRADER_FILES = ("checks", "fixtures", "curriculum.toml", "conftest.py", "pyproject.toml")
INSIDE = "/grading"
LOG_LIMIT_BYTES = 1_000_000
OUTPUT_LIMIT_CHARS = 4000
MAX_RESTARTS = 5
# Beyond twice a check's limit (setup and call each have one), time to import torch on a busy
# machine and to write results; measured: a first check's imports took up to 6 s here.
WATCHDOG_GRACE_S = 10.0
POLL_S = 0.1
STATUSES = (PASSED, FAILED, NOT_STARTED, SKIPPED)
GRADED, TAMPERED, UNREADABLE = "graded", "tampered", "unreadable"


class Interrupted(Exception):
    """Grading was stopped by SIGINT/SIGTERM."""


@dataclass
class Grade:
    name: str
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    status: str = GRADED
    sandboxed: bool = True
    review: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    def mark_tampered(self, why: str) -> None:
        if self.status != TAMPERED:
            self.status = TAMPERED
            self.notes.append(f"tampered: {why}; score set to 0, look at the submission")


@dataclass
class RunOutcome:
    code: int | None  # None: killed by the grader
    results: list[CheckResult]
    canary: str | None
    current: str | None
    overrun: str | None = None
    wall_limit: bool = False


@dataclass
class Settings:
    out: Path
    checks: list[str]
    hidden: Path | None
    time_limit_s: float
    sandbox: bool
    limits: isolation.Limits
    time_cap: float | None = None
    lang: str = "en"


def _relative_check_path(spec: str) -> str:
    """A --checks entry (path or node ID under checks/) as a path relative to the repository."""
    path, sep, rest = spec.partition("::")
    resolved = (Project.locate().root / path).resolve()
    if not resolved.is_relative_to((Project.locate().root / "checks").resolve()) or not resolved.exists():
        raise ValueError(f"--checks {spec!r}: not a check file or folder under {Project.locate().root / 'checks'}")
    return str(resolved.relative_to(Project.locate().root.resolve())) + sep + rest


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _parse_results(data: dict) -> list[CheckResult]:
    try:
        return from_gradescope(data)
    except (AttributeError, KeyError, TypeError, ValueError):
        return []


class Grader:
    def __init__(self, settings: Settings, workdir: Path):
        self.settings = settings
        self.workdir = workdir
        self.stop = threading.Event()
        self.lock = threading.RLock()  # the signal handler takes it too, maybe while the main thread holds it
        self.live: set[subprocess.Popen] = set()
        self.collected: dict[str, dict[str, dict]] = {}
        self.check_paths = {"visible": [_relative_check_path(c) for c in settings.checks],
                            "hidden": ["hidden_checks"]}

    # -- one pytest process ---------------------------------------------------------------

    def _prepare(self, run_dir: Path, snapshot: Path | None, visibility: str) -> str:
        """A fresh workspace; returns the root the checks see (/grading inside the sandbox)."""
        for name in ("grader", "submission", "scratch", "tmp"):
            (run_dir / name).mkdir()
        if snapshot is not None:
            shutil.copytree(snapshot, run_dir / "submission", dirs_exist_ok=True)
        if self.settings.sandbox:
            return INSIDE
        for name in GRADER_FILES:
            source = Project.locate().root / name
            if source.is_dir():
                shutil.copytree(source, run_dir / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, run_dir / name)
        if visibility == "hidden":
            shutil.copytree(self.settings.hidden, run_dir / "hidden_checks",
                            ignore=shutil.ignore_patterns("__pycache__"))
        return str(run_dir)

    def _env(self, root: str, run_dir: Path) -> dict[str, str]:
        """The whole environment of a run: nothing of the grader's (no keys, no tokens).

        Not PYTHONSAFEPATH: the learner's scripts import their sibling modules (ex1_ddp.py imports
        ex1_distributed_common). Only the pytest process gets -P, so that nothing in its working
        folder shadows dlgrade. Not HF_HUB_OFFLINE: the download checks serve a stand-in hub on
        loopback, and the network namespace keeps everything else out."""
        tmp = "/tmp" if self.settings.sandbox else str(run_dir / "tmp")
        return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp,
                "LANG": "C.UTF-8", "USER": "learner", "LOGNAME": "learner", "DLGRADE_ROOT": root,
                "DLGRADE_LANG": self.settings.lang, "PYTHONPATH": str(SANDBOX_SITE), "PYTHONDONTWRITEBYTECODE": "1",
                "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", **isolation.LOOPBACK_ENV}

    def _launch(self, run_dir: Path, root: str, visibility: str, args: list[str],
                cap: isolation.ProcessCap | None) -> subprocess.Popen:
        command = [sys.executable, "-P", "-m", "pytest", *args]
        env = self._env(root, run_dir)
        if self.settings.sandbox:
            mounts = [isolation.Mount(Project.locate().root / name, f"{INSIDE}/{name}") for name in GRADER_FILES
                      if (Project.locate().root / name).exists()]
            if visibility == "hidden":
                mounts.append(isolation.Mount(self.settings.hidden, f"{INSIDE}/hidden_checks"))
            mounts += [isolation.Mount(run_dir / "grader", f"{INSIDE}/grader"),
                       isolation.Mount(run_dir / "submission", f"{INSIDE}/submission", writable=True),
                       isolation.Mount(run_dir / "scratch", f"{INSIDE}/scratch", writable=True)]
            command = isolation.sandbox_command(command, mounts=mounts, env=env, cwd=f"{INSIDE}/scratch",
                                                etc=isolation.write_etc(run_dir / "etc"), limits=self.settings.limits,
                                                readonly_root=INSIDE)
            command = cap.wrap(command)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        else:
            prefix, _ = isolation.network_namespace()
            command = [*(prefix or []), *command]
        with self.lock:
            if self.stop.is_set():
                raise Interrupted()
            proc = subprocess.Popen(command, cwd=run_dir / "scratch", env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
            self.live.add(proc)
        return proc

    @staticmethod
    def _kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # in the sandbox: its pid namespace goes with it
        except (ProcessLookupError, PermissionError):
            pass

    def _pytest(self, run_dir: Path, snapshot: Path | None, visibility: str, extra: list[str], log, *,
                canary_item: str | None = None, watch: dict[str, dict] | None = None,
                deadline: float | None = None) -> RunOutcome:
        """One pytest process in the fresh workspace `run_dir`, watched from outside."""
        root = self._prepare(run_dir, snapshot, visibility)
        args = [f"{root}/{p}" for p in self.check_paths[visibility]]
        canary_name = None
        if canary_item is not None:
            canary, canary_name = gradeguard.write_canary(run_dir / "grader", secrets.token_hex(8), canary_item)
            args.append(f"{root}/grader/{canary.name}")
        args += [*extra, "-q", "-p", "no:cacheprovider", "--no-header", "-p", "dlgrade.grading.run_guard",
                 "--target", f"{root}/submission", "--dlgrade-visibility", visibility]
        if self.settings.time_cap:
            args += ["--dlgrade-time-cap", str(self.settings.time_cap)]
        cap = isolation.ProcessCap(self.settings.limits.processes) if self.settings.sandbox else None
        try:
            proc = self._launch(run_dir, root, visibility, args, cap)
        except BaseException:
            if cap is not None:
                cap.close()
            raise
        reader = threading.Thread(target=_pump, args=(proc, log), daemon=True)
        reader.start()
        progress = run_dir / "scratch" / "progress.json"
        overrun, wall_limit, current, since = None, False, None, time.monotonic()
        try:
            while proc.poll() is None:
                if self.stop.is_set():
                    raise Interrupted()
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    wall_limit = True
                    break
                if watch is not None:
                    now_current = _read_json(progress).get("current")
                    if now_current != current:
                        current, since = now_current, now
                    meta = watch.get(current) if isinstance(current, str) else None
                    if meta and now - since > 2 * meta["time_limit"] + WATCHDOG_GRACE_S:
                        overrun = current
                        break
                time.sleep(POLL_S)
        finally:
            self._kill(proc)
            proc.wait()
            reader.join(timeout=5)
            with self.lock:
                self.live.discard(proc)
            if cap is not None:
                cap.close()
        results = _parse_results(_read_json(run_dir / "scratch" / "results.json"))
        canary_status = next((r.status for r in results if canary_name and r.nodeid.endswith(f"::{canary_name}")),
                             None)
        last = _read_json(progress).get("current")
        killed = overrun is not None or wall_limit
        return RunOutcome(None if killed else proc.returncode, results, canary_status,
                          last if isinstance(last, str) else None, overrun, wall_limit)

    def _root(self, run_dir: Path) -> str:
        return INSIDE if self.settings.sandbox else str(run_dir)

    def _fresh_dir(self, label: str):
        return tempfile.TemporaryDirectory(prefix=f"{label}-", dir=self.workdir, ignore_cleanup_errors=True)

    # -- the grader's own collection ------------------------------------------------------

    def collect(self, visibility: str) -> dict[str, dict]:
        """The checks, their items, weights and limits, from a run that has no learner code at all."""
        with self._fresh_dir(f"collect-{visibility}") as tmp:
            run_dir = Path(tmp)
            log_path = self.workdir / f"collect-{visibility}.log"
            with open(log_path, "wb") as log:
                outcome = self._pytest(run_dir, None, visibility, [
                    "--collect-only", "--dlgrade-collect", f"{self._root(run_dir)}/scratch/collected.json"], log)
            collected = _read_json(run_dir / "scratch" / "collected.json")
        if outcome.code != 0 or not collected:
            tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace")
            raise RuntimeError(f"collecting the {visibility} checks failed (exit code {outcome.code}):\n{tail}")
        self.collected[visibility] = collected
        return collected

    # -- one submission -------------------------------------------------------------------

    def _run_once(self, sub: intake.Submission, visibility: str, pending: dict[str, dict], deadline: float,
                  log) -> RunOutcome:
        with self._fresh_dir(f"{sub.index:04d}-{visibility}") as tmp:
            run_dir = Path(tmp)
            root = self._root(run_dir)
            extra = ["--dlgrade-json", f"{root}/scratch/results.json", "--dlgrade-progress",
                     f"{root}/scratch/progress.json"]
            for nodeid in self.collected[visibility]:
                if nodeid not in pending:
                    extra += ["--deselect", nodeid]
            return self._pytest(run_dir, sub.folder, visibility, extra, log,
                                canary_item=next(iter(pending.values()))["item"], watch=pending, deadline=deadline)

    def _grade_checks(self, sub: intake.Submission, visibility: str, deadline: float, log, grade: Grade) -> None:
        accepted: dict[str, CheckResult] = {}
        self._restarts(sub, visibility, deadline, log, grade, accepted)
        grade.results.extend(accepted[n] for n in self.collected[visibility] if n in accepted)

    def _restarts(self, sub: intake.Submission, visibility: str, deadline: float, log, grade: Grade,
                  accepted: dict[str, CheckResult]) -> None:
        """Runs until every collected check has a result in `accepted`, or restarts or time run out."""
        collected = self.collected[visibility]

        def fail(nodeid: str, output: str) -> None:
            meta = collected[nodeid]
            accepted[nodeid] = CheckResult(nodeid=nodeid, item=meta["item"], status=FAILED, output=output,
                                           weight=meta["weight"], visibility=visibility)

        for attempt in range(MAX_RESTARTS + 1):
            pending = {n: m for n, m in collected.items() if n not in accepted}
            if not pending:
                return
            outcome = self._run_once(sub, visibility, pending, deadline, log)
            for result in outcome.results:
                meta = pending.get(result.nodeid)
                if meta is None or result.status not in STATUSES or result.nodeid in accepted:
                    continue  # not a check the grader collected, or not one this run was to grade
                accepted[result.nodeid] = CheckResult(
                    nodeid=result.nodeid, item=meta["item"], status=result.status,
                    output=str(result.output)[:OUTPUT_LIMIT_CHARS], weight=meta["weight"],
                    duration=_number(result.duration), visibility=visibility)
            remaining = [n for n in collected if n not in accepted]
            if outcome.canary is not None and outcome.canary != FAILED:
                grade.mark_tampered(f"the grader's canary check reported {outcome.canary!r} in a {visibility} run")
            elif outcome.code in (0, 1) and not remaining and outcome.canary is None:
                grade.mark_tampered(f"a {visibility} run reported every check but not the grader's canary "
                                    "(results written by the submission?)")
            if outcome.code is not None and outcome.overrun is None and not remaining:
                return
            if outcome.wall_limit:
                reason = "the submission's time limit ran out"
            elif outcome.overrun is not None:
                limit = collected[outcome.overrun]["time_limit"]
                reason = f"the check ran past its time limit of {limit:g} s and was stopped by the grader"
            elif outcome.code is None:
                reason = "the grading process was killed"
            elif outcome.code < 0 or (self.settings.sandbox and outcome.code > 128):
                # bwrap's first process passes a signal death on as exit code 128 + signal
                signum = -outcome.code if outcome.code < 0 else outcome.code - 128
                reason = f"the grading process was killed by signal {signum} (a crash in native code?)"
            else:
                reason = f"the grading process exited with code {outcome.code} before finishing (sys.exit/os._exit?)"
            blamed = outcome.overrun or outcome.current
            if blamed in remaining:
                fail(blamed, reason if outcome.overrun else f"{reason} while running this check")
            if outcome.wall_limit:
                for nodeid in remaining:
                    if nodeid not in accepted:
                        fail(nodeid, f"not run: {reason}")
                grade.notes.append(reason)
                return
            grade.notes.append(f"restarted after: {reason}" if attempt < MAX_RESTARTS else reason)
        gave_up = f"not run: the grader restarted the checks {MAX_RESTARTS} times and gave up"
        left = [n for n in collected if n not in accepted]
        for nodeid in left:
            fail(nodeid, gave_up)
        if left:
            grade.notes.append(f"{len(left)} checks not run: restarts ran out")

    def grade(self, sub: intake.Submission) -> Grade:
        if self.stop.is_set():
            raise Interrupted()
        grade = Grade(sub.name, notes=list(sub.notes), sandboxed=self.settings.sandbox, review=list(sub.review))
        started = time.monotonic()
        target_dir = self.settings.out / sub.name
        target_dir.mkdir(parents=True, exist_ok=True)
        if sub.unreadable:
            grade.status = UNREADABLE
            grade.notes.append(f"could not read the submission: {sub.unreadable}")
        else:
            deadline = started + self.settings.time_limit_s
            with open(target_dir / "log.txt", "wb") as log:
                for visibility in self.collected:
                    self._grade_checks(sub, visibility, deadline, log, grade)
        curriculum = curriculum_mod.load()
        assign_scores(grade.results, curriculum)
        if grade.status == TAMPERED:
            for result in grade.results:
                result.score = 0.0
        grade.wall_s = time.monotonic() - started
        data = gradescope(grade.results, curriculum, "en", grade.wall_s)
        data["output"] = "; ".join(grade.notes)
        write_json_atomic(target_dir / "results.json", data)
        gradebook.write_junit(grade.results, target_dir / "junit.xml")
        return grade


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _pump(proc: subprocess.Popen, log) -> None:
    """Copy the run's output into the log, up to LOG_LIMIT_BYTES; drain the rest so the run never blocks."""
    written = 0
    for chunk in iter(lambda: proc.stdout.read(65536), b""):
        if written < LOG_LIMIT_BYTES:
            log.write(chunk[: LOG_LIMIT_BYTES - written])
            written += len(chunk)


def load_grade(name: str, results_json: Path, entry: dict) -> Grade:
    data = json.loads(results_json.read_text(encoding="utf-8"))
    return Grade(name, from_gradescope(data), [n for n in data.get("output", "").split("; ") if n],
                 data.get("execution_time", 0.0), entry.get("status", GRADED), entry.get("sandboxed", True),
                 entry.get("review", []))


def gradebook_row(grade: Grade, items: list[str]) -> dict:
    per_item = {i: round(sum(r.score for r in grade.results if r.item == i), 4) for i in items}
    return {"submission": grade.name, "items": per_item, "total": round(grade.score, 4),
            "max_total": round(grade.max_score, 4), "status": grade.status,
            "sandboxed": "yes" if grade.sandboxed else "no", "review": "; ".join(grade.review),
            "notes": "; ".join(grade.notes)}


def write_gradebook(grades: list[Grade], path: Path) -> None:
    items = [i.id for i in curriculum_mod.load().items if i.graded]
    gradebook.write_gradebook([gradebook_row(g, items) for g in grades], items, path)


def summary_table(grades: list[Grade]) -> Table:
    table = Table(title="dlgrade: gradebook")
    for column in ("submission", "score", "checks passed", "time", "status", "notes"):
        table.add_column(column)
    for grade in sorted(grades, key=lambda g: g.name):
        passed = sum(r.status == PASSED for r in grade.results)
        table.add_row(grade.name, f"{grade.score:.4g}/{grade.max_score:.4g}", f"{passed}/{len(grade.results)}",
                      f"{grade.wall_s:.1f} s", grade.status, "; ".join(grade.notes)[:80])
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, help="submission folders or .zip files")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="where results and the gradebook go")
    parser.add_argument("--checks", nargs="*", default=["checks"],
                        help="check files, folders or node IDs under checks/ (default: all)")
    parser.add_argument("--hidden", type=Path, default=None, help="instructor-only check files (visibility hidden)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--time-limit", type=float, default=1800, help="wall-clock seconds per submission")
    parser.add_argument("--check-time-cap", type=float, default=None,
                        help="lower every check's own time limit to at most this many seconds")
    parser.add_argument("--memory-limit", type=float, default=6.0, help="GiB of memory per process of a run")
    parser.add_argument("--resume", action="store_true", help="skip submissions already graded in --out")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without bubblewrap (NOT safe for untrusted code; the gradebook says so)")


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.no_sandbox:
        how = "NOT sandboxed (--no-sandbox): " + isolation.network_namespace()[1]
    else:
        ok, how = isolation.sandbox_available()
        if not ok:
            console.print(f"dlgrade grade: refusing to grade without a sandbox: {how}.\n"
                          "Install bubblewrap, or pass --no-sandbox to grade unsandboxed (the gradebook will say so).")
            return 2
    try:
        settings = Settings(out=args.out.resolve(), checks=args.checks,
                            hidden=args.hidden.resolve() if args.hidden else None,
                            time_limit_s=args.time_limit, sandbox=not args.no_sandbox,
                            limits=isolation.Limits(memory_bytes=int(args.memory_limit * isolation.GiB),
                                                    cpu_seconds=int(args.time_limit) + 60),
                            time_cap=args.check_time_cap, lang=os.environ.get("DLGRADE_LANG", "en"))
        if settings.hidden is not None and not settings.hidden.is_dir():
            raise ValueError(f"--hidden {args.hidden}: not a folder")
        for spec in settings.checks:
            _relative_check_path(spec)
    except ValueError as exc:
        console.print(f"dlgrade grade: {exc}")
        return 2
    console.print(how)
    settings.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlgrade-", ignore_cleanup_errors=True) as tmp:
        return _grade_all(args, settings, Path(tmp), console)


def _grade_all(args: argparse.Namespace, settings: Settings, workdir: Path, console: Console) -> int:
    grader = Grader(settings, workdir)
    stopped_by: list[int] = []

    def on_signal(signum, frame):
        stopped_by.append(signum)
        grader.stop.set()
        with grader.lock:
            for proc in list(grader.live):
                grader._kill(proc)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    grades: list[Grade] = []
    gradebook_path = settings.out / "gradebook.csv"
    try:
        _grade_each(args, settings, grader, workdir, grades, console)
    except Interrupted:
        pass
    except RuntimeError as exc:  # the grader's own collection failed: nothing can be graded
        console.print(f"dlgrade grade: {exc}")
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    write_gradebook(grades, gradebook_path)
    if stopped_by:
        console.print(f"dlgrade grade: stopped by signal {stopped_by[0]}; {len(grades)} finished submissions are in "
                      f"{gradebook_path}; rerun with --resume to grade the rest")
        return 128 + stopped_by[0]
    Console().print(summary_table(grades))
    return 0


def _grade_each(args: argparse.Namespace, settings: Settings, grader: Grader, workdir: Path, grades: list[Grade],
                console: Console) -> None:
    submissions = intake.copy_submissions(list(args.submissions), workdir / "snapshots", Project.locate().exercises)
    ledger = gradebook.load_ledger(settings.out)
    todo = []
    for sub in submissions:
        entry = gradebook.trusted(settings.out, ledger, sub.name, settings.out / sub.name / "results.json")
        if args.resume and entry:
            grades.append(load_grade(sub.name, settings.out / sub.name / "results.json", entry))
        else:
            todo.append(sub)
    if todo:
        grader.collect("visible")
        if settings.hidden is not None:
            grader.collect("hidden")
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(grader.grade, sub) for sub in todo]
        for future in as_completed(futures):
            try:
                grade = future.result()
            except Interrupted:
                continue
            results = settings.out / grade.name / "results.json"
            with grader.lock:
                ledger[grade.name] = {"sha256": gradebook.digest(results), "status": grade.status,
                                      "sandboxed": grade.sandboxed, "review": grade.review}
                gradebook.save_ledger(settings.out, ledger)
                grades.append(grade)
                write_gradebook(grades, settings.out / "gradebook.csv")
            console.print(f"graded {grade.name}: {grade.score:.4g}/{grade.max_score:.4g} "
                          f"in {grade.wall_s:.1f} s{' (TAMPERED)' if grade.status == TAMPERED else ''}")
