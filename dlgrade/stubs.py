"""`dlgrade stubs`: regenerate exercises/ from the solution regions of solutions/.

Every `# BEGIN SOLUTION` ... `# END SOLUTION` region of a solution file becomes one
`raise NotImplementedError(...)` at the region's indentation; everything else, the
docstrings above all, is kept, so the stub's docstring is the learner's task statement.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from dlgrade.paths import EXERCISES_DIR, REPO_ROOT, SOLUTIONS_DIR

BEGIN_MARKER = "# BEGIN SOLUTION"
END_MARKER = "# END SOLUTION"
STUB_LINE = 'raise NotImplementedError("TODO: your code here / 在这里写你的代码")'
BACKUP_DIR = REPO_ROOT / ".dlgrade" / "backup"


class StubError(ValueError):
    """A solution file whose markers do not pair up."""


def generate_stub(source: str, name: str = "<source>") -> str:
    """Return `source` with every solution region replaced by a NotImplementedError."""
    out: list[str] = []
    region_start: int | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN_MARKER):
            if region_start is not None:
                raise StubError(f"{name}:{number}: BEGIN SOLUTION inside the region opened at line {region_start}")
            region_start = number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{STUB_LINE}\n")
        elif stripped.startswith(END_MARKER):
            if region_start is None:
                raise StubError(f"{name}:{number}: END SOLUTION without a BEGIN SOLUTION")
            region_start = None
        elif region_start is None:
            out.append(line)
    if region_start is not None:
        raise StubError(f"{name}:{region_start}: BEGIN SOLUTION is never closed")
    stub = "".join(out)
    compile(stub, name, "exec")
    return stub


def solution_files(solutions: Path = SOLUTIONS_DIR) -> list[Path]:
    return sorted(p for p in solutions.rglob("*.py") if "__pycache__" not in p.parts)


def expected_exercises(solutions: Path = SOLUTIONS_DIR) -> dict[Path, str]:
    """Relative path -> the text `dlgrade stubs` writes for it."""
    return {
        path.relative_to(solutions): generate_stub(path.read_text(encoding="utf-8"), str(path))
        for path in solution_files(solutions)
    }


def drifted(solutions: Path = SOLUTIONS_DIR, exercises: Path = EXERCISES_DIR) -> list[Path]:
    """Exercise files that differ from (or are missing against) the generated stubs."""
    stale = []
    for rel, text in expected_exercises(solutions).items():
        target = exercises / rel
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(rel)
    return stale


def write_stubs(solutions: Path = SOLUTIONS_DIR, exercises: Path = EXERCISES_DIR,
                only: set[Path] | None = None) -> list[Path]:
    """Write the generated stubs; an exercise file being replaced is backed up first."""
    written = []
    backup = BACKUP_DIR / time.strftime("%Y%m%d-%H%M%S")
    for rel, text in expected_exercises(solutions).items():
        if only is not None and rel not in only:
            continue
        target = exercises / rel
        if target.exists():
            if target.read_text(encoding="utf-8") == text:
                continue
            (backup / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, backup / rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(rel)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if exercises/ is stale")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR)
    parser.add_argument("--exercises", type=Path, default=EXERCISES_DIR)
    parser.add_argument("--only", action="append", default=None, metavar="exN",
                        help="regenerate only the files of this exercise (ex2 -> ex2_*.py); repeatable")


def run(args: argparse.Namespace) -> int:
    if not args.solutions.is_dir():
        print(f"{args.solutions} not found: stubs are generated from the reference solutions, "
              "which a learner release does not ship.", file=sys.stderr)
        return 2
    try:
        if args.check:
            stale = drifted(args.solutions, args.exercises)
            for rel in stale:
                print(f"stale: {args.exercises / rel} differs from `dlgrade stubs` output")
            if stale:
                print("run `dlgrade stubs` to regenerate them")
            return 1 if stale else 0
        only = None
        if args.only:
            only = {rel for rel in expected_exercises(args.solutions)
                    if any(rel.name.startswith(f"{exercise}_") for exercise in args.only)}
        written = write_stubs(args.solutions, args.exercises, only=only)
    except (StubError, SyntaxError) as exc:
        print(f"cannot generate stubs: {exc}", file=sys.stderr)
        return 2
    for rel in written:
        print(f"wrote {args.exercises / rel}")
    if written and (BACKUP_DIR).exists():
        print(f"replaced files were backed up under {BACKUP_DIR}")
    return 0
