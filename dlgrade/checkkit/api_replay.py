"""Replaying OpenAI HTTP cassettes (vcrpy) with request matching a learner can understand.

vcrpy's default matchers ignore the body, so an image question would silently replay
the text answer. The matchers here compare the JSON body semantically:
- key order does not matter, and API defaults (n=1, stream=false, detail="auto", ...) are
  the same as leaving the key out;
- sampling and length settings (temperature, top_p, seed, max_tokens, ...) are the learner's
  choice: they change how the answer is drawn, not what is asked, so they are ignored;
- a plain string message content equals a one-text-part content list (Chat Completions
  and Responses API alike), and a Responses `input` string equals one user message;
- a `data:` image URL is compared by its decoded pixels, so re-encoding the same image
  (PNG from Pillow instead of the file's bytes) still matches; a JPEG of it matches when
  the pixels are within a small mean error.
When nothing matches, `unanswered()` names the first difference in one line (the replay server
keeps it for the check), e.g.
`model differs: recorded "gpt-4o", yours "gpt-4o-mini"`, or `an extra system message: ...`.
In a recorded conversation (several requests) a request is compared with the recorded
request at its position, e.g. `request 3 of 3: messages[5].content differs: ...`.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from PIL import Image, UnidentifiedImageError
from vcr.matchers import get_matchers_results
from vcr.request import Request

from dlgrade.core.i18n import tr

# Values the API assumes when a key is absent; sending them explicitly changes nothing.
API_DEFAULTS = {
    "n": 1, "stream": False, "presence_penalty": 0, "frequency_penalty": 0,
    "logprobs": False, "parallel_tool_calls": True, "detail": "auto", "strict": False,
}
# Top-level request keys a learner may set to any value: sampling and answer length. The
# recorded answer stands for any draw, so they never decide whether a request matches.
HARMLESS_KEYS = ("temperature", "top_p", "seed", "max_tokens", "max_completion_tokens", "max_output_tokens")
# Roles that carry instructions rather than the user's question.
SYSTEM_ROLES = ("system", "developer")
# Mean absolute pixel difference (0-255 scale) below which two images count as the same
# picture: a quality-95 JPEG of the exercise scene differs from the PNG by about 1.
IMAGE_TOLERANCE = 4.0
# Headers that must never be written into a cassette.
SECRET_HEADERS = ("authorization", "openai-organization", "openai-project", "cookie", "set-cookie", "api-key")
TEXT_PART_TYPES = ("text", "input_text")


@dataclass(frozen=True)
class ImageRef:
    """A decoded data-URL image, compared by pixels."""

    size: tuple[int, int]
    pixels: bytes
    mime: str

    def same_as(self, other: "ImageRef") -> bool:
        if self.size != other.size:
            return False
        a = np.frombuffer(self.pixels, dtype=np.uint8).astype(np.int16)
        b = np.frombuffer(other.pixels, dtype=np.uint8).astype(np.int16)
        return float(np.abs(a - b).mean()) <= IMAGE_TOLERANCE

    def __repr__(self) -> str:
        return f"<{self.mime} image {self.size[0]}x{self.size[1]}>"


def decode_data_url(url: str) -> ImageRef | None:
    """The image inside a `data:image/...;base64,` URL, or None when it is not one."""
    if not isinstance(url, str) or not url.startswith("data:") or ";base64," not in url:
        return None
    header, payload = url.split(",", 1)
    try:
        with Image.open(io.BytesIO(base64.b64decode(payload, validate=True))) as image:
            rgb = image.convert("RGB")
            return ImageRef(size=rgb.size, pixels=rgb.tobytes(), mime=header[5:].split(";")[0])
    except (binascii.Error, UnidentifiedImageError, ValueError):
        return None


def _text_parts(content, part_type: str):
    if isinstance(content, str):
        return [{"type": part_type, "text": content}]
    return content


def normalise(value, key: str | None = None, api: str = "chat"):
    """The canonical form of a request body, for comparison."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in API_DEFAULTS and v == API_DEFAULTS[k]:
                continue
            if k == "type" and v == "message":
                continue
            if k == "content":
                v = _text_parts(v, "text" if api == "chat" else "input_text")
            out[k] = normalise(v, k, api)
        return out
    if isinstance(value, list):
        return [normalise(v, key, api) for v in value]
    if isinstance(value, str) and key in ("url", "image_url"):
        return decode_data_url(value) or value
    return value


