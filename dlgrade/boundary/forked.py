"""A learner process forked by a preloaded launcher, instead of a fresh `python -m dlgrade.boundary.child`.

A fresh learner process imports torch, transformers and the rest again: 3-7 CPU-seconds before the
first call. A harness that runs the checks hundreds of times (tests/warm_pytest.py) keeps a launcher:
a process that has imported those libraries, and nothing of dlgrade, and forks a learner process on
request. `LearnerProcess.start` asks it when `DLGRADE_LEARNER_LAUNCHER` names its socket and starts a
fresh process otherwise, or when the launcher refuses (the launcher serves only checks' processes
whose environment is the one it imported its libraries in: libraries read variables at import).

Protocol, one connection per learner process, over the AF_UNIX stream socket the variable names:
- the checks' process sends one JSON line {"root", "cwd", "env", "watch"} (`watch`: its own pid) with
  four file descriptors (SCM_RIGHTS): its end of the channel, its stdout, its stderr, and one end of
  a status socket pair;
- the launcher answers {"ok": true} or {"refused": why}, then forks a waiter, which forks the learner
  process (its own session, the checks' folder, environment and stdout/stderr; the channel; then
  `child.main`) and writes on the status socket one JSON line {"pid": N}, and {"returncode": R} (as
  `subprocess.Popen.returncode` says it) once the learner process has ended. The waiter kills the
  learner process when the checks' process ends (`watch`), as PR_SET_PDEATHSIG does for a fresh one.

The learner process is the same program either way (child.main on the channel, in the checks' folder
and environment); only the libraries it would import are there already.
"""
from __future__ import annotations

import json
import os
import select
import socket
import subprocess
from pathlib import Path
from typing import Any

LAUNCHER_ENV = "DLGRADE_LEARNER_LAUNCHER"
CONNECT_TIMEOUT_S = 10.0
# A waiter that never says the learner process's pid is broken: start a fresh process instead.
PID_TIMEOUT_S = 10.0


class ForkedProcess:
    """What LearnerProcess uses of subprocess.Popen (pid, poll, wait), for a process the launcher forked."""

    def __init__(self, status: socket.socket, pid: int):
        self._status = status
        self._pending = b""
        self.pid = pid
        self.returncode: int | None = None

    @classmethod
    def connect(cls, status: socket.socket) -> ForkedProcess | None:
        first = _read_line(status, PID_TIMEOUT_S, b"")
        if first is None or not isinstance(first[0].get("pid"), int):
            status.close()
            return None
        forked = cls(status, first[0]["pid"])
        forked._pending = first[1]
        return forked

    def _collect(self, timeout: float | None) -> bool:
        if self.returncode is not None:
            return True
        line = _read_line(self._status, timeout, self._pending)
        if line is None:
            return False
        message, self._pending = line
        # A waiter gone without a word: the learner process went with it (PR_SET_PDEATHSIG).
        self.returncode = int(message.get("returncode", -9))
        self._status.close()
        return True

    def poll(self) -> int | None:
        self._collect(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._collect(timeout):
            raise subprocess.TimeoutExpired(f"learner process {self.pid}", timeout or 0)
        assert self.returncode is not None
        return self.returncode


def _read_line(sock: socket.socket, timeout: float | None, pending: bytes) -> tuple[dict[str, Any], bytes] | None:
    """The next JSON line from `sock` (an empty dict at end of file), or None when none came within `timeout`."""
    while b"\n" not in pending:
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return None
        chunk = sock.recv(65536)
        if not chunk:
            return {}, b""
        pending += chunk
    line, _, rest = pending.partition(b"\n")
    try:
        message = json.loads(line)
    except ValueError:
        message = {}
    return (message if isinstance(message, dict) else {}), rest


def fork_learner(channel: socket.socket, root: Path, environment: dict[str, str]) -> ForkedProcess | None:
    """A learner process on `channel`, in `environment`, from the launcher `DLGRADE_LEARNER_LAUNCHER` names; None where
    there is none, it refuses, or it does not answer (the caller then starts a fresh process)."""
    path = os.environ.get(LAUNCHER_ENV)
    if not path:
        return None
    ours, theirs = socket.socketpair()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CONNECT_TIMEOUT_S)
            conn.connect(path)
            request = {"root": str(root), "cwd": os.getcwd(), "env": environment, "watch": os.getpid()}
            socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [channel.fileno(), 1, 2, theirs.fileno()])
            theirs.close()
            answer = _read_line(conn, CONNECT_TIMEOUT_S, b"")
    except OSError:
        answer = None
    finally:
        theirs.close()
    if answer is None or answer[0].get("ok") is not True:
        ours.close()
        return None
    return ForkedProcess.connect(ours)
