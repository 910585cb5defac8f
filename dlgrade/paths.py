"""Where the project's folders are, resolved once per process.

The project root is the repository you stand in, found as pytest and git find theirs: the
nearest parent of the current directory that holds curriculum.toml. A lab that shares one
environment between several learners' clones thus grades each learner's own files, whichever
clone the environment was installed from. Outside any project the root is the folder the
package was installed from.

DLGRADE_ROOT overrides both: `dlgrade grade` runs each submission against a fresh temporary
copy of checks/ and fixtures/, so a submission that deletes or edits files there cannot touch
the real ones or another submission's.
"""
import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
MARKER = "curriculum.toml"


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds curriculum.toml."""
    for folder in (start, *start.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


def project_root() -> Path:
    if os.environ.get("DLGRADE_ROOT"):
        return Path(os.environ["DLGRADE_ROOT"]).resolve()
    try:
        here = Path.cwd().resolve()
    except FileNotFoundError:  # the current directory was deleted under us
        return PACKAGE_ROOT
    return find_root(here) or PACKAGE_ROOT


REPO_ROOT = project_root()
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"
CHECKS_DIR = REPO_ROOT / "checks"
FIXTURES_DIR = REPO_ROOT / "fixtures"
SNAPSHOTS_DIR = FIXTURES_DIR / "snapshots"
