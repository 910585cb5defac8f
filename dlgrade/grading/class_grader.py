"""The grader: one submission (its runs, restarts and score), then the class, then the gradebook.

1. Every submission is snapshotted before any grading starts (dlgrade/grading/intake.py).
2. The grader collects the checks itself, in a run with no submission: their IDs, items,
   weights, limits and whether the instructor marked them optional come from there, never from
   a run that imported learner code.
3. Each pytest run (visible checks, hidden checks, every restart) is a watched run in a fresh
   sandbox (dlgrade/grading/watched_run.py). `grade_checks` runs until every collected check
   has a result, restarting after a crash or an overrun; the rules (what to accept, tampering,
   blame, scores) are dlgrade/grading/policy.py.
4. One submission never harms the class: whatever goes wrong while grading, scoring or writing
   it becomes its row (status `error`, the reason); every output is escaped for its format.
5. Hidden runs tell the learner nothing but passed/failed per hidden check: their notes go to
   the gradebook only, their checks' outputs and timings stay out of results.json.
6. SIGINT/SIGTERM kill every run, the gradebook is written for the finished submissions, and
   the workspaces are removed.
"""
from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.i18n import tr
from dlgrade.core.jsonio import write_json_atomic
from dlgrade.core.results import (
    FAILED,
    PASSED,
    CheckResult,
    assign_scores,
    from_gradescope,
    gradescope,
)
from dlgrade.grading import gradebook, intake, policy
from dlgrade.grading import sandbox as isolation
from dlgrade.grading.policy import ERROR, GRADED, MAX_RESTARTS, TAMPERED, UNREADABLE
from dlgrade.grading.watched_run import Interrupted, Runner, RunOutcome, RunSettings

RunOnce = Callable[[dict[str, policy.CheckMeta]], RunOutcome]


@dataclass
class Grade:
    """A submission's row. `notes` reach the learner (results.json); `staff_notes` only the gradebook."""

    name: str
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    status: str = GRADED
    sandboxed: bool = True
    review: list[str] = field(default_factory=list)
    staff_notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return policy.row_total([r.score for r in self.results], self.status)

    @property
    def max_score(self) -> float:
        return sum(policy.finite(r.max_score) for r in self.results)

    def note(self, text: str, visibility: str = "visible") -> None:
        (self.notes if visibility == "visible" else self.staff_notes).append(policy.clean_text(text))

    def mark_tampered(self, why: str, visibility: str = "visible") -> None:
        if self.status != TAMPERED:
            self.status = TAMPERED
            self.note(tr("tampered: {why}; score set to 0, look at the submission", why=why), visibility)


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


def _say(message: policy.Message) -> str:
    return tr(message.msgid, **message.fields)


