"""OS isolation for `dlgrade grade`: every pytest run of a submission inside a bubblewrap sandbox.

`sandbox_launch()` wraps a command in `bwrap` so that it runs
- as uid 1000 in new user, pid, ipc, uts, network and mount namespaces (`--unshare-all`): the
  network holds loopback only (gloo, torchrun's rendezvous and the local stand-in hub keep
  working); only the run's own processes are visible in /proc; when the grader kills the
  sandbox's first process, the kernel kills every process of the pid namespace, setsid
  daemons included (`--die-with-parent` does the same if the grader itself dies);
- with nothing of the host but read-only binds of the system (/usr), the Python installation
  (at its own path: a virtual environment records it), the virtual environment and the dlgrade
  package at neutral paths (/opt/dlgrade), the mounts the caller names, size-limited tmpfs for
  /tmp, /dev/shm and the caller's scratch folders, and generated /etc/passwd, /etc/group and
  /etc/hosts; everything else is read-only. The instructor's repository, solutions/, other
  submissions and --out do not exist inside. The tmpfs go first and the binds after them, so a
  checkout or environment under /tmp is still there;
- with bwrap's own arguments passed over a file descriptor (`--args`): inside, /proc/1/cmdline
  (bwrap's reaper) shows no host path;
- with the environment the caller gives and nothing else (`--clearenv`);
- under per-process limits set by `prlimit` inside the sandbox (memory as RLIMIT_DATA, which
  counts heap and anonymous mappings but not the shared libraries torch maps; CPU seconds; file
  size; no cores; RLIMIT_NPROC, counted per user namespace) and, where the grader may make
  cgroups, per-sandbox ones (`ResourceCap`): memory (the tmpfs count there too), a CPU quota, a
  process cap. A submission's runs follow one another, so a sandbox's limits are the submission's.

Pitfalls found while building it (kernel 6.x, bubblewrap 0.8):
- RLIMIT_NPROC is not enforced for processes whose uid outside the namespace is 0: when the
  grader runs as root, sandbox uid 1000 maps to root outside and the rlimit is void.
  Dropping to another uid before bwrap fails here (an unprivileged bwrap cannot reach a Python
  under /root; with a real uid != effective uid, bwrap 0.8 fails with "setting up uid map:
  Invalid argument"). The pids cgroup caps processes whatever the uid.
- RLIMIT_AS would count the gigabytes of address space a CUDA build of torch maps at import;
  RLIMIT_DATA does not, and still stops a large allocation.
- `--args FD` carries options only: the command itself must follow on bwrap's real command line.
- bwrap's root is a tmpfs without a size: `--remount-ro /` (and /dev) last, or a run can fill memory there.

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
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sh22x"  # struct ifreq: name, flags, padding to 40 bytes
# gloo and NCCL pick their interface from the host name, which may resolve to an address that
# does not exist inside the namespace; loopback is the only interface there.
LOOPBACK_ENV = {"GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo"}

SANDBOX_UID = 1000
SANDBOX_HOSTNAME = "dlgrade-sandbox"
GiB = 1 << 30
# Where the virtual environment and the running dlgrade package appear inside a sandbox.
NEUTRAL = "/opt/dlgrade"
INSIDE_VENV = f"{NEUTRAL}/venv"
INSIDE_LIB = f"{NEUTRAL}/lib"
INSIDE_SITE = f"{INSIDE_LIB}/dlgrade/grading/sandbox_site"
CPU_PERIOD_US = 100_000


@dataclass(frozen=True)
class Limits:
    """Limits of a sandbox: memory, CPUs and processes for the sandbox as a whole (cgroups, where the
    grader may make them; memory and CPU seconds also per process), file size, each tmpfs's size."""

    memory_bytes: int = 6 * GiB
    processes: int = 256
    cpu_seconds: int = 1800
    cpus: float = 1.0
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


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path for `controller` (v1), or the unified one (v2: controller '')."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller and controller in names.split(",")) or (not controller and names == ""):
            return path
    return None


def _cgroup_parents(controller: str) -> list[Path]:
    """Where a child cgroup for `controller` may go: under this process's own cgroup (limits nest), else the top."""
    v1 = Path("/sys/fs/cgroup") / controller
    if v1.is_dir():
        own = _own_cgroup(controller)
        return [p for p in (v1 / own.lstrip("/") if own else None, v1) if p is not None]
    top = Path("/sys/fs/cgroup")
    try:
        enabled = (top / "cgroup.subtree_control").read_text().split()
    except OSError:
        return []
    return [top] if controller in enabled else []


