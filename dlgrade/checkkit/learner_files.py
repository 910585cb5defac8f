"""Reading files that learner code wrote, without decoding them here: a file's header read as bytes
is all a check learns from it (an image library in the checks' process never sees learner output)."""
from __future__ import annotations

import struct
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG file's header, or None when it is no PNG."""
    with path.open("rb") as png:
        head = png.read(24)
    if len(head) < 24 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height
