"""Snapshots of a class's submissions, taken before `dlgrade grade` grades any of them.

Only what grading needs is taken: the files whose names are those of the instructor's
exercises/ (at the top of the submission or in its exercises/ folder) and the files under
exercises/checkpoints/. Only regular files: a symlink is never followed (a symlinked exercise
file is reported and left out, so it counts as missing), nor is anything else that is not a
plain file. Each snapshot lives in the grader's private folder under its index, so that
names never meet the file system; a submission's display name keeps any byte of its file
name (undecodable bytes as \\xNN), and two submissions with the same name get distinct names.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

CHECKPOINTS = "checkpoints"
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_CHECKPOINT_FILES = 100
MAX_NAME_BYTES = 160
# Source that names the grader's internals: not forbidden (a learner may have a reason), shown
# to the instructor in the gradebook's review column when the stub does not already contain it.
REVIEW_PATTERNS = ("_pytest", "dlgrade", "gc.get_objects", "gc.get_referrers", "sys.modules", "/proc", "os._exit",
                   "ctypes", "fixtures/", "solutions", "sys._getframe", "PYTEST_", "builtins")


@dataclass
class Submission:
    index: int
    source: Path
    name: str
    folder: Path
    notes: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    unreadable: str | None = None


def exercise_names(exercises: Path) -> list[str]:
    """The file names a submission may hand in: the instructor's exercise files, and a notebook of
    each exercise module (graded as dlgrade/boundary/loader.py says which file wins)."""
    names = {p.name for p in exercises.iterdir() if p.is_file() and not p.name.startswith(".")}
    return sorted(names | {Path(n).with_suffix(".ipynb").name for n in names if n.endswith(".py")})


def display_name(path: Path) -> str:
    """The submission's name as text: a .zip without its suffix, undecodable bytes as \\xNN, no control characters."""
    raw = os.fsencode(path.name)
    if raw.endswith(b".zip"):
        raw = raw[:-4]
    text = raw.decode("utf-8", "backslashreplace")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    if len(text.encode()) > MAX_NAME_BYTES:  # a folder in --out is named after it
        text = text[:40] + "~" + hashlib.sha256(raw).hexdigest()[:8]
    return text if text.strip(". ") else "submission"


def _unique(name: str, path: Path, taken: set[str]) -> str:
    candidates = [name, display_name(Path(path.name + "_")).removesuffix("_")]  # alice, then alice.zip
    candidates += [f"{name}~{n}" for n in range(2, 10_000)]
    for candidate in candidates:
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise ValueError("too many submissions with one name")


class _Copier:
    """Copies regular files into a snapshot folder within the size caps."""

    def __init__(self, into: Path, notes: list[str]):
        self.into, self.notes, self.total = into, notes, 0

    def room_for(self, size: int, label: str) -> bool:
        if size > MAX_FILE_BYTES or self.total + size > MAX_TOTAL_BYTES:
            self.notes.append(f"{label} left out: too large ({size} bytes)")
            return False
        self.total += size
        return True

    def write(self, relative: str, data: bytes) -> None:
        path = self.into / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _copy_regular(copier: _Copier, source: Path, relative: str) -> None:
    label = relative
    try:
        info = os.lstat(source)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        copier.notes.append(f"{label} is a symlink: not followed, graded as missing")
        return
    if not stat.S_ISREG(info.st_mode):
        copier.notes.append(f"{label} is not a regular file: left out")
        return
    if not copier.room_for(info.st_size, label):
        return
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        copier.write(relative, f.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES])


def _from_folder(folder: Path, names: list[str], copier: _Copier) -> None:
    base = folder
    if not any(os.path.lexists(folder / n) for n in names):
        exercises = folder / "exercises"
        if exercises.is_symlink():
            copier.notes.append("exercises/ is a symlink: not followed")
            return
        if exercises.is_dir():
            base = exercises
    for name in names:
        _copy_regular(copier, base / name, name)
    checkpoints = base / CHECKPOINTS
    if checkpoints.is_symlink():
        copier.notes.append(f"{CHECKPOINTS}/ is a symlink: not followed")
    elif checkpoints.is_dir():
        count = 0
        for root, dirs, files in os.walk(checkpoints):  # os.walk never follows symlinked folders
            for link in [d for d in dirs if (Path(root) / d).is_symlink()]:
                copier.notes.append(f"{Path(root, link).relative_to(base)}/ is a symlink: not followed")
            for name in sorted(files):
                count += 1
                if count > MAX_CHECKPOINT_FILES:
                    copier.notes.append(f"{CHECKPOINTS}/ holds more than {MAX_CHECKPOINT_FILES} files: rest left out")
                    return
                path = Path(root, name)
                _copy_regular(copier, path, str(path.relative_to(base)))


