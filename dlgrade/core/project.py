"""The project a command works on: its root folder and the folders in it.

The root is found as pytest and git find theirs: the nearest parent of the current directory
that holds curriculum.toml. A lab that shares one environment between several learners' clones
thus grades each learner's own files, whichever clone the environment was installed from.

DLGRADE_ROOT overrides the search: `dlgrade grade` runs each submission against a fresh copy of
checks/ and fixtures/, so a submission that deletes or edits files there cannot touch the real
ones or another submission's.

Nothing is resolved at import: each entry point (a command, the pytest plugin, a check module)
calls `Project.locate()` when it starts, so a process that changes directory or DLGRADE_ROOT
(the self-tests, a warm pytest server) sees the project it is in now.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MARKER = "curriculum.toml"
# The installed dlgrade package itself (what a sandbox binds so that the checks can import it).
PACKAGE_DIR = Path(__file__).resolve().parent.parent


class ProjectNotFound(LookupError):
    """No folder at or above the current one holds curriculum.toml, and DLGRADE_ROOT is unset."""


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds curriculum.toml."""
    for folder in (start, *start.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def locate(cls) -> Project:
        """DLGRADE_ROOT, else the nearest parent of the current directory with curriculum.toml.

        Outside any project (a check run from elsewhere, an installed package used from /tmp) the
        checkout the package lives in, when it is one; else ProjectNotFound.
        """
        if os.environ.get("DLGRADE_ROOT"):
            return cls(Path(os.environ["DLGRADE_ROOT"]).resolve())
        try:
            here = Path.cwd().resolve()
        except FileNotFoundError:  # the current directory was deleted under us
            here = None
        root = (find_root(here) if here else None) or find_root(PACKAGE_DIR.parent)
        if root is None:
            raise ProjectNotFound(f"no {MARKER} in {here} or any folder above it; "
                                  "run dlgrade inside the course repository or set DLGRADE_ROOT")
        return cls(root)

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def checks(self) -> Path:
        return self.root / "checks"

    @property
    def fixtures(self) -> Path:
        return self.root / "fixtures"

    @property
    def state(self) -> Path:
        """The learner's recorded results, backups and settings (.dlgrade/, never committed)."""
        return self.root / ".dlgrade"

    @property
    def curriculum_file(self) -> Path:
        return self.root / MARKER

    @property
    def last_results(self) -> Path:
        """The results of every check's latest run on exercises/ (Gradescope schema)."""
        return self.state / "last-results.json"

    @property
    def progress_file(self) -> Path:
        """The learner's self-assessed ticks (committed, so CI's report reads them)."""
        return self.root / "progress.toml"

    @property
    def backups(self) -> Path:
        """Where `reset` and `stubs` put the exercise files they replace."""
        return self.state / "backup"
