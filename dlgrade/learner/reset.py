"""`dlgrade reset ITEM|EXERCISE`: put the stub back in the file that is graded, keeping a backup of your version.

For an exercise (ex3) its file (curriculum.toml: the section's `file`) goes back to its stub; for
an item (ex3.2) only the functions and classes the item covers (`functions`), in each file that
holds them (the item's `files`, else the section's file: ex1.5's are in the distributed scripts),
a file at a time. An exercise's reset leaves the files of such an item alone and says how to reset
them: those are scripts of their own, not the exercise's file the learner is starting over. Stubs
come from the one-source generator (solutions/ through `dlgrade stubs`); in a learner release
without solutions/, from the first commit that added the exercise file.

Each file reset is the one graded (dlgrade/boundary/loader.py: graded_file): exN_name.py, or the
notebook exN_name.ipynb beside it. In a notebook, the code cells that define those functions and
classes get the stub's definitions back (for an exercise, every one the stub has); markdown
cells, the notebook's own cells and the rest of each cell stay, and a definition no cell holds
any more gets a cell of its own, before the item's `check(...)` cell. When jupytext pairs the two
files, the other one follows, as jupytext would make it: the .py is written from the reset
notebook (and stays what the notebook was made from, so the notebook stays graded); a notebook
follows the reset .py, and for a whole exercise both are made afresh from the stub, as
`dlgrade notebook` makes them. Either way a file that is written is backed up first.
"""
from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlgrade.boundary.loader import cell_filename, graded_file, module_cells
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import render, stubs
from dlgrade.core.curriculum import Curriculum, Item, Section
from dlgrade.core.i18n import add_lang_option, get_lang, set_lang, tr
from dlgrade.core.project import Project


def pristine_stub(filename: str) -> str:
    project = Project.locate()
    solution = project.solutions / filename
    if solution.exists():
        return stubs.generate_stub(solution.read_text(encoding="utf-8"), str(solution))
    rel = f"exercises/{filename}"
    first = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", rel], cwd=project.root,
                           capture_output=True, text=True, check=True).stdout.split()
    if not first:
        raise FileNotFoundError(tr("no stub for {path}: neither solutions/ nor a commit that added it", path=rel))
    return subprocess.run(["git", "show", f"{first[-1]}:{rel}"], cwd=project.root, capture_output=True, text=True,
                          check=True).stdout


def _spans(source: str) -> dict[str, tuple[int, int]]:
    """Top-level function/class name -> (first line incl. decorators, last line), 1-based."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans[node.name] = (start, node.end_lineno)
    return spans


def replace_definitions(learner: str, stub: str, names: list[str],
                        spans: dict[str, tuple[int, int]] | None = None) -> str:
    """`learner` with the top-level definitions `names` taken from `stub` (`spans`: the learner's, when
    `learner` is not plain Python)."""
    stub_lines, stub_spans = stub.splitlines(keepends=True), _spans(stub)
    lines, spans = learner.splitlines(keepends=True), _spans(learner) if spans is None else spans
    for name in sorted((n for n in names if n in spans and n in stub_spans), key=lambda n: -spans[n][0]):
        start, end = spans[name]
        s_start, s_end = stub_spans[name]
        lines[start - 1:end] = stub_lines[s_start - 1:s_end]
    return "".join(lines)


class CellSyntaxError(SyntaxError):
    """A notebook cell that does not parse, where a definition to reset may be."""


def _cell_spans(source: str) -> dict[str, tuple[int, int]]:
    """A cell's top-level definitions, as `_spans` gives them; magics and `!shell` lines are read as
    IPython turns them into calls, which keeps each on its line."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return _spans(source)
    except SyntaxError:
        python = TransformerManager().transform_cell(source)
        if len(python.splitlines()) != len(source.splitlines()):  # a cell magic: its body is not Python
            return {}
        return _spans(python)


def reset_cells(notebook: Any, notebook_path: Path, stub: str, names: list[str], before: str | None = None) -> None:
    """Put the stub's definitions `names` back in the notebook's module cells. A name no cell defines gets
    a new cell, before the cell whose source is `before` (the item's `check(...)` cell) or last."""
    import nbformat

    found: set[str] = set()
    unreadable = []
    for number, source in module_cells(notebook):
        try:
            spans = _cell_spans(source)
        except SyntaxError as exc:
            unreadable.append(CellSyntaxError(exc.msg, (cell_filename(Path(notebook_path.name), number), exc.lineno,
                                                        exc.offset, exc.text)))
            continue
        if set(names) & set(spans):
            cell = notebook.cells[number - 1]
            cell.source = replace_definitions(source, stub, names, spans).rstrip("\n")
            found |= set(spans)
    stub_spans = _spans(stub)
    missing = [name for name in stub_spans if name in names and name not in found]
    if missing and unreadable:
        raise unreadable[0]
    if missing:
        stub_lines = stub.splitlines(keepends=True)
        text = "\n\n".join("".join(stub_lines[stub_spans[n][0] - 1:stub_spans[n][1]]) for n in missing)
        place = next((i for i, cell in enumerate(notebook.cells) if before and cell.source.strip() == before),
                     len(notebook.cells))
        notebook.cells.insert(place, nbformat.v4.new_code_cell(text.rstrip("\n")))


def _reset_notebook(notebook: Any, notebook_path: Path, items: list[Item], stub: str, *, whole: bool) -> None:
    """The definitions of `items` back in `notebook`, and with `whole` every definition of the stub."""
    for item in items:
        reset_cells(notebook, notebook_path, stub, list(item.functions), f'check("{item.id}")')
    if whole:
        reset_cells(notebook, notebook_path, stub, list(_spans(stub)))


