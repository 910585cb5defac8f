"""`dlgrade release OUT`: the learner's repository, made from this one, without the answers.

This repository is the maintainers' (solutions/, tests/, builders); a learner clones the
release. What goes in is an allow-list, so a file added here later stays out until someone
decides learners need it:

- exercises/  the stubs, generated from solutions/ here (never a copy of a possibly edited exercises/)
- checks/, fixtures/, dlgrade/  what the checks run on, as git tracks them (ignored files stay out)
- curriculum.toml, conftest.py, pyproject.toml (pytest runs checks/), constraints.txt, setup.sh
- README.md for learners (Chinese, then English), docs/curriculum.md with every box cleared,
  docs/ci/ and .github/workflows/grade.yml (a GitHub Classroom / template repository grades
  every push), .gitignore, and progress.toml, which learners commit: CI's report reads it.

Left out even inside those folders: maintainers' builders that read the reference (a Python
file of checks/ or fixtures/, other than a check module, that names `solutions`, such as
fixtures/cassettes/ex3/make_cassettes.py). torch.export programs (.pt2) lose the stack traces
torch keeps per node: they quote the source lines of the model that was traced, the reference's.

Last, every file of the release is searched for the lines of every solution region
(`region_leaks`); a file that holds most of a region stops the release unless accepted by name.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core import stubs
from dlgrade.core.project import Project

TEMPLATES = Path(__file__).resolve().parent / "templates"
SHIPPED_FOLDERS = ("checks", "fixtures", "dlgrade")
SHIPPED_FILES = ("curriculum.toml", "conftest.py", "pyproject.toml", "constraints.txt", "setup.sh")
CI_TEMPLATE = Path("docs/ci/github-grade.yml")
CHECKLIST = Path("docs/curriculum.md")
# A region line shorter than this is an idiom (`return out`, `model.eval()`), not an answer.
MIN_LINE_CHARS = 20


class ReleaseError(Exception):
    """The release cannot be made (no solutions/ to make stubs from, OUT in use or inside the repository)."""


# ---------------------------------------------------------------- what is shipped


def project_files(root: Path, folder: str) -> list[Path]:
    """Files of `folder` (relative paths), as git sees them when `root` is a checkout: tracked
    or new, never ignored; otherwise every file. Caches never ship."""
    if (root / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", folder],
                                cwd=root, capture_output=True, check=True).stdout.decode().split("\0")
        paths = sorted({Path(p) for p in listed if p})
    else:
        paths = sorted(p.relative_to(root) for p in (root / folder).rglob("*"))
    return [p for p in paths if (root / p).is_file() and not (root / p).is_symlink()
            and "__pycache__" not in p.parts and p.suffix != ".pyc"]


def is_maintainer_builder(path: Path, text: bytes) -> bool:
    """A script of checks/ or fixtures/ that reads the reference: it cannot run in a release."""
    is_check_module = path.parts[0] == "checks" and (path.name.startswith("test_") or path.name == "conftest.py")
    return path.suffix == ".py" and path.parts[0] in ("checks", "fixtures") and not is_check_module \
        and b"solutions" in text


def without_stack_traces(program: bytes) -> bytes:
    """A torch.export archive whose graph keeps no stack traces (they quote the traced source).

    The program loads and computes as before: torch reads `stack_trace` as optional metadata
    (checked with torch 2.14.1 on fixtures/ex1/reference_resnet.pt2: equal outputs).
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(program)) as archive, zipfile.ZipFile(out, "w") as scrubbed:
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename.endswith(".json"):
                data = json.dumps(_drop_stack_traces(json.loads(data))).encode()
            scrubbed.writestr(info, data)
    return out.getvalue()


def _drop_stack_traces(node):
    if isinstance(node, dict):
        return {k: (None if k == "stack_trace" else _drop_stack_traces(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_drop_stack_traces(v) for v in node]
    return node


def copy_project_files(root: Path, out: Path, folders=SHIPPED_FOLDERS, files=SHIPPED_FILES) -> list[Path]:
    """Copy what the checks need into `out`; returns what was left out (maintainers' builders)."""
    left_out = []
    for folder in folders:
        for rel in project_files(root, folder):
            data = (root / rel).read_bytes()
            if is_maintainer_builder(rel, data):
                left_out.append(rel)
                continue
            if rel.suffix == ".pt2":
                data = without_stack_traces(data)
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)
            shutil.copymode(root / rel, out / rel)
    for name in files:
        shutil.copy2(root / name, out / name)
    return left_out


def learner_pyproject(text: str) -> str:
    """pytest at the release's root runs the curriculum checks (there is no tests/)."""
    return re.sub(r"(?m)^testpaths = .*$", 'testpaths = ["checks"]', text)


def cleared_checklist(text: str) -> str:
    """The author's checklist with every box unticked: the ticks are the learner's to make."""
    text = re.sub(r"(?m)^(\s*[-*+] )\[[xX]\]", r"\1[ ]", text)
    return text.replace("Items marked [x] were already done by the author.",
                        "Tick the boxes as you go; `dlgrade report --update docs/curriculum.md` ticks every code item "
                        "whose checks pass.")


def write_exercise_stubs(root: Path, out: Path) -> None:
    """exercises/ as `dlgrade stubs` makes it from root's solutions/ (the grader learns the file names there)."""
    if not (root / "solutions").is_dir():
        raise ReleaseError(f"{root / 'solutions'} not found: this is made from the maintainers' repository")
    for rel, text in stubs.expected_exercises(root / "solutions").items():
        (out / "exercises" / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / "exercises" / rel).write_text(text, encoding="utf-8")


def write_learner_files(root: Path, out: Path) -> None:
    from dlgrade.core import curriculum as curriculum_mod
    from dlgrade.learner import report

    write_exercise_stubs(root, out)
    (out / "pyproject.toml").write_text(learner_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")),
                                        encoding="utf-8")
    (out / "docs").mkdir(exist_ok=True)
    (out / CHECKLIST).write_text(cleared_checklist((root / CHECKLIST).read_text(encoding="utf-8")), encoding="utf-8")
    shutil.copytree(root / "docs" / "ci", out / "docs" / "ci")
    (out / ".github" / "workflows").mkdir(parents=True)
    shutil.copy2(root / CI_TEMPLATE, out / ".github" / "workflows" / "grade.yml")
    shutil.copy2(TEMPLATES / "release" / "README.md", out / "README.md")
    shutil.copy2(TEMPLATES / "release" / "gitignore", out / ".gitignore")
    report.ensure_progress_file(curriculum_mod.load(root / "curriculum.toml"), out / "progress.toml")


# ---------------------------------------------------------------- leaks of the answers


@dataclass(frozen=True)
class Region:
    """One `# BEGIN SOLUTION` ... `# END SOLUTION` region of a solution file."""

    file: str
    line: int
    function: str
    lines: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.file}:{self.function}"


