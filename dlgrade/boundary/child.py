"""The learner process: imports the learner's exercise files and runs what the checks ask.

Started by `proxy.LearnerProcess` as `python -m dlgrade.boundary.child FD ROOT [--preload NAMES]`:
FD is this end of a socket pair, ROOT the folder of the learner's files, NAMES (comma-separated)
libraries the learner's files import, imported in the background until the first request comes.
Requests (one at a time, each answered):

    {"op": "import", "file": "ex5_papers.py"}                 -> the module, as a handle
    {"op": "getattr", "handle": id, "name": "forward"}       -> the attribute
    {"op": "getitem", "handle": id, "key": value}            -> handle[key]
    {"op": "call", "handle": id, "args": [...], "kwargs": {}} -> the return value
    {"op": "recipe", "name": "...", "args": [...], "kwargs": {}} -> a grader-owned builder or
        observer of recipes.py run here (a model loaded from a fixture folder, a figure's data)

Each answer is {"ok": value} or {"error": {...}}: the exception's type (qualified name and the
built-in exception classes it derives from), its arguments as data where they are, its text and
the innermost frame in the learner's folder. Values go back through codec.py: data, or a handle
for anything else, which stays in this process's table.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.abc
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from dlgrade.boundary import codec, recipes, wire
from dlgrade.boundary.loader import LoadError, load_module
from dlgrade.core.i18n import tr
from dlgrade.core.project import Project, ProjectNotFound
from dlgrade.core.tracebacks import innermost_frame

MAX_TEXT = 20_000


class Table:
    """The objects the checks hold handles to; the same object always gets the same handle."""

    def __init__(self) -> None:
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}

    def handle(self, obj: Any) -> dict[str, Any]:
        key = id(obj)
        if key not in self.ids:
            self.ids[key] = len(self.objects) + 1
            self.objects[self.ids[key]] = obj
        kind = obj if isinstance(obj, type) else type(obj)
        record: dict[str, Any] = {
            "$handle": self.ids[key],
            "type": _qualified(type(obj)),
            "mro": [_qualified(k) for k in kind.__mro__][:32],
            "callable": callable(obj),
            "is_class": isinstance(obj, type),
        }
        if isinstance(obj, type) and issubclass(obj, BaseException):
            record["exception"] = {"name": _qualified(obj), "short": obj.__name__,
                                   "builtin_bases": _builtin_bases(obj)}
        return record

    def get(self, record: dict[str, Any] | int) -> Any:
        number = record.get("$handle") if isinstance(record, dict) else record
        if number not in self.objects:
            raise codec.CodecError(f"no learner object {number!r} in this process")
        return self.objects[number]


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _builtin_bases(kind: type) -> list[str]:
    return [k.__name__ for k in kind.__mro__ if k.__module__ == "builtins" and issubclass(k, BaseException)]


def _error(exc: BaseException, root: Path) -> tuple[dict[str, Any], list[bytes]]:
    where = innermost_frame(exc.__traceback__, root)
    try:
        args, blobs = codec.encode(list(exc.args))
    except codec.CodecError:
        args, blobs = None, []
    record = {
        "type": _qualified(type(exc)),
        "short": type(exc).__name__,
        "builtin_bases": _builtin_bases(type(exc)),
        "args": args,
        "text": str(exc)[:MAX_TEXT],
        "where": [where.filename, where.lineno, where.name] if where else None,
    }
    if isinstance(exc, LoadError):
        record["load"] = {"kind": exc.kind, "detail": exc.detail[:MAX_TEXT], "line": exc.line,
                          "where": exc.where}
    return {"error": record}, blobs


def serve(sock: socket.socket, root: Path, preloading: threading.Thread | None = None) -> None:
    table = Table()

    def decode(tree: Any, blobs: list[bytes]) -> Any:
        return codec.decode(tree, blobs, on_handle=table.get, on_recipe=recipes.run)

    while True:
        try:
            request, blobs = wire.receive(sock)
        except wire.WireError:
            return  # the checks' process is gone: so is this one
        if preloading is not None:  # learner code never runs beside a half-done import (a fork would inherit its lock)
            preloading.join()
            preloading = None
        try:
            op = request.get("op")
            if op == "import":
                value: Any = load_module(root, str(request["file"]))
            elif op == "getattr":
                value = getattr(table.get(request["handle"]), str(request["name"]))
            elif op == "getitem":
                value = table.get(request["handle"])[decode(request["key"], blobs)]
            elif op == "call":
                target = table.get(request["handle"])
                value = target(*decode(request["args"], blobs), **decode(request["kwargs"], blobs))
            elif op == "recipe":
                value = recipes.run(str(request["name"]), decode(request["args"], blobs),
                                    decode(request["kwargs"], blobs))
            else:
                raise codec.CodecError(f"unknown request {op!r}")
            tree, out = codec.encode(value, make_handle=table.handle)
            reply: dict[str, Any] = {"ok": tree}
        except BaseException as exc:  # noqa: BLE001 - whatever learner code raises goes back as data
            reply, out = _error(exc, root)
        wire.send(sock, reply, out)


class SolutionsBlocker(importlib.abc.MetaPathFinder):
    """Refuse `import solutions` while grading anything but the reference."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "solutions" or fullname.startswith("solutions."):
            raise ImportError(tr("importing the reference solutions is not allowed while grading; write your own code"))
        return None


def _grades_the_reference(root: Path) -> bool:
    try:
        return root == Project.locate().solutions.resolve()
    except ProjectNotFound:
        return False


def answer_where_on_signal(sock: socket.socket, root: Path) -> None:
    """On wire.WHERE_SIGNAL, send where the learner's code is running (the checks' process asks once
    a call has run past its time limit, so that the learner reads which line never finished)."""
    def where(signum: int, frame: FrameType | None) -> None:
        while frame is not None and not Path(frame.f_code.co_filename).resolve().is_relative_to(root):
            frame = frame.f_back
        spot = [frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name] if frame is not None else None
        with contextlib.suppress(OSError):
            wire.send(sock, {"where": spot})

    signal.signal(wire.WHERE_SIGNAL, where)


def _preload(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception):  # the learner's own import will raise it, with its text
            importlib.import_module(name)


def main(argv: list[str]) -> int:
    fd, root = int(argv[0]), Path(argv[1]).resolve()
    if not _grades_the_reference(root):
        sys.meta_path.insert(0, SolutionsBlocker())
    preloading = None
    if argv[2:3] == ["--preload"]:
        preloading = threading.Thread(target=_preload, args=(argv[3].split(","),), daemon=True)
        preloading.start()
    with contextlib.suppress(Exception):  # die with the checks' process, even while learner code loops
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    sock = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)  # the learner's own subprocesses do not get the channel
    sys.stdin = open(os.devnull)  # input() in learner code gets EOFError instead of waiting forever
    answer_where_on_signal(sock, root)
    serve(sock, root, preloading)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
