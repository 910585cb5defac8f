"""The grader's rules, as pure functions on data: no I/O, no clock, no process.

- `accept`: which results of a run the grader keeps (only checks it collected and still waits
  for, with its own items, weights and limits; text made safe, numbers finite);
- `tamper_reason`: whether a run forged its results (the canary did not report its failure);
- `judge_run`: after a run, what happened to it, which check is blamed and whether to run again;
- `graded_status`: a check's status as a grade counts it (a check that did not pass scores 0,
  whatever the run says, unless the instructor marked it optional);
- `row_total`: what a submission's row scores;
- `clean_text`, `finite`, `json_safe`, `xml_text`: every output escaped for its format.

Messages are English msgids (`N_`) with fields; the grader translates the learner-facing ones.
"""
from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

PASSED, FAILED, NOT_STARTED, SKIPPED = "passed", "failed", "not_started", "skipped"
STATUSES = (PASSED, FAILED, NOT_STARTED, SKIPPED)
GRADED, TAMPERED, UNREADABLE, ERROR = "graded", "tampered", "unreadable", "error"
MAX_RESTARTS = 5
OUTPUT_LIMIT_CHARS = 4000
# Beyond twice a check's limit (setup and call each have one), time to import torch on a busy
# machine and to write results; measured: a first check's imports took up to 6 s here.
WATCHDOG_GRACE_S = 10.0

# Lone surrogates (not encodable as UTF-8), C0/C1 controls but tab and newline, and the two
# non-characters XML 1.0 forbids.
_UNSAFE = re.compile("[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def _msgid(text: str) -> str:
    """Marks a message for the catalogue (dlgrade.core.i18n.N_, kept local so this module imports nothing)."""
    return text


N_ = _msgid


@dataclass(frozen=True)
class CheckMeta:
    """What the grader's own collection says about a check."""

    item: str
    weight: float = 1.0
    time_limit: float = 60.0
    optional: bool = False


@dataclass(frozen=True)
class Reported:
    """One result as a run reported it: untrusted, any field may be anything."""

    nodeid: object
    status: object
    output: object = ""
    duration: object = 0.0


@dataclass(frozen=True)
class Accepted:
    nodeid: str
    item: str
    status: str
    output: str
    weight: float
    duration: float


@dataclass(frozen=True)
class Message:
    """A message for someone: an English msgid and its fields."""

    msgid: str
    fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFacts:
    """What the grader saw of one run.

    code: the exit code, None when the grader killed the run; overrun: the check the watchdog
    stopped; wall_limit: the submission's time ran out; current: the check the run said it was
    in last; canary: the status the run reported for the canary (None: not reported);
    reported_all: every check the run was asked for has a result; sandboxed: bwrap's first
    process passes a signal death on as 128 + signal; overrun_limit: the overrun check's limit."""

    code: int | None
    pending: Sequence[str]
    remaining: Sequence[str]
    canary: str | None = None
    current: str | None = None
    overrun: str | None = None
    wall_limit: bool = False
    reported_all: bool = False
    sandboxed: bool = True
    overrun_limit: float = 0.0


@dataclass(frozen=True)
class Judgement:
    """What a run means: tampered (why), finished, and if not, the blamed check and the reason."""

    tampered: Message | None
    finished: bool
    reason: Message | None = None
    blamed: str | None = None
    stop: bool = False  # the submission's time ran out: fail the rest, no restart


def clean_text(value: object, limit: int = OUTPUT_LIMIT_CHARS) -> str:
    """`value` as text every output format can hold: unsafe characters as \\xNN / \\uNNNN escapes, cut to `limit`."""
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)
    text = text[: limit * 2]  # escapes at most double what is kept
    cleaned = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                          else f"\\u{ord(m.group()):04x}", text)
    return cleaned[:limit]


