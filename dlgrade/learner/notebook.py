"""`dlgrade notebook exN`: the exercise as a Jupyter notebook, paired with its .py through jupytext.

The notebook is made from the exercise's stub (from the learner's .py when it is no longer the
stub, so work already done carries over): a markdown cell with the exercise's title; a cell for
the notebook only that sets `__file__` and imports `check`; the file's imports and constants; a
cell for the notebook only that loads the exercise's data to look at; then, per item, a markdown
cell (title and hint in the learner's language), one code cell per function or class of the item
(its docstring is the task) and a cell for the notebook only that runs the item's checks. A
`if __name__ == "__main__":` block stays in the .py only (a raw cell jupytext keeps active in
the script). "For the notebook only" is jupytext's `active-ipynb` tag: commented out in the .py,
and left out of the module the checks load (dlgrade/boundary/loader.py).

The .py is rewritten in jupytext's percent format from the same cells (the old one is backed up
in .dlgrade/backup/), and the notebook records the SHA-256 of the .py as written: until the .py
changes, the notebook is what is graded; once it changes (jupytext saves both, or it was edited),
the .py is (dlgrade/boundary/loader.py: graded_file).
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlgrade.boundary.loader import NOTEBOOK_ONLY_TAG, STUB_DIGEST_KEY, module_cells
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core.curriculum import Curriculum, Item, Section
from dlgrade.core.i18n import add_lang_option, set_lang, tr, translate
from dlgrade.core.messages import msg
from dlgrade.core.project import Project
from dlgrade.learner.reset import pristine_stub

PAIRING = "ipynb,py:percent"
# The exercises the curriculum means to be done in a notebook ("Jupyter notebooks ... for data
# analysis and small experiments"): 1.1-1.4 (ex1_pytorch.py), 2, 3 and 4. Exercise 1.5 says it is
# not done in a notebook; its scripts are files of their own. The learner release ships these paired.
NOTEBOOK_EXERCISES = ("ex1", "ex2", "ex3", "ex4")
# Per exercise, a first look at its data, from the notebook's folder (Jupyter and VS Code start the
# kernel there). These cells are the notebook's only: the checks bring their own data.
DATA_CELLS: dict[str, str] = {
    "ex1": '''# 练习 1 的数据 / exercise 1's data: MNIST/raw/ (what load_mnist reads) and photos of digits on paper
from pathlib import Path

from PIL import Image

DATA = Path("..") / "fixtures" / "ex1"
PHOTOS = sorted((DATA / "photos").iterdir())
print(sorted(p.name for p in (DATA / "MNIST" / "raw").iterdir()))
Image.open(PHOTOS[0])''',
    "ex2": '''# 练习 2 的模型：很小的 Qwen2，文件与 Qwen2-1.5B-Instruct 相同 / a tiny Qwen2, Qwen2-1.5B-Instruct's files
import json
from pathlib import Path

MODEL_DIR = Path("..") / "fixtures" / "ex2" / "tiny-qwen2"
print(sorted(p.name for p in MODEL_DIR.iterdir()))
json.loads((MODEL_DIR / "config.json").read_text())''',
    "ex3": '''# 图像题用的图片 / the picture the image items ask about
from pathlib import Path

from PIL import Image

SCENE = Path("..") / "fixtures" / "ex3" / "scene.png"
Image.open(SCENE)''',
    "ex4": '''# 练习 4 的模型：一个很小的 CLIP / a tiny CLIP, with clip-vit-base-patch32's files
import json
from pathlib import Path

CLIP_DIR = Path("..") / "fixtures" / "ex4" / "tiny-clip"
print(sorted(p.name for p in CLIP_DIR.iterdir()))
json.loads((CLIP_DIR / "config.json").read_text())''',
}


@dataclass
class Chunk:
    """A top-level statement of the source with the comments and blank lines above it."""

    text: str
    name: str | None  # the function or class it defines
    main_block: bool = False  # `if __name__ == "__main__":`


def chunks(source: str) -> list[Chunk]:
    lines = source.splitlines(keepends=True)
    nodes = ast.parse(source).body
    # A chunk starts at its statement, or at the unindented comments and blank lines right above it;
    # indented comments above it close the definition before it.
    bounds = []
    for index, node in enumerate(nodes):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        floor = 0 if index == 0 else nodes[index - 1].end_lineno or start
        while start > floor and (not lines[start - 1].strip() or lines[start - 1].startswith("#")):
            start -= 1
        bounds.append(0 if index == 0 else start)
    bounds.append(len(lines))
    out = []
    for index, node in enumerate(nodes):
        name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None
        main_block = isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
        out.append(Chunk("".join(lines[bounds[index]:bounds[index + 1]]).strip("\n"), name, main_block))
    return out


def _cell(kind: str, source: str, **metadata: Any) -> Any:
    import nbformat

    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell,
            "raw": nbformat.v4.new_raw_cell}[kind]
    return make(source, metadata=metadata)


def _notebook_only(source: str) -> Any:
    return _cell("code", source, tags=[NOTEBOOK_ONLY_TAG])


def build(curriculum: Curriculum, section: Section, source: str, lang: str) -> Any:
    """The notebook of `section` made from `source` (its stub, or the learner's .py)."""
    import nbformat

    assert section.file is not None
    pieces = chunks(source)
    items = [item for item in curriculum.items_of(section.id)
             if item.graded and section.file in curriculum.files_of(item)]
    owner: dict[str, Item] = {}
    for item in items:
        for name in item.functions:
            owner.setdefault(name, item)
    # Each chunk goes with its item; what no item names goes with the next chunk an item names.
    placed: list[Item | None] = [owner.get(p.name) if p.name else None for p in pieces]
    first_owned = next((i for i, item in enumerate(placed) if item is not None), len(pieces))
    preamble = [p.text for p in pieces[:first_owned]]
    groups: dict[str, list[str]] = {item.id: [] for item in items}
    pending: list[str] = []
    trailing: list[str] = []
    for piece, item in zip(pieces[first_owned:], placed[first_owned:]):
        if piece.main_block:
            trailing.append(piece.text)
        elif item is None:
            pending.append(piece.text)
        else:
            groups[item.id].append("\n\n\n".join([*pending, piece.text]))
            pending = []
    cells = [
        _cell("markdown", f"# {section.title(lang)}\n\n"
              + translate("Write each function in its cell; the last cell of each item runs its checks. "
                          "This notebook is paired with {file} by jupytext: saving one updates the other.",
                          lang, file=section.file)),
        _notebook_only(translate("# Jupyter runs a notebook in its own folder; the exercise's code names its file.",
                                 lang)
                       + f'\n__file__ = "{section.file}"\nfrom dlgrade import check'),
        _cell("code", "\n\n\n".join(preamble)),
    ]
    if section.id in DATA_CELLS:
        cells.append(_notebook_only(DATA_CELLS[section.id]))
    for item in items:
        if not groups[item.id]:
            continue
        hint = f"\n\n**{msg('hint', lang)}**: {item.hint(lang)}" if item.hint else ""
        cells.append(_cell("markdown", f"## {item.id} {item.title(lang)}{hint}"))
        cells += [_cell("code", text) for text in groups[item.id]]
        cells.append(_notebook_only(f'check("{item.id}")'))
    if pending:
        cells.append(_cell("code", "\n\n\n".join(pending)))
    cells += [_cell("raw", text, active="py") for text in trailing]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        language_info={"name": "python"},
        jupytext={"formats": PAIRING},
    )
    return notebook