@dataclass
class Reset:
    """What `reset` does to one exercise file: the file graded, the files written (the graded one first),
    their backups, and what is written, computed before anything is."""

    graded: Path
    written: list[Path]
    py_path: Path
    notebook_path: Path
    paired: bool
    notebook: Any = None
    py_text: str | None = None
    backups: list[Path] = field(default_factory=list)


def _plan(curriculum: Curriculum, section: Section, filename: str, item: Item | None, exercises: Path) -> Reset:
    """The reset of `item` (None: the whole exercise) in the file graded for `filename`; writes nothing."""
    import nbformat

    from dlgrade.learner import notebook as notebook_mod  # it builds on pristine_stub, above

    py_path = exercises / filename
    notebook_path = py_path.with_suffix(".ipynb")
    graded = graded_file(exercises, filename)
    if graded is None:
        raise FileNotFoundError(tr("{path} does not exist", path=py_path))
    stub = pristine_stub(filename)
    paired = notebook_mod.is_pair(notebook_path, py_path)
    plan = Reset(graded, [graded] + [path for path in (py_path, notebook_path) if paired and path != graded],
                 py_path, notebook_path, paired)
    if graded == notebook_path:
        plan.notebook = nbformat.read(notebook_path, as_version=4)
        items = [item] if item else [i for i in curriculum.items_of(section.id) if filename in curriculum.files_of(i)]
        _reset_notebook(plan.notebook, notebook_path, items, stub, whole=item is None)
    elif item is None and paired:
        plan.notebook = notebook_mod.build(curriculum, section, notebook_mod.exercise_code(stub), get_lang())
    elif item is None:
        plan.py_text = stub
    else:
        plan.py_text = replace_definitions(py_path.read_text(encoding="utf-8"), stub, list(item.functions))
    return plan


def _write(plan: Reset, backup: Path) -> None:
    """Back up the files `plan` writes, then write them, keeping a jupytext pair in step."""
    import nbformat

    from dlgrade.learner import notebook as notebook_mod

    plan.backups = [Path(shutil.copy2(path, backup / path.name)) for path in plan.written]
    if plan.notebook is not None and plan.paired:
        notebook_mod.pair(plan.notebook, plan.notebook_path, plan.py_path)
    elif plan.notebook is not None:
        nbformat.write(plan.notebook, plan.notebook_path)
    if plan.py_text is not None:
        plan.py_path.write_text(plan.py_text, encoding="utf-8")
        if plan.paired:
            notebook_mod.follow_py(plan.notebook_path, plan.py_path)


def reset_files(target: str, exercises: Path | None = None) -> list[Reset]:
    """Reset an item in each file that holds its functions, or an exercise in its section's file; one Reset
    a file. Every file is read and every reset computed first: a file that does not parse stops them all."""
    curriculum = curriculum_mod.load()
    section_id = target.split(".")[0]
    section = curriculum.section(section_id)
    item = curriculum.item(target) if target != section_id else None
    files = curriculum.files_of(item) if item else tuple(f for f in [section.file] if f)
    if not files:
        raise KeyError(target)
    exercises = exercises or Project.locate().exercises
    plans = [_plan(curriculum, section, filename, item, exercises) for filename in files]
    backup = Project.locate().backups / time.strftime("%Y%m%d-%H%M%S")
    backup.mkdir(parents=True, exist_ok=True)
    for plan in plans:
        _write(plan, backup)
    return plans


def left_alone(curriculum: Curriculum, section: Section) -> dict[str, list[str]]:
    """Item id -> the files of its own that resetting the whole exercise `section` does not touch."""
    own = {item.id: [f for f in curriculum.files_of(item) if f != section.file]
           for item in curriculum.items_of(section.id)}
    return {item_id: files for item_id, files in own.items() if files}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help=tr("an item (ex3.2: its functions, in each file that holds them) or an "
                                          "exercise (ex3: its whole file; an item with files of its own, such as "
                                          "ex1.5, is reset by its id)"))
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    lang = set_lang(args.lang)
    try:
        done = reset_files(args.target)
    except CellSyntaxError as exc:
        print(tr("cannot reset {name}: {cell} does not parse (line {line}: {error}), so which functions it holds "
                 "is unknown; fix that line or delete the cell, then reset again",
                 name=args.target, cell=exc.filename, line=exc.lineno, error=exc.msg))
        return 2
    except (KeyError, StopIteration, FileNotFoundError, SyntaxError, subprocess.CalledProcessError) as exc:
        print(tr("cannot reset {name}: {error}", name=args.target, error=exc))
        return 2
    root = Project.locate().root

    def shown(path: Path) -> Path:
        return path.relative_to(root) if path.is_relative_to(root) else path

    for file_reset in done:
        print(tr("reset {name} in {path}, the file that is graded; your version is saved at {backup}",
                 name=args.target, path=shown(file_reset.graded), backup=shown(file_reset.backups[0])))
        for path, backup in zip(file_reset.written[1:], file_reset.backups[1:]):
            print(tr("{path}, paired with it by jupytext, was written to match; your version is saved at {backup}",
                     path=shown(path), backup=shown(backup)))
    if "." not in args.target:
        curriculum = curriculum_mod.load()
        for item_id, files in left_alone(curriculum, curriculum.section(args.target)).items():
            print(tr("{item} is written in {files}, which are left as they are; {command} resets them",
                     item=item_id, files=", ".join(f"exercises/{f}" for f in files),
                     command=render.suggest(f"dlgrade reset {item_id}", lang)))
    return 0
