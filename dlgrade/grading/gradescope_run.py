"""What a Gradescope bundle's run_autograder runs, from the bundle's project/ folder.

It grades ROOT/submission (a folder of exercise files, or a clone of the learner release)
through the grader's command line, `dlgrade grade`, with the checks, hidden checks and time
limit the bundle was built with (project/autograder.json), then writes ROOT/results/results.json:
the grader's results, with a top-level `output` that tells the learner, in Chinese and English,
where they stand and what to do next. ROOT is /autograder unless DLGRADE_AUTOGRADER_ROOT says
otherwise.

The sandbox: `dlgrade grade` refuses to run without bubblewrap. Where it cannot start one (a
container without user namespaces), grading is redone with --no-sandbox and the results say so
in the log and extra_data (only the instructor sees them); a bundle built with
--require-sandbox fails the submission instead.
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
from dlgrade.core.project import Project
from dlgrade.core.results import FAILED, NOT_STARTED, PASSED, CheckResult, from_gradescope, write_json_atomic
from dlgrade.learner import hint

ROOT_ENV = "DLGRADE_AUTOGRADER_ROOT"
LANGS = ("zh", "en")
HEADINGS = {
    "zh": {"score": "得分", "passed": "通过", "failed": "未通过", "not_started": "未开始", "checks": "个检查",
           "hidden": "有 {n} 个隐藏检查未通过（条目：{items}）：它们检查公开检查没有覆盖的情况，"
                     "再读一遍函数的 docstring。",
           "notes": "评分说明", "incomplete": "自动评分没有完成，老师可以看到运行日志。",
           "all": "所有检查都通过了。"},
    "en": {"score": "Score", "passed": "passed", "failed": "failed", "not_started": "not started", "checks": "checks",
           "hidden": "{n} hidden checks fail (items: {items}): they test cases the public checks do not; re-read "
                     "the functions' docstrings.",
           "notes": "Grader notes", "incomplete": "The autograder could not finish grading; your instructor can see "
                                                 "its log.",
           "all": "Every check passes."},
}


def grade(submission: Path, work: Path, config: dict, sandbox: bool) -> tuple[int, dict | None, str]:
    """`dlgrade grade` on the submission: (exit code, its results.json or None, its output)."""
    command = [sys.executable, "-m", "dlgrade", "grade", str(submission), "--out", str(work),
               "--checks", *config["checks"], "--time-limit", str(config["time_limit_s"])]
    if config.get("hidden"):
        command += ["--hidden", str(Project.locate().root / config["hidden"])]
    if not sandbox:
        command.append("--no-sandbox")
    proc = subprocess.run(command, cwd=Project.locate().root, capture_output=True, text=True)
    found = sorted(work.glob("*/results.json"))
    data = json.loads(found[0].read_text(encoding="utf-8")) if found else None
    return proc.returncode, data, proc.stdout + proc.stderr


def summary_lines(curriculum: curriculum_mod.Curriculum, results: list[CheckResult], lang: str) -> list[str]:
    """Where the learner stands and the next step, from the visible checks; hidden ones as a count."""
    words = HEADINGS[lang]
    visible = [r for r in results if r.visibility != "hidden"]
    hidden_failed = [r for r in results if r.visibility == "hidden" and r.status != PASSED]
    score, max_score = sum(r.score for r in results), sum(r.max_score for r in results)
    counts = {status: sum(r.status == status for r in visible) for status in (PASSED, FAILED, NOT_STARTED)}
    lines = [f"{words['score']}: {render.points_text(score, max_score)} · "
             + ", ".join(f"{words[status]} {n}" for status, n in counts.items()) + f" {words['checks']}"]
    graded = {r.item for r in visible if r.item}
    item = render.next_item(curriculum, visible, graded)
    if item is not None:
        lines += hint.describe(curriculum, item, lang)
    elif not hidden_failed:
        lines.append(words["all"])
    if hidden_failed:
        items = ", ".join(sorted({r.item or "?" for r in hidden_failed}))
        lines.append(words["hidden"].format(n=len(hidden_failed), items=items))
    return lines


def learner_output(data: dict | None, notes: str) -> str:
    curriculum = curriculum_mod.load()
    blocks = []
    for lang in LANGS:
        lines = (summary_lines(curriculum, from_gradescope(data), lang) if data and data.get("tests")
                 else [HEADINGS[lang]["incomplete"]])
        if notes:
            lines.append(f"{HEADINGS[lang]['notes']}: {notes}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    root = Path(os.environ.get(ROOT_ENV, "/autograder"))
    config = json.loads((Project.locate().root / "autograder.json").read_text(encoding="utf-8"))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as tmp:
        code, data, log = grade(root / "submission", Path(tmp) / "sandboxed", config, sandbox=True)
        sandboxed = data is not None
        print(log)
        if data is None and not config.get("require_sandbox"):
            print("dlgrade autograder: no results with the sandbox (see above); grading again with --no-sandbox")
            code, data, log = grade(root / "submission", Path(tmp) / "unsandboxed", config, sandbox=False)
            print(log)
    notes = (data or {}).get("output", "")
    results = dict(data) if data else {"score": 0.0, "tests": []}
    results["score"] = round(results.get("score", 0.0), 4)
    # Gradescope's format has no top-level max_score (it adds up the tests'): kept in extra_data.
    max_score = round(results.pop("max_score", 0.0), 4)
    results["output"] = learner_output(data, notes)
    results["execution_time"] = round(time.monotonic() - started, 3)
    results["extra_data"] = {**results.get("extra_data", {}), "max_score": max_score,
                             "dlgrade_grade_exit_code": code, "sandboxed": sandboxed}
    write_json_atomic(root / "results" / "results.json", results)
    print(f"wrote {root / 'results' / 'results.json'}: {results['score']:g}/{max_score:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