# The cgroup controllers a sandbox gets, in the order they are made.
_CONTROLLERS = ("pids", "memory", "cpu")


class ResourceCap:
    """Per-sandbox cgroups (pids, memory, cpu), where this machine lets the grader make them.

    The command is started through `sh`, which moves itself into every cgroup before it executes
    the command, so that every process of the sandbox is counted from the first. `missing` names
    the limits that could not be set (the gradebook's notes say so)."""

    def __init__(self, limits: Limits):
        self.paths: dict[str, Path] = {}
        values = {
            "pids": [("pids.max", str(limits.processes))],
            "memory": [("memory.limit_in_bytes", str(limits.memory_bytes)), ("memory.max", str(limits.memory_bytes)),
                       ("memory.memsw.limit_in_bytes", str(limits.memory_bytes)), ("memory.swap.max", "0")],
            "cpu": [("cpu.cfs_period_us", str(CPU_PERIOD_US)),
                    ("cpu.cfs_quota_us", str(int(limits.cpus * CPU_PERIOD_US))),
                    ("cpu.max", f"{int(limits.cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")],
        }
        name = f"dlgrade-{os.getpid()}-{secrets.token_hex(4)}"
        for controller in _CONTROLLERS:
            for parent in _cgroup_parents(controller):
                if self._make(parent / name, values[controller]):
                    self.paths[controller] = parent / name
                    break

    def _make(self, path: Path, settings: list[tuple[str, str]]) -> bool:
        """Make the cgroup (v2: one for every controller) and set the limit files that exist (v1 or v2 names)."""
        shared = path in self.paths.values()
        try:
            path.mkdir(exist_ok=shared)
        except OSError:
            return False
        done = False
        for filename, value in settings:
            if (path / filename).exists():
                try:
                    (path / filename).write_text(value)
                    done = True
                except OSError:
                    if filename not in ("memory.memsw.limit_in_bytes", "memory.swap.max"):  # no swap accounting
                        done = False
                        break
        if not done and not shared:
            try:
                path.rmdir()
            except OSError:
                pass
        return done

    @property
    def missing(self) -> list[str]:
        return [c for c in _CONTROLLERS if c not in self.paths]

    def wrap(self, command: list[str]) -> list[str]:
        procs = sorted({str(p / "cgroup.procs") for p in self.paths.values()})
        if not procs:
            return command
        script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", str(len(procs)), *procs, *command]

    def kill_all(self) -> None:
        """SIGKILL whatever is left in the cgroups (a --no-sandbox run's daemons)."""
        for path in set(self.paths.values()):
            for _ in range(20):
                try:
                    pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
                except (OSError, ValueError):
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.05)

    def close(self) -> None:
        """Remove the cgroups once their processes are gone (the caller killed them)."""
        self.kill_all()
        for path in set(self.paths.values()):
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        self.paths = {}


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


@dataclass(frozen=True)
class PythonLayout:
    """How the running interpreter appears inside a sandbox: binds, its path there, the package root."""

    binds: list[tuple[Path, str]]
    executable: str
    pythonpath: str = f"{INSIDE_SITE}:{INSIDE_LIB}"


def python_layout() -> PythonLayout:
    """The base installation at its own path (a virtual environment names it in pyvenv.cfg and its
    python symlink), the virtual environment at /opt/dlgrade/venv, the running dlgrade package at
    /opt/dlgrade/lib/dlgrade (first on PYTHONPATH, ahead of an editable install that points elsewhere)."""
    import dlgrade

    binds: list[tuple[Path, str]] = []
    base = Path(sys.base_prefix).resolve()
    if not base.is_relative_to("/usr"):
        binds.append((base, str(base)))
    executable = sys.executable
    if sys.prefix != sys.base_prefix:
        prefix = Path(sys.prefix)
        binds.append((prefix.resolve(), INSIDE_VENV))
        executable = f"{INSIDE_VENV}/{Path(sys.executable).relative_to(prefix)}"
    binds.append((Path(dlgrade.__file__).resolve().parent, f"{INSIDE_LIB}/dlgrade"))
    return PythonLayout(binds, executable)


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


