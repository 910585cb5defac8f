"""`dlgrade watch`: rerun the current item's checks whenever its exercise file changes.

The current item is the first unfinished one (or --item). Polls file modification times
once a second, which works everywhere (no inotify needed). Ctrl-C stops.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

from dlgrade import curriculum as curriculum_mod
from dlgrade import render, report
from dlgrade.paths import EXERCISES_DIR, REPO_ROOT


def snapshot(paths) -> dict:
    return {p: p.stat().st_mtime_ns for p in paths if p.exists()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--item", default=None, help="watch this item (default: the first unfinished one)")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--lang", choices=curriculum_mod.LANGS, default=None)


def run(args: argparse.Namespace) -> int:
    curriculum = curriculum_mod.load()
    lang = curriculum_mod.detect_lang(args.lang)
    item = curriculum.item(args.item) if args.item else render.next_item(
        curriculum, report.read_results(report.LAST_RESULTS))
    if item is None:
        print("every graded item passes")
        return 0
    watched = sorted(EXERCISES_DIR.glob("*.py"))
    command = [sys.executable, "-m", "pytest", *render.rerun_command(curriculum, item).split()[1:], "--lang", lang,
               "-p", "no:cacheprovider"]
    print(f"watching exercises/ for {item.id}: {' '.join(command[2:])}  (Ctrl-C to stop)")
    seen = None
    try:
        while True:
            current = snapshot(watched)
            if current != seen:
                seen = current
                subprocess.run(command, cwd=REPO_ROOT, check=False)
                print(f"\n-- waiting for changes to exercises/ ({item.id}) --")
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
