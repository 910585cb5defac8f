"""Import a learner's exercise file under a private module name, and say precisely why one fails."""
from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

MODULE_PREFIX = "dlgrade_target"


@dataclass(frozen=True)
class Where:
    """The innermost frame of a traceback inside the learner's folder."""

    file: str
    line: int
    function: str

    def __str__(self) -> str:
        return f"{Path(self.file).name}:{self.line} in {self.function}"


def innermost_in(tb: TracebackType | None, folder: Path) -> Where | None:
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve().is_relative_to(folder.resolve())]
    if not frames:
        return None
    frame = frames[-1]
    return Where(frame.filename, frame.lineno or 0, frame.name)


class LoadError(Exception):
    """An exercise file that does not import: kind is 'missing', 'not_started', 'syntax' or 'raised'."""

    def __init__(self, kind: str, detail: str, line: int | None = None, where: Where | None = None):
        super().__init__(detail)
        self.kind, self.detail, self.line, self.where = kind, detail, line, where


def load_module(root: Path, filename: str) -> ModuleType:
    path = root / filename
    if not path.is_file():
        raise LoadError("missing", filename)
    name = f"{MODULE_PREFIX}.{root.name}.{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
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
        raise LoadError("raised", f"{type(exc).__name__}: {exc}", where=innermost_in(exc.__traceback__, root)) from None
    return module
