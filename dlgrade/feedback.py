"""What a failing check tells the learner: one or two lines, expected / got / hint."""
from __future__ import annotations

import reprlib

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlist = 8
_short.maxdict = 6


def show(value: object) -> str:
    """A bounded repr: a learner's return value may be megabytes long."""
    return _short.repr(value)


class CheckFailure(AssertionError):
    """A check's verdict on the learner's code, already phrased for the learner."""

    def __init__(self, what: str, *, expected: object = None, got: object = None, hint: str | None = None):
        self.what = what
        self.expected = expected
        self.got = got
        self.hint = hint
        parts = [what]
        detail = []
        if expected is not None:
            detail.append(f"expected {expected if isinstance(expected, str) else show(expected)}")
        if got is not None:
            detail.append(f"got {got if isinstance(got, str) else show(got)}")
        if detail:
            parts.append(", ".join(detail))
        message = ": ".join(parts)
        if hint:
            message += f"\n{hint}"
        super().__init__(message)


def fail(what: str, *, expected: object = None, got: object = None, hint: str | None = None) -> None:
    raise CheckFailure(what, expected=expected, got=got, hint=hint)


def expect(condition: bool, what: str, *, expected: object = None, got: object = None, hint: str | None = None) -> None:
    """Fail with a learner-facing message unless `condition` holds."""
    if not condition:
        fail(what, expected=expected, got=got, hint=hint)


def expect_type(value: object, types: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        fail(f"{what} has the wrong type", expected=names, got=f"{type(value).__name__} {show(value)}")


class CheckTimeout(BaseException):
    """A check ran past its time limit. BaseException so `except Exception` in learner code cannot swallow it."""