def write(section_id: str, lang: str, exercises: Path | None = None, *, force: bool = False) -> tuple[Path, Path]:
    """Write exercises/exN_name.ipynb and its paired .py; returns (notebook, .py)."""
    curriculum = curriculum_mod.load()
    section = curriculum.section(section_id)
    if section.file is None:
        raise KeyError(section_id)
    exercises = exercises or Project.locate().exercises
    py_path = exercises / section.file
    notebook_path = py_path.with_suffix(".ipynb")
    if notebook_path.exists() and not force:
        raise FileExistsError(notebook_path)
    source = exercise_code(py_path.read_text(encoding="utf-8") if py_path.is_file() else pristine_stub(section.file))
    notebook = build(curriculum, section, source, lang)
    backup = Project.locate().backups / time.strftime("%Y%m%d-%H%M%S")
    for old in (py_path, notebook_path):
        if old.exists():
            backup.mkdir(parents=True, exist_ok=True)
            shutil.copy2(old, backup / old.name)
    pair(notebook, notebook_path, py_path)
    return notebook_path, py_path


def paired_with_py(notebook: Any) -> bool:
    """Whether jupytext keeps `notebook` (or the notebook it read from a .py) paired with a .py."""
    formats = str(notebook.metadata.get("jupytext", {}).get("formats", ""))
    return any(fmt.split(":")[0] == "py" for fmt in formats.split(","))


