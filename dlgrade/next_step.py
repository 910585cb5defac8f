"""`dlgrade next`: the first unfinished item, what to open and what to run (from the last results)."""
from __future__ import annotations

import argparse
import sys

from dlgrade import curriculum as curriculum_mod
from dlgrade import hint, render, report
from dlgrade.messages import msg
from dlgrade.results import TODO, item_status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=curriculum_mod.LANGS, default=None)
    parser.add_argument("--fresh", action="store_true", help="rerun the checks instead of reading the last results")


def run(args: argparse.Namespace) -> int:
    curriculum = curriculum_mod.load()
    lang = curriculum_mod.detect_lang(args.lang)
    if args.fresh or not report.LAST_RESULTS.exists():
        report.run_checks("exercises", report.LAST_RESULTS, lang, show_progress=sys.stderr.isatty())
    results = report.read_results(report.LAST_RESULTS)
    item = render.next_item(curriculum, results)
    if item is None:
        done = report.self_assessed_done()
        item = next((i for i in curriculum.items if i.kind == "self" and item_status(i, results, done) == TODO), None)
    if item is None:
        print(msg("all_passed", lang))
        return 0
    print(f"{msg('next', lang)}: " + "\n".join(hint.describe(curriculum, item, lang)))
    return 0
