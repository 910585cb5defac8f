"""`dlgrade report`: the learner's progress over the whole curriculum.

Incremental: a check file runs again only when something its results depend on changed since
they were recorded (its exercise files, the check file, its fixtures, the harness, the language:
dlgrade/core/records.py); `--full` reruns everything, `--cached` nothing. Checks run in a subprocess (a
crash in the learner's code cannot take the report down). The self-assessed items ticked in
progress.toml are merged in; each item shows its status and points, then the next thing to do.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlgrade.checkkit.targets import Target, resolve
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import records as store
from dlgrade.core import render
from dlgrade.core.curriculum import Curriculum
from dlgrade.core.i18n import set_lang, tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import DONE, PASSED, CheckResult, item_status
from dlgrade.learner import checklist, html_report

BAR_WIDTH = 40


def ensure_progress_file(curriculum: Curriculum, path: Path) -> None:
    """Create the learner's self-assessment file, every self-assessed item unticked."""
    if path.exists():
        return
    lines = ["# Your self-assessed items: set an item to true when you have done it.",
             "# 自评条目：完成后把对应条目改为 true。", "[done]"]
    for item in curriculum.items:
        if item.kind == "self":
            lines.append(f'"{item.id}" = false  # {item.title("zh")}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def check_files() -> list[Path]:
    return sorted(Project.locate().checks.glob("test_*.py"))


def stale_check_files(target: Target, results_path: Path, lang: str) -> list[Path]:
    """The check files whose recorded results are missing or were made on other files than now."""
    recorded = store.fingerprints(results_path, target.label)
    stale = []
    for path in check_files():
        rel = str(path.relative_to(Project.locate().root))
        if recorded.get(rel) != {store.fingerprint(path, target.root, lang)}:
            stale.append(path)
    return stale


def run_checks(target: str, files: list[Path], results_path: Path, lang: str, show_progress: bool | None = None) -> None:
    """Run the checks of `files` on `target`, merging their results into `results_path`.

    Learner output goes nowhere; progress goes to stderr: a bar on a terminal, else one line per check file.
    """
    if not files:
        return
    results_path.parent.mkdir(parents=True, exist_ok=True)
    progress_path = results_path.with_name(results_path.name + ".progress")
    progress_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *[str(f) for f in files], "-q", "-p", "no:cacheprovider", "--no-header",
         "--target", target, "--lang", lang, "--dlgrade-record", str(results_path),
         "--dlgrade-progress", str(progress_path)],
        cwd=Project.locate().root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    show_progress = sys.stderr.isatty() if show_progress is None else show_progress
    if len(files) == len(check_files()):
        print(tr("running every check"), file=sys.stderr)
    else:
        print(tr("running the checks of {files} (the others are unchanged since their last run)",
                 files=", ".join(f.name for f in files)), file=sys.stderr)
    if show_progress:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(target, total=None)
            while proc.poll() is None:
                state = _progress(progress_path)
                if state:
                    bar.update(task, total=len(state["collected"]), completed=state["done"],
                               description=(state.get("current") or "").split("::")[-1][:50])
                time.sleep(0.2)
        return
    shown = None
    while proc.poll() is None:
        state = _progress(progress_path)
        current = store.check_file_of(state.get("current") or "") if state else None
        if current and current != shown:
            shown = current
            print(f"  {current} ({state['done']}/{len(state['collected'])})", file=sys.stderr, flush=True)
        time.sleep(0.5)


def _progress(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_results(json_path: Path) -> list[CheckResult]:
    return store.read_results(json_path)


def results_time_span(results_path: Path) -> tuple[str, str] | None:
    """(oldest, newest) time at which the shown results were recorded."""
    times = sorted(t for t in store.recorded_at(results_path).values() if t)
    if not times:
        return None
    return html_report.minutes(times[0]), html_report.minutes(times[-1])


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
    return {"summary": store.summary(curriculum, results, self_done), "items": items,
            "next": None if nxt is None else {"id": nxt.id, "command": render.rerun_command(curriculum, nxt)}}


def as_markdown(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str) -> str:
    lines = []
    for section in render.sections_in_report_order(curriculum):
        lines += [f"## {section.title(lang)}", ""]
        for item in curriculum.items_of(section.id):
            status = item_status(item, results, self_done)
            tick = "x" if status in (PASSED, DONE) else " "
            lines.append(f"- [{tick}] `{item.id}` {item.title(lang)} — {msg(status, lang)}")
        lines.append("")
    s = store.summary(curriculum, results, self_done)
    lines.append(f"**{msg('points', lang)}: {s['score']:g}/{s['max_score']:g}**")
    lines += [""] + render.next_step_lines(curriculum, results, lang)
    return "\n".join(lines) + "\n"


def text_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """A bar of whole characters, so that nothing after it can run into it."""
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled) + f" {round(100 * done / total) if total else 0:3d}%"


