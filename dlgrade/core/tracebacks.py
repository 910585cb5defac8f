"""Where in the graded code an exception happened: the innermost frame inside a folder."""
from __future__ import annotations

import traceback
from pathlib import Path
from types import TracebackType


def innermost_frame(tb: TracebackType | None, folder: Path) -> traceback.FrameSummary | None:
    """The innermost frame of `tb` whose file lies inside `folder` (the target being graded), or None."""
    inside = folder.resolve()
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve().is_relative_to(inside)]
    return frames[-1] if frames else None


def location(frame: traceback.FrameSummary) -> str:
    """'file.py:LINE in function', as the learner's messages name a place in their code."""
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