def _zip_member_path(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def _from_zip(archive: Path, names: list[str], copier: _Copier) -> None:
    with zipfile.ZipFile(archive) as z:
        members = {}
        for info in z.infolist():
            path = _zip_member_path(info.filename)
            if path is None or info.is_dir() or path.parts[0] == "__MACOSX" or path.name.startswith("._"):
                continue
            members[path] = info
        tops = {p.parts[0] for p in members}
        prefix = PurePosixPath(next(iter(tops))) if len(tops) == 1 and all(len(p.parts) > 1 for p in members) \
            else PurePosixPath()
        relative = {p.relative_to(prefix): info for p, info in members.items()}
        if not any(PurePosixPath(n) in relative for n in names):
            relative = {p.relative_to("exercises"): info for p, info in relative.items()
                        if p.parts[0] == "exercises" and len(p.parts) > 1}
        for path, info in sorted(relative.items()):
            wanted = (len(path.parts) == 1 and path.name in names) or \
                (path.parts[0] == CHECKPOINTS and len(path.parts) > 1)
            if not wanted:
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                copier.notes.append(f"{path} is a symlink in the zip: not followed, graded as missing")
            elif copier.room_for(info.file_size, str(path)):
                with z.open(info) as f:
                    copier.write(str(path), f.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES])


def review_flags(folder: Path, exercises: Path) -> list[str]:
    """'file: pattern' for each grader-internal name the submission's source uses more often than the stub."""
    flags = []
    for path in sorted([*folder.rglob("*.py"), *folder.rglob("*.ipynb")]):
        text = _source_text(path)
        stub_path = exercises / path.relative_to(folder).with_suffix(".py")
        stub = stub_path.read_text(encoding="utf-8", errors="replace") if stub_path.is_file() else ""
        for pattern in REVIEW_PATTERNS:
            if len(re.findall(re.escape(pattern), text)) > len(re.findall(re.escape(pattern), stub)):
                flags.append(f"{path.relative_to(folder)}: {pattern}")
    return flags


def _source_text(path: Path) -> str:
    """A file's code as text: a notebook's module cells (its outputs, metadata and its own cells, such
    as a `check(...)` call, are not graded code); for a .py paired with a notebook, the same cells."""
    from dlgrade.boundary.loader import module_cells
    from dlgrade.learner.notebook import exercise_code

    raw = path.read_bytes().decode("utf-8", "replace")
    try:
        if path.suffix == ".ipynb":
            import nbformat
            return "\n".join(source for _, source in module_cells(nbformat.reads(raw, as_version=4)))
        return exercise_code(raw)
    except Exception:  # noqa: BLE001 - not a notebook, or not jupytext's text: review it as it is
        return raw


def copy_submissions(sources: list[Path], into: Path, exercises: Path) -> list[Submission]:
    """Copy what grading needs from every submission into `into`/<index>/, before anything is graded."""
    names = exercise_names(exercises)
    taken: set[str] = set()
    out = []
    for index, source in enumerate(sources):
        folder = into / f"{index:04d}"
        folder.mkdir(parents=True)
        sub = Submission(index, source, _unique(display_name(source), source, taken), folder)
        copier = _Copier(folder, sub.notes)
        try:
            if source.suffix == ".zip" and source.is_file():
                _from_zip(source, names, copier)
            elif source.is_dir():
                _from_folder(source, names, copier)
            else:
                sub.unreadable = "not a folder or a .zip file"
        except (OSError, zipfile.BadZipFile, ValueError, RuntimeError) as exc:
            sub.unreadable = f"{type(exc).__name__}: {exc}"
        if sub.unreadable is None and not any(folder.iterdir()):
            sub.notes.append("no exercise file found in the submission")
        sub.review = review_flags(folder, exercises)
        out.append(sub)
    return out
