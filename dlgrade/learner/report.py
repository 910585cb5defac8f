"""`dlgrade report`: the learner's progress over the whole curriculum.

Incremental: a check file runs again only when something its results depend on changed since
they were recorded (its exercise files, the check file, its fixtures, the harness, the language:
dlgrade/core/records.py); `--full` reruns everything, `--cached` nothing. Checks run in a subprocess
(dlgrade/learner/runner.py: a crash in the learner's code cannot take the report down). The
self-assessed items ticked in progress.toml are merged in; each item shows its status and points,
then the next thing to do.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from dlgrade.boundary.loader import graded_file
from dlgrade.checkkit.targets import Target, resolve
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import records as store
from dlgrade.core import render
from dlgrade.core.curriculum import Curriculum
from dlgrade.core.i18n import add_lang_option, set_lang, tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import DONE, PASSED, CheckResult, item_status
from dlgrade.learner import checklist, html_report, runner

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
            "next": None if nxt is None else {"id": nxt.id, "command": render.rerun_command(curriculum, nxt, lang)}}


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
    add_lang_option(parser.add_argument)
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
    for section in curriculum.sections:
        graded = graded_file(target.root, section.file) if section.file else None
        if graded is not None and graded.suffix == ".ipynb":
            print(tr("{exercise}: graded your notebook {file}", exercise=section.id, file=graded.name), file=sys.stderr)
    if not args.cached:
        files = runner.check_files() if args.full else runner.stale_check_files(target, args.results, lang)
        runner.run_checks(args.target, files, args.results, lang)
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
