"""Import a learner's exercise file under a private module name, and say precisely why one fails.

An exercise file `exN_name.py` may also be done as a notebook, `exN_name.ipynb` beside it
(`graded_file` says which of the two is graded). A notebook becomes a module from its code cells,
in order: each cell goes through IPython's own input transformer (magics and `!shell` lines
become `get_ipython()` calls, answered by `NotebookShell`), is compiled under a name that
carries its cell number, and runs in the module's namespace, so that an error names its cell.
Cells tagged `active-ipynb` (jupytext's tag: the notebook's own cells — loading data to look at,
`check(...)` calls — commented out in a paired .py too) and raw cells are not part of the module.
"""
from __future__ import annotations

import codeop
import hashlib
import importlib.util
import linecache
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from dlgrade.core.tracebacks import innermost_frame, location

MODULE_PREFIX = "dlgrade_target"
NOTEBOOK_ONLY_TAG = "active-ipynb"
# The notebook metadata `dlgrade notebook` writes: the SHA-256 of the stub the notebook was made from.
STUB_DIGEST_KEY = "stub_sha256"
# Cell magics whose body is Python (it runs); any other cell magic's body is not Python and is skipped.
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})
# Libraries that take seconds to import: a learner process may import those its files name while
# the checks' process is still collecting (LearnerProcess.start's `preload`).
SLOW_IMPORTS = ("torch", "torchvision", "transformers", "peft", "matplotlib.pyplot", "openai", "PIL.Image")


class LoadError(Exception):
    """An exercise file that does not import: kind is 'missing', 'not_started', 'syntax' or 'raised'."""

    def __init__(self, kind: str, detail: str, line: int | None = None, where: str | None = None):
        super().__init__(detail)
        self.kind, self.detail, self.line, self.where = kind, detail, line, where


def graded_file(root: Path, filename: str) -> Path | None:
    """The file graded for `filename`: `exN_name.py`, or the notebook `exN_name.ipynb` beside it.

    The .py wins whenever it exists and is not byte for byte the stub the notebook was made from
    (a .py paired with the notebook by jupytext holds the notebook's code); the notebook is graded
    when the .py is absent or untouched. None when neither exists.
    """
    path = root / filename
    notebook = path.with_suffix(".ipynb")
    if path.suffix != ".py" or not notebook.is_file():
        return path if path.is_file() else None
    if not path.is_file() or _untouched_stub(path, notebook):
        return notebook
    return path