def finite(value: object) -> float:
    """A duration or score as a finite, non-negative float (anything else: 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else 0.0


def json_safe(value: object) -> object:
    """`value` with every string cleaned and every non-finite number 0: valid UTF-8, valid JSON."""
    if isinstance(value, Mapping):
        return {clean_text(k, 1000): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else 0.0
    return clean_text(value, 1_000_000)


def xml_text(value: object) -> str:
    """Text an XML 1.0 document can hold (ElementTree escapes <, > and &; it does not drop the rest)."""
    return clean_text(value, 1_000_000)


def accept(reported: Sequence[Reported], pending: Mapping[str, CheckMeta],
           accepted: Collection[str]) -> list[Accepted]:
    """The results the grader keeps: checks it collected, that this run was to grade and that have no
    result yet, with a known status; items and weights the grader's own. A check reported twice: the last word."""
    kept: dict[str, Accepted] = {}
    for result in reported:
        nodeid = result.nodeid
        if not isinstance(nodeid, str) or nodeid not in pending or nodeid in accepted:
            continue
        if not isinstance(result.status, str) or result.status not in STATUSES:
            continue
        meta = pending[nodeid]
        kept[nodeid] = Accepted(nodeid=nodeid, item=meta.item, status=result.status,
                                output=clean_text(result.output), weight=meta.weight,
                                duration=finite(result.duration))
    return list(kept.values())


def tamper_reason(canary: str | None, reported_all: bool) -> Message | None:
    """Why a run counts as forged, or None. The canary fails on purpose and runs last: a run that
    reports it otherwise, or that reports every check it was given but not the canary's failure
    (whatever its exit code), wrote its results itself."""
    if canary is not None and canary != FAILED:
        return Message(N_("the grader's canary check reported {status!r}"), {"status": clean_text(canary, 40)})
    if canary is None and reported_all:
        return Message(N_("the run reported every check but not the failure of the grader's canary "
                          "(results written by the submission?)"))
    return None


def judge_run(facts: RunFacts) -> Judgement:
    """What one run of a submission means for its grade."""
    tampered = tamper_reason(facts.canary, facts.reported_all)
    if facts.code is not None and facts.overrun is None and not facts.remaining:
        return Judgement(tampered, finished=True)
    if facts.wall_limit:
        reason = Message(N_("the submission's time limit ran out"))
    elif facts.overrun is not None:
        reason = Message(N_("the check ran past its time limit of {limit:g} s and was stopped by the grader"),
                         {"limit": facts.overrun_limit})
    elif facts.code is None:
        reason = Message(N_("the grading process was killed"))
    elif facts.code < 0 or (facts.sandboxed and facts.code > 128):
        signum = -facts.code if facts.code < 0 else facts.code - 128
        reason = Message(N_("the grading process was killed by signal {signum} (a crash in native code?)"),
                         {"signum": signum})
    else:
        reason = Message(N_("the grading process exited with code {code} before finishing (sys.exit/os._exit?)"),
                         {"code": facts.code})
    blamed = facts.overrun or facts.current
    return Judgement(tampered, finished=False, reason=reason,
                     blamed=blamed if blamed in facts.remaining else None, stop=facts.wall_limit)


def watchdog_overrun(meta: CheckMeta | None, seconds_in_check: float) -> bool:
    """Whether a check has run past what its own limits allow (setup and call), plus a grace."""
    return meta is not None and seconds_in_check > 2 * meta.time_limit + WATCHDOG_GRACE_S


def graded_status(status: str, optional: bool) -> str:
    """A collected check's status as a grade counts it: one that did not run (skipped, xfailed)
    scores 0 like a failure, unless the instructor marked it optional (then it carries no points,
    as in the learner's own runs)."""
    if status == SKIPPED and not optional:
        return FAILED
    return status


def row_total(scores: Sequence[float], status: str) -> float:
    """A submission's total: the sum of its checks' scores, 0 when it is not a plain graded row."""
    return sum(finite(s) for s in scores) if status == GRADED else 0.0
