"""Import a learner's exercise file under a private module name, and say precisely why one fails."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from dlgrade.core.tracebacks import innermost_frame, location

MODULE_PREFIX = "dlgrade_target"


class LoadError(Exception):
    """An exercise file that does not import: kind is 'missing', 'not_started', 'syntax' or 'raised'."""

    def __init__(self, kind: str, detail: str, line: int | None = None, where: str | None = None):
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
        raise LoadError("raised", f"{type(exc).__name__}: {exc}", where=_where(exc, root)) from None
    return module


def _where(exc: BaseException, root: Path) -> str | None:
    frame = innermost_frame(exc.__traceback__, root)
    return location(frame) if frame else None
