"""`dlgrade dev stubs`: the maintainers' command that regenerates exercises/ from solutions/."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlgrade.core import stubs
from dlgrade.core.project import Project


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if exercises/ is stale")
    parser.add_argument("--solutions", type=Path, default=None, help="default: the project's solutions/")
    parser.add_argument("--exercises", type=Path, default=None, help="default: the project's exercises/")
    parser.add_argument("--only", action="append", default=None, metavar="exN",
                        help="regenerate only the files of this exercise (ex2 -> ex2_*.py); repeatable")


def run(args: argparse.Namespace) -> int:
    project = Project.locate()
    solutions = args.solutions or project.solutions
    exercises = args.exercises or project.exercises
    if not solutions.is_dir():
        print(f"{solutions} not found: stubs are generated from the reference solutions, "
              "which a learner release does not ship.", file=sys.stderr)
        return 2
    try:
        if args.check:
            stale = stubs.drifted(solutions, exercises)
            for rel in stale:
                print(f"stale: {exercises / rel} differs from `dlgrade dev stubs` output")
            if stale:
                print("run `dlgrade dev stubs` to regenerate them")
            return 1 if stale else 0
        only = None
        if args.only:
            only = {rel for rel in stubs.expected_exercises(solutions)
                    if any(rel.name.startswith(f"{exercise}_") for exercise in args.only)}
        written = stubs.write_stubs(solutions, exercises, project.backups, only=only)
    except (stubs.StubError, SyntaxError) as exc:
        print(f"cannot generate stubs: {exc}", file=sys.stderr)
        return 2
    for rel in written:
        print(f"wrote {exercises / rel}")
    if written:
        print(f"replaced files were backed up under {project.backups}")
    return 0
