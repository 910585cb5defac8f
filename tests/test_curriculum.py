"""curriculum.toml covers the author's checklist, and checks and items link both ways."""
from __future__ import annotations

import re

import pytest
from gradelib import AUTHOR_CHECKLIST, CHECKLIST, collect_manifest

from dlgrade.core import curriculum
from dlgrade.core.project import Project

REPO_ROOT = Project.locate().root

# Sections this project adds to the author's checklist (issue 15: papers in code).
BEYOND_CHECKLIST = {"ex5"}


def checklist_counts() -> dict[str, int]:
    """How many '- [ ]' lines each part of the Chinese original has: linux, paper, ex1..ex4."""
    text = CHECKLIST.read_text(encoding="utf-8").split("## English rendering")[0]
    counts: dict[str, int] = {}
    part = None
    for line in text.splitlines():
        if line.startswith("### linux"):
            part = "linux"
        elif line.startswith("### 论文"):
            part = "paper"
        elif m := re.match(r"#### Exercise (\d+)", line):
            part = f"ex{m.group(1)}"
        elif line.startswith("- [") and part:
            counts[part] = counts.get(part, 0) + 1
    return counts


@pytest.mark.skipif(not AUTHOR_CHECKLIST.exists(), reason="the author's checklist (../shared) is not here")
def test_the_repository_copy_of_the_checklist_is_the_authors():
    assert CHECKLIST.read_bytes() == AUTHOR_CHECKLIST.read_bytes(), \
        "docs/curriculum.md differs from ../shared/curriculum.md: copy it again and update curriculum.toml"


def test_every_checklist_line_is_an_item():
    cur = curriculum.load()
    counts = checklist_counts()
    assert set(counts) == {s.id for s in cur.sections} - BEYOND_CHECKLIST
    for section, expected in counts.items():
        assert len(cur.items_of(section)) == expected, f"{section}: {expected} checklist lines"


def test_items_are_well_formed():
    cur = curriculum.load()
    for item in cur.items:
        assert item.title.en and item.title.zh, item.id
        if item.kind == "code":
            assert re.fullmatch(r"ex\d+\.\d+", item.id), item.id
            assert item.points > 0 and item.hint is not None, item.id
        else:
            assert item.points == 0, f"self-assessed {item.id} cannot carry points"
    for section in cur.sections:
        if section.id.startswith("ex"):
            assert section.file and (REPO_ROOT / "solutions" / section.file).exists() == any(
                i.graded for i in cur.items_of(section.id)), section.id


def test_language_follows_option_then_environment_then_locale(monkeypatch):
    for var in ("DLGRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert curriculum.detect_lang() == "zh"
    monkeypatch.setenv("DLGRADE_LANG", "en")
    assert curriculum.detect_lang() == "en"
    assert curriculum.detect_lang("zh") == "zh"
    with pytest.raises(ValueError):
        curriculum.detect_lang("fr")


@pytest.mark.slow
def test_checks_and_items_link_both_ways(tmp_path):
    cur = curriculum.load()
    checks = collect_manifest(tmp_path / "manifest.json")
    assert checks
    for check in checks:
        assert len(check["items"]) == 1, f"{check['nodeid']} must name exactly one item, names {check['items']}"
        item = cur.item(check["item"])
        assert item.kind == "code", f"{check['nodeid']} grades self-assessed item {item.id}"
        assert not item.planned, f"{item.id} has checks: remove status = \"planned\" in curriculum.toml"
    checked = {c["item"] for c in checks}
    unchecked = [i.id for i in cur.items if i.graded and i.id not in checked]
    assert not unchecked, f"code items with no check: {unchecked}"


def test_bad_curriculum_is_rejected():
    base = {"section": [{"id": "ex9", "title": {"en": "x", "zh": "x"}}]}
    with pytest.raises(ValueError, match="kind"):
        curriculum.parse({**base, "item": [{"id": "ex9.1", "kind": "quiz", "title": {"en": "a", "zh": "a"}}]})
    with pytest.raises(ValueError, match="section"):
        curriculum.parse({**base, "item": [{"id": "ex8.1", "kind": "code", "title": {"en": "a", "zh": "a"}}]})
    item = {"id": "ex9.1", "kind": "self", "title": {"en": "a", "zh": "a"}}
    with pytest.raises(ValueError, match="duplicate"):
        curriculum.parse({**base, "item": [item, item]})
    with pytest.raises(ValueError, match="practice"):
        curriculum.parse({**base, "item": [{**item, "practice": "ex9.2"}]})


def test_papers_link_to_their_code_items():
    cur = curriculum.load()
    linked = {i.id: i.practice for i in cur.items if i.practice}
    assert linked, "no paper item links to its exercise-5 code item"
    for paper, practice in linked.items():
        assert paper.startswith("paper.") and cur.item(practice).section == "ex5", (paper, practice)
