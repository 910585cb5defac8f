"""A warm pytest for the harness tests: the heavy imports once per worker, every run a fork.

The self-tests run the curriculum checks some 200 times (solutions, stubs, every mutant and
variant), each in a process of its own so that a crash cannot take the others down. Importing
torch, transformers, peft and the rest costs about 6.5 CPU-seconds per process (measured here:
`python -c "import torch, transformers ...; from transformers import Qwen2ForCausalLM, CLIPModel"`,
6.6 s user+sys of 7.0 s wall, idle machine, two runs) — more than most runs spend in the checks.

So each xdist worker keeps one server process that has imported them; a run is a fork of it
that changes to the run's folder and environment and calls `pytest.main`, with its output in a
file. The fork is still a process of its own (own session, killed as a group at the time limit),
so isolation is what it was. Two things keep a warm run equal to a cold one:
- nothing of dlgrade, the checks or the solutions is imported before the fork: dlgrade's paths
  depend on the run's folder and environment;
- a run whose environment differs from the server's in anything but DLGRADE_* and PYTEST_*
  (variables a library may read at import: HF_*, OMP_*, LANG ...) is started cold instead.
torch has run no operation in the server, so it has started no thread pool; forking is safe.

The learner processes the checks start (dlgrade/boundary) would import torch and the rest once more
per run; the server keeps a launcher, a fork of itself, that forks them instead
(dlgrade/boundary/forked.py says the protocol). A run finds it through DLGRADE_LEARNER_LAUNCHER; the
launcher refuses a checks' process whose environment differs from the server's (as above), which then
starts a fresh learner process.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

# What the checks and the solutions import, heaviest first; a missing one is skipped.
PRELOAD = ["torch", "torch.distributed", "torch.nn.parallel", "torchvision", "transformers",
           "transformers.models.qwen2.modeling_qwen2", "transformers.models.clip.modeling_clip",
           "transformers.models.clip.processing_clip", "transformers.models.vit.modeling_vit",
           "transformers.data.data_collator", "peft", "safetensors.torch", "huggingface_hub", "openai",
           "vcr", "hypothesis", "numpy", "PIL.Image", "matplotlib.pyplot", "rich",
           "filelock", "pytest"]


# dlgrade.boundary.forked.LAUNCHER_ENV (the server imports nothing of dlgrade).
LAUNCHER_ENV = "DLGRADE_LEARNER_LAUNCHER"


def _environment_key(env: dict[str, str]) -> dict[str, str]:
    """What of an environment the preloaded libraries may have read (pytest sets PYTEST_CURRENT_TEST per test;
    PYTHONIOENCODING is the server's own, for its pipe)."""
    return {k: v for k, v in env.items() if not k.startswith(("DLGRADE_", "PYTEST_")) and k != "PYTHONIOENCODING"}


class WarmPytest:
    """One server per process; `run` falls back to a cold `python -m pytest` where it must."""

    def __init__(self) -> None:
        self._server: subprocess.Popen | None = None
        self.launcher: str | None = None  # the server's learner-process launcher (its socket)
        self._server_env: dict[str, str] = {}

    def start(self, env: dict[str, str]) -> subprocess.Popen:
        """The server, started in `env` unless it runs already (its launcher's socket is then `self.launcher`)."""
        if self._server is None or self._server.poll() is not None:
            self._server_env = _environment_key(env)
            self._server = subprocess.Popen(
                [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env={**env, "PYTHONIOENCODING": "utf-8"}, cwd=Path(__file__).parent, text=True)
            self.launcher = json.loads(self._server.stdout.readline())["launcher"]
        return self._server

    def run(self, args: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
        """(exit code, stdout and stderr) of `python -m pytest ARGS` in `cwd` with `env`."""
        if os.environ.get("DLGRADE_COLD_PYTEST") or (self._server is not None and self._server.poll() is None
                                                     and _environment_key(env) != self._server_env):
            return self._cold(args, cwd=cwd, env=env, timeout=timeout)
        server = self.start(env)
        with tempfile.NamedTemporaryFile(prefix="warm-pytest-", suffix=".log", delete=False) as log:
            output = Path(log.name)
        try:
            server.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "env": env, "output": str(output)}) + "\n")
            server.stdin.flush()
            pid = json.loads(server.stdout.readline())["pid"]
            ready, _, _ = select.select([server.stdout], [], [], timeout)
            if not ready:
                os.killpg(pid, signal.SIGKILL)
                server.stdout.readline()
                raise subprocess.TimeoutExpired(["pytest", *args], timeout, output.read_text(errors="replace"))
            returncode = json.loads(server.stdout.readline())["returncode"]
            return returncode, output.read_text(encoding="utf-8", errors="replace")
        except (BrokenPipeError, json.JSONDecodeError, KeyError):  # the server died: this run goes cold
            self._server = None
            return self._cold(args, cwd=cwd, env=env, timeout=timeout)
        finally:
            output.unlink(missing_ok=True)

    def stop(self) -> None:
        """End the server (its launcher and the learner processes it forked go with it)."""
        if self._server is not None:
            self._server.kill()
            self._server.wait()
            self._server = None

    @staticmethod
    def _cold(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
        proc = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, env=env)
        return proc.returncode, proc.stdout + proc.stderr


