"""OS isolation for `dlgrade grade`: every pytest run of a submission inside a bubblewrap sandbox.

`sandbox_command()` wraps a command in `bwrap` so that it runs
- as uid 1000 in new user, pid, ipc, uts, network and mount namespaces (`--unshare-all`): the
  network holds loopback only (gloo, torchrun's rendezvous and the local stand-in hub keep
  working); only the run's own processes are visible in /proc; when the grader kills the
  sandbox's first process, the kernel kills every process of the pid namespace, setsid
  daemons included (`--die-with-parent` does the same if the grader itself dies);
- with nothing of the host but read-only binds of the system (/usr), the Python installation,
  its virtual environment and the dlgrade package, the mounts the caller names (checks and
  fixtures read-only; the submission's copy and one scratch folder writable), a small private
  /tmp, and generated /etc/passwd, /etc/group and /etc/hosts; the instructor's repository,
  solutions/, other submissions and --out do not exist inside;
- with the environment the caller gives and nothing else (`--clearenv`);
- under resource limits set by `prlimit` inside the sandbox: memory (RLIMIT_DATA, which counts
  heap and anonymous mappings but not the shared libraries torch maps), process count
  (RLIMIT_NPROC, counted per user namespace, so per sandbox), CPU seconds, file size, no cores.

Pitfalls found while building it (kernel 6.x, bubblewrap 0.8):
- RLIMIT_NPROC is not enforced for processes whose uid outside the namespace is 0: when the
  grader runs as root, sandbox uid 1000 maps to root outside and the rlimit is void.
  Dropping to another uid before bwrap fails here (an unprivileged bwrap cannot reach a Python
  under /root; with a real uid != effective uid, bwrap 0.8 fails with "setting up uid map:
  Invalid argument"). So where the grader may make cgroups (root, mostly), each sandbox also
  goes into a pids cgroup of its own (`ProcessCap`), which caps processes whatever the uid.
  Memory and CPU limits hold either way.
- RLIMIT_AS would count the gigabytes of address space a CUDA build of torch maps at import;
  RLIMIT_DATA does not, and still stops a large allocation.

`network_namespace()` is what `--no-sandbox` keeps: the run in a network namespace of its own
(`unshare --net`) where the kernel allows it. Run as `python -m dlgrade.grading.sandbox COMMAND...`
inside that namespace: brings loopback up (no `ip` binary needed) and executes COMMAND.
"""
from __future__ import annotations

import fcntl
import functools
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sh22x"  # struct ifreq: name, flags, padding to 40 bytes
# gloo and NCCL pick their interface from the host name, which may resolve to an address that
# does not exist inside the namespace; loopback is the only interface there.
LOOPBACK_ENV = {"GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo"}

SANDBOX_UID = 1000
SANDBOX_HOSTNAME = "dlgrade-sandbox"
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Per-process limits inside a sandbox (the process count is per sandbox)."""

    memory_bytes: int = 6 * GiB
    processes: int = 256
    cpu_seconds: int = 1800
    file_bytes: int = 1 * GiB
    tmp_bytes: int = 1 * GiB

    def prlimit(self) -> list[str]:
        return ["prlimit", f"--data={self.memory_bytes}", f"--nproc={self.processes}", f"--cpu={self.cpu_seconds}",
                f"--fsize={self.file_bytes}", "--core=0", "--"]


@dataclass(frozen=True)
class Mount:
    source: Path
    dest: str
    writable: bool = False


def _python_paths() -> list[Path]:
    """What the interpreter needs: its installation, the virtual environment, the dlgrade package."""
    import dlgrade

    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(dlgrade.__file__).resolve().parent]
    out: list[Path] = []
    for path in paths:
        path = path.resolve()
        if path.is_relative_to("/usr") or any(path.is_relative_to(p) for p in out):
            continue
        out = [p for p in out if not p.is_relative_to(path)] + [path]
    return out


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    for name in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if Path(name).exists():
            args += ["--ro-bind", name, name]
    return args


class ProcessCap:
    """A pids cgroup for one sandbox, where this machine lets the grader make one (else inert).

    The command is started through `sh`, which moves itself into the cgroup before it executes
    the command, so that every process of the sandbox is counted from the first."""

    ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1, v2

    def __init__(self, limit: int):
        self.path: Path | None = None
        for root in self.ROOTS:
            path = root / f"dlgrade-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(limit))
                self.path = path
                return
            except OSError:
                path.rmdir()

    def wrap(self, command: list[str]) -> list[str]:
        if self.path is None:
            return command
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *command]

    def close(self) -> None:
        """Remove the cgroup once its processes are gone (the caller killed them)."""
        for _ in range(50):
            try:
                if self.path is not None:
                    self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def write_etc(folder: Path) -> dict[str, Path]:
    """passwd, group and hosts for inside: the sandbox user, and the host name on loopback (gloo resolves it)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "/etc/passwd": f"root:x:0:0::/:/usr/sbin/nologin\nlearner:x:{SANDBOX_UID}:{SANDBOX_UID}::/tmp:/bin/sh\n",
        "/etc/group": f"root:x:0:\nlearner:x:{SANDBOX_UID}:\n",
        "/etc/hosts": f"127.0.0.1 localhost {SANDBOX_HOSTNAME}\n::1 localhost ip6-localhost\n",
    }
    out = {}
    for dest, text in files.items():
        path = folder / Path(dest).name
        path.write_text(text)
        out[dest] = path
    return out


