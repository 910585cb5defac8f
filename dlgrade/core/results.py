"""Check results, their scores, per-item status and the Gradescope results.json schema."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlgrade.core.curriculum import Curriculum, Item

# dlgrade/grading imports the atomic writer from here; it lives in dlgrade/core/jsonio.py.

# Per-check outcomes. "not_started" is a failure whose cause is a stub still raising NotImplementedError.
PASSED, FAILED, NOT_STARTED, SKIPPED = "passed", "failed", "not_started", "skipped"
# Per-item status adds "partial" (some checks pass) and, for self-assessed items, "done"/"todo".
PARTIAL, DONE, TODO, PLANNED = "partial", "done", "todo", "planned"


@dataclass
class CheckResult:
    nodeid: str
    item: str | None
    status: str
    output: str = ""
    weight: float = 1.0
    duration: float = 0.0
    visibility: str = "visible"
    score: float = 0.0
    max_score: float = 0.0
    measured: dict[str, Any] = field(default_factory=dict)


def assign_scores(results: list[CheckResult], curriculum: Curriculum) -> None:
    """Split each item's points over its checks by weight; skipped checks carry no points."""
    weights: dict[str, float] = {}
    for r in results:
        if r.item and r.status != SKIPPED:
            weights[r.item] = weights.get(r.item, 0.0) + r.weight
    for r in results:
        if not r.item or r.status == SKIPPED or weights.get(r.item, 0) == 0:
            r.max_score = r.score = 0.0
            continue
        try:
            points = curriculum.item(r.item).points
        except KeyError:
            points = 0.0
        r.max_score = points * r.weight / weights[r.item]
        r.score = r.max_score if r.status == PASSED else 0.0


def item_status(item: Item, results: list[CheckResult], self_done: set[str] | None = None) -> str:
    """The item's status from its checks (code) or from the learner's own ticks (self)."""
    if item.kind == "self":
        return DONE if item.id in (self_done or set()) else TODO
    if item.planned:
        return PLANNED
    mine = [r for r in results if r.item == item.id and r.status != SKIPPED]
    if not mine:
        return NOT_STARTED
    statuses = {r.status for r in mine}
    if statuses == {PASSED}:
        return PASSED
    if statuses == {NOT_STARTED}:
        return NOT_STARTED
    return PARTIAL if PASSED in statuses else FAILED


def gradescope(results: list[CheckResult], curriculum: Curriculum, lang: str,
               execution_time: float) -> dict[str, Any]:
    """The Gradescope autograder results.json object."""
    tests = []
    for r in results:
        title = curriculum.item(r.item).title(lang) if r.item and _known(curriculum, r.item) else ""
        tests.append({
            "name": f"{r.item or '?'} {title} :: {r.nodeid.split('::', 1)[-1]}".strip(),
            "number": r.item or "",
            "score": r.score,
            "max_score": r.max_score,
            "status": "passed" if r.status == PASSED else "failed",
            "output": r.output,
            "visibility": r.visibility,
            "tags": [r.item.split(".")[0]] if r.item else [],
            "extra_data": {"nodeid": r.nodeid, "dlgrade_status": r.status, "duration_s": round(r.duration, 3),
                           "measured": r.measured},
        })
    return {
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "execution_time": round(execution_time, 3),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _known(curriculum: Curriculum, item_id: str) -> bool:
    return any(i.id == item_id for i in curriculum.items)


def from_gradescope(data: dict[str, Any]) -> list[CheckResult]:
    """Read back the check results stored in a results.json written by dlgrade."""
    out = []
    for t in data.get("tests", []):
        extra = t.get("extra_data", {})
        out.append(CheckResult(
            nodeid=extra.get("nodeid", t["name"]), item=t.get("number") or None,
            status=extra.get("dlgrade_status", t.get("status", FAILED)), output=t.get("output", ""),
            duration=extra.get("duration_s", 0.0), visibility=t.get("visibility", "visible"),
            score=t.get("score", 0.0), max_score=t.get("max_score", 0.0), measured=extra.get("measured", {}),
        ))
    return out


def counted_items(items: list[Item], results: list[CheckResult], self_done: set[str]) -> tuple[int, int]:
    """(done, counted) for a section's progress: its graded items when it has any (a self-assessed
    item inside an exercise, such as the week of chatting, counts among the self-assessed items),
    else its self-assessed ones. The exercise table, the report's bars, the HTML page and the history all count so."""
    graded = [i for i in items if i.graded]
    counted = graded or [i for i in items if i.kind == "self"]
    return sum(item_status(i, results, self_done) in (PASSED, DONE) for i in counted), len(counted)