def canonical_body(body: bytes | str | None, path: str) -> object:
    if not body:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    api = "responses" if path.rstrip("/").endswith("/responses") else "chat"
    if isinstance(data, dict):
        for key in HARMLESS_KEYS:
            data.pop(key, None)
        if api == "responses" and isinstance(data.get("input"), str):
            data["input"] = [{"role": "user", "content": data["input"]}]
    return normalise(data, api=api)


def grounding_view(canonical: object) -> object:
    """What a grounding request must share with the recording; the instruction's wording is the learner's."""
    if not isinstance(canonical, dict):
        return canonical
    images = []

    def collect(value):
        if isinstance(value, ImageRef):
            images.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(canonical.get("messages", canonical.get("input")))
    response_format = canonical.get("response_format") or {}
    json_schema = response_format.get("json_schema") or {}
    return {
        "model": canonical.get("model"),
        "images": images,
        "response_format.type": response_format.get("type"),
        "response_format.json_schema.schema": json_schema.get("schema"),
        # Without strict the model may leave the schema (no box, a string box): the API only
        # promises the schema in strict mode.
        "response_format.json_schema.strict": json_schema.get("strict", API_DEFAULTS["strict"]),
    }


def _show(value: object, limit: int = 60) -> str:
    plain = isinstance(value, (str, int, float, bool, type(None)))
    text = json.dumps(value, ensure_ascii=False) if plain else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_difference(recorded: object, yours: object, path: str = "") -> str | None:
    """The first place where two canonical bodies differ, in one line; None when they match."""
    where = path or "body"
    if isinstance(recorded, ImageRef) or isinstance(yours, ImageRef):
        if isinstance(recorded, ImageRef) and isinstance(yours, ImageRef) and recorded.same_as(yours):
            return None
        return tr("{path} differs: recorded {recorded}, yours {yours}", path=where, recorded=_show(recorded),
                  yours=_show(yours))
    if isinstance(recorded, dict) and isinstance(yours, dict):
        for k in list(recorded) + [k for k in yours if k not in recorded]:
            sub = f"{path}.{k}" if path else k
            if k not in yours:
                return tr("{path} missing: recorded {recorded}, yours has none", path=sub, recorded=_show(recorded[k]))
            if k not in recorded:
                return tr("{path} not expected: recorded has none, yours {yours}", path=sub, yours=_show(yours[k]))
            diff = first_difference(recorded[k], yours[k], sub)
            if diff:
                return diff
        return None
    if isinstance(recorded, list) and isinstance(yours, list):
        for i, (a, b) in enumerate(zip(recorded, yours)):
            diff = first_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        if len(recorded) != len(yours):
            return tr("{path} has {count} entries, recorded {recorded}", path=where, count=len(yours),
                      recorded=len(recorded))
        return None
    if recorded != yours:
        return tr("{path} differs: recorded {recorded}, yours {yours}", path=where, recorded=_show(recorded),
                  yours=_show(yours))
    return None


def _body_of(request) -> bytes | str | None:
    return getattr(request, "body", None)


def _path_of(request) -> str:
    return urlsplit(request.uri).path


def _instructions(canonical: object) -> list[str]:
    """The system-like parts of a request: `instructions=` and system/developer messages, described."""
    if not isinstance(canonical, dict):
        return []
    found = [f"instructions={_show(canonical['instructions'])}"] if "instructions" in canonical else []
    messages = canonical.get("messages", canonical.get("input"))
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") in SYSTEM_ROLES:
            content = message.get("content")
            if isinstance(content, list):  # canonical form: text parts
                content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
            found.append(tr("a {role} message {content}", role=message["role"], content=_show(content)))
    return found


