"""Find and load the code being graded (the "target") by file path.

Checks never import `exercises.` or `solutions.` by name: they ask the `target`
fixture for a module or script by file name, so any folder with the same file
names (a learner's submission) can be graded without installing it.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from dlgrade.core.i18n import tr
from dlgrade.core.project import Project

MODULE_PREFIX = "dlgrade_target"


class TargetError(Exception):
    """The target cannot provide what a check asked for (missing file, import failure)."""

    def __init__(self, message: str, *, not_started: bool = False):
        super().__init__(message)
        self.not_started = not_started


def resolve(spec: str | None) -> Path:
    """'exercises' (default), 'solutions', or a path to a folder with the same file names."""
    if spec in (None, "", "exercises"):
        return Project.locate().exercises
    if spec == "solutions":
        return Project.locate().solutions
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
    # A submission may hold exercises/ one level down (a clone of the whole repo).
    if not any(path.glob("ex*.py")) and (path / "exercises").is_dir():
        path = path / "exercises"
    return path


def _where_in(tb, folder: Path) -> str:
    """'file.py:LINE in func' of the innermost frame inside `folder`, or ''."""
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve().is_relative_to(folder)]
    if not frames:
        return ""
    frame = frames[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"


@dataclass
class Target:
    """A folder of exercise files, loaded on demand and cached per session."""

    root: Path
    _modules: dict[str, ModuleType] = field(default_factory=dict)

    @property
    def label(self) -> str:
        try:
            return str(self.root.relative_to(Project.locate().root))
        except ValueError:
            return str(self.root)

    @property
    def is_reference(self) -> bool:
        return self.root.resolve() == Project.locate().solutions.resolve()

    def path(self, filename: str) -> Path:
        path = self.root / filename
        if not path.is_file():
            raise TargetError(tr("{path} does not exist", path=f"{self.label}/{filename}"), not_started=True)
        return path

    def script(self, filename: str) -> Path:
        """Path of a learner script (run in a subprocess by the check)."""
        return self.path(filename)

    def module(self, filename: str) -> ModuleType:
        """Import `filename` from the target folder under a private module name."""
        if filename in self._modules:
            return self._modules[filename]
        path = self.path(filename)
        name = f"{MODULE_PREFIX}.{self.root.name}.{path.stem}".replace("-", "_")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except NotImplementedError as exc:
            del sys.modules[name]
            raise TargetError(tr("{path} is not started ({error})", path=f"{self.label}/{filename}", error=exc),
                              not_started=True) from exc
        except SyntaxError as exc:
            del sys.modules[name]
            raise TargetError(tr("importing {path} failed: SyntaxError at line {line}: {error}",
                                 path=f"{self.label}/{filename}", line=exc.lineno, error=exc.msg)) from None
        except BaseException as exc:  # noqa: BLE001 - learner code may raise anything, even SystemExit
            del sys.modules[name]
            where = _where_in(exc.__traceback__, self.root)
            raise TargetError(tr("importing {path} failed: {error}", path=f"{self.label}/{filename}",
                                 error=f"{type(exc).__name__}: {exc}") + (f" ({where})" if where else "")) from None
        self._modules[filename] = module
        return module


class SolutionsBlocker(importlib.abc.MetaPathFinder):
    """Refuse `import solutions` while grading anything but the reference."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "solutions" or fullname.startswith("solutions."):
            raise ImportError(tr("importing the reference solutions is not allowed while grading; write your own code"))
        return None
