"""`from dlgrade import check; check("ex1.2")` in a notebook: the item's checks, shown below the cell.

The checks run as any run does (dlgrade/learner/runner.py: `pytest checks/test_exN.py --item
exN.M` in a subprocess, recorded in .dlgrade/, so `dlgrade next` and the report see them) on the
exercise as saved on disk: the notebook, or its paired .py once jupytext has written it
(dlgrade/boundary/loader.py: graded_file). The kernel's live cells are not graded: when the cell
run just before this one, or this one, is not in the saved file, the result says to save first.
Outside an IPython kernel (a script, or the module the checks load from a notebook) `check` does
nothing, so a check cell can never start checks from inside the checks.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlgrade.boundary.loader import graded_file
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import render
from dlgrade.core.curriculum import Item
from dlgrade.core.i18n import set_lang, tr
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.core.results import PASSED, SKIPPED, CheckResult, item_status
from dlgrade.learner import runner

COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "not_started": "#6e7781", "skipped": "#6e7781",
           "partial": "#9a6700"}


@dataclass
class Outcome:
    """One run of an item's checks from a notebook, ready to show."""

    item: Item
    lang: str
    graded: str
    status: str
    results: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    output_tail: list[str] = field(default_factory=list)

    def shown(self) -> list[CheckResult]:
        """The checks to list: every one that ran, passed ones too (a skip only when it says why)."""
        return [r for r in self.results if r.status != SKIPPED or r.output]

    def hint(self) -> str | None:
        if self.status == PASSED or not self.item.hint:
            return None
        label = f"{msg('hint', self.lang)}:"
        if any(label in r.output for r in self.results):
            return None
        return f"{label} {self.item.hint(self.lang)}"

    def text(self) -> str:
        lines = [f"{self.item.id} {self.item.title(self.lang)}: {msg(self.status, self.lang)}",
                 tr("graded: {path}", path=self.graded), *self.notes]
        for result in self.shown():
            lines.append(f"  [{msg(result.status, self.lang)}] {result.nodeid.split('::')[-1]}")
            lines += ["    " + line for line in result.output.splitlines() if result.status != PASSED]
        lines += self.output_tail
        hint = self.hint()
        return "\n".join(lines + ([f"  {hint}"] if hint else []))

    def html(self) -> str:
        def badge(status: str) -> str:
            colour = COLOURS.get(status, "#6e7781")
            return (f'<span style="color:{colour};font-weight:bold">'
                    f"{html.escape(msg(status, self.lang))}</span>")

        rows = "".join(
            f"<tr><td style='text-align:left'>{badge(r.status)}</td>"
            f"<td style='text-align:left'><code>{html.escape(r.nodeid.split('::')[-1])}</code></td>"
            f"<td style='text-align:left'><pre style='margin:0;white-space:pre-wrap'>"
            f"{'' if r.status == PASSED else html.escape(r.output)}</pre></td></tr>"
            for r in self.shown())
        parts = [f"<div class='dlgrade-check'><p><b>{html.escape(self.item.id)} "
                 f"{html.escape(self.item.title(self.lang))}</b>: {badge(self.status)}</p>",
                 f"<p>{html.escape(tr('graded: {path}', path=self.graded))}</p>"]
        parts += [f"<p style='color:#9a6700'>{html.escape(note)}</p>" for note in self.notes]
        if rows:
            parts.append(f"<table>{rows}</table>")
        if self.output_tail:
            parts.append(f"<pre>{html.escape(chr(10).join(self.output_tail))}</pre>")
        hint = self.hint()
        if hint:
            parts.append(f"<p>{html.escape(hint)}</p>")
        return "".join(parts) + "</div>"


def check(item_id: str) -> None:
    """Run `item_id`'s checks on the saved exercise and show the result below the cell."""
    lang = set_lang(None)
    curriculum = curriculum_mod.load()
    try:
        item = curriculum.item(item_id)
    except KeyError as exc:
        print(exc.args[0])
        return
    shell = _kernel()
    if shell is None:
        print(tr("check() runs the checks from a notebook; here run: {command}",
                 command=render.rerun_command(curriculum, item, lang)))
        return
    section = curriculum.section(item.section)
    project = Project.locate()
    graded = {name: graded_file(project.exercises, name) for name in curriculum.files_of(item)}
    graded_name = ", ".join(str(path.relative_to(project.root)) if path else f"exercises/{name}"
                            for name, path in graded.items())
    # The notebook this runs in is its exercise's; an item graded in other files has nothing to save here.
    section_graded = graded.get(section.file) if section.file else None
    notes = [tr("this cell or the one run before it is not in the saved file: save the notebook "
                "(Ctrl+S) and run this cell again; the checks read the saved file")
             ] if section_graded is not None and _unsaved(shell, section_graded) else []
    results, output = runner.run_item(render.check_file(curriculum, item), item.id, lang)
    status = item_status(item, results) if results else "failed"
    tail = [] if results else [tr("the checks of {item} did not run:", item=item.id),
                               *output.strip().splitlines()[-15:]]
    _show(Outcome(item, lang, graded_name, status, results, notes, tail))


def _kernel() -> Any:
    """The running IPython shell, or None outside IPython (or without IPython installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _show(outcome: Outcome) -> None:
    from IPython.display import display

    display({"text/html": outcome.html(), "text/plain": outcome.text()}, raw=True)


def _unsaved(shell: Any, graded: Path) -> bool:
    """Whether the cell running now or the one run before it is missing from the saved file."""
    import jupytext
    from IPython.core.inputtransformer2 import TransformerManager

    inputs = [text for text in shell.user_ns.get("In", [])[-2:] if text.strip()]
    try:
        saved = jupytext.read(graded)
    except (OSError, ValueError):
        return True
    transform = TransformerManager().transform_cell
    known = set()
    for cell in saved.cells:
        if cell.cell_type == "code":
            known |= {cell.source.strip(), transform(cell.source).strip()}
    return any(text.strip() not in known for text in inputs)
