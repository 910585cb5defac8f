"""Stubs: exercises/ made from the solution regions of solutions/ (`dlgrade dev stubs`, `reset`, the release).

Every `# BEGIN SOLUTION` ... `# END SOLUTION` region of a solution file becomes one
`raise NotImplementedError(...)` at the region's indentation; everything else, the
docstrings above all, is kept, so the stub's docstring is the learner's task statement.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

BEGIN_MARKER = "# BEGIN SOLUTION"
END_MARKER = "# END SOLUTION"
STUB_LINE = 'raise NotImplementedError("TODO: your code here / 在这里写你的代码")'


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


def solution_files(solutions: Path) -> list[Path]:
    return sorted(p for p in solutions.rglob("*.py") if "__pycache__" not in p.parts)


def expected_exercises(solutions: Path) -> dict[Path, str]:
    """Relative path -> the text `dlgrade stubs` writes for it."""
    return {
        path.relative_to(solutions): generate_stub(path.read_text(encoding="utf-8"), str(path))
        for path in solution_files(solutions)
    }


def drifted(solutions: Path, exercises: Path) -> list[Path]:
    """Exercise files that differ from (or are missing against) the generated stubs."""
    stale = []
    for rel, text in expected_exercises(solutions).items():
        target = exercises / rel
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(rel)
    return stale


def write_stubs(solutions: Path, exercises: Path, backups: Path, only: set[Path] | None = None) -> list[Path]:
    """Write the generated stubs; an exercise file being replaced is backed up under `backups` first."""
    written = []
    backup = backups / time.strftime("%Y%m%d-%H%M%S")
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
