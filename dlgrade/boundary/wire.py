"""Messages over a stream socket: a JSON header and binary blobs, each length-prefixed.

A frame is: 8-byte big-endian length of the header, the header (UTF-8 JSON, an object with a
"blobs" list of byte lengths), then the blobs. Both sides cap what they accept, so a learner
process that writes garbage or a huge length gets a WireError, never an allocation of its choosing.
"""
from __future__ import annotations

import json
import signal
import socket
import struct
from typing import Any

LENGTH = struct.Struct(">Q")
MAX_HEADER_BYTES = 64 * 2**20
MAX_BLOB_BYTES = 4 * 2**30
# Sent to a learner process whose call ran past its time limit: it answers {"where": [file, line,
# function]}, the innermost frame of the learner's code it is running (child.py), before it is killed.
WHERE_SIGNAL = signal.SIGUSR1


class WireError(Exception):
    """The peer sent something that is not a well-formed frame (or closed the connection)."""


def send(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] | None = None) -> None:
    blobs = blobs or []
    body = json.dumps({**header, "blobs": [len(b) for b in blobs]}, ensure_ascii=True,
                      allow_nan=False).encode("ascii")
    sock.sendall(LENGTH.pack(len(body)) + body)
    for blob in blobs:
        sock.sendall(blob)


def _exactly(sock: socket.socket, count: int) -> bytes:
    buffer = bytearray(count)
    view = memoryview(buffer)
    got = 0
    while got < count:
        n = sock.recv_into(view[got:], count - got)
        if n == 0:
            raise WireError("the connection closed mid-message" if got else "the connection closed")
        got += n
    return bytes(buffer)


def receive(sock: socket.socket) -> tuple[dict[str, Any], list[bytes]]:
    (size,) = LENGTH.unpack(_exactly(sock, LENGTH.size))
    if size > MAX_HEADER_BYTES:
        raise WireError(f"a message header of {size} bytes (the limit is {MAX_HEADER_BYTES})")
    try:
        header = json.loads(_exactly(sock, size).decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(f"a message header that is not JSON: {exc}") from None
    lengths = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(lengths, list) or not all(isinstance(n, int) and n >= 0 for n in lengths):
        raise WireError("a message header without a list of blob lengths")
    if sum(lengths) > MAX_BLOB_BYTES:
        raise WireError(f"{sum(lengths)} bytes of blobs (the limit is {MAX_BLOB_BYTES})")
    return header, [_exactly(sock, n) for n in lengths]
