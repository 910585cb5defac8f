"""`dlgrade release OUT`: the learner's repository, made from this one, without the answers.

This repository is the maintainers' (solutions/, tests/, builders); a learner clones the
release. What goes in is an allow-list, so a file added here later stays out until someone
decides learners need it:

- exercises/  the stubs, generated from solutions/ here (never a copy of a possibly edited exercises/);
  for the exercises meant for a notebook, the notebook `dlgrade notebook` makes from the stub, paired
  with its .py by jupytext (the .py in jupytext's percent format): a learner works in either
- checks/, fixtures/, dlgrade/  what the checks run on, as git tracks them (ignored files stay out)
- curriculum.toml, conftest.py, pyproject.toml (pytest runs checks/), constraints.txt, setup.sh
- from templates/release/: README.md for learners (Chinese, then English), .gitignore, and the
  CI jobs .github/workflows/grade.yml and .gitlab-ci.yml (a GitHub Classroom / template
  repository grades every push); docs/curriculum.md with every box cleared, and progress.toml,
  which learners commit: CI's report reads it (their ticks and their language).
- never the author's language setting: progress.toml is written new.

Left out even inside those folders: maintainers' builders that read the reference (a Python
file of checks/ or fixtures/, other than a check module, that names `solutions`, such as
fixtures/cassettes/ex3/make_cassettes.py). torch.export programs (.pt2) lose the stack traces
torch keeps per node: they quote the source lines of the model that was traced, the reference's.

Last, every file of the release is searched for every solution region (`region_leaks`): for its
lines, and, in Python files, for its code with every name and string normalised away (a check
that re-implements an answer under other names); a file that holds most of a region stops the
release unless accepted by name.
"""
from __future__ import annotations

import argparse
import builtins
import io
import json
import keyword
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dlgrade.core import stubs
from dlgrade.core.project import Project

TEMPLATES = Path(__file__).resolve().parent / "templates"
SHIPPED_FOLDERS = ("checks", "fixtures", "dlgrade")
SHIPPED_FILES = ("curriculum.toml", "conftest.py", "pyproject.toml", "constraints.txt", "setup.sh")
# Files the checks use only where they exist and a learner must not have: the reference model's weights
# (copied into build_resnet() with a bias nudged, they would pass exercise 1.3). The Gradescope bundle and
# grading from this repository keep them; the learner release leaves them out.
INSTRUCTOR_ONLY = (Path("fixtures/ex1/reference_resnet.pt2"),)
CHECKLIST = Path("docs/curriculum.md")
# The notebooks' headings and hints are in the course's own language; `dlgrade notebook exN --force
# --lang en` makes one again in English.
NOTEBOOK_LANG = "zh"
# Template -> where it goes in the release.
TEMPLATE_FILES = {"README.md": "README.md", "gitignore": ".gitignore",
                  "github-grade.yml": ".github/workflows/grade.yml", "gitlab-ci.yml": ".gitlab-ci.yml"}


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


def copy_project_files(root: Path, out: Path, folders=SHIPPED_FOLDERS, files=SHIPPED_FILES, *,
                       for_instructor: bool = False) -> list[Path]:
    """Copy what the checks need into `out`; returns what was left out (maintainers' builders and, unless
    `for_instructor`, the instructor-only files)."""
    left_out = []
    for folder in folders:
        for rel in project_files(root, folder):
            data = (root / rel).read_bytes()
            if is_maintainer_builder(rel, data) or (rel in INSTRUCTOR_ONLY and not for_instructor):
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


def learner_checklist(text: str) -> str:
    """The author's checklist, every box cleared, under an opening in Chinese and English for the
    learner (the author's own opening is English and speaks of the author's ticks)."""
    from dlgrade.learner import checklist

    intro = (TEMPLATES / "release" / "curriculum-intro.md").read_text(encoding="utf-8")
    return intro + checklist.authors_checklist(text, with_english=True)


def write_exercise_stubs(root: Path, out: Path) -> None:
    """exercises/ as `dlgrade stubs` makes it from root's solutions/ (the grader learns the file names there)."""
    if not (root / "solutions").is_dir():
        raise ReleaseError(f"{root / 'solutions'} not found: this is made from the maintainers' repository")
    for rel, text in stubs.expected_exercises(root / "solutions").items():
        (out / "exercises" / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / "exercises" / rel).write_text(text, encoding="utf-8")