def grade_checks(collected: dict[str, policy.CheckMeta], visibility: str, run_once: RunOnce, grade: Grade,
                 sandboxed: bool = True) -> None:
    """Run (with `run_once(pending)`) until every collected check has a result, or restarts or time run
    out; the results join `grade.results` in collection order, as a grade counts them."""
    accepted: dict[str, CheckResult] = {}

    def fail(nodeid: str, output: str) -> None:
        meta = collected[nodeid]
        accepted[nodeid] = CheckResult(nodeid=nodeid, item=meta.item, status=FAILED, output=policy.clean_text(output),
                                       weight=meta.weight, visibility=visibility)

    for attempt in range(MAX_RESTARTS + 1):
        pending = {n: m for n, m in collected.items() if n not in accepted}
        if not pending:
            break
        outcome = run_once(pending)
        for result in policy.accept(outcome.results, pending, accepted):
            status = policy.graded_status(result.status, collected[result.nodeid].optional)
            output = result.output if status == result.status else tr(
                "skipped while grading: a graded check that does not run scores 0 ({reason})", reason=result.output)
            accepted[result.nodeid] = CheckResult(nodeid=result.nodeid, item=result.item, status=status,
                                                  output=output, weight=result.weight, duration=result.duration,
                                                  visibility=visibility)
        if outcome.channel_note:
            grade.note(outcome.channel_note, "staff")
        remaining = [n for n in collected if n not in accepted]
        overrun_limit = collected[outcome.overrun].time_limit if outcome.overrun in collected else 0.0
        judgement = policy.judge_run(policy.RunFacts(
            code=outcome.code, pending=list(pending), remaining=remaining, canary=outcome.canary,
            current=outcome.current, overrun=outcome.overrun, wall_limit=outcome.wall_limit,
            reported_all=all(n in accepted for n in pending), sandboxed=sandboxed, overrun_limit=overrun_limit))
        if judgement.tampered is not None:
            grade.mark_tampered(_say(judgement.tampered), visibility)
        if judgement.finished or judgement.reason is None:
            break
        reason = _say(judgement.reason)
        if judgement.blamed is not None:
            fail(judgement.blamed,
                 reason if outcome.overrun else tr("{reason} while running this check", reason=reason))
        if judgement.stop:
            for nodeid in collected:
                if nodeid not in accepted:
                    fail(nodeid, tr("not run: {reason}", reason=reason))
            grade.note(reason, visibility)
            break
        grade.note(tr("restarted after: {reason}", reason=reason) if attempt < MAX_RESTARTS else reason, visibility)
    else:
        left = [n for n in collected if n not in accepted]
        for nodeid in left:
            fail(nodeid, tr("not run: the grader restarted the checks {n} times and gave up", n=MAX_RESTARTS))
        if left:
            grade.note(tr("{n} checks not run: restarts ran out", n=len(left)), visibility)
    grade.results.extend(accepted[n] for n in collected if n in accepted)


def score(grade: Grade, curriculum: curriculum_mod.Curriculum) -> None:
    """Points per check (the item's points split by weight, as policy.graded_status counts them); none for a
    row that is not plainly graded."""
    assign_scores(grade.results, curriculum)
    if grade.status != GRADED:
        for result in grade.results:
            result.score = 0.0


def learner_results(grade: Grade, curriculum: curriculum_mod.Curriculum, lang: str) -> dict[str, object]:
    """The Gradescope results.json of a grade: hidden checks as passed/failed only, the learner's notes."""
    shown = [CheckResult(r.nodeid, r.item, r.status, "" if r.visibility == "hidden" else r.output, r.weight,
                         0.0 if r.visibility == "hidden" else r.duration, r.visibility, r.score, r.max_score,
                         {} if r.visibility == "hidden" else r.measured) for r in grade.results]
    data = gradescope(shown, curriculum, lang, grade.wall_s)
    data["score"] = grade.score
    data["output"] = "; ".join(grade.notes)
    return data


