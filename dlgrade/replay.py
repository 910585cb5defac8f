"""Replaying OpenAI HTTP cassettes (vcrpy) with request matching a learner can understand.

vcrpy's default matchers ignore the body, so an image question would silently replay
the text answer. The matchers here compare the JSON body semantically:
- key order does not matter, and API defaults (n=1, temperature=1, stream=false,
  detail="auto", ...) are the same as leaving the key out;
- a plain string message content equals a one-text-part content list (Chat Completions
  and Responses API alike), and a Responses `input` string equals one user message;
- a `data:` image URL is compared by its decoded pixels, so re-encoding the same image
  (PNG from Pillow instead of the file's bytes) still matches; a JPEG of it matches when
  the pixels are within a small mean error.
When nothing matches, `explain()` names the first difference in one line, e.g.
`model differs: recorded "gpt-4o", yours "gpt-4o-mini"`.
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
from vcr.errors import CannotOverwriteExistingCassetteException

# Values the API assumes when a key is absent; sending them explicitly changes nothing.
API_DEFAULTS = {
    "n": 1, "temperature": 1, "top_p": 1, "stream": False, "presence_penalty": 0, "frequency_penalty": 0,
    "logprobs": False, "parallel_tool_calls": True, "detail": "auto", "strict": False,
}
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
    if api == "responses" and isinstance(data, dict) and isinstance(data.get("input"), str):
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
    return {
        "model": canonical.get("model"),
        "images": images,
        "response_format.type": response_format.get("type"),
        "response_format.json_schema.schema": (response_format.get("json_schema") or {}).get("schema"),
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
        return f"{where} differs: recorded {_show(recorded)}, yours {_show(yours)}"
    if isinstance(recorded, dict) and isinstance(yours, dict):
        for k in list(recorded) + [k for k in yours if k not in recorded]:
            sub = f"{path}.{k}" if path else k
            if k not in yours:
                return f"{sub} missing: recorded {_show(recorded[k])}, yours has none"
            if k not in recorded:
                return f"{sub} not expected: recorded has none, yours {_show(yours[k])}"
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
            return f"{where} has {len(yours)} entries, recorded {len(recorded)}"
        return None
    if recorded != yours:
        return f"{where} differs: recorded {_show(recorded)}, yours {_show(yours)}"
    return None


def _body_of(request) -> bytes | str | None:
    return getattr(request, "body", None)


def _path_of(request) -> str:
    return urlsplit(request.uri).path


def openai_body(r1, r2) -> None:
    """vcrpy matcher: the JSON bodies mean the same request (raises AssertionError otherwise)."""
    diff = first_difference(canonical_body(_body_of(r2), _path_of(r2)), canonical_body(_body_of(r1), _path_of(r1)))
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


def explain(exc: BaseException) -> str | None:
    """One line for a request the cassette cannot answer, from vcrpy's exception; None for other errors.

    Looks through the exception chain: openai may wrap the transport's error in APIConnectionError.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return _explain_vcr(exc)
        exc = exc.__cause__ or exc.__context__
    return None


def _explain_vcr(exc: CannotOverwriteExistingCassetteException) -> str:
    reason = getattr(exc, "reason", "no_match")
    if reason == "already_played":
        return "this request was already answered: the check expects the API to be called once"
    if reason == "cassette_not_found":
        return f"no recording for this check ({getattr(exc.cassette, '_path', '?')} is missing)"
    mine = exc.failed_request
    for recorded, _succeeded, failed in getattr(exc, "similar_requests", []):
        names = [name for name, _message in failed]
        if any(name in ENDPOINT_MATCHERS for name in names):
            return (f"endpoint differs: recorded {recorded.method} {urlsplit(recorded.uri).path}, "
                    f"yours {mine.method} {urlsplit(mine.uri).path}")
        if failed:
            return str(failed[0][1]).strip().splitlines()[0]
    return f"nothing recorded resembles your request ({mine.method} {urlsplit(mine.uri).path})"