def _child(request: dict, launcher: str) -> None:
    """In the fork: become `python -m pytest ARGS` run in the request's folder and environment."""
    try:
        os.setsid()
        fd = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[LAUNCHER_ENV] = launcher
        sys.path[0] = request["cwd"]  # as `python -m` puts the current folder first
        # Plugins the server preloaded (hypothesis, anyio through openai) cannot have
        # their asserts rewritten, and pytest warns so on every run; a cold run would not, nor do their asserts matter.
        args = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *request["args"]]
        sys.argv = ["pytest", *args]
        import pytest

        code = int(pytest.main(args))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except BaseException:  # noqa: BLE001 - whatever happens, the fork must not return into the server loop
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(70)


def _launcher(listener: socket.socket, env_key: dict[str, str]) -> None:
    """In a fork of the preloaded server: fork a learner process for each checks' process that asks."""
    try:
        with contextlib.suppress(Exception):  # go with the server
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)  # the server's request pipe and answer pipe are not the launcher's
        os.dup2(null, 1)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # waiters are reaped by the kernel
        while True:
            conn, _ = listener.accept()
            fds: list[int] = []
            with conn:
                try:
                    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
                    while message and not message.endswith(b"\n"):
                        message += conn.recv(1 << 20)
                    request = json.loads(message)
                    usable = len(fds) == 4 and _environment_key(request["env"]) == env_key
                    if usable and os.fork() == 0:
                        listener.close()
                        _waiter(request, fds)
                    conn.sendall(b'{"ok": true}\n' if usable else b'{"refused": "another environment"}\n')
                except (OSError, ValueError, KeyError, TypeError):
                    pass
                finally:
                    for fd in fds:
                        os.close(fd)
    finally:
        os._exit(0)


def _waiter(request: dict, fds: list[int]) -> None:
    """Fork the learner process, say its pid and, once it has ended, its exit code; kill it when the
    checks' process ends first."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        channel, stdout, stderr, status_fd = fds
        status = socket.socket(fileno=status_fd)
        pid = os.fork()
        if pid == 0:
            status.close()
            _learner(request, channel, stdout, stderr)
        for fd in (channel, stdout, stderr):
            os.close(fd)
        learner = os.pidfd_open(pid)
        watched = [learner]
        try:
            watched.append(os.pidfd_open(int(request["watch"])))
        except OSError:  # the checks' process has ended already
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            status.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        while learner not in select.select(watched, [], [])[0]:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            watched = [learner]
        _, code = os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            status.sendall(json.dumps({"returncode": os.waitstatus_to_exitcode(code)}).encode() + b"\n")
    finally:
        os._exit(0)


def _learner(request: dict, channel: int, stdout: int, stderr: int) -> None:
    """Become `python -m dlgrade.boundary.child CHANNEL ROOT`, started in the checks' folder and environment."""
    try:
        os.setsid()
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.close(stdout)
        os.close(stderr)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[0] = request["cwd"]
        from dlgrade.boundary import child

        sys.argv = [child.__file__, str(channel), request["root"]]
        code = child.main(sys.argv[1:])
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except BaseException:  # noqa: BLE001 - the fork must not return into the waiter
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(70)


def serve() -> None:
    # Before the imports: some set variables of their own, which a checks' process started from a
    # request's environment does not have.
    env_key = _environment_key(dict(os.environ))
    import matplotlib

    matplotlib.use("Agg")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    launcher = str(Path(tempfile.mkdtemp(prefix="dlgrade-launcher-")) / "socket")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(launcher)
    listener.listen(16)
    if os.fork() == 0:
        _launcher(listener, env_key)
    listener.close()
    print(json.dumps({"launcher": launcher}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request, launcher)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    serve()
