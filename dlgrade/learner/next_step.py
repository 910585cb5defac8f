"""`dlgrade next`: the first unfinished item, what to open and what to run (from the recorded results).

Every check run records its results (dlgrade/core/records.py), so `next` reads them and runs nothing;
`--fresh` first reruns the check files that changed, as `dlgrade report` does.
"""
from __future__ import annotations

import argparse
import sys

from dlgrade.checkkit.targets import Target, resolve
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import records as store
from dlgrade.core import render
from dlgrade.core.i18n import add_lang_option, set_lang, tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import TODO, item_status
from dlgrade.learner import hint, runner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lang_option(parser.add_argument)
    parser.add_argument("--fresh", action="store_true",
                        help=tr("rerun the checks that changed first, instead of reading the recorded results"))


def run(args: argparse.Namespace) -> int:
    lang = set_lang(args.lang)
    curriculum = curriculum_mod.load()
    if args.fresh:
        target = Target(resolve("exercises"))
        runner.run_checks("exercises", runner.stale_check_files(target, Project.locate().last_results, lang),
                          Project.locate().last_results, lang)
    elif not Project.locate().last_results.exists():
        print(tr("no recorded results yet: every item counts as not started "
                 "(`dlgrade report` or `dlgrade next --fresh` runs the checks)"), file=sys.stderr)
    results = store.read_results(Project.locate().last_results)
    item = render.next_item(curriculum, results)
    if item is None:
        done = store.self_assessed_done(Project.locate().progress_file)
        item = next((i for i in curriculum.items if i.kind == "self" and item_status(i, results, done) == TODO), None)
    if item is None:
        print(msg("all_passed", lang))
        return 0
    print(f"{msg('next', lang)}: " + "\n".join(hint.describe(curriculum, item, lang, results)))
    return 0
