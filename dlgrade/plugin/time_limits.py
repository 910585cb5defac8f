"""Every check's setup and call each get a time limit; a check that runs past it fails with a message.

The limit is the check's `@pytest.mark.time_limit(seconds)`, else the `dlgrade_time_limit` ini
setting (60 s). `dlgrade grade` reads the same limits (dlgrade/grading/run_guard.py).

PYTEST_DONT_REWRITE (see dlgrade/plugin/__init__.py).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from types import FrameType

import pytest

from dlgrade.checkkit.feedback import CheckTimeout
from dlgrade.core.i18n import N_, tr
from dlgrade.plugin.state import item_id


def time_limit(item: pytest.Item) -> float:
    """A curriculum check's limit in seconds; 0 (none) for other tests, such as the harness's own."""
    marker = item.get_closest_marker("time_limit")
    if marker:
        return float(marker.args[0])
    if item_id(item) is None:
        return 0.0
    return float(item.config.getini("dlgrade_time_limit"))


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """Raise CheckTimeout in the main thread after `seconds` (SIGALRM; a no-op where that is unavailable)."""
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise CheckTimeout(tr(what, seconds=f"{seconds:g}"))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with deadline(time_limit(item), N_("preparing this check ran past its time limit of {seconds} s")):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with deadline(time_limit(item), N_("this check ran past its time limit of {seconds} s")):
        return (yield)
