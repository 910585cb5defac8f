"""`dlgrade report`: the learner's progress over the whole curriculum.

Runs the checks on the target in a subprocess (a crash in the learner's code cannot
take the report down), merges the self-assessed items ticked in progress.toml, and
shows per item its status and points, then the next thing to do.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.progress_bar import ProgressBar

from dlgrade import checklist, html_report, render
from dlgrade import curriculum as curriculum_mod
from dlgrade.curriculum import Curriculum
from dlgrade.messages import msg
from dlgrade.paths import CHECKS_DIR, REPO_ROOT
from dlgrade.results import PASSED, DONE, CheckResult, from_gradescope, item_status

PROGRESS_FILE = REPO_ROOT / "progress.toml"
LAST_RESULTS = REPO_ROOT / ".dlgrade" / "last-results.json"


def ensure_progress_file(curriculum: Curriculum, path: Path = PROGRESS_FILE) -> None:
    """Create the learner's self-assessment file, every self-assessed item unticked."""
    if path.exists():
        return
    lines = ["# Your self-assessed items: set an item to true when you have done it.",
             "# 自评条目：完成后把对应条目改为 true。", "[done]"]
    for item in curriculum.items:
        if item.kind == "self":
            lines.append(f'"{item.id}" = false  # {item.title("zh")}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def self_assessed_done(path: Path = PROGRESS_FILE) -> set[str]:
    if not path.exists():
        return set()
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return {item_id for item_id, done in data.get("done", {}).items() if done is True}


def run_checks(target: str, json_path: Path, lang: str, show_progress: bool) -> None:
    """Run every check on `target`, results to `json_path`; learner output goes nowhere.

    With `show_progress`, a progress bar follows the plugin's progress file as checks finish.
    """
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)
    progress_path = json_path.with_suffix(".progress.json")
    progress_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(CHECKS_DIR), "-q", "-p", "no:cacheprovider", "--no-header",
         "--target", target, "--lang", lang, "--dlgrade-json", str(json_path),
         "--dlgrade-progress", str(progress_path)],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    if not show_progress:
        proc.wait()
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"checks on {target}", total=None)
        while proc.poll() is None:
            try:
                state = json.loads(progress_path.read_text())
                current = (state.get("current") or "").split("::")[-1][:50]
                bar.update(task, total=len(state["collected"]), completed=state["done"],
                           description=f"checks on {target}: {current}")
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)


def read_results(json_path: Path) -> list[CheckResult]:
    if not json_path.exists():
        return []
    return from_gradescope(json.loads(json_path.read_text(encoding="utf-8")))


def summary(curriculum: Curriculum, results: list[CheckResult], self_done: set[str]) -> dict:
    """Counts behind the progress bar: graded items passed, self-assessed items done."""
    graded = [i for i in curriculum.items if i.graded]
    self_items = [i for i in curriculum.items if i.kind == "self"]
    return {
        "graded_passed": sum(item_status(i, results) == PASSED for i in graded),
        "graded_total": len(graded),
        "self_done": sum(item_status(i, results, self_done) == DONE for i in self_items),
        "self_total": len(self_items),
        "score": round(sum(r.score for r in results), 4),
        "max_score": round(sum(r.max_score for r in results), 4),
    }


