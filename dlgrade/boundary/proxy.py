"""The checks' side of the boundary: a learner process, and proxies of what lives in it.

`LearnerProcess(root).module("ex5_papers.py")` is a `LearnerModule`: `ex5.attention(q, k, v)`
sends the call to the learner process and returns its value as data (codec.py). What is not data
comes back as a `Handle`: the check may call it, read its attributes or index it (each again data
or a handle), pass it back to learner code, or ask an observer recipe about it; a handle never
decides `==`, `bool()`, `len()` or iteration for the check, so learner code cannot make a
comparison come out true. Exceptions come back as exceptions of the same built-in class (or of a
class made here, under the learner's class's name, for the learner's own exception classes), with
where they were raised in `dlgrade_where`.

The process starts on first use and is killed (with its process group) when the check is
interrupted (time limit) or the session ends; the next call starts a fresh one and imports the
files again. Handles of an earlier process then raise `LearnerProcessRestarted`.
"""
from __future__ import annotations

import builtins
import contextlib
import ctypes
import importlib
import os
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlgrade.boundary import codec, wire
from dlgrade.boundary.forked import ForkedProcess, fork_learner
from dlgrade.boundary.loader import LoadError
from dlgrade.core.i18n import get_lang, tr

# Libraries whose exception classes a learner's code may let through on purpose (the checks then
# expect the library's own class): rebuilt as that class, without running its constructor. The
# boundary's own (a recipe's refusal, recipes.RemoteHostRefused) come back as themselves too.
LIBRARY_EXCEPTIONS = ("openai.", "httpx", "torch.", "transformers.", "huggingface_hub.", "safetensors", "PIL.",
                      "dlgrade.boundary.")
STOP_GRACE_S = 2.0
# How long a timed-out call waits for the learner process to say where it is: a bound for one that
# cannot answer (a long call in C), not a measurement; a busy machine must not lose the answer.
WHERE_TIMEOUT_S = 3.0


class LearnerProcessError(RuntimeError):
    """The learner process died, or broke the protocol, during a call."""


class LearnerProcessRestarted(LearnerProcessError):
    """A handle from a learner process that has since been replaced (after a time limit or a crash)."""


class NotData(TypeError):
    """A learner object was asked to decide a comparison, a truth value or a length."""


def learner_environment() -> dict[str, str]:
    """The learner process's environment: this process's, with the language its messages are in (a
    one-off --lang lives only in this process)."""
    return {**os.environ, "DLGRADE_LANG": get_lang()}


