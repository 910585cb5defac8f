"""JSON files that several processes read while one writes them: results, progress, ledgers.

A reader may meet a file that is missing, cut short by a killed run, or written by something
else; each of those reads as "nothing recorded" ({}), never as an error. A writer replaces the
whole file at once, so that no reader ever sees half of it.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object stored at `path`; {} when it is missing, unreadable, cut short or not an object."""
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a temporary file beside it, then a rename).

    Text that holds undecodable bytes of a file name (surrogate escapes) is written as \\xNN.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, data: object) -> None:
    """`data` as JSON (UTF-8, not escaped to ASCII) in one step: see write_text_atomic."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))