def as_json(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> dict:
    items = []
    for item in curriculum.items:
        mine = [r for r in results if r.item == item.id]
        items.append({
            "id": item.id, "section": item.section, "kind": item.kind, "title": item.title(lang),
            "status": item_status(item, results, self_done),
            "score": round(sum(r.score for r in mine), 4),
            "max_score": round(sum(r.max_score for r in mine), 4) if mine else (item.points if item.graded else 0),
            "checks": [{"nodeid": r.nodeid, "status": r.status, "output": r.output} for r in mine],
        })
    nxt = render.next_item(curriculum, results)
    return {"summary": summary(curriculum, results, self_done), "items": items,
            "next": None if nxt is None else {"id": nxt.id, "command": render.rerun_command(curriculum, nxt)}}


def as_markdown(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> str:
    lines = []
    for section in curriculum.sections:
        lines += [f"## {section.title(lang)}", ""]
        for item in curriculum.items_of(section.id):
            status = item_status(item, results, self_done)
            tick = "x" if status in (PASSED, DONE) else " "
            lines.append(f"- [{tick}] `{item.id}` {item.title(lang)} — {msg(status, lang)}")
        lines.append("")
    s = summary(curriculum, results, self_done)
    lines.append(f"**{msg('points', lang)}: {s['score']:g}/{s['max_score']:g}**")
    lines += [""] + render.next_step_lines(curriculum, results, lang)
    return "\n".join(lines) + "\n"


def print_terminal(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> None:
    console = Console(highlight=False)
    console.print(render.item_tables(curriculum, results, lang, self_done))
    console.print()
    console.print(render.exercise_table(curriculum, results, lang))
    s = summary(curriculum, results, self_done)
    console.print()
    console.print(f"{msg('progress', lang)}: {s['graded_passed']}/{s['graded_total']} "
                  f"{msg('items_passed', lang)}, {s['self_done']}/{s['self_total']} {msg('done', lang)}")
    console.print(ProgressBar(total=max(s["graded_total"], 1), completed=s["graded_passed"], width=60))
    for line in render.next_step_lines(curriculum, results, lang):
        console.print(escape(line))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="exercises", help="exercises (default), solutions, or a folder")
    parser.add_argument("--lang", choices=curriculum_mod.LANGS, default=None)
    parser.add_argument("--format", choices=("terminal", "markdown", "json", "html"), default="terminal")
    parser.add_argument("--output", type=Path, default=None, help="write the report here instead of stdout")
    parser.add_argument("--cached", action="store_true", help="reuse the last results instead of rerunning the checks")
    parser.add_argument("--progress", type=Path, default=PROGRESS_FILE,
                        help="your self-assessment file (default: progress.toml, created on first run)")
    parser.add_argument("--results", type=Path, default=LAST_RESULTS, help="where the check results are kept")
    parser.add_argument("--checklist", type=Path, default=None,
                        help="your copy of the curriculum checklist (Markdown): its [x] count as self-assessed done")
    parser.add_argument("--update", type=Path, default=None, metavar="CHECKLIST.md",
                        help="tick [x] in your checklist copy for every code item whose checks pass")


def run(args: argparse.Namespace) -> int:
    curriculum = curriculum_mod.load()
    lang = curriculum_mod.detect_lang(args.lang)
    ensure_progress_file(curriculum, args.progress)
    history_path = args.results.with_name("history.jsonl")
    if not (args.cached and args.results.exists()):
        run_checks(args.target, args.results, lang, show_progress=sys.stderr.isatty())
        fresh = True
    else:
        fresh = False
    results = read_results(args.results)
    done = self_assessed_done(args.progress)
    if args.checklist is not None:
        done |= {i for i in checklist.ticked(args.checklist, curriculum) if curriculum.item(i).kind == "self"}
    if fresh:
        with open(history_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"time": datetime.now().isoformat(timespec="seconds"), "target": args.target,
                                **summary(curriculum, results, done)}) + "\n")
    if args.update is not None:
        passed = {i.id for i in curriculum.items if i.graded and item_status(i, results) == PASSED}
        newly = checklist.update(args.update, curriculum, passed)
        print(f"ticked in {args.update}: {', '.join(newly) or 'nothing new'}", file=sys.stderr)
    if args.format == "terminal" and args.output is None:
        print_terminal(curriculum, results, done, lang)
        return 0
    if args.format == "json":
        text = json.dumps(as_json(curriculum, results, done, lang), ensure_ascii=False, indent=1)
    elif args.format == "html":
        history = [json.loads(line) for line in history_path.read_text().splitlines()] if history_path.exists() else []
        page_summary = {**summary(curriculum, results, done),
                        "generated": datetime.now().isoformat(sep=" ", timespec="minutes")}
        text = html_report.page(curriculum, results, done, lang, page_summary,
                                [h for h in history if h.get("target") == args.target], args.target)
    elif args.format == "markdown":
        text = as_markdown(curriculum, results, done, lang)
    else:
        text = render.to_text(render.item_tables(curriculum, results, lang, done))
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0