def _no_ptrace() -> None:
    """Make this process non-dumpable: a learner process of the same user can then neither ptrace it
    nor read its memory or environment through /proc."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


class LearnerProcess:
    """One child process that holds the learner's modules and objects for a check session."""

    def __init__(self, root: Path, on_load_error: Callable[[str, LoadError], Exception] | None = None):
        self.root = root.resolve()
        self.on_load_error = on_load_error
        self.generation = 0
        self._proc: subprocess.Popen[bytes] | ForkedProcess | None = None
        self._sock: socket.socket | None = None
        self._exceptions: dict[str, type[BaseException]] = {}
        self._handles: dict[tuple[int, int], Handle] = {}

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, preload: list[str] | None = None) -> None:
        """Start the learner process; `preload`: libraries it imports in the background meanwhile."""
        _no_ptrace()
        ours, theirs = socket.socketpair()
        self._proc = fork_learner(theirs, self.root, learner_environment())
        if self._proc is None:
            command = [sys.executable, "-m", "dlgrade.boundary.child", str(theirs.fileno()), str(self.root),
                       *(["--preload", ",".join(preload)] if preload else [])]
            self._proc = subprocess.Popen(command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                          start_new_session=True, cwd=os.getcwd(), env=learner_environment())
        theirs.close()
        self._sock = ours
        self.generation += 1
        self._handles.clear()

    def stop(self) -> None:
        proc, sock = self._proc, self._sock
        self._proc = self._sock = None
        if sock is not None:
            sock.close()
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_GRACE_S)

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- requests -----------------------------------------------------------------------------
    def request(self, header: dict[str, Any], payload: Any = None) -> Any:
        """Send one request (payload values encoded into header['args'] etc.), return the decoded answer."""
        if not self.alive:
            self.stop()
            self.start()
        assert self._sock is not None and self._proc is not None
        tree, blobs = codec.encode(payload) if payload is not None else (None, [])
        if payload is not None:
            header = {**header, **tree}
        try:
            wire.send(self._sock, header, blobs)
            reply, reply_blobs = wire.receive(self._sock)
        except wire.WireError as exc:
            try:  # the channel closes a moment before the process can be reaped
                code: int | None = self._proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                code = None
            self.stop()
            raise LearnerProcessError(_ended(code, exc)) from None
        except BaseException as exc:
            # Interrupted mid-call (the time limit): say where learner code was, then start afresh,
            # since its state is unknown.
            if getattr(exc, "dlgrade_where", None) is None:
                exc.dlgrade_where = self._where_now()  # type: ignore[attr-defined]
            self.stop()
            raise
        if not isinstance(reply, dict) or ("ok" in reply) == ("error" in reply):
            self.stop()
            raise LearnerProcessError(tr("the process running your code sent a malformed answer"))
        try:
            if "ok" in reply:
                return codec.decode(reply["ok"], reply_blobs, on_handle=self._handle)
            raise self._exception(reply["error"], reply_blobs)
        except codec.CodecError as exc:
            self.stop()
            raise LearnerProcessError(tr("the process running your code sent a value that does not decode: {error}",
                                         error=exc)) from None

    def _where_now(self) -> traceback.FrameSummary | None:
        """Where the learner process's code is running now (wire.WHERE_SIGNAL), or None when it does not
        say within WHERE_TIMEOUT_S (its own handler, a call in C that holds on)."""
        assert self._proc is not None and self._sock is not None
        try:
            os.kill(self._proc.pid, wire.WHERE_SIGNAL)
            self._sock.settimeout(WHERE_TIMEOUT_S)
            reply: dict[str, Any] = {}
            while "where" not in reply:  # an answer already on its way comes first
                reply, _ = wire.receive(self._sock)
        except (OSError, wire.WireError):
            return None
        spot = reply["where"]
        if not (isinstance(spot, list) and len(spot) == 3 and type(spot[1]) is int):
            return None
        return traceback.FrameSummary(str(spot[0]), spot[1], str(spot[2]), lookup_line=False)

    def module(self, filename: str) -> LearnerModule:
        return LearnerModule(self, filename)

    def recipe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run a grader-owned recipe (recipes.py) in the learner process: build an input, or observe an object."""
        return self.request({"op": "recipe", "name": name}, {"args": list(args), "kwargs": kwargs})

    # -- decoding -----------------------------------------------------------------------------
    def _handle(self, record: dict[str, Any]) -> Any:
        if isinstance(record.get("exception"), dict):
            return self._exception_class(record["exception"])
        number = record.get("$handle")
        if type(number) is not int:
            raise codec.CodecError("a malformed handle")
        key = (self.generation, number)
        if key not in self._handles:
            self._handles[key] = Handle(self, self.generation, number, record)
        return self._handles[key]

    def _exception_class(self, record: dict[str, Any]) -> type[BaseException]:
        """The local class for a learner exception class: the same object every time for the same name."""
        name = str(record.get("name"))
        if name not in self._exceptions:
            self._exceptions[name] = _local_exception_class(name, str(record.get("short", "Error")),
                                                            list(record.get("builtin_bases", [])))
        return self._exceptions[name]

    def _exception(self, record: Any, blobs: list[bytes]) -> BaseException:
        if not isinstance(record, dict):
            raise codec.CodecError("a malformed error")
        text = str(record.get("text", ""))
        load = record.get("load")
        if isinstance(load, dict):
            return LoadError(str(load.get("kind")), str(load.get("detail", "")), load.get("line"),
                             _where_text(load.get("where")))
        try:
            args = codec.decode(record["args"], blobs) if record.get("args") is not None else [text]
        except codec.CodecError:
            args = [text]
        kind = self._class_for_error(record)
        exc: BaseException
        try:
            exc = kind(*args)
        except Exception:  # noqa: BLE001 - a library class whose constructor wants more: build it bare
            exc = kind.__new__(kind)
            exc.args = tuple(args)
        where = record.get("where")
        exc.dlgrade_where = (traceback.FrameSummary(str(where[0]), int(where[1]), str(where[2]), lookup_line=False)
                             if isinstance(where, list) else None)
        return exc

    def _class_for_error(self, record: dict[str, Any]) -> type[BaseException]:
        name, short = str(record.get("type")), str(record.get("short"))
        bases = [str(b) for b in record.get("builtin_bases", [])]
        if name == f"builtins.{short}" and isinstance(getattr(builtins, short, None), type):
            kind = getattr(builtins, short)
            if issubclass(kind, Exception):
                return kind
        if name.startswith(LIBRARY_EXCEPTIONS) and name not in self._exceptions:
            module, _, qualname = name.rpartition(".")
            with contextlib.suppress(Exception):
                found = getattr(importlib.import_module(module), qualname)
                if isinstance(found, type) and issubclass(found, Exception):
                    return found
        return self._exception_class({"name": name, "short": short, "builtin_bases": bases})


def _ended(code: int | None, exc: Exception) -> str:
    """Why a call got no answer, for the learner: a signal by name, an exit by its code."""
    if code is None:
        return tr("the process running your code broke off the call: {error}", error=exc)
    if code < 0:
        with contextlib.suppress(ValueError):
            return tr("the process running your code was killed by signal {number} ({name}) during this call",
                      number=-code, name=signal.Signals(-code).name)
    return tr("the process running your code exited with code {code} during this call (does it call os._exit() "
              "or end the process some other way?)", code=code)


def _where_text(text: Any) -> Any:
    return text if isinstance(text, str) else None


def _local_exception_class(name: str, short: str, builtin_bases: list[str]) -> type[BaseException]:
    """A class named like the learner's, deriving from the built-in exceptions it derives from
    (SystemExit and the other non-Exception ones become plain Exceptions here)."""
    base: type[Exception] = Exception
    for candidate in builtin_bases:
        kind = getattr(builtins, candidate, None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            base = kind
            break
    return type(short, (base,), {"__module__": name.rpartition(".")[0] or "learner", "dlgrade_learner_class": name})


class Handle:
    """A learner object that stays in the learner process."""

    __slots__ = ("_process", "_generation", "_number", "dlgrade_type", "dlgrade_mro", "__weakref__")

    def __init__(self, process: LearnerProcess, generation: int, number: int, record: dict[str, Any]):
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_generation", generation)
        object.__setattr__(self, "_number", number)
        object.__setattr__(self, "dlgrade_type", str(record.get("type", "?")))
        object.__setattr__(self, "dlgrade_mro", tuple(str(t) for t in record.get("mro", [])))

    @property
    def dlgrade_record(self) -> dict[str, Any]:
        """How the codec sends this handle back to the learner process."""
        return {"$handle": self._current()}

    def _current(self) -> int:
        if self._generation != self._process.generation:
            raise LearnerProcessRestarted("this learner object belonged to a learner process that was restarted "
                                          "(after a time limit or a crash): build it again")
        return self._number

    def dlgrade_is(self, class_path: str) -> bool:
        """Whether the learner process reports the object as an instance of `class_path` (an observation)."""
        return class_path in self.dlgrade_mro

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._process.request({"op": "getattr", "name": name, "handle": self._current()})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._process.request({"op": "call", "handle": self._current()}, {"args": list(args), "kwargs": kwargs})

    def __getitem__(self, key: Any) -> Any:
        return self._process.request({"op": "getitem", "handle": self._current()}, {"key": key})

    def __setattr__(self, name: str, value: Any) -> None:
        raise NotData(f"a check cannot set attributes of a learner object ({self.dlgrade_type})")

    def _not_data(self, *_: Any) -> Any:
        raise NotData(f"a learner object ({self.dlgrade_type}) cannot decide this for the check: fetch a value "
                      "(call it, read an attribute that is data) and compare that")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _not_data
    __bool__ = __len__ = __iter__ = __contains__ = _not_data
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<learner {self.dlgrade_type}>"


class LearnerModule:
    """A learner's exercise file as the checks see it: attribute access goes to the learner process."""

    def __init__(self, process: LearnerProcess, filename: str):
        self._process = process
        self._filename = filename
        self._handle: tuple[int, Handle] | None = None

    def _module(self) -> Handle:
        if self._handle is None or self._handle[0] != self._process.generation or not self._process.alive:
            try:
                handle = self._process.request({"op": "import", "file": self._filename})
            except LoadError as exc:
                if self._process.on_load_error:
                    raise self._process.on_load_error(self._filename, exc) from None
                raise
            self._handle = (self._process.generation, handle)
        return self._handle[1]

    def load(self) -> LearnerModule:
        """Import the file now (in a fresh learner process too), not at the first attribute read."""
        self._module()
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self._module(), name)

    def __repr__(self) -> str:
        return f"<learner module {self._filename}>"


def remote_where(exc: BaseException) -> traceback.FrameSummary | None:
    """Where in the learner's files an exception from the learner process was raised."""
    where = getattr(exc, "dlgrade_where", None)
    return where if isinstance(where, traceback.FrameSummary) else None
