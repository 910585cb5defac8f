"""OS-level network isolation for `dlgrade grade`: each grading run in a network namespace of its own.

The Python-level guard (dlgrade/sandbox/sitecustomize.py) gives a learner a clear message, but
a submission can step around it (`python -I` or `-S` skips sitecustomize, native code and
other programs never see it). Where the kernel lets us, the grading process therefore starts
in a new network namespace (`unshare --net`, with `--map-root-user` when not root) that holds
only a loopback interface: gloo, torchrun's rendezvous and the local stand-in hub keep working,
everything else is unreachable. Where namespaces are not allowed (some containers, Ubuntu
24.04's AppArmor rule for unprivileged user namespaces), grading goes on with the Python guard
alone and says so. DLGRADE_NETWORK_NAMESPACE=off turns the namespace off by hand.

Run as `python -m dlgrade.isolation COMMAND...` inside the new namespace: brings the loopback
interface up (a fresh namespace has it down; no `ip` binary needed) and executes COMMAND.
"""
from __future__ import annotations

import fcntl
import functools
import os
import shutil
import socket
import struct
import subprocess
import sys

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_IFREQ = "16sh22x"  # struct ifreq: name, flags, padding to 40 bytes
# gloo and NCCL pick their interface from the host name, which may resolve to an address that
# does not exist inside the namespace; loopback is the only interface there.
LOOPBACK_ENV = {"GLOO_SOCKET_IFNAME": "lo", "NCCL_SOCKET_IFNAME": "lo"}


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

    Probed once: the prefix must start a Python that can bring loopback up and listen on it."""
    if os.environ.get("DLGRADE_NETWORK_NAMESPACE") == "off":
        return None, "Python-level network guard only (DLGRADE_NETWORK_NAMESPACE=off)"
    if shutil.which("unshare") is None:
        return None, "Python-level network guard only (no `unshare` command here)"
    prefix = [*_unshare_command(), sys.executable, "-m", "dlgrade.isolation"]
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
        raise SystemExit("usage: python -m dlgrade.isolation COMMAND...")
    bring_loopback_up()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
