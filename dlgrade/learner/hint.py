"""`dlgrade hint ITEM|EXERCISE`: what an item asks, where to write it, how to check it."""
from __future__ import annotations

import argparse
import sys

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import records as store
from dlgrade.core import render
from dlgrade.core.curriculum import Curriculum, Item
from dlgrade.core.i18n import add_lang_option, set_lang, tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import CheckResult, item_status


def describe(curriculum: Curriculum, item: Item, lang: str, results: list[CheckResult] | None = None,
             *, elsewhere: bool = False) -> list[str]:
    """An item's title, status, hint, file and rerun command (`elsewhere`: for a machine we cannot see)."""
    status = f" [{msg(item_status(item, results), lang)}]" if results is not None and item.kind == "code" else ""
    lines = [f"{item.id} {item.title(lang)}{status}"]
    if item.hint:
        lines.append(f"  {msg('hint', lang)}: {item.hint(lang)}")
    if item.kind == "self":
        lines.append(f"  {msg('self_tick', lang)}")
        return lines
    files = curriculum.files_of(item)
    if files:
        functions = f" ({', '.join(item.functions)})" if item.functions else ""
        lines.append(f"  {msg('open', lang)}: {', '.join(f'exercises/{f}' for f in files)}{functions}")
    lines.append(f"  {msg('rerun', lang)}: {render.rerun_command(curriculum, item, lang, elsewhere=elsewhere)}")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("item", help=tr("an item (ex2.5) or an exercise (ex2: each of its items)"))
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    lang = set_lang(args.lang)
    curriculum = curriculum_mod.load()
    results = store.read_results(Project.locate().last_results)
    items = curriculum.items_of(args.item) if "." not in args.item else []
    if not items:
        try:
            items = [curriculum.item(args.item)]
        except KeyError:
            known = ", ".join(s.id for s in curriculum.sections)
            print(tr("no item or exercise {name}; exercises and sections: {known}", name=args.item, known=known),
                  file=sys.stderr)
            return 2
    print("\n".join(line for item in items for line in describe(curriculum, item, lang, results)))
    return 0
