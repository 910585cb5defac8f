"""The learner's own copy of the curriculum checklist (Markdown, as in shared/curriculum.md).

Lines `- [ ]` / `- [x]` under the checklist's headings map to curriculum items by position:
the k-th checklist line under "### linux..." is the k-th linux item, under "### 论文..." the
k-th paper item, under "#### Exercise N" the k-th item of exercise N. Only the part before the
English rendering is read.

`dlgrade checklist init PATH` writes the learner's own copy with every box cleared (the copy in
docs/curriculum.md carries its author's ticks, which are not the learner's).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.curriculum import Curriculum
from dlgrade.core.i18n import add_lang_option, set_lang, tr
from dlgrade.core.project import Project

CHECKLIST_START = "## 学习清单"
ENGLISH_START = "## English rendering"

LINE = re.compile(r"^(\s*- \[)([ xX])(\] .*)$")


def _section_of_heading(line: str) -> str | None:
    if line.startswith("### linux"):
        return "linux"
    if line.startswith("### 论文"):
        return "paper"
    match = re.match(r"#{2,4} Exercise (\d+)", line)
    return f"ex{match.group(1)}" if match else None


def locate(lines: list[str], curriculum: Curriculum) -> dict[int, str]:
    """Line number -> item id for every checklist line the curriculum knows."""
    found, counters, section = {}, {}, None
    for number, line in enumerate(lines):
        if line.startswith(ENGLISH_START):
            break
        heading = _section_of_heading(line)
        if heading is not None:
            section = heading
            continue
        if section and LINE.match(line):
            items = curriculum.items_of(section)
            k = counters.get(section, 0)
            counters[section] = k + 1
            if k < len(items):
                found[number] = items[k].id
    return found


def ticked(path: Path, curriculum: Curriculum) -> set[str]:
    """Item ids ticked ([x]) in a checklist file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {item for number, item in locate(lines, curriculum).items() if LINE.match(lines[number]).group(2) != " "}


def update(path: Path, curriculum: Curriculum, passed: set[str]) -> list[str]:
    """Tick every line whose code item passes; the learner's own ticks stay. Returns the items newly ticked."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    newly = []
    for number, item in locate(lines, curriculum).items():
        match = LINE.match(lines[number])
        if item in passed and match.group(2) == " ":
            lines[number] = f"{match.group(1)}x{match.group(3)}"
            newly.append(item)
    path.write_text("\n".join(lines) + ("\n" if text.endswith("\n") else ""), encoding="utf-8")
    return newly


def cleared(text: str) -> str:
    """`text` with every box unticked: the ticks are the learner's to make."""
    return re.sub(r"(?m)^(\s*[-*+] )\[[xX]\]", r"\1[ ]", text)


def authors_checklist(text: str, *, with_english: bool = False) -> str:
    """The checklist part of the author's curriculum.md, every box cleared: from its heading (kept
    without the heading's English note) to the English rendering, or to the end `with_english`.
    The author's opening paragraph (English, about the author's ticks) is left out."""
    start, end = text.find(CHECKLIST_START), text.find(ENGLISH_START)
    body = text[max(start, 0): len(text) if with_english or end < 0 else end]
    if body.startswith(CHECKLIST_START):
        body = CHECKLIST_START + body[body.index("\n"):] if "\n" in body else CHECKLIST_START
    return cleared(body).rstrip() + "\n"


def blank(curriculum: Curriculum, source: Path | None = None) -> str:
    """A checklist with every box cleared: the author's checklist part, or one built from curriculum.toml."""
    source = source or Project.locate().root / "docs" / "curriculum.md"
    if source.exists():
        body = authors_checklist(source.read_text(encoding="utf-8"))
    else:
        lines = [CHECKLIST_START, ""]
        for section in curriculum.sections:
            heading = {"linux": "### linux", "paper": "### 论文"}.get(section.id)
            match = re.fullmatch(r"ex(\d+)", section.id)
            if heading is None and match is None:
                continue
            lines += [heading or f"#### Exercise {match.group(1)}: {section.title('zh')}", ""]
            lines += [f"- [ ] {item.title('zh')}" for item in curriculum.items_of(section.id)] + [""]
        body = "\n".join(lines)
    return "# " + tr("My learning checklist") + "\n\n" + body.rstrip() + "\n"


class ChecklistError(Exception):
    """A checklist file that cannot be read: said in one line, before any check runs."""


def require(path: Path | None) -> None:
    if path is not None and not Path(path).is_file():
        raise ChecklistError(tr("checklist {path} does not exist; create yours with: dlgrade checklist init {path}",
                                path=path))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    init = sub.add_parser("init", help=tr("write your own checklist, every box cleared"))
    init.add_argument("path", type=Path, help=tr("where to write it, e.g. my-curriculum.md"))
    init.add_argument("--force", action="store_true", help=tr("overwrite an existing file"))
    add_lang_option(init.add_argument)


def run(args: argparse.Namespace) -> int:
    set_lang(args.lang)
    if args.path.exists() and not args.force:
        print(tr("{path} exists already; keep it, or add --force to overwrite it", path=args.path), file=sys.stderr)
        return 2
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(blank(curriculum_mod.load()), encoding="utf-8")
    print(tr("wrote {path}: every box cleared. `dlgrade report --update {path}` ticks what your checks pass; "
             "tick the self-assessed items yourself.", path=args.path))
    return 0