def exercise_code(text: str) -> str:
    """The code of an exercise's .py: the text itself, or, for a .py jupytext keeps paired with a
    notebook, its module cells and the cells it keeps for itself, without the cell markers and the
    notebook's own cells (commented out there): a notebook made from it is then made afresh."""
    import jupytext

    notebook = jupytext.reads(text, fmt="py:percent")
    if not paired_with_py(notebook):
        return text
    return "\n\n\n".join(source for _, source in module_cells(notebook, script=True)) + "\n"


def pair(notebook: Any, notebook_path: Path, py_path: Path) -> None:
    """Write `notebook` and its paired .py (jupytext's percent format), recording the .py's digest."""
    import jupytext

    # The .py first and the notebook after it: jupytext refuses to open a paired notebook whose
    # .py is older than it by more than a second, and reads the cells from the .py.
    jupytext.write(notebook, py_path, fmt="py:percent")
    notebook.metadata["dlgrade"] = {STUB_DIGEST_KEY: hashlib.sha256(py_path.read_bytes()).hexdigest()}
    jupytext.write(notebook, notebook_path, fmt="ipynb")


def is_pair(notebook_path: Path, py_path: Path) -> bool:
    """Whether both files exist and jupytext keeps them paired: the notebook names the .py's format and the
    .py is jupytext's text of a notebook so paired (a .py edited by hand keeps its header)."""
    import jupytext
    import nbformat

    if not (notebook_path.is_file() and py_path.is_file()):
        return False
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError):
        return False
    return paired_with_py(notebook) and paired_with_py(jupytext.read(py_path, fmt="py:percent"))


def follow_py(notebook_path: Path, py_path: Path) -> None:
    """The notebook's cells written again from its paired .py, as `jupytext --sync` does when the .py is the
    newer; the notebook keeps its outputs and its own metadata (the digest `pair` recorded)."""
    import jupytext
    from jupytext.combine import combine_inputs_with_outputs

    notebook = combine_inputs_with_outputs(jupytext.read(py_path, fmt="py:percent"), jupytext.read(notebook_path),
                                           fmt="py:percent")
    jupytext.write(notebook, notebook_path, fmt="ipynb")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", help=tr("the exercise (ex1): writes exercises/exN_name.ipynb beside its .py"))
    parser.add_argument("--force", action="store_true",
                        help=tr("replace an existing notebook (it is backed up in .dlgrade/backup/)"))
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    lang = set_lang(args.lang)
    try:
        notebook_path, py_path = write(args.exercise, lang, force=args.force)
    except (KeyError, StopIteration):
        known = ", ".join(s.id for s in curriculum_mod.load().sections if s.file)
        print(tr("no exercise {name}; exercises: {known}", name=args.exercise, known=known), file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(tr("{path} exists; --force replaces it (backed up first)", path=exc.args[0]), file=sys.stderr)
        return 2
    root = Project.locate().root
    print(tr("wrote {notebook}, paired with {script}: open it in JupyterLab or VS Code",
             notebook=notebook_path.relative_to(root) if notebook_path.is_relative_to(root) else notebook_path,
             script=py_path.relative_to(root) if py_path.is_relative_to(root) else py_path))
    return 0
