"""One pytest run of `dlgrade grade`, launched, watched and collected from outside.

A run starts in a fresh workspace, inside a bubblewrap sandbox (dlgrade/grading/sandbox.py) or,
with --no-sandbox, in a network namespace where the kernel allows one; every process of it goes
into per-run cgroups where the grader may make them. The run reports to the grader over a pipe
the grader owns (dlgrade/grading/run_guard.py: the collected checks, the check it is in, each
result), never through a file: nothing the run leaves in its folders is ever opened by the
grader. The pipe is read by a thread with a byte cap and a deadline, so a run that floods it,
keeps it open from a daemon or never writes cannot hold the grader. Its output goes to the
submission's log, capped. The grader kills the run when the submission's time runs out or when
a check overruns what its limits allow (the watchdog), and always when it ends.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from dlgrade.core.project import Project
from dlgrade.grading import policy
from dlgrade.grading import run_guard as gradeguard
from dlgrade.grading import sandbox as isolation

SANDBOX_SITE = Path(__file__).resolve().parent / "sandbox_site"
GRADER_FILES = ("checks", "fixtures", "curriculum.toml", "conftest.py", "pyproject.toml")
INSIDE = "/grading"
LOG_LIMIT_BYTES = 1_000_000
CHANNEL_LIMIT_BYTES = 16_000_000
CHANNEL_DRAIN_S = 2.0
POLL_S = 0.1


class Interrupted(Exception):
    """Grading was stopped by SIGINT/SIGTERM."""


@dataclass(frozen=True)
class RunSettings:
    sandbox: bool
    limits: isolation.Limits
    hidden: Path | None = None
    time_cap: float | None = None
    lang: str = "en"


@dataclass
class RunOutcome:
    code: int | None  # None: killed by the grader
    results: list[policy.Reported]
    canary: str | None
    current: str | None
    overrun: str | None = None
    wall_limit: bool = False
    collected: dict[str, object] | None = None
    channel_note: str | None = None
    uncapped: list[str] = field(default_factory=list)  # limits no cgroup could hold in this run


class Channel:
    """The pipe a run reports on: JSON lines, read by a thread, at most CHANNEL_LIMIT_BYTES believed."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_inheritable(self.write_fd, True)
        self.results: list[policy.Reported] = []
        self.current: str | None = None
        self.collected: dict[str, object] | None = None
        self.note: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        """After the run started: the grader's copy of the write end closes, the reading begins."""
        os.close(self.write_fd)
        self._thread.start()

    def _read(self) -> None:
        received, pending = 0, b""
        while True:
            ready, _, _ = select.select([self.read_fd], [], [], POLL_S)
            if not ready:
                if self._stop.is_set():
                    return
                continue
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return
            if received >= CHANNEL_LIMIT_BYTES:
                continue  # drained, not believed
            received += len(chunk)
            if received >= CHANNEL_LIMIT_BYTES:
                self.note = f"the run sent more than {CHANNEL_LIMIT_BYTES} bytes of results: the rest was ignored"
                chunk = chunk[: len(chunk) - (received - CHANNEL_LIMIT_BYTES)]
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self._take(line)

    def _take(self, line: bytes) -> None:
        try:
            message = json.loads(line.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            return
        if not isinstance(message, dict):
            return
        if isinstance(message.get("current"), str):
            self.current = message["current"]
        result = message.get("result")
        if isinstance(result, dict):
            self.results.append(policy.Reported(result.get("nodeid"), result.get("status"), result.get("output", ""),
                                                result.get("duration", 0.0)))
        if isinstance(message.get("collected"), dict):
            self.collected = message["collected"]

    def finish(self) -> None:
        """After the run ended: read what is left for a moment (a daemon may hold the pipe open), then close."""
        self._stop.set()
        self._thread.join(timeout=CHANNEL_DRAIN_S + 2 * POLL_S)
        if not self._thread.is_alive():
            os.close(self.read_fd)

    def abandon(self) -> None:
        """The run never started: close both ends."""
        for fd in (self.read_fd, self.write_fd):
            os.close(fd)


class Runner:
    """Starts, watches and stops the runs; `stop` and `kill_all` serve SIGINT/SIGTERM."""

    def __init__(self, settings: RunSettings):
        self.settings = settings
        self.stop = threading.Event()
        self.lock = threading.RLock()  # the signal handler takes it too, maybe while another thread holds it
        self.live: set[subprocess.Popen[bytes]] = set()

    def kill_all(self) -> None:
        with self.lock:
            for proc in list(self.live):
                _kill(proc)

    def _prepare(self, run_dir: Path, snapshot: Path | None, visibility: str) -> str:
        """A fresh workspace; returns the root the checks see (/grading inside the sandbox)."""
        for name in ("grader", "submission", "scratch", "tmp"):
            (run_dir / name).mkdir()
        if self.settings.sandbox:
            return INSIDE  # the snapshot is bound read-only, scratch is a tmpfs
        if snapshot is not None:
            shutil.copytree(snapshot, run_dir / "submission", dirs_exist_ok=True)
        root = Project.locate().root
        for name in GRADER_FILES:
            source = root / name
            if source.is_dir():
                shutil.copytree(source, run_dir / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, run_dir / name)
        if visibility == "hidden" and self.settings.hidden is not None:
            shutil.copytree(self.settings.hidden, run_dir / "hidden_checks",
                            ignore=shutil.ignore_patterns("__pycache__"))
        return str(run_dir)

    def _env(self, root: str, run_dir: Path, pythonpath: str, python: str) -> dict[str, str]:
        """The whole environment of a run: nothing of the grader's (no keys, no tokens).

        Not PYTHONSAFEPATH: the learner's scripts import their sibling modules (ex1_ddp.py imports
        ex1_distributed_common). Only the pytest process gets -P, so that nothing in its working
        folder shadows dlgrade. Not HF_HUB_OFFLINE: the download checks serve a stand-in hub on
        loopback, and the network namespace keeps everything else out."""
        tmp = "/tmp" if self.settings.sandbox else str(run_dir / "tmp")
        return {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp,
                "LANG": "C.UTF-8", "USER": "learner", "LOGNAME": "learner", "DLGRADE_ROOT": root,
                "DLGRADE_LANG": self.settings.lang, "PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1",
                "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", **isolation.LOOPBACK_ENV}

    def _launch(self, run_dir: Path, snapshot: Path | None, visibility: str, args: list[str],
                channel: Channel, cap: isolation.ResourceCap) -> subprocess.Popen[bytes]:
        root = Project.locate().root
        launch: isolation.Launch | None = None
        if self.settings.sandbox:
            layout = isolation.python_layout()
            env = self._env(INSIDE, run_dir, layout.pythonpath, layout.executable)
            mounts = [isolation.Mount(root / name, f"{INSIDE}/{name}") for name in GRADER_FILES
                      if (root / name).exists()]
            if visibility == "hidden" and self.settings.hidden is not None:
                mounts.append(isolation.Mount(self.settings.hidden, f"{INSIDE}/hidden_checks"))
            mounts += [isolation.Mount(run_dir / "grader", f"{INSIDE}/grader"),
                       isolation.Mount(snapshot or run_dir / "submission", f"{INSIDE}/submission")]
            launch = isolation.sandbox_launch(
                [layout.executable, "-P", "-m", "pytest", *args], mounts=mounts, env=env, cwd=f"{INSIDE}/scratch",
                etc=isolation.write_etc(run_dir / "etc"), limits=self.settings.limits, readonly_root=INSIDE,
                scratch=(f"{INSIDE}/scratch",), keep_fds=(channel.write_fd,))
            command, pass_fds, cwd = cap.wrap(launch.argv), launch.pass_fds, Path("/")
            env = {}
        else:
            env = self._env(str(run_dir), run_dir, str(SANDBOX_SITE), sys.executable)
            prefix, _ = isolation.network_namespace()
            command = cap.wrap([*(prefix or []), sys.executable, "-P", "-m", "pytest", *args])
            pass_fds, cwd = (channel.write_fd,), run_dir / "scratch"
        try:
            with self.lock:
                if self.stop.is_set():
                    raise Interrupted()
                proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                        pass_fds=pass_fds)
                self.live.add(proc)
        finally:
            if launch is not None:
                launch.close()
        return proc

    def run(self, run_dir: Path, snapshot: Path | None, visibility: str, check_paths: list[str], extra: list[str],
            log: BinaryIO, *, canary_item: str | None = None, watch: dict[str, policy.CheckMeta] | None = None,
            deadline: float | None = None) -> RunOutcome:
        """One pytest process in the fresh workspace `run_dir`, watched from outside. `canary_item`: run the
        grader's canary check (as that item's) last; `watch`: the checks whose limits the watchdog enforces."""
        root = self._prepare(run_dir, snapshot, visibility)
        args = [f"{root}/{p}" for p in check_paths]
        canary = None
        if canary_item is not None:
            canary = gradeguard.write_canary(run_dir / "grader", secrets.token_hex(8), canary_item)
            args.append(f"{root}/grader/{canary[0].name}")
        channel = Channel()
        args += [*extra, "-q", "-p", "no:cacheprovider", "--no-header", "-p", "dlgrade.grading.run_guard",
                 "--dlgrade-channel", str(channel.write_fd), "--target", f"{root}/submission",
                 "--dlgrade-visibility", visibility]
        if self.settings.time_cap:
            args += ["--dlgrade-time-cap", str(self.settings.time_cap)]
        cap = isolation.ResourceCap(self.settings.limits)
        uncapped = list(cap.missing)
        try:
            proc = self._launch(run_dir, snapshot, visibility, args, channel, cap)
        except BaseException:
            cap.close()
            channel.abandon()
            raise
        channel.start()
        pump = threading.Thread(target=_pump, args=(proc, log), daemon=True)
        pump.start()
        overrun, wall_limit, current, since = None, False, None, time.monotonic()
        try:
            while proc.poll() is None:
                if self.stop.is_set():
                    raise Interrupted()
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    wall_limit = True
                    break
                if watch is not None:
                    if channel.current != current:
                        current, since = channel.current, now
                    if policy.watchdog_overrun(watch.get(current or ""), now - since):
                        overrun = current
                        break
                time.sleep(POLL_S)
        finally:
            _kill(proc)
            proc.wait()
            cap.close()
            pump.join(timeout=5)
            channel.finish()
            with self.lock:
                self.live.discard(proc)
        reported = [r.status for r in channel.results if canary is not None and isinstance(r.nodeid, str)
                    and r.nodeid.endswith(f"::{canary[1]}")]
        # A canary reported with a status that is not even text is as forged as a passing one.
        canary_status = None if not reported else reported[-1] if isinstance(reported[-1], str) else "?"
        killed = overrun is not None or wall_limit
        return RunOutcome(None if killed else proc.returncode, channel.results, canary_status, channel.current,
                          overrun, wall_limit, channel.collected, channel.note, uncapped)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # in the sandbox: its pid namespace goes with it
    except (ProcessLookupError, PermissionError):
        pass


def _pump(proc: subprocess.Popen[bytes], log: BinaryIO) -> None:
    """Copy the run's output into the log, up to LOG_LIMIT_BYTES; drain the rest so the run never blocks."""
    written = 0
    assert proc.stdout is not None
    for chunk in iter(lambda: proc.stdout.read(65536), b""):  # type: ignore[union-attr]
        if written < LOG_LIMIT_BYTES:
            log.write(chunk[: LOG_LIMIT_BYTES - written])
            written += len(chunk)
