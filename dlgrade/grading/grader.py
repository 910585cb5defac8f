"""`dlgrade grade SUBMISSION...`: grade a class's submissions, each run in a sandbox, the grader owning the truth.

The command line: options, the sandbox probe, then dlgrade/grading/class_grader.py grades the
class (its docstring says how) under the rules of dlgrade/grading/policy.py, each pytest run a
watched run (dlgrade/grading/watched_run.py) in a bubblewrap sandbox (dlgrade/grading/sandbox.py).

Outputs in --out: <name>/results.json (Gradescope), <name>/junit.xml (both from the results the
grader accepted), <name>/log.txt (capped), gradebook.csv (dlgrade/grading/gradebook.py) and the
ledger --resume trusts.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from dlgrade.core.i18n import add_lang_option, set_lang
from dlgrade.core.project import Project
from dlgrade.grading import sandbox as isolation
from dlgrade.grading.class_grader import Settings, grade_class


def relative_check_path(spec: str) -> str:
    """A --checks entry (path or node ID under checks/) as a path relative to the repository."""
    root = Project.locate().root
    path, sep, rest = spec.partition("::")
    resolved = (root / path).resolve()
    if not resolved.is_relative_to((root / "checks").resolve()) or not resolved.exists():
        raise ValueError(f"--checks {spec!r}: not a check file or folder under {root / 'checks'}")
    return str(resolved.relative_to(root.resolve())) + sep + rest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", nargs="+", type=Path, help="submission folders or .zip files")
    parser.add_argument("--out", type=Path, default=Path("grades"), help="where results and the gradebook go")
    parser.add_argument("--checks", nargs="*", default=["checks"],
                        help="check files, folders or node IDs under checks/ (default: all)")
    parser.add_argument("--hidden", type=Path, default=None, help="instructor-only check files (visibility hidden)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--time-limit", type=float, default=1800, help="wall-clock seconds per submission")
    parser.add_argument("--check-time-cap", type=float, default=None,
                        help="lower every check's own time limit to at most this many seconds")
    parser.add_argument("--memory-limit", type=float, default=6.0,
                        help="GiB of memory per submission (a cgroup; per process where none can be made)")
    parser.add_argument("--cpus", type=float, default=1.0, help="CPUs per submission (a cgroup quota)")
    parser.add_argument("--resume", action="store_true", help="skip submissions already graded in --out")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without bubblewrap (NOT safe for untrusted code; the gradebook says so)")
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False)
    if args.no_sandbox:
        how = "NOT sandboxed (--no-sandbox): " + isolation.network_namespace()[1]
    else:
        ok, how = isolation.sandbox_available()
        if not ok:
            console.print(f"dlgrade grade: refusing to grade without a sandbox: {escape(how)}.\n"
                          "Fix that, or pass --no-sandbox to grade unsandboxed (the gradebook will say so).")
            return 2
    try:
        lang = set_lang(args.lang)
        settings = Settings(out=args.out.resolve(), checks=[relative_check_path(c) for c in args.checks],
                            hidden=args.hidden.resolve() if args.hidden else None,
                            time_limit_s=args.time_limit, sandbox=not args.no_sandbox,
                            limits=isolation.Limits(memory_bytes=int(args.memory_limit * isolation.GiB),
                                                    cpu_seconds=int(args.time_limit) + 60, cpus=args.cpus),
                            time_cap=args.check_time_cap, lang=lang)
        if settings.hidden is not None and not settings.hidden.is_dir():
            raise ValueError(f"--hidden {args.hidden}: not a folder")
    except ValueError as exc:
        console.print(f"dlgrade grade: {escape(str(exc))}")
        return 2
    console.print(escape(how))
    settings.out.mkdir(parents=True, exist_ok=True)
    return grade_class(list(args.submissions), settings, args.jobs, args.resume, console)
