"""What a Gradescope bundle's run_autograder runs, from the bundle's project/ folder.

It grades ROOT/submission (a folder of exercise files, or a clone of the learner release)
through the grader's command line, `dlgrade grade`, with the checks, hidden checks, time limit
and language the bundle was built with (project/autograder.json), then writes
ROOT/results/results.json: the grader's results in the learner's language (test names, outputs,
and a top-level `output` that tells the learner where they stand and what to do next), scores
rounded for display, skipped zero-point checks without a pass/fail status. ROOT is /autograder
unless DLGRADE_AUTOGRADER_ROOT says otherwise. run_autograder starts this with an empty
environment (`env -i`), so no secret of the image reaches the grader or a learner's code.

The sandbox is probed once, before anything of the submission runs. Only a failed probe may
lead to grading without it, and only in a bundle built with --allow-unsandboxed; by default
the submission is not graded and the learner is told so. What the submission does can never
cause the fallback: its failures are its grade.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import render
from dlgrade.core.i18n import N_, set_lang, translate
from dlgrade.core.jsonio import write_json_atomic
from dlgrade.core.project import Project
from dlgrade.core.results import FAILED, NOT_STARTED, PASSED, SKIPPED, CheckResult, from_gradescope
from dlgrade.grading import policy
from dlgrade.grading import sandbox as isolation
from dlgrade.learner import hint

ROOT_ENV = "DLGRADE_AUTOGRADER_ROOT"
SHOWN_DECIMALS = 2
COUNTED = {PASSED: N_("passed {n}"), FAILED: N_("failed {n}"), NOT_STARTED: N_("not started {n}")}
NO_SANDBOX = N_("The autograder could not start its sandbox, so your submission was not graded; your instructor "
                "can see why in the log.")


def grade(submission: Path, work: Path, config: dict, sandbox: bool, lang: str) -> tuple[int, dict | None, str]:
    """`dlgrade grade` on the submission: (exit code, its results.json or None, its output)."""
    command = [sys.executable, "-m", "dlgrade", "grade", str(submission), "--out", str(work),
               "--checks", *config["checks"], "--time-limit", str(config["time_limit_s"]), "--lang", lang]
    if config.get("hidden"):
        command += ["--hidden", str(Project.locate().root / config["hidden"])]
    if not sandbox:
        command.append("--no-sandbox")
    proc = subprocess.run(command, cwd=Project.locate().root, capture_output=True, text=True, errors="replace")
    found = sorted(work.glob("*/results.json"))
    data = json.loads(found[0].read_text(encoding="utf-8")) if found else None
    return proc.returncode, data, proc.stdout + proc.stderr


def summary_lines(curriculum: curriculum_mod.Curriculum, results: list[CheckResult], lang: str) -> list[str]:
    """Where the learner stands and the next step, from the visible checks; hidden ones as a count."""
    visible = [r for r in results if r.visibility != "hidden"]
    hidden_failed = [r for r in results if r.visibility == "hidden" and r.status != PASSED]
    score, max_score = sum(r.score for r in results), sum(r.max_score for r in results)
    counts = ", ".join(translate(text, lang, n=sum(r.status == status for r in visible))
                       for status, text in COUNTED.items())
    lines = [translate("Score: {points} · {counts} checks", lang, points=render.points_text(score, max_score),
                       counts=counts)]
    graded = {r.item for r in visible if r.item}
    item = render.next_item(curriculum, visible, graded)
    if item is not None:
        lines += hint.describe(curriculum, item, lang, elsewhere=True)
    elif not hidden_failed:
        lines.append(translate("Every check passes.", lang))
    if hidden_failed:
        items = ", ".join(sorted({r.item or "?" for r in hidden_failed}))
        lines.append(translate("{n} hidden checks fail (items: {items}): they test cases the public checks do not; "
                               "re-read the functions' docstrings.", lang, n=len(hidden_failed), items=items))
    return lines


def learner_output(data: dict | None, notes: str, lang: str, incomplete: str) -> str:
    curriculum = curriculum_mod.load()
    lines = (summary_lines(curriculum, from_gradescope(data), lang) if data and data.get("tests")
             else [translate(incomplete, lang)])
    if notes:
        lines.append(translate("Grader notes: {notes}", lang, notes=notes))
    return "\n".join(lines)


def for_display(data: dict | None) -> dict:
    """Gradescope's results.json from the grader's: scores rounded, no top-level max_score (Gradescope adds up
    the tests'; kept in extra_data), skipped zero-point checks without a pass/fail status."""
    results = dict(data) if data else {"score": 0.0, "tests": []}
    max_score = round(policy.finite(results.pop("max_score", 0.0)), SHOWN_DECIMALS)
    results["score"] = round(policy.finite(results.get("score", 0.0)), SHOWN_DECIMALS)
    tests = []
    for test in results.get("tests", []):
        test = {**test, "score": round(policy.finite(test.get("score")), SHOWN_DECIMALS),
                "max_score": round(policy.finite(test.get("max_score")), SHOWN_DECIMALS)}
        if test.get("extra_data", {}).get("dlgrade_status") == SKIPPED and test["max_score"] == 0:
            test.pop("status", None)  # neither passed nor failed: it carried no points
        tests.append(test)
    results["tests"] = tests
    results["extra_data"] = {**results.get("extra_data", {}), "max_score": max_score}
    return results


def main(argv: list[str] | None = None) -> int:
    root = Path(os.environ.get(ROOT_ENV, "/autograder"))
    config = json.loads((Project.locate().root / "autograder.json").read_text(encoding="utf-8"))
    lang = set_lang(config.get("lang") or None)
    started = time.monotonic()
    data, sandboxed, incomplete = None, False, N_("The autograder could not finish grading; your instructor can see "
                                                  "its log.")
    ok, how = isolation.sandbox_available()
    print(f"dlgrade autograder: {how}")
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as tmp:
        if ok or config.get("allow_unsandboxed"):
            if not ok:
                print("dlgrade autograder: the sandbox probe failed and the bundle allows grading unsandboxed "
                      "(--allow-unsandboxed): grading with --no-sandbox")
            code, data, log = grade(root / "submission", Path(tmp) / "out", config, sandbox=ok, lang=lang)
            sandboxed = ok
            print(log)
            print(f"dlgrade autograder: dlgrade grade exited with code {code}")
        else:
            incomplete = NO_SANDBOX
            print("dlgrade autograder: not graded: the sandbox probe failed and the bundle was built without "
                  "--allow-unsandboxed")
    results = for_display(data)
    results["output"] = learner_output(data, (data or {}).get("output", ""), lang, incomplete)
    results["execution_time"] = round(time.monotonic() - started, 3)
    results["extra_data"]["sandboxed"] = sandboxed
    write_json_atomic(root / "results" / "results.json", policy.json_safe(results))  # type: ignore[arg-type]
    print(f"wrote {root / 'results' / 'results.json'}: {results['score']:g}/{results['extra_data']['max_score']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