def slow_imports(path: Path) -> list[str]:
    """The SLOW_IMPORTS a learner's file or notebook names in an import, read as text (nothing runs)."""
    import ast
    try:
        source = notebook_script(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return []
    packages: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            packages.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            packages.add(node.module.split(".")[0])
    return [name for name in SLOW_IMPORTS if name.split(".")[0] in packages]


def _untouched_stub(path: Path, notebook: Path) -> bool:
    import nbformat

    try:
        recorded = _read_notebook(notebook).metadata.get("dlgrade", {}).get(STUB_DIGEST_KEY)
    except (OSError, ValueError, nbformat.ValidationError):
        return False
    return bool(recorded == hashlib.sha256(path.read_bytes()).hexdigest())


def load_module(root: Path, filename: str) -> ModuleType:
    source = graded_file(root, filename)
    if source is None:
        raise LoadError("missing", filename)
    name = f"{MODULE_PREFIX}.{root.name}.{Path(filename).stem}".replace("-", "_")
    if source.suffix == ".ipynb":
        return _load_notebook(root, source, name)
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise LoadError("missing", filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except NotImplementedError as exc:
        del sys.modules[name]
        raise LoadError("not_started", str(exc)) from None
    except SyntaxError as exc:
        del sys.modules[name]
        raise LoadError("syntax", exc.msg or "", line=exc.lineno) from None
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        del sys.modules[name]
        raise LoadError("raised", f"{type(exc).__name__}: {exc}", where=_where(exc, root)) from None
    return module


def _where(exc: BaseException, root: Path) -> str | None:
    frame = innermost_frame(exc.__traceback__, root)
    return location(frame) if frame else None


def _read_notebook(path: Path) -> Any:
    """The notebook as nbformat reads it (v4); outputs, widgets and any kernel name are left as they are."""
    import nbformat

    with open(path, encoding="utf-8") as f:
        return nbformat.read(f, as_version=4)


def module_cells(notebook: Any, *, script: bool = False) -> list[tuple[int, str]]:
    """(cell number counted from 1 over every cell, source) of the code cells that make the module;
    with `script`, also the raw cells jupytext keeps active in the .py only."""
    return [(number, cell.source) for number, cell in enumerate(notebook.cells, start=1)
            if (cell.cell_type == "code" and NOTEBOOK_ONLY_TAG not in cell.metadata.get("tags", []))
            or (script and cell.cell_type == "raw" and "py" in str(cell.metadata.get("active", "")).split(","))]


def cell_filename(notebook: Path, number: int) -> str:
    """The file name a cell's code runs under: tracebacks and `location()` then read 'ex1.ipynb[cell 4]:2'."""
    return f"{notebook}[cell {number}]"


def _load_notebook(root: Path, notebook_path: Path, name: str) -> ModuleType:
    module = ModuleType(name)
    sys.modules[name] = module
    where = notebook_path.name
    try:
        for place in run_cells(notebook_path, module.__dict__):
            where = place
    except NotImplementedError as exc:
        del sys.modules[name]
        raise LoadError("not_started", str(exc), where=where) from None
    except SyntaxError as exc:
        del sys.modules[name]
        raise LoadError("syntax", exc.msg or "", line=exc.lineno, where=where) from None
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        del sys.modules[name]
        inner = _where(exc, root)
        raise LoadError("raised", f"{type(exc).__name__}: {exc}",
                        where=where if inner is None or inner.startswith(where) else f"{where} → {inner}") from None
    return module


def run_cells(notebook_path: Path, namespace: dict[str, Any], *, script: bool = False) -> Iterator[str]:
    """Run the notebook's module cells in `namespace`, yielding each cell's place ('ex1.ipynb[cell 4]')
    before it runs; an exception propagates from the cell that raised it. `script`: also the cells a
    paired .py keeps for itself (jupytext's raw cells with `active` naming py: `if __name__ == ...`)."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        notebook = _read_notebook(notebook_path)
    except nbformat.ValidationError as exc:
        raise ValueError(str(exc)) from None
    shell = NotebookShell(namespace)
    namespace.update(__file__=str(notebook_path), get_ipython=lambda: shell, display=_display)
    transform, compiler = TransformerManager().transform_cell, codeop.Compile()
    # Whole cells, never a console's partial input: a cell that ends early is a SyntaxError.
    compiler.flags &= ~(codeop.PyCF_DONT_IMPLY_DEDENT | codeop.PyCF_ALLOW_INCOMPLETE_INPUT)
    for number, source in module_cells(notebook, script=script):
        yield f"{notebook_path.name}[cell {number}]"
        code = _compile_cell(compiler, transform(source), cell_filename(notebook_path, number))
        exec(code, namespace)


def notebook_script(notebook_path: Path) -> str:
    """The text of a script that does what `python exN_name.py ARGS` does for a paired .py: the
    notebook's module cells and its script-only cells, run as `__main__`."""
    return ("from pathlib import Path\n\nfrom dlgrade.boundary.loader import run_cells\n\n"
            f"for _cell in run_cells(Path({str(notebook_path)!r}), globals(), script=True):\n    pass\n")


def _compile_cell(compiler: codeop.Compile, source: str, filename: str) -> CodeType:
    """Compile one cell as IPython does: a `from __future__` import holds for the cells after it."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    code = compiler(source, filename, "exec")
    assert code is not None  # "exec" mode never asks for more input
    return code


def _display(*objects: object, **_: object) -> None:
    """`display(...)`, which Jupyter provides without an import: printed, as IPython does outside a kernel."""
    for obj in objects:
        print(repr(obj))


class NotebookShell:
    """What `get_ipython()` returns in a notebook loaded for the checks: magics do nothing, shell lines
    do not run (`x = !ls` gives an empty list), and a cell magic whose body is Python runs the body."""

    def __init__(self, namespace: dict[str, Any]):
        self.user_ns = namespace

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        return None

    def system(self, command: str) -> None:
        return None

    def getoutput(self, command: str, split: bool = True, depth: int = 0) -> list[str]:
        return []

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        if name in PYTHON_CELL_MAGICS:
            exec(compile(cell, f"<%%{name}>", "exec"), self.user_ns)
