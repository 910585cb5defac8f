"""`dlgrade reset ITEM|EXERCISE`: put the stub back, keeping a backup of your version.

For an exercise (ex3) the whole file goes back to its stub; for an item (ex3.2) only the
functions and classes the item covers (curriculum.toml `functions`). Stubs come from the
one-source generator (solutions/ through `dlgrade stubs`); in a learner release without
solutions/, from the first commit that added the exercise file.
"""
from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import time
from pathlib import Path

from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import stubs
from dlgrade.core.i18n import add_lang_option, set_lang, tr
from dlgrade.core.project import Project


def pristine_stub(filename: str) -> str:
    project = Project.locate()
    solution = project.solutions / filename
    if solution.exists():
        return stubs.generate_stub(solution.read_text(encoding="utf-8"), str(solution))
    rel = f"exercises/{filename}"
    first = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", rel], cwd=project.root,
                           capture_output=True, text=True, check=True).stdout.split()
    if not first:
        raise FileNotFoundError(tr("no stub for {path}: neither solutions/ nor a commit that added it", path=rel))
    return subprocess.run(["git", "show", f"{first[-1]}:{rel}"], cwd=project.root, capture_output=True, text=True,
                          check=True).stdout


def _spans(source: str) -> dict[str, tuple[int, int]]:
    """Top-level function/class name -> (first line incl. decorators, last line), 1-based."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans[node.name] = (start, node.end_lineno)
    return spans


def replace_definitions(learner: str, stub: str, names: list[str]) -> str:
    """`learner` with the top-level definitions `names` taken from `stub`."""
    stub_lines, stub_spans = stub.splitlines(keepends=True), _spans(stub)
    lines, spans = learner.splitlines(keepends=True), _spans(learner)
    for name in sorted((n for n in names if n in spans and n in stub_spans), key=lambda n: -spans[n][0]):
        start, end = spans[name]
        s_start, s_end = stub_spans[name]
        lines[start - 1:end] = stub_lines[s_start - 1:s_end]
    return "".join(lines)


def reset(target: str, exercises: Path | None = None) -> tuple[Path, Path]:
    """Reset an item or an exercise; returns (the exercise file, its backup)."""
    curriculum = curriculum_mod.load()
    section_id = target.split(".")[0]
    section = curriculum.section(section_id)
    exercises = exercises or Project.locate().exercises
    path = exercises / section.file
    stub = pristine_stub(section.file)
    backup = Project.locate().backups / time.strftime("%Y%m%d-%H%M%S") / section.file
    backup.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, backup)
    if target == section_id:
        path.write_text(stub, encoding="utf-8")
    else:
        item = curriculum.item(target)
        path.write_text(replace_definitions(path.read_text(encoding="utf-8"), stub, list(item.functions)),
                        encoding="utf-8")
    return path, backup


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help=tr("an item (ex3.2: its functions) or an exercise (ex3: the whole file)"))
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    set_lang(args.lang)
    try:
        path, backup = reset(args.target)
    except (KeyError, StopIteration, FileNotFoundError, subprocess.CalledProcessError) as exc:
        print(tr("cannot reset {name}: {error}", name=args.target, error=exc))
        return 2
    print(tr("reset {name} in {path}; your version is saved at {backup}", name=args.target, path=path, backup=backup))
    return 0
