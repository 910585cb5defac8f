"""The learner's own copy of the curriculum checklist (Markdown, as in shared/curriculum.md).

Lines `- [ ]` / `- [x]` under the checklist's headings map to curriculum items by position:
the k-th checklist line under "### linux..." is the k-th linux item, under "### 论文..." the
k-th paper item, under "#### Exercise N" the k-th item of exercise N. Only the part before the
English rendering is read.
"""
from __future__ import annotations

import re
from pathlib import Path

from dlgrade.curriculum import Curriculum

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
        if line.startswith("## English rendering"):
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
