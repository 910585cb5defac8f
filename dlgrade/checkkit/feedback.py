"""What a failing check tells the learner: what was expected, what came back, where they differ, a hint.

Values are shown by `repr`, so quotes show where a string ends and `None` shows as None; when two
values print alike, their types are named (`'torch.float32' (str)` vs `torch.float32 (torch.dtype)`).
Short values share one line with the message; long ones go on lines of their own, cut around the
first difference (never before it) with a caret under it. A description that is not a value (
"int or float", "3 calls") is passed as `prose("...")` and shown as written.

Learner-facing words go through the catalogue (dlgrade/core/i18n.py): a check writes
`fail(tr("..."), expected=..., got=...)`.
"""
from __future__ import annotations

import reprlib
import unicodedata

from dlgrade.core.i18n import tr

MISSING = object()  # "not given": None is a value and is shown
ONE_LINE_WIDTH = 50  # values whose repr is at most this long stay on the message's line
WINDOW = 100  # characters of a long value shown around its first difference
CONTEXT = 30  # of which before the difference
MAX_REPR = 200_000  # a learner's return value may be megabytes long

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlist = 8
_short.maxdict = 6


class Prose(str):
    """A description shown as written, not a value shown by repr."""


def prose(text: str) -> Prose:
    return Prose(text)


def show(value: object) -> str:
    """A bounded repr for one value on its own (no comparison)."""
    return str(value) if isinstance(value, Prose) else _short.repr(value)


def type_name(value: object) -> str:
    learner_type = getattr(type(value), "dlgrade_type", None) and getattr(value, "dlgrade_type", None)
    if isinstance(learner_type, str):  # an object that stayed in the learner process (dlgrade/boundary)
        return learner_type
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module.split('.')[0]}.{kind.__qualname__}"


def _full(value: object) -> str:
    if isinstance(value, Prose):
        return str(value)
    text = repr(value)
    return text if len(text) <= MAX_REPR else text[:MAX_REPR]


def _first_diff(a: str, b: str) -> int | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _window(text: str, at: int) -> tuple[str, int]:
    """`text` cut to WINDOW characters that include position `at`; returns (cut text, caret column)."""
    if len(text) <= WINDOW:
        return text, at
    start = max(0, min(at - CONTEXT, len(text) - WINDOW))
    end = start + WINDOW
    head = "…" if start > 0 else ""
    return head + text[start:end] + ("…" if end < len(text) else ""), len(head) + at - start


def _element_path(expected: object, got: object, depth: int = 0) -> tuple[str, object, object] | None:
    """Where two containers first differ: ('[3]', 32, 31.5), ("['label']", ...), or None."""
    if depth > 4 or isinstance(expected, (str, bytes)) or isinstance(got, (str, bytes)):
        return None
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in list(expected) + [k for k in got if k not in expected]:
            left, right = expected.get(key, MISSING), got.get(key, MISSING)
            if left is MISSING or right is MISSING or not _same(left, right):
                inner = _element_path(left, right, depth + 1) if MISSING not in (left, right) else None
                path = f"[{key!r}]"
                return (path + inner[0], inner[1], inner[2]) if inner else (path, left, right)
        return None
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        for i, (left, right) in enumerate(zip(expected, got)):
            if not _same(left, right):
                inner = _element_path(left, right, depth + 1)
                return (f"[{i}]" + inner[0], inner[1], inner[2]) if inner else (f"[{i}]", left, right)
        if len(expected) != len(got):
            i = min(len(expected), len(got))
            return f"[{i}]", expected[i] if i < len(expected) else MISSING, got[i] if i < len(got) else MISSING
    return None


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - tensors and arrays compare elementwise; their repr decides
        return repr(a) == repr(b)


def display_width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _labels() -> tuple[str, str]:
    return tr("expected"), tr("got")


def _typed(text: str, value: object) -> str:
    return f"{text} ({type_name(value)})"


def difference(expected: object, got: object) -> list[str]:
    """Lines that show two values and where they differ (the first line may join the message)."""
    expected_label, got_label = _labels()
    given = [(expected_label, expected), (got_label, got)]
    given = [(label, value) for label, value in given if value is not MISSING]
    texts = [_full(value) for _, value in given]
    if len(given) == 2:
        alike = texts[0] == texts[1] or str(expected) == str(got)
        containers = {type(expected), type(got)} <= {list, tuple} and type(expected) is not type(got)
        if type(expected) is not type(got) and (alike or containers) and not isinstance(expected, Prose) \
                and not isinstance(got, Prose):
            texts = [_typed(t, v) for t, (_, v) in zip(texts, given)]
    if all(len(t) <= ONE_LINE_WIDTH and "\n" not in t for t in texts):
        return [", ".join(f"{label} {text}" for (label, _), text in zip(given, texts))]
    width = max(display_width(label) for label, _ in given) + 2
    at = _first_diff(*texts) if len(texts) == 2 and not any(isinstance(v, Prose) for _, v in given) else None
    lines = []
    for (label, _), text in zip(given, texts):
        shown, column = _window(text, at if at is not None else 0)
        lines.append(f"{label}:" + " " * (width - display_width(label) - 1) + shown)
    if at is not None:
        path = _element_path(expected, got)
        if path is not None:
            where, left, right = path
            lines.append(tr("first difference at {path}: {expected_label} {expected}, {got_label} {got}",
                            path=where, expected_label=expected_label, expected=show(left) if left is not MISSING
                            else tr("(nothing)"), got_label=got_label,
                            got=show(right) if right is not MISSING else tr("(nothing)")))
        else:
            position = _first_diff(expected, got) if isinstance(expected, str) and isinstance(got, str) else at
            lines.append(" " * (width + column) + "^ " + tr("first difference at position {index}", index=position))
    return lines


class CheckFailure(AssertionError):
    """A check's verdict on the learner's code, already phrased for the learner."""

    def __init__(self, what: str, *, expected: object = MISSING, got: object = MISSING, hint: str | None = None):
        self.what = what
        self.expected = expected
        self.got = got
        self.hint = hint
        lines = [what]
        if expected is not MISSING or got is not MISSING:
            detail = difference(expected, got)
            if len(detail) == 1:
                lines = [f"{what}: {detail[0]}"]
            else:
                lines += detail
        self.detail = "\n".join(lines)  # the message without the hint (the harness labels the hint itself)
        super().__init__(self.detail + (f"\n{hint}" if hint else ""))


def fail(what: str, *, expected: object = MISSING, got: object = MISSING, hint: str | None = None) -> None:
    raise CheckFailure(what, expected=expected, got=got, hint=hint)


def expect(condition: bool, what: str, *, expected: object = MISSING, got: object = MISSING,
           hint: str | None = None) -> None:
    """Fail with a learner-facing message unless `condition` holds."""
    if not condition:
        fail(what, expected=expected, got=got, hint=hint)


def expect_equal(got: object, expected: object, what: str, *, hint: str | None = None) -> None:
    """Fail unless got == expected (values, not container types), showing both and where they differ."""
    if not _equal(got, expected):
        fail(what, expected=expected, got=got, hint=hint)


def _equal(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - learner values whose == raises (arrays, odd classes) differ
        return False


def expect_type(value: object, types: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, types):
        names = tr(" or ").join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        fail(tr("{what} has the wrong type", what=what), expected=prose(names),
             got=prose(f"{type_name(value)} {show(value)}"))


class CheckTimeout(BaseException):
    """A check ran past its time limit. BaseException so `except Exception` in learner code cannot swallow it."""