def print_terminal(curriculum: Curriculum, results: list[CheckResult], self_done: set[str], lang: str,
                   span: tuple[str, str] | None = None) -> None:
    console = Console(highlight=False)
    console.print(render.item_tables(curriculum, results, lang, self_done))
    console.print()
    console.print(render.exercise_table(curriculum, results, lang))
    s = store.summary(curriculum, results, self_done)
    console.print()
    console.print(f"{tr('graded items passed')}: {s['graded_passed']}/{s['graded_total']}  "
                  f"{text_bar(s['graded_passed'], s['graded_total'])}")
    console.print(f"{tr('self-assessed items done')}: {s['self_done']}/{s['self_total']}  "
                  f"{text_bar(s['self_done'], s['self_total'])}")
    if span:
        console.print(escape(tr("results recorded {oldest} – {newest}", oldest=span[0], newest=span[1])))
    console.print()
    for line in render.next_step_lines(curriculum, results, lang):
        console.print(escape(line))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="exercises", help=tr("exercises (default), solutions, or a folder"))
    parser.add_argument("--lang", choices=curriculum_mod.LANGS, default=None,
                        help=tr("en or zh (default: DLGRADE_LANG, then the locale)"))
    parser.add_argument("--format", choices=("terminal", "markdown", "json", "html"), default="terminal",
                        help=tr("terminal (default), markdown, json or html"))
    parser.add_argument("--output", type=Path, default=None, help=tr("write the report to this file"))
    parser.add_argument("--cached", action="store_true", help=tr("show the recorded results; run no check"))
    parser.add_argument("--full", action="store_true", help=tr("rerun every check, changed or not"))
    parser.add_argument("--progress", type=Path, default=None,
                        help=tr("your self-assessment file (default: progress.toml, created on first run)"))
    parser.add_argument("--results", type=Path, default=None, help=tr("where the check results are kept"))
    parser.add_argument("--checklist", type=Path, default=None,
                        help=tr("your copy of the curriculum checklist (Markdown): its [x] count as "
                                "self-assessed done"))
    parser.add_argument("--update", type=Path, default=None, metavar="CHECKLIST.md",
                        help=tr("tick [x] in your checklist copy for every code item whose checks pass"))


def run(args: argparse.Namespace) -> int:
    lang = set_lang(args.lang)
    try:
        checklist.require(args.checklist)
        checklist.require(args.update)
    except checklist.ChecklistError as exc:
        print(exc, file=sys.stderr)
        return 2
    curriculum = curriculum_mod.load()
    project = Project.locate()
    args.progress = args.progress or project.progress_file
    args.results = args.results or project.last_results
    ensure_progress_file(curriculum, args.progress)
    target = Target(resolve(args.target))
    print(tr("graded folder: {path}", path=target.root), file=sys.stderr)
    if not args.cached:
        files = check_files() if args.full else stale_check_files(target, args.results, lang)
        run_checks(args.target, files, args.results, lang)
    elif not args.results.exists():  # --cached promises that no check runs, recorded results or not
        print(tr("no recorded results yet: every item counts as not started "
                 "(`dlgrade report` or `dlgrade next --fresh` runs the checks)"), file=sys.stderr)
    results = read_results(args.results)
    done = store.self_assessed_done(args.progress)
    if args.checklist is not None:
        done |= {i for i in checklist.ticked(args.checklist, curriculum) if curriculum.item(i).kind == "self"}
    if args.update is not None:
        passed = {i.id for i in curriculum.items if i.graded and item_status(i, results) == PASSED}
        newly = checklist.update(args.update, curriculum, passed)
        print(tr("ticked in {path}: {items}", path=args.update, items=", ".join(newly) or tr("nothing new")),
              file=sys.stderr)
    span = results_time_span(args.results)
    if args.format == "terminal" and args.output is None:
        print_terminal(curriculum, results, done, lang, span)
        return 0
    if args.format == "json":
        text = json.dumps({"graded": str(target.root), **as_json(curriculum, results, done, lang)},
                          ensure_ascii=False, indent=1)
    elif args.format == "html":
        text = html_report.page(curriculum, results, done, lang, store.summary(curriculum, results, done),
                                store.read_history(args.results, target.label), args.target,
                                store.recorded_at(args.results))
    elif args.format == "markdown":
        text = as_markdown(curriculum, results, done, lang)
    else:
        text = render.to_text(render.item_tables(curriculum, results, lang, done))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(tr("report written to {path}", path=args.output.resolve()))
    else:
        print(text)
    return 0