def solution_regions(solutions: Path) -> list[Region]:
    """Every region, its lines stripped; lines that also occur outside regions, comments and
    short idioms are dropped (they would be found everywhere and tell nothing)."""
    found, outside = [], set()
    for path in stubs.solution_files(solutions):
        function, body, start = "<module>", None, 0
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith(stubs.BEGIN_MARKER):
                body, start = [], number
            elif stripped.startswith(stubs.END_MARKER):
                found.append((path.relative_to(solutions).as_posix(), start, function, body))
                body = None
            elif body is not None:
                body.append(stripped)
            else:
                outside.add(stripped)
                match = re.match(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)", line)
                if match:
                    function = match.group(1)
    return [Region(file, start, function, tuple(line for line in body if len(line) >= MIN_LINE_CHARS
                                                 and not line.startswith("#") and line not in outside))
            for file, start, function, body in found]


def _searchable(path: Path) -> list[bytes]:
    """The file's bytes, and those of its members when it is a zip (torch checkpoints, .pt2)."""
    data = path.read_bytes()
    blobs = [data]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            blobs += [archive.read(info) for info in archive.infolist() if not info.is_dir()]
    return blobs


def region_leaks(folder: Path, regions: list[Region]) -> list[tuple[Region, Path, int]]:
    """(region, file, lines found) for every file of `folder` holding more than half of a
    region's lines (at least two): the region's body, not an idiom it shares with other code."""
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        blobs = _searchable(path)
        for region in regions:
            found = sum(any(line.encode() in blob for blob in blobs) for line in region.lines)
            if found >= 2 and found * 2 > len(region.lines):
                leaks.append((region, path.relative_to(folder), found))
    return leaks


# ---------------------------------------------------------------- the command


def git_commit_all(folder: Path, message: str) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=dlgrade release", "-c", "user.email=dlgrade@localhost",
                        "-c", "commit.gpgsign=false", *args], cwd=folder, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", message)


def make_release(out: Path, root: Path, *, git: bool = False, accept: frozenset[str] = frozenset()) -> dict:
    """Write the release into `out` (new or empty).

    A file of the release that holds a solution region's body stops the release (nothing is
    written), unless its path is in `accept`: then it ships and the leak is returned.
    """
    out = out.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} exists and is not an empty folder; nothing was written")
    if out.is_relative_to(root.resolve()):
        raise ReleaseError(f"{out} is inside {root}: write the release outside the repository")
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside OUT and moved in at the end: a failure leaves no half-written release.
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-", dir=out.parent) as tmp:
        build = Path(tmp) / "release"
        build.mkdir()
        left_out = copy_project_files(root, build)
        write_learner_files(root, build)
        leaks = region_leaks(build, solution_regions(root / "solutions"))
        outcome = {"left_out": left_out, "leaks": leaks,
                   "written": all(path.as_posix() in accept for _, path, _ in leaks)}
        if not outcome["written"]:
            return outcome
        if git:
            git_commit_all(build, "Learner release of the dlgrade curriculum")
        if out.exists():
            out.rmdir()
        shutil.move(str(build), str(out))
    return outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="a new (or empty) folder outside this repository")
    parser.add_argument("--git", action="store_true", help="make OUT a git repository with one commit")
    parser.add_argument("--accept-leak", action="append", default=[], metavar="PATH",
                        help="ship this file (relative to the release) even though it holds a solution region's body")


def run(args: argparse.Namespace) -> int:
    try:
        outcome = make_release(args.out, Project.locate().root, git=args.git, accept=frozenset(Path(p).as_posix() for p in args.accept_leak))
    except (ReleaseError, stubs.StubError, SyntaxError, OSError, subprocess.CalledProcessError) as exc:
        print(f"dlgrade release: {exc}", file=sys.stderr)
        return 2
    for rel in outcome["left_out"]:
        print(f"left out (reads solutions/): {rel}")
    for region, path, found in outcome["leaks"]:
        accepted = " (accepted: --accept-leak)" if outcome["written"] else ""
        print(f"{path} holds {found} of the {len(region.lines)} lines of the solution region "
              f"{region.file}:{region.line} ({region.function}){accepted}", file=sys.stderr)
    if not outcome["written"]:
        print("dlgrade release: the answers would ship; nothing was written. Make those files stop carrying "
              "the reference's code (a check can compare with stored data: `dlgrade snapshot`), or ship one "
              "knowingly with --accept-leak PATH.", file=sys.stderr)
        return 1
    print(f"wrote the learner release to {args.out.resolve()}" + (" (git: one commit on main)" if args.git else ""))
    return 0
