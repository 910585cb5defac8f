"""`dlgrade watch`: rerun the current item's checks whenever a file it depends on changes.

In the manner of rustlings: the current item is the first unfinished one (or --item, which may
name an exercise: its first unfinished item). Each run clears the screen and shows the item's
status in one block; when the item passes, watch says so and moves on to the next unfinished item,
keeping that line above the next item's block until the next save.
Only the files the item's checks depend on are watched (its exercise files, its check file, its
fixtures: dlgrade/core/records.py), by polling modification times (no inotify needed). Ctrl-C stops.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import records as store
from dlgrade.core import render
from dlgrade.core.curriculum import Curriculum, Item
from dlgrade.core.i18n import add_lang_option, set_lang, tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import PASSED, item_status
from dlgrade.learner import runner

CLEAR = "\033[2J\033[H"


def file_states(paths: list[Path]) -> dict:
    return {p: p.stat().st_mtime_ns for p in paths if p.exists()}


def watched_files(curriculum: Curriculum, item: Item) -> list[Path]:
    check = Project.locate().root / render.check_file(curriculum, item)
    return store.depends_on(check, Project.locate().exercises)


def first_unfinished(curriculum: Curriculum, selector: str | None) -> Item | None:
    """The item to watch: --item's (an exercise id means its first unfinished item), else the first unfinished."""
    results = store.read_results(Project.locate().last_results)
    if selector and "." in selector:
        return curriculum.item(selector)
    only = {i.id for i in curriculum.items_of(selector)} if selector else None
    if only is not None and not only:
        raise KeyError(tr("no exercise {name} in curriculum.toml", name=selector))
    return render.next_item(curriculum, results, only)


def next_after(curriculum: Curriculum, item: Item, results: list) -> Item | None:
    """The first unfinished graded item after `item` in curriculum order, wrapping around."""
    order = [i for i in curriculum.items if i.graded]
    start = order.index(item) + 1 if item in order else 0
    for candidate in order[start:] + order[:start]:
        if candidate.id != item.id and item_status(candidate, results) != PASSED:
            return candidate
    return None


def check_item(curriculum: Curriculum, item: Item, lang: str) -> tuple[str, list[str]]:
    """Run the item's checks (recorded like any run); returns (item status, the lines of its status block)."""
    results, output = runner.run_item(render.check_file(curriculum, item), item.id, lang)
    if not results:
        return "failed", [tr("the checks of {item} did not run:", item=item.id), *output.strip().splitlines()[-15:]]
    status = item_status(item, results)
    lines = [f"{item.id} {item.title(lang)}: {msg(status, lang)}"]
    shown = set()
    for result in results:
        if result.status in (PASSED, "skipped") or not result.output or result.output in shown:
            continue
        shown.add(result.output)
        name = result.nodeid.split("::")[-1]
        lines.append(f"  [{msg(result.status, lang)}] {name}")
        lines += ["    " + line for line in result.output.splitlines()]
    if status != PASSED:
        if item.hint and not any(f"{msg('hint', lang)}:" in line for line in lines):
            lines.append(f"  {msg('hint', lang)}: {item.hint(lang)}")
        lines.append(f"  {msg('rerun', lang)}: {render.rerun_command(curriculum, item, lang)}")
    return status, lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", default=None,
                        help=tr("watch this item (ex2.5) or exercise (ex2); default: the first unfinished item"))
    parser.add_argument("--interval", type=float, default=1.0, help=tr("seconds between looks at the files"))
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    lang = set_lang(args.lang)
    # "Ctrl-C to stop" holds even for a watch started with SIGINT ignored or blocked, which exec passes
    # on: a shell script's background job (`dlgrade watch &` in a script) ignores SIGINT, as do the jobs
    # of some editors' task runners.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    curriculum = curriculum_mod.load()
    try:
        item = first_unfinished(curriculum, args.item)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    clear = CLEAR if sys.stdout.isatty() else "\n"
    project = Project.locate()
    seen = None
    # The last pass stays above the next item's block until the learner saves: a learner who
    # looked away while the next item's checks ran still sees that the previous one passed.
    passed_line: str | None = None
    try:
        while item is not None:
            files = watched_files(curriculum, item)
            current = file_states(files)
            if current != seen:
                if seen is not None:  # a save, not the first run of this item
                    passed_line = None
                seen = current
                status, block = check_item(curriculum, item, lang)
                print(clear + "\n".join(([passed_line, ""] if passed_line else []) + block), flush=True)
                if status == PASSED:
                    following = next_after(curriculum, item, store.read_results(project.last_results))
                    if following is None:
                        print(msg("all_passed", lang), flush=True)
                        return 0
                    passed_line = tr("{item} passes — next: {next} {title}", item=item.id, next=following.id,
                                     title=following.title(lang))
                    print(passed_line, flush=True)
                    item, seen = following, None
                    continue
                names = ", ".join(str(p.relative_to(project.root)) for p in files
                                  if p.parent in (project.exercises, project.checks))
                print(tr("-- waiting for changes to {files} (Ctrl-C to stop) --", files=names), flush=True)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    print(msg("all_passed", lang))
    return 0
