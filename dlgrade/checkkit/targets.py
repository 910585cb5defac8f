"""Find and load the code being graded (the "target") by file path.

Checks never import `exercises.` or `solutions.` by name: they ask the `target`
fixture for a module (imported in the learner process, dlgrade/boundary) or a script
by file name, so any folder with the same file names (a learner's submission) can be
graded without installing it.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dlgrade.boundary.loader import SLOW_IMPORTS, LoadError, graded_file, notebook_script, slow_imports
from dlgrade.boundary.proxy import LearnerModule, LearnerProcess
from dlgrade.core.i18n import tr
from dlgrade.core.project import Project


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
    if not any(path.glob("ex*.py")) and not any(path.glob("ex*.ipynb")) and (path / "exercises").is_dir():
        path = path / "exercises"
    return path


@dataclass
class Target:
    """A folder of exercise files, loaded on demand and cached per session."""

    root: Path
    _learner: LearnerProcess | None = None
    _scripts: Path | None = None

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
        """The file to run as `python FILE`: for an exercise done as a notebook, a script that runs it."""
        path = graded_file(self.root, filename)
        if path is None:
            raise TargetError(tr("{path} does not exist", path=f"{self.label}/{filename}"), not_started=True)
        if path.suffix == Path(filename).suffix:
            return path
        if self._scripts is None:
            self._scripts = Path(tempfile.mkdtemp(prefix="dlgrade-notebook-scripts-"))
            atexit.register(shutil.rmtree, self._scripts, True)
        script = self._scripts / filename
        script.write_text(notebook_script(path), encoding="utf-8")
        return script

    def _process(self) -> LearnerProcess:
        if self._learner is None:
            self._learner = LearnerProcess(self.root, on_load_error=self.load_failure)
            atexit.register(self._learner.stop)
        return self._learner

    def learner_module(self, filename: str) -> LearnerModule:
        """`filename` imported in the learner process (dlgrade/boundary), never in this one."""
        return self._process().module(filename)

    def start_learner_process(self, filenames: list[str], check_files: list[Path]) -> None:
        """Start the learner process now, importing the slow libraries these exercise files name and
        those the check files name (their recipes build with them there) while this process collects
        the checks. Read as text: nothing of them runs here."""
        graded = [graded_file(self.root, name) for name in filenames]
        preload = {name for path in [*graded, *check_files] if path is not None for name in slow_imports(path)}
        process = self._process()
        if not process.alive:
            process.start(sorted(preload, key=SLOW_IMPORTS.index))

    def recipe(self, name: str, *args: object, **kwargs: object) -> object:
        """An observation made in the learner process by a grader-owned recipe (dlgrade/boundary/recipes/)."""
        if self._learner is None:
            raise TargetError(tr("no learner module is loaded yet"))
        return self._learner.recipe(name, *args, **kwargs)

    @contextmanager
    def learner_environ(self, values: dict[str, str | None]) -> Iterator[None]:
        """Environment variables set (a value) or unset (None) in the learner process, which has its own
        environment, for the block; then put back as they were."""
        previous = self.recipe("environ", values)
        try:
            yield
        finally:
            self.recipe("environ", previous)

    def load_failure(self, filename: str, exc: LoadError) -> TargetError:
        """The check-side error for an exercise file that does not import (here or in the learner process)."""
        graded = graded_file(self.root, filename)
        where = f"{self.label}/{graded.name if graded else filename}"
        if exc.kind == "missing":
            return TargetError(tr("{path} does not exist", path=where), not_started=True)
        if exc.kind == "not_started":
            return TargetError(tr("{path} is not started ({error})", path=where, error=exc.detail), not_started=True)
        if exc.kind == "syntax":
            return TargetError(tr("importing {path} failed: SyntaxError at line {line}: {error}",
                                  path=where, line=exc.line, error=exc.detail)
                               + (f" ({exc.where})" if exc.where else ""))
        return TargetError(tr("importing {path} failed: {error}", path=where, error=exc.detail)
                           + (f" ({exc.where})" if exc.where else ""))
