"""`dlgrade autograder OUT.zip`: a Gradescope autograder bundle.

The zip's root holds what Gradescope asks for (its autograder specification):
- setup.sh          run once on Gradescope's Ubuntu base image: Python 3.11, bubblewrap, the CPU
                    build of torch, then the project's own setup.sh (the environment pinned by
                    constraints.txt);
- run_autograder    run per submission: grades /autograder/submission through `dlgrade grade`
                    (dlgrade/grading/gradescope_run.py) and writes /autograder/results/results.json,
                    in the language the bundle was built for (--lang; default: the project's language);
- project/          the grader's files, as the learner release ships them (the stubs, no
                    solutions/, no tests/, no builders that read the reference), plus
                    hidden_checks/ (--hidden) and autograder.json (what run_autograder grades with).

DLGRADE_AUTOGRADER_ROOT moves /autograder elsewhere, DLGRADE_AUTOGRADER_PYTHON picks the
interpreter: that is how tests/test_autograder.py runs a bundle.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from dlgrade.core.i18n import add_lang_option, detect_lang
from dlgrade.core.project import Project
from dlgrade.shipping.release import TEMPLATES, ReleaseError, copy_project_files, write_exercise_stubs

# Gradescope's default autograder timeout is 10 minutes: stop grading before it, so that the
# checks not run yet are failed with the reason instead of the whole run vanishing.
DEFAULT_TIME_LIMIT_S = 540
EXECUTABLE = 0o755


def _zip_folder(folder: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(folder).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    archive.writestr(info, f.read())


def build_bundle(out: Path, root: Path, *, checks: list[str], hidden: Path | None,
                 time_limit_s: float, lang: str, allow_unsandboxed: bool = False) -> list[Path]:
    """Write the bundle to `out`; returns the maintainers' builders that were left out."""
    for spec in checks:
        if not (root / spec.split("::")[0]).exists():
            raise ReleaseError(f"--checks {spec}: no such check file or folder under {root}")
    if hidden is not None and not hidden.is_dir():
        raise ReleaseError(f"--hidden {hidden}: not a folder")
    with tempfile.TemporaryDirectory(prefix="dlgrade-autograder-") as tmp:
        bundle = Path(tmp)
        project = bundle / "project"
        project.mkdir()
        left_out = copy_project_files(root, project, for_instructor=True)
        write_exercise_stubs(root, project)
        config = {"checks": checks, "hidden": None, "time_limit_s": time_limit_s, "lang": lang,
                  "allow_unsandboxed": allow_unsandboxed}
        if hidden is not None:
            shutil.copytree(hidden, project / "hidden_checks", ignore=shutil.ignore_patterns("__pycache__"))
            config["hidden"] = "hidden_checks"
        (project / "autograder.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        for name in ("setup.sh", "run_autograder"):
            shutil.copy2(TEMPLATES / "autograder" / name, bundle / name)
            (bundle / name).chmod(EXECUTABLE)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        _zip_folder(bundle, partial)
        partial.replace(out)
    return left_out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="the bundle to write, e.g. autograder.zip")
    parser.add_argument("--checks", nargs="+", default=["checks"],
                        help="check files or folders to grade (default: all); e.g. checks/test_ex3.py for an "
                             "assignment of exercise 3 alone")
    parser.add_argument("--hidden", type=Path, default=None,
                        help="instructor-only check files: graded with visibility hidden, never in the release")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S,
                        help="wall-clock seconds per submission (keep it under the assignment's Gradescope timeout)")
    parser.add_argument("--allow-unsandboxed", action="store_true",
                        help="where the image cannot start a bubblewrap sandbox (probed once per submission, before "
                             "its code runs), grade without it instead of failing the submission (NOT safe for "
                             "untrusted code)")
    add_lang_option(parser.add_argument)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix != ".zip":
        print(f"dlgrade autograder: {args.out} should end in .zip (Gradescope takes a zip)", file=sys.stderr)
        return 2
    try:
        left_out = build_bundle(args.out, Project.locate().root, checks=args.checks, hidden=args.hidden,
                                time_limit_s=args.time_limit, lang=detect_lang(args.lang),
                                allow_unsandboxed=args.allow_unsandboxed)
    except (ReleaseError, OSError) as exc:
        print(f"dlgrade autograder: {exc}", file=sys.stderr)
        return 2
    for rel in left_out:
        print(f"left out (reads solutions/): {rel}")
    print(f"wrote {args.out}: upload it as the assignment's autograder (Gradescope: Configure Autograder, "
          f"Ubuntu base image); grading stops after {args.time_limit:g} s, set the assignment's timeout above that")
    return 0