class Grader:
    """Grades submissions one by one (several at once with --jobs), each in its own runs."""

    def __init__(self, settings: Settings, workdir: Path):
        self.settings = settings
        self.workdir = workdir
        self.runner = Runner(RunSettings(sandbox=settings.sandbox, limits=settings.limits, hidden=settings.hidden,
                                         time_cap=settings.time_cap, lang=settings.lang))
        self.collected: dict[str, dict[str, policy.CheckMeta]] = {}
        self.check_paths = {"visible": list(settings.checks), "hidden": ["hidden_checks"]}

    def _fresh_dir(self, label: str) -> tempfile.TemporaryDirectory[str]:
        return tempfile.TemporaryDirectory(prefix=f"{label}-", dir=self.workdir, ignore_cleanup_errors=True)

    def collect(self, visibility: str) -> dict[str, policy.CheckMeta]:
        """The checks, their items, weights, limits and optional marks, from a run that has no learner code at all."""
        log_path = self.workdir / f"collect-{visibility}.log"
        with self._fresh_dir(f"collect-{visibility}") as tmp, open(log_path, "wb") as log:
            outcome = self.runner.run(Path(tmp), None, visibility, self.check_paths[visibility], ["--collect-only"],
                                      log)
        collected = {}
        for nodeid, meta in (outcome.collected or {}).items():
            if isinstance(meta, dict):
                collected[nodeid] = policy.CheckMeta(str(meta["item"]), float(meta["weight"]),
                                                     float(meta["time_limit"]), bool(meta.get("optional")))
        if outcome.code != 0 or not collected:
            tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace")
            raise RuntimeError(f"collecting the {visibility} checks failed (exit code {outcome.code}):\n{tail}")
        self.collected[visibility] = collected
        return collected

    def _run_once(self, sub: intake.Submission, visibility: str, deadline: float, log: BinaryIO,
                  grade: Grade) -> RunOnce:
        def run_once(pending: dict[str, policy.CheckMeta]) -> RunOutcome:
            with self._fresh_dir(f"{sub.index:04d}-{visibility}") as tmp:
                extra = [arg for nodeid in self.collected[visibility] if nodeid not in pending
                         for arg in ("--deselect", nodeid)]
                outcome = self.runner.run(Path(tmp), sub.folder, visibility, self.check_paths[visibility], extra, log,
                                          canary_item=next(iter(pending.values())).item, watch=pending,
                                          deadline=deadline)
            if outcome.uncapped and not any(n.startswith("limits:") for n in grade.staff_notes):
                grade.note(f"limits: {isolation.cap_note(outcome.uncapped)} (no cgroup for them here)", "staff")
            return outcome
        return run_once

    def grade(self, sub: intake.Submission) -> Grade:
        """One submission's row; whatever goes wrong becomes the row (status error), never the class's crash."""
        if self.runner.stop.is_set():
            raise Interrupted()
        grade = Grade(sub.name, notes=[policy.clean_text(n) for n in sub.notes], sandboxed=self.settings.sandbox,
                      review=[policy.clean_text(r) for r in sub.review])
        started = time.monotonic()
        target_dir = self.settings.out / sub.name
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            if sub.unreadable:
                grade.status = UNREADABLE
                grade.note(tr("could not read the submission: {reason}", reason=sub.unreadable))
            else:
                deadline = started + self.settings.time_limit_s
                with open(target_dir / "log.txt", "wb") as log:
                    for visibility in self.collected:
                        grade_checks(self.collected[visibility], visibility,
                                     self._run_once(sub, visibility, deadline, log, grade), grade,
                                     self.settings.sandbox)
            grade.wall_s = time.monotonic() - started
            curriculum = curriculum_mod.load()
            score(grade, curriculum)
            self._write(grade, target_dir, curriculum)
        except Interrupted:
            raise
        except Exception as exc:  # noqa: BLE001 - one submission's failure is its row, whatever it is
            grade.status = ERROR
            grade.note(tr("grading this submission failed: {error}", error=f"{type(exc).__name__}: {exc}"), "staff")
            grade.wall_s = time.monotonic() - started
            try:
                self._write(grade, target_dir, curriculum_mod.load())
            except Exception as again:  # noqa: BLE001
                grade.note(f"its outputs could not be written either: {type(again).__name__}: {again}", "staff")
        return grade

    def _write(self, grade: Grade, target_dir: Path, curriculum: curriculum_mod.Curriculum) -> None:
        write_json_atomic(target_dir / "results.json",
                          policy.json_safe(learner_results(grade, curriculum, self.settings.lang)))  # type: ignore[arg-type]
        gradebook.write_junit(grade.results, target_dir / "junit.xml")


def load_grade(name: str, results_json: Path, entry: dict[str, object]) -> Grade:
    import json

    data = json.loads(results_json.read_text(encoding="utf-8"))
    return Grade(name, from_gradescope(data), [n for n in data.get("output", "").split("; ") if n],
                 data.get("execution_time", 0.0), str(entry.get("status", GRADED)), bool(entry.get("sandboxed", True)),
                 list(entry.get("review", [])), list(entry.get("staff_notes", [])))  # type: ignore[call-overload]


