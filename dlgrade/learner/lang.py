"""`dlgrade lang [zh|en|auto]`: the language of every dlgrade command in this project, chosen once.

It is written into progress.toml as a top-level `lang = "zh"` (dlgrade/core/i18n.py reads it), so
every command, every command the checks suggest, and CI's report (learners commit progress.toml)
speak it without `--lang`. `--lang` and DLGRADE_LANG still win; `auto` removes the setting.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.i18n import LANGS, SETTING, project_lang, set_lang, tr
from dlgrade.core.project import Project
from dlgrade.learner import report

SETTING_LINE = re.compile(rf"^{SETTING}\s*=")
TABLE_LINE = re.compile(r"^\s*\[")
COMMENTS = ("# The language of every dlgrade command here and of CI's report: dlgrade lang zh|en|auto",
            "# 这里每个 dlgrade 命令和 CI 报告使用的语言：dlgrade lang zh|en|auto")


def with_setting(text: str, lang: str | None) -> str:
    """progress.toml's text with its language setting set to `lang` (None: removed).

    The key is top-level, so it goes before the first table; the learner's ticks are untouched.
    """
    lines = text.splitlines()
    head = next((n for n, line in enumerate(lines) if TABLE_LINE.match(line)), len(lines))
    kept = [line for n, line in enumerate(lines)
            if not (n < head and (SETTING_LINE.match(line) or line in COMMENTS))]
    if lang is not None:
        head = next((n for n, line in enumerate(kept) if TABLE_LINE.match(line)), len(kept))
        kept[head:head] = [*COMMENTS, f'{SETTING} = "{lang}"']
    return "\n".join(kept) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lang", nargs="?", choices=(*LANGS, "auto"),
                        help=tr("zh or en: every command speaks it from now on; auto: DLGRADE_LANG, then the "
                                "locale decide; nothing: show the language in use"))


def run(args: argparse.Namespace) -> int:
    project = Project.locate()
    path: Path = project.progress_file
    if args.lang is None:
        lang = set_lang(None)
        source = "progress.toml" if project_lang() and not os.environ.get("DLGRADE_LANG") else None
        print(tr("language: {language}", language=lang) + (f" ({source})" if source else ""))
        return 0
    report.ensure_progress_file(curriculum_mod.load(), path)
    chosen = None if args.lang == "auto" else args.lang
    path.write_text(with_setting(path.read_text(encoding="utf-8"), chosen), encoding="utf-8")
    lang = set_lang(chosen)
    if chosen is None:
        print(tr("no language set in {path}: DLGRADE_LANG, then the locale decide ({language} here)", path=path,
                 language=lang))
        return 0
    print(tr("every dlgrade command here speaks {language} from now on (set in {path}: commit it, and CI's report "
             "does too)", language=chosen, path=path))
    overriding = os.environ.get("DLGRADE_LANG")
    if overriding and overriding != chosen:
        print(tr("DLGRADE_LANG={value} is set in this shell and wins over the setting: unset it", value=overriding),
              file=sys.stderr)
    return 0