def write_paired_notebooks(root: Path, out: Path) -> None:
    """Beside the stubs of out/exercises/, the notebooks `dlgrade notebook` makes, paired with their .py."""
    from dlgrade.core import curriculum as curriculum_mod
    from dlgrade.learner import notebook

    curriculum = curriculum_mod.load(root / "curriculum.toml")
    for section_id in notebook.NOTEBOOK_EXERCISES:
        section = curriculum.section(section_id)
        assert section.file is not None
        py_path = out / "exercises" / section.file
        stub = py_path.read_text(encoding="utf-8")
        notebook.pair(notebook.build(curriculum, section, stub, NOTEBOOK_LANG), py_path.with_suffix(".ipynb"), py_path)


def write_learner_files(root: Path, out: Path) -> None:
    from dlgrade.core import curriculum as curriculum_mod
    from dlgrade.learner import report

    write_exercise_stubs(root, out)
    write_paired_notebooks(root, out)
    (out / "pyproject.toml").write_text(learner_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")),
                                        encoding="utf-8")
    (out / "docs").mkdir(exist_ok=True)
    (out / CHECKLIST).write_text(learner_checklist((root / CHECKLIST).read_text(encoding="utf-8")), encoding="utf-8")
    for template, destination in TEMPLATE_FILES.items():
        (out / destination).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATES / "release" / template, out / destination)
    report.ensure_progress_file(curriculum_mod.load(root / "curriculum.toml"), out / "progress.toml")


# ---------------------------------------------------------------- leaks of the answers

# A region line shorter than this is an idiom (`return out`, `model.eval()`), not an answer.
MIN_LINE_CHARS = 20
# Code is compared as shingles: runs of this many normalised tokens (names, strings and comments
# dropped, so renaming every variable or rewording every message hides nothing).
SHINGLE_TOKENS = 10
# A region with fewer distinct shingles than this (a call or two: choose_option is one call and an
# argmax, 20 shingles, which checks/test_ex5.py's calls of option_logprobs cover half of) is found
# in too much unrelated code to tell anything; the line search still covers it.
MIN_SHINGLES = 25
# A file holding at least this share of a region's shingles re-implements it. Measured on the
# repository: code that computes an answer with other names (the fixture builders that compute
# expected results) shares 0.38-0.57 of the region's shingles; any other shipped file at most 0.25.
SHINGLE_SHARE = 0.4
NAME, STRING = "V", "S"
KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


@dataclass(frozen=True)
class Region:
    """One `# BEGIN SOLUTION` ... `# END SOLUTION` region of a solution file."""

    file: str
    line: int
    function: str
    lines: tuple[str, ...]
    shingles: frozenset[tuple[str, ...]] = frozenset()

    @property
    def label(self) -> str:
        return f"{self.file}:{self.function}"


@dataclass(frozen=True)
class Leak:
    """A shipped file that holds a region: `found` of its `total` lines, or of its token shingles."""

    region: Region
    path: Path
    found: int
    total: int
    unit: str  # "lines" or "shingles"

    def describe(self) -> str:
        what = "lines" if self.unit == "lines" else "token sequences (a re-implementation, renamed or not)"
        return (f"{self.path} holds {self.found} of the {self.total} {what} of the solution region "
                f"{self.region.file}:{self.region.line} ({self.region.function})")


def code_tokens(source: str) -> list[tuple[str, int]]:
    """(normalised token, line) of Python source: a name becomes V unless it is a keyword, a
    builtin, an attribute (after `.`) or a keyword argument (before `=` inside brackets), which
    say what the code does; a string becomes S; comments and layout are dropped. Source that does
    not tokenize gives the tokens before the error."""
    tokens: list[tuple[str, int]] = []
    depth = 0
    raw = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            raw.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    significant = [tok for tok in raw if tok.type in (tokenize.NAME, tokenize.STRING, tokenize.NUMBER, tokenize.OP)]
    for index, tok in enumerate(significant):
        text = tok.string
        if tok.type == tokenize.OP:
            depth += text in "([{"
            depth -= text in ")]}"
        elif tok.type == tokenize.STRING:
            text = STRING
        elif tok.type == tokenize.NAME and text not in KEPT_NAMES:
            after_dot = index > 0 and significant[index - 1].string == "."
            following = significant[index + 1].string if index + 1 < len(significant) else ""
            if not (after_dot or (depth > 0 and following == "=")):
                text = NAME
        tokens.append((text, tok.start[0]))
    return tokens


def shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + SHINGLE_TOKENS]) for i in range(len(tokens) - SHINGLE_TOKENS + 1)}


def solution_regions(solutions: Path) -> list[Region]:
    """Every region: its lines stripped (lines that also occur outside regions, comments and short
    idioms dropped) and its token shingles (those that also occur in solution code outside the
    regions dropped): what is found everywhere tells nothing."""
    found, outside_lines, outside_shingles = [], set(), set()
    for path in stubs.solution_files(solutions):
        text = path.read_text(encoding="utf-8")
        function, body, start, spans = "<module>", None, 0, []
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith(stubs.BEGIN_MARKER):
                body, start = [], number
            elif stripped.startswith(stubs.END_MARKER):
                found.append((path.relative_to(solutions).as_posix(), start, number, function, body, text))
                spans.append((start, number))
                body = None
            elif body is not None:
                body.append(stripped)
            else:
                outside_lines.add(stripped)
                match = re.match(r"\s*(?:async\s+)?(?:def|class)\s+(\w+)", line)
                if match:
                    function = match.group(1)
        outside_shingles |= shingles([tok for tok, line in code_tokens(text)
                                      if not any(a < line < b for a, b in spans)])
    regions = []
    for file, start, end, function, body, text in found:
        region_shingles = shingles([tok for tok, line in code_tokens(text) if start < line < end]) - outside_shingles
        regions.append(Region(file, start, function,
                              tuple(line for line in body if len(line) >= MIN_LINE_CHARS
                                    and not line.startswith("#") and line not in outside_lines),
                              frozenset(region_shingles) if len(region_shingles) >= MIN_SHINGLES else frozenset()))
    return regions


def _searchable(path: Path) -> list[bytes]:
    """The file's bytes, and those of its members when it is a zip (torch checkpoints, .pt2)."""
    data = path.read_bytes()
    blobs = [data]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            blobs += [archive.read(info) for info in archive.infolist() if not info.is_dir()]
    return blobs


def region_leaks(folder: Path, regions: list[Region]) -> list[Leak]:
    """Every file of `folder` that holds a region's body: more than half of its lines (at least
    two), in any file or zip member, or, in Python source, at least SHINGLE_SHARE of its token
    shingles: the region re-implemented, whatever the names, strings and comments."""
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        blobs = _searchable(path)
        code = shingles([tok for tok, _ in code_tokens(blobs[0].decode("utf-8", "replace"))]) \
            if path.suffix == ".py" else set()
        for region in regions:
            found = sum(any(line.encode() in blob for blob in blobs) for line in region.lines)
            if found >= 2 and found * 2 > len(region.lines):
                leaks.append(Leak(region, path.relative_to(folder), found, len(region.lines), "lines"))
                continue
            shared = len(region.shingles & code)
            if region.shingles and shared >= SHINGLE_SHARE * len(region.shingles):
                leaks.append(Leak(region, path.relative_to(folder), shared, len(region.shingles), "shingles"))
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
                   "written": all(leak.path.as_posix() in accept for leak in leaks)}
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
        outcome = make_release(args.out, Project.locate().root, git=args.git,
                               accept=frozenset(Path(p).as_posix() for p in args.accept_leak))
    except (ReleaseError, stubs.StubError, SyntaxError, OSError, subprocess.CalledProcessError) as exc:
        print(f"dlgrade release: {exc}", file=sys.stderr)
        return 2
    for rel in outcome["left_out"]:
        print(f"left out (reads solutions/): {rel}")
    for leak in outcome["leaks"]:
        accepted = " (accepted: --accept-leak)" if outcome["written"] else ""
        print(leak.describe() + accepted, file=sys.stderr)
    if not outcome["written"]:
        print("dlgrade release: the answers would ship; nothing was written. Make those files stop carrying "
              "the reference's code (a check can compare with stored data: `dlgrade snapshot`), or ship one "
              "knowingly with --accept-leak PATH.", file=sys.stderr)
        return 1
    print(f"wrote the learner release to {args.out.resolve()}" + (" (git: one commit on main)" if args.git else ""))
    return 0