def extra_instructions(recorded: object, yours: object) -> str | None:
    """'an extra system message: ...' when yours adds instructions the recording does not have."""
    had, sent = _instructions(recorded), _instructions(yours)
    if len(sent) > len(had):
        return tr("an extra system message: the recorded request has {count}, yours sends {extra}; send only what "
                  "the exercise asks for", count=len(had), extra=sent[len(had)])
    return None


def openai_body(r1, r2) -> None:
    """vcrpy matcher: the JSON bodies mean the same request (raises AssertionError otherwise)."""
    recorded, yours = canonical_body(_body_of(r2), _path_of(r2)), canonical_body(_body_of(r1), _path_of(r1))
    diff = extra_instructions(recorded, yours) or first_difference(recorded, yours)
    if diff:
        raise AssertionError(diff)


def openai_grounding(r1, r2) -> None:
    """vcrpy matcher for grounding: same model, image and schema; the wording is free."""
    recorded = grounding_view(canonical_body(_body_of(r2), _path_of(r2)))
    yours = grounding_view(canonical_body(_body_of(r1), _path_of(r1)))
    diff = first_difference(recorded, yours)
    if diff:
        raise AssertionError(diff)


MATCHERS = {"openai_body": openai_body, "openai_grounding": openai_grounding}


def scrub_response(response: dict) -> dict:
    """vcrpy before_record_response: drop secret headers (cookies) from recorded answers."""
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    return response


ENDPOINT_MATCHERS = ("method", "scheme", "host", "port", "path", "uri")


def _in_sequence(cassette, mine) -> str | None:
    """For a recorded conversation (several requests): why `mine` is not the request at its position.

    Its position is the number of requests answered so far. Explaining a multi-turn request against
    request 1 would only say that the message lists differ in length; the request at the same
    position names the message that differs, and a request after the last recorded one is said to
    be one too many. None for the first request of a one-request recording, or when the endpoints
    differ (then the closest recording says more).
    """
    recorded = list(getattr(cassette, "requests", None) or [])
    position = getattr(cassette, "play_count", 0)
    if recorded and position >= len(recorded):
        return tr("request {number} goes past the end of the recorded conversation ({count} in all)",
                  number=position + 1, count=len(recorded))
    if len(recorded) < 2:
        return None
    _matched, failed = get_matchers_results(cassette.filter_request(mine) or mine, recorded[position],
                                            cassette._match_on)
    if not failed or any(name in ENDPOINT_MATCHERS for name, _m in failed):
        return None
    return tr("request {number} of {count}: {why}", number=position + 1, count=len(recorded),
              why=_why_not(recorded[position], failed, mine))


def _why_not(recorded, failed: list[tuple[str, object]], mine) -> str:
    """One line from vcrpy's (matcher name, message) failures of `mine` against `recorded`."""
    if any(name in ENDPOINT_MATCHERS for name, _message in failed):
        return tr("endpoint differs: recorded {recorded}, yours {yours}",
                  recorded=f"{recorded.method} {urlsplit(recorded.uri).path}",
                  yours=f"{mine.method} {urlsplit(mine.uri).path}")
    return str(failed[0][1]).strip().splitlines()[0]


def unanswered(method: str, uri: str, body: bytes | None, cassette) -> str:
    """Why `cassette` has no answer for this request, in one line.

    For a check whose learner code caught the error vcrpy raised (and so hid it): the
    request is compared again with the recorded ones, the way vcrpy compares them; a
    difference in the body is more telling than another recording's endpoint.
    """
    mine = Request(method, uri, body, {})
    reasons = []
    for recorded in cassette.requests:
        _matched, failed = get_matchers_results(mine, recorded, cassette._match_on)
        if not failed:
            return tr("the API was called more often than the check expects")
        reasons.append((any(name in ENDPOINT_MATCHERS for name, _m in failed), _why_not(recorded, failed, mine)))
    in_sequence = _in_sequence(cassette, mine)
    if in_sequence:
        return in_sequence
    return min(reasons)[1] if reasons else tr("nothing is recorded for this check")