def sandbox_command(command: list[str], *, mounts: list[Mount], env: dict[str, str], cwd: str, etc: dict[str, Path],
                    limits: Limits, readonly_root: str | None = None) -> list[str]:
    """`command` wrapped in bwrap (see the module docstring). `readonly_root`: a tmpfs made read-only
    after the mounts below it are in place, so that nothing but those mounts is writable there."""
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", SANDBOX_HOSTNAME, "--die-with-parent", "--new-session", *_system_binds()]
    for path in _python_paths():
        args += ["--ro-bind", str(path), str(path)]
    for dest, path in etc.items():
        args += ["--ro-bind", str(path), dest]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
             "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm"]
    if readonly_root:
        args += ["--size", str(1 << 20), "--tmpfs", readonly_root]
    for mount in mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.dest]
    if readonly_root:
        args += ["--remount-ro", readonly_root]
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", cwd, "--", *limits.prlimit(), *command]
    return args


@functools.lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """(whether bwrap can start a sandboxed Python here, a sentence saying why not / what holds). Probed once."""
    for program in ("bwrap", "prlimit"):
        if shutil.which(program) is None:
            return False, (f"`{program}` is not installed (Debian/Ubuntu: apt-get install -y "
                           f"{'bubblewrap' if program == 'bwrap' else 'util-linux'})")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dlgrade-probe-") as tmp:
        probe = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); " \
                "socket.create_connection(s.getsockname(), timeout=5).close()"
        command = sandbox_command([sys.executable, "-P", "-c", probe], mounts=[], env={"PATH": "/usr/bin:/bin"},
                                  cwd="/tmp", etc=write_etc(Path(tmp)), limits=Limits())
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"bwrap could not start a sandbox: {exc}"
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return False, f"bwrap could not start a sandbox here: {reason[:200]}"
    cap = ProcessCap(Limits().processes)
    cap.close()
    root_note = " (the grader runs as root and cannot make a pids cgroup: no process cap)" \
        if os.geteuid() == 0 and cap.path is None else ""
    return True, f"sandboxed: each run in its own bubblewrap sandbox, network loopback only{root_note}"


def bring_loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def _unshare_command() -> list[str]:
    command = ["unshare", "--net"]
    if os.geteuid() != 0:
        command.append("--map-root-user")
    return command


@functools.lru_cache(maxsize=1)
def network_namespace() -> tuple[list[str] | None, str]:
    """(the command prefix that starts a process offline, or None; a sentence saying which guard holds).

    For --no-sandbox runs. Probed once: the prefix must start a Python that can bring loopback up and listen on it."""
    if os.environ.get("DLGRADE_NETWORK_NAMESPACE") == "off":
        return None, "Python-level network guard only (DLGRADE_NETWORK_NAMESPACE=off)"
    if shutil.which("unshare") is None:
        return None, "Python-level network guard only (no `unshare` command here)"
    prefix = [*_unshare_command(), sys.executable, "-m", "dlgrade.grading.sandbox"]
    probe = "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); " \
            "socket.create_connection(s.getsockname(), timeout=5).close()"
    try:
        proc = subprocess.run([*prefix, sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"Python-level network guard only (unshare --net failed: {exc})"
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["exit code %d" % proc.returncode])[-1]
        return None, f"Python-level network guard only (unshare --net not allowed here: {reason[:160]})"
    return prefix, "network off: each run in its own network namespace (loopback only) plus the Python guard"


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m dlgrade.grading.sandbox COMMAND...")
    bring_loopback_up()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