@dataclass
class Launch:
    """A sandboxed command ready for Popen: `argv` and the descriptors it must inherit (`pass_fds`).
    bwrap's options travel in a memfd; close() it once the process started. Start it with an empty
    environment and cwd "/": bwrap's reaper (pid 1 inside) keeps both, /proc/1/environ shows them."""

    argv: list[str]
    pass_fds: tuple[int, ...]
    own_fds: list[int] = field(default_factory=list)

    def close(self) -> None:
        for fd in self.own_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.own_fds = []


def sandbox_launch(command: list[str], *, mounts: list[Mount], env: dict[str, str], cwd: str,
                   etc: dict[str, Path], limits: Limits, readonly_root: str | None = None,
                   scratch: tuple[str, ...] = (), keep_fds: tuple[int, ...] = ()) -> Launch:
    """`command` (its interpreter named by its path inside: `python_layout().executable`) in bwrap
    (see the module docstring). `readonly_root`: a tmpfs made read-only after the mounts below it
    are in place; `scratch`: size-limited writable tmpfs (cwd among them, typically); `keep_fds`:
    descriptors the command inherits (the grader's report pipe)."""
    args = ["--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--hostname", SANDBOX_HOSTNAME, "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
            "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm", *_system_binds()]
    for source, dest in python_layout().binds:
        args += ["--ro-bind", str(source), dest]
    for dest, path in etc.items():
        args += ["--ro-bind", str(path), dest]
    if readonly_root:
        args += ["--size", str(1 << 20), "--tmpfs", readonly_root]
    for mount in mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.source), mount.dest]
    for dest in scratch:
        args += ["--size", str(limits.tmp_bytes), "--tmpfs", dest]
    if readonly_root:
        args += ["--remount-ro", readonly_root]
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", cwd]
    fd = os.memfd_create("dlgrade-bwrap-args", 0)
    os.write(fd, b"".join(os.fsencode(a) + b"\0" for a in args))
    os.lseek(fd, 0, os.SEEK_SET)
    return Launch([shutil.which("bwrap") or "bwrap", "--args", str(fd), "--", *limits.prlimit(), *command],
                  (fd, *keep_fds), [fd])


PROBE = ("import socket, pytest, dlgrade; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
         "socket.create_connection(s.getsockname(), timeout=5).close()")


@functools.lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """(whether bwrap can start a sandboxed Python that imports pytest and dlgrade here, a sentence
    saying what holds or the real reason why not). Probed once."""
    for program in ("bwrap", "prlimit"):
        if shutil.which(program) is None:
            return False, (f"`{program}` is not installed (Debian/Ubuntu: apt-get install -y "
                           f"{'bubblewrap' if program == 'bwrap' else 'util-linux'})")
    import tempfile

    layout = python_layout()
    with tempfile.TemporaryDirectory(prefix="dlgrade-probe-") as tmp:
        launch = sandbox_launch([layout.executable, "-P", "-c", PROBE], mounts=[],
                                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": layout.pythonpath},
                                cwd="/tmp", etc=write_etc(Path(tmp)), limits=Limits())
        try:
            proc = subprocess.run(launch.argv, capture_output=True, text=True, timeout=60, pass_fds=launch.pass_fds)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"bwrap could not start a sandbox: {exc}"
        finally:
            launch.close()
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return False, f"a sandboxed Python could not start or import pytest and dlgrade here: {reason[:300]}"
    cap = ResourceCap(Limits())
    missing = cap.missing
    cap.close()
    notes = []
    if missing:
        notes.append(f"no {'/'.join(missing)} cgroup here: " + cap_note(missing))
    return True, "sandboxed: each run in its own bubblewrap sandbox, network loopback only" + \
        (f" ({'; '.join(notes)})" if notes else "")


def cap_note(missing: list[str]) -> str:
    """What holds instead of the cgroup limits that could not be set (the gradebook's notes say it)."""
    words = {"memory": "memory limited per process only",
             "cpu": "no CPU quota (CPU seconds per process only)",
             "pids": "processes capped by RLIMIT_NPROC only" + (", which does not hold for a grader running as root"
                                                                 if os.geteuid() == 0 else "")}
    return ", ".join(words[c] for c in missing)


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
