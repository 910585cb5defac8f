"""`dlgrade hint ITEM`: what an item asks, where to write it, how to check it."""
from __future__ import annotations

import argparse

from dlgrade import curriculum as curriculum_mod
from dlgrade import render
from dlgrade.curriculum import Curriculum, Item
from dlgrade.messages import msg


def describe(curriculum: Curriculum, item: Item, lang: str) -> list[str]:
    section = curriculum.section(item.section)
    lines = [f"{item.id} {item.title(lang)}"]
    if item.hint:
        lines.append(f"  {msg('hint', lang)}: {item.hint(lang)}")
    if item.kind == "self":
        lines.append(f"  {msg('self_tick', lang)}")
        return lines
    if section.file:
        functions = f" ({', '.join(item.functions)})" if item.functions else ""
        lines.append(f"  {msg('open', lang)}: exercises/{section.file}{functions}")
    lines.append(f"  {msg('rerun', lang)}: {render.rerun_command(curriculum, item)}")
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("item", help="an item id, e.g. ex2.5")
    parser.add_argument("--lang", choices=curriculum_mod.LANGS, default=None)


def run(args: argparse.Namespace) -> int:
    curriculum = curriculum_mod.load()
    try:
        item = curriculum.item(args.item)
    except KeyError as exc:
        print(exc.args[0])
        return 2
    print("\n".join(describe(curriculum, item, curriculum_mod.detect_lang(args.lang))))
    return 0