def gradebook_row(grade: Grade, items: list[str]) -> dict[str, object]:
    per_item = {i: round(sum(r.score for r in grade.results if r.item == i), 4) if grade.status == GRADED else 0.0
                for i in items}
    return {"submission": grade.name, "items": per_item, "total": round(grade.score, 4),
            "max_total": round(grade.max_score, 4), "status": grade.status,
            "sandboxed": "yes" if grade.sandboxed else "no", "review": "; ".join(grade.review),
            "notes": "; ".join(grade.notes + grade.staff_notes)}


def write_gradebook(grades: list[Grade], path: Path) -> None:
    items = [i.id for i in curriculum_mod.load().items if i.graded]
    gradebook.write_gradebook([gradebook_row(g, items) for g in grades], items, path)


def summary_table(grades: list[Grade]) -> Table:
    table = Table(title="dlgrade: gradebook")
    for column in ("submission", "score", "checks passed", "time", "status", "notes"):
        table.add_column(column)
    for grade in sorted(grades, key=lambda g: g.name):
        passed = sum(r.status == PASSED for r in grade.results)
        table.add_row(Text(grade.name), f"{grade.score:.4g}/{grade.max_score:.4g}", f"{passed}/{len(grade.results)}",
                      f"{grade.wall_s:.1f} s", grade.status, Text("; ".join(grade.notes + grade.staff_notes)[:80]))
    return table


def grade_class(submissions: list[Path], settings: Settings, jobs: int, resume: bool, console: Console) -> int:
    """Snapshot, collect, grade every submission and keep the gradebook and the ledger; the exit code."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        grader = Grader(settings, workdir)
        stopped_by: list[int] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopped_by.append(signum)
            grader.runner.stop.set()
            grader.runner.kill_all()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        grades: list[Grade] = []
        gradebook_path = settings.out / "gradebook.csv"
        try:
            _grade_each(submissions, settings, grader, workdir, grades, jobs, resume, console)
        except Interrupted:
            pass
        except RuntimeError as exc:  # the grader's own collection failed: nothing can be graded
            console.print(f"dlgrade grade: {escape(str(exc))}")
            return 2
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        write_gradebook(grades, gradebook_path)
    if stopped_by:
        console.print(f"dlgrade grade: stopped by signal {stopped_by[0]}; {len(grades)} finished submissions are in "
                      f"{escape(str(gradebook_path))}; rerun with --resume to grade the rest")
        return 128 + stopped_by[0]
    Console().print(summary_table(grades))
    return 0


def _grade_each(submissions: list[Path], settings: Settings, grader: Grader, workdir: Path, grades: list[Grade],
                jobs: int, resume: bool, console: Console) -> None:
    from dlgrade.core.project import Project

    snapshots = intake.copy_submissions(submissions, workdir / "snapshots", Project.locate().exercises)
    ledger = gradebook.load_ledger(settings.out)
    todo = []
    for sub in snapshots:
        results = settings.out / sub.name / "results.json"
        entry = gradebook.trusted(settings.out, ledger, sub.name, results)
        if resume and entry:
            grades.append(load_grade(sub.name, results, entry))
        else:
            todo.append(sub)
    if todo:
        grader.collect("visible")
        if settings.hidden is not None:
            grader.collect("hidden")
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grader.grade, sub): sub for sub in todo}
        for future in as_completed(futures):
            try:
                grade = future.result()
            except Interrupted:
                continue
            with grader.runner.lock:
                if grade.status != ERROR:  # an error row is graded again by --resume
                    results = settings.out / grade.name / "results.json"
                    ledger[grade.name] = {"sha256": gradebook.digest(results), "status": grade.status,
                                          "sandboxed": grade.sandboxed, "review": grade.review,
                                          "staff_notes": grade.staff_notes}
                    gradebook.save_ledger(settings.out, ledger)
                grades.append(grade)
                write_gradebook(grades, settings.out / "gradebook.csv")
            flag = {TAMPERED: " (TAMPERED)", ERROR: " (ERROR)"}.get(grade.status, "")
            console.print(f"graded {escape(grade.name)}: {grade.score:.4g}/{grade.max_score:.4g} "
                          f"in {grade.wall_s:.1f} s{flag}", markup=True, highlight=False)

