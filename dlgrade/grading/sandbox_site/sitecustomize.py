"""Network guard for `dlgrade grade`: Python code in a graded submission may only reach this machine.

`dlgrade grade` puts this folder first on PYTHONPATH, so every Python process of a grading run
(pytest, the learner's scripts, torchrun's ranks) imports it at start-up. Connections to
loopback addresses and Unix sockets stay allowed (the local stand-in hub, gloo's rendezvous);
anything else raises PermissionError. Native code (gloo, NCCL) is not affected: it only talks
to the ranks of the run itself.
"""
import ipaddress
import socket

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo
# torch.distributed looks its own host name up; that stays on this machine.
_OWN_NAMES = {None, "localhost", socket.gethostname()}


def _local(address) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX path
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(address):
    raise PermissionError(f"network access is disabled while grading (tried to reach {address!r})")


def connect(self, address):
    if not _local(address):
        _refuse(address)
    return _connect(self, address)


def connect_ex(self, address):
    if not _local(address):
        _refuse(address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _OWN_NAMES and not _local((str(host), 0)):
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
