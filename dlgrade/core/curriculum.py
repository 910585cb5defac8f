"""The curriculum file (curriculum.toml) as typed objects, and the learner's language."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dlgrade.core.i18n import LANGS, detect_lang  # noqa: F401 - re-exported: the learner commands' --lang
from dlgrade.core.project import Project


@dataclass(frozen=True)
class Text:
    """A string the learner reads, in English and Chinese."""

    en: str
    zh: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    file: str | None = None
    check: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    kind: str
    title: Text
    hint: Text | None = None
    points: float = 0.0
    planned: bool = False
    functions: tuple[str, ...] = field(default_factory=tuple)
    # The exercise files its functions are in, when not the section's (Curriculum.files_of).
    files: tuple[str, ...] = field(default_factory=tuple)
    check: str | None = None
    # A self-assessed paper's code item: "ex5.N", where the paper is put into code.
    practice: str | None = None

    @property
    def graded(self) -> bool:
        """Code items whose checks exist; planned and self-assessed items are not graded."""
        return self.kind == "code" and not self.planned


@dataclass(frozen=True)
class Curriculum:
    sections: tuple[Section, ...]
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        known = ", ".join(i.id for i in self.items if i.kind == "code")
        raise KeyError(f"no item {item_id!r} in curriculum.toml (code items: {known})")

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def items_of(self, section_id: str) -> list[Item]:
        return [i for i in self.items if i.section == section_id]

    def files_of(self, item: Item) -> tuple[str, ...]:
        """The exercise files that hold `item`'s functions: its own `files`, else its section's file."""
        if item.files:
            return item.files
        file = self.section(item.section).file
        return () if file is None else (file,)


def _text(raw: dict[str, str]) -> Text:
    return Text(en=raw["en"], zh=raw["zh"])


def _optional_text(raw: dict[str, str] | None) -> Text | None:
    return None if raw is None else _text(raw)


def _section_of(item_id: str) -> str:
    return item_id.split(".", 1)[0]


def parse(data: dict[str, Any]) -> Curriculum:
    """Build a Curriculum from the parsed TOML, validating what the harness relies on."""
    sections = tuple(
        Section(id=s["id"], title=_text(s["title"]), file=s.get("file"), check=s.get("check"))
        for s in data["section"]
    )
    section_ids = {s.id for s in sections}
    items = []
    for raw in data["item"]:
        kind = raw["kind"]
        if kind not in ("code", "self"):
            raise ValueError(f"item {raw['id']}: kind must be 'code' or 'self', not {kind!r}")
        section = _section_of(raw["id"])
        if section not in section_ids:
            raise ValueError(f"item {raw['id']}: no [[section]] with id {section!r}")
        items.append(
            Item(
                id=raw["id"],
                section=section,
                kind=kind,
                title=_text(raw["title"]),
                hint=_optional_text(raw.get("hint")),
                points=float(raw.get("points", 0)),
                planned=raw.get("status") == "planned",
                functions=tuple(raw.get("functions", ())),
                files=tuple(raw.get("files", ())),
                check=raw.get("check"),
                practice=raw.get("practice"),
            )
        )
    ids = [i.id for i in items]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise ValueError(f"duplicate item ids in curriculum.toml: {sorted(duplicated)}")
    code_ids = {i.id for i in items if i.kind == "code"}
    for item in items:
        if item.practice is not None and item.practice not in code_ids:
            raise ValueError(f"item {item.id}: practice = {item.practice!r} is not a code item")
    return Curriculum(sections=sections, items=tuple(items))


def load(path: Path | None = None) -> Curriculum:
    """The curriculum of `path`, by default the current project's curriculum.toml."""
    return _load((path or Project.locate().curriculum_file).resolve())


@lru_cache(maxsize=None)
def _load(path: Path) -> Curriculum:
    with open(path, "rb") as f:
        return parse(tomllib.load(f))
