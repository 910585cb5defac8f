"""Where the project's folders are, resolved once.

DLGRADE_ROOT overrides the repository root: `dlgrade grade` runs each submission against a
fresh temporary copy of checks/ and fixtures/, so a submission that deletes or edits files
there cannot touch the real ones or another submission's.
"""
import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = Path(os.environ["DLGRADE_ROOT"]).resolve() if os.environ.get("DLGRADE_ROOT") else PACKAGE_ROOT
SOLUTIONS_DIR = REPO_ROOT / "solutions"
EXERCISES_DIR = REPO_ROOT / "exercises"
CHECKS_DIR = REPO_ROOT / "checks"
FIXTURES_DIR = REPO_ROOT / "fixtures"
SNAPSHOTS_DIR = FIXTURES_DIR / "snapshots"
