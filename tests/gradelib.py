"""Helpers for the harness tests: run the curriculum checks in a subprocess and read the results.

Every run is a separate `python -m pytest` process so that a crash in one (a mutant that
segfaults, a check that hangs) cannot take the harness tests down with it.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from warm_pytest import WarmPytest

from dlgrade.core.project import Project

REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions

TESTS_DIR = Path(__file__).resolve().parent
MUTANTS_DIR = TESTS_DIR / "mutants"
VARIANTS_DIR = TESTS_DIR / "variants"
RUN_TIMEOUT_S = 900
# Runs of the checks fork a server that has imported torch and the rest once (tests/warm_pytest.py).
WARM_PYTEST = WarmPytest()
# The author's checklist, and the verbatim copy the repository carries so that the coverage
# tests also run where ../shared is absent (CI's clean clone).
AUTHOR_CHECKLIST = REPO_ROOT.parent / "shared" / "curriculum.md"
CHECKLIST = REPO_ROOT / "docs" / "curriculum.md"


@dataclass
class Run:
    returncode: int
    output: str
    results: dict

    def by_nodeid(self) -> dict[str, dict]:
        return {t["extra_data"]["nodeid"]: t for t in self.results.get("tests", [])}

    def statuses(self) -> dict[str, str]:
        return {nodeid: t["extra_data"]["dlgrade_status"] for nodeid, t in self.by_nodeid().items()}


def run_checks(json_path: Path, *args: str, target: str | Path | None = None, timeout: float = RUN_TIMEOUT_S,
               extra_env: dict | None = None, cwd: Path = REPO_ROOT) -> Run:
    pytest_args = ["-p", "no:cacheprovider", "--no-header", "-q", "--dlgrade-json", str(json_path), *args]
    if target is not None:
        pytest_args += ["--target", str(target)]
    env = {**os.environ, "DLGRADE_LANG": "en", **(extra_env or {})}
    returncode, output = WARM_PYTEST.run(pytest_args, cwd=cwd, env=env, timeout=timeout)
    results = json.loads(json_path.read_text()) if json_path.exists() else {}
    return Run(returncode, output, results)


def collect_manifest(json_path: Path) -> list[dict]:
    subprocess.run([sys.executable, "-m", "pytest", "checks", "--collect-only", "-q", "-p", "no:cacheprovider",
                    "--dlgrade-manifest", str(json_path)], cwd=REPO_ROOT, capture_output=True, check=True,
                   timeout=300)
    return json.loads(json_path.read_text())["checks"]


@dataclass
class Patch:
    """A mutant (must be caught) or a variant (must pass) of one solution file.

    Either functions that replace the solution's (the patch file's code is appended to the
    solution, and later definitions win), or, when the file sets REPLACE = [(old, new), ...],
    text edits of the solution, each `old` occurring exactly once: the way to plant a
    one-line bug inside a long function without copying the function. A mutant may set
    SAYS = ["...", ...]: words the failing check's message must contain (a message class).
    """

    path: Path
    target_file: str
    checks: list[str]
    doc: str
    replacements: list[tuple[str, str]] | None = None
    says: list[str] | None = None

    @property
    def name(self) -> str:
        return self.path.stem


def read_patch(path: Path, list_name: str) -> Patch:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("TARGET", "REPLACE", "SAYS", list_name):
                values[node.targets[0].id] = ast.literal_eval(node.value)
    return Patch(path, values["TARGET"], values[list_name], ast.get_docstring(tree) or "", values.get("REPLACE"),
                 values.get("SAYS"))


def patches(folder: Path, list_name: str) -> list[Patch]:
    return [read_patch(p, list_name) for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")]


def patched_solutions(patch: Patch, into: Path) -> Path:
    """A copy of solutions/ whose target file ends with the patch's definitions (later defs win)."""
    folder = into / "submission"
    shutil.copytree(SOLUTIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = folder / patch.target_file
    text = target.read_text(encoding="utf-8")
    if patch.replacements is not None:
        for old, new in patch.replacements:
            count = text.count(old)
            if count != 1:
                raise ValueError(f"{patch.name}: {old!r} occurs {count} times in {patch.target_file}, not once")
            text = text.replace(old, new)
    else:
        text += "\n\n# ---- patched by the harness tests ----\n" + patch.path.read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    return folder
