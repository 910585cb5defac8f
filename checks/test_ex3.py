"""Checks for exercise 3: gpt-4o through the OpenAI API, replayed from cassettes.

The learner's functions run in the learner process (dlgrade/boundary), with a real `openai`
client built there (`Recipe("openai_client", ...)`) whose base URL is a replay server in this
process (dlgrade/checkkit/replay_server.py): it answers from fixtures/cassettes/ex3/ and keeps every
request it received. What a check asserts about requests comes from the server, never from the
learner process. A request that differs from the recorded one fails with the first difference, e.g.
`model differs: recorded "gpt-4o", yours "gpt-4o-mini"`. Connections to anything but this machine
are refused in the learner process, so code that bypasses the client it was given never reaches a
real API.
"""
from __future__ import annotations

import contextlib
import copy
import json
import numbers
from collections.abc import Callable, Iterator

import numpy as np
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from dlgrade.boundary.proxy import Handle, LearnerModule, LearnerProcessError
from dlgrade.boundary.recipes import Recipe, RemoteHostRefused
from dlgrade.checkkit import api_replay as replay
from dlgrade.checkkit.feedback import expect, expect_type, fail, prose
from dlgrade.checkkit.replay_server import ReplayServer
from dlgrade.checkkit.targets import Target
from dlgrade.core.i18n import N_, tr
from dlgrade.core.project import Project

FIXTURES_DIR = Project.locate().fixtures

FILE = "ex3_openai.py"
CASSETTES = FIXTURES_DIR / "cassettes" / "ex3"
DATA = FIXTURES_DIR / "ex3"
SCENARIOS = json.loads((DATA / "scenarios.json").read_text(encoding="utf-8"))
SCENE = DATA / SCENARIOS["image"]
TRUTH = json.loads((DATA / SCENARIOS["boxes"]).read_text(encoding="utf-8"))
MIN_IOU = 0.5
FAKE_KEY = "sk-dlgrade-replay-not-a-real-key"
OFFICIAL_API = "https://api.openai.com/v1"
PROXY = "https://llm-proxy.lab.example/v1"
# The retries make_client() promises; text_chat_rate_limited.yaml answers 429 this many times.
MIN_RETRIES = 2
# Errors no retry fixes (synthetic cassettes): the learner's function must let them through.
API_ERRORS = {"text_chat_unauthorized.yaml": 401, "text_responses_region_blocked.yaml": 403,
              "image_chat_unauthorized.yaml": 401, "image_responses_region_blocked.yaml": 403,
              "grounding_unauthorized.yaml": 401}
# Rounding to the nearest pixel leaves at most half a pixel; the rest is float error of the scaling
# (x * width / 1000 and x * (width / 1000) differ by < 1e-12): docs/measurements/ex3.md.
ROUNDING_SLACK = 0.5 + 1e-6
# How the replay server matches a request, unless a check's @pytest.mark.replay(match_on=...) says otherwise.
MATCH_ON = ("method", "scheme", "host", "path", "openai_body")
# What learner code that reaches past the replay server meets in the learner process (a
# RemoteHostRefused, which the checks report from the server's side: no request reached it).
REFUSAL = N_("the checks run offline, and your code tried to reach {host}: send every request through the "
             "client you are given")

pytestmark = pytest.mark.time_limit(20)


def _without_detail(value) -> bool:
    """Drop `detail` from every image part (chat `image_url` objects, Responses `input_image` parts)."""
    dropped = False
    if isinstance(value, dict):
        if "detail" in value and ("url" in value or value.get("type") == "input_image"):
            del value["detail"]
            dropped = True
        for item in value.values():
            dropped = _without_detail(item) or dropped
    elif isinstance(value, list):
        for item in value:
            dropped = _without_detail(item) or dropped
    return dropped


def drop_image_detail(request):
    """The replay server's before_match (the learner's request, before matching): an image part's
    `detail` is the learner's choice (the module docstring says so), like the sampling settings."""
    try:
        body = json.loads(request.body)
    except (TypeError, ValueError):
        return request
    if not _without_detail(body):
        return request
    request = copy.deepcopy(request)
    request.body = json.dumps(body).encode()
    return request


@pytest.fixture(scope="module")
def ex3(target: Target) -> LearnerModule:
    # Imported now, before a check changes the learner process's environment (a key read at import).
    return target.learner_module(FILE).load()


@pytest.fixture
def learner_env(ex3: LearnerModule, target: Target) -> Iterator[Callable[..., None]]:
    """Set (a value) or unset (None) environment variables in the learner process, for this check only."""
    with contextlib.ExitStack() as changes:
        def setenv(**values: str | None) -> None:
            ex3.load()  # a restarted learner process imports the file before the change, too
            changes.enter_context(target.learner_environ(values))

        yield setenv


def cassette_name(request: pytest.FixtureRequest) -> str:
    """The cassette named by @pytest.mark.default_cassette, or by a `cassette` parameter."""
    marker = request.node.get_closest_marker("default_cassette")
    if marker:
        return marker.args[0]
    return request.node.callspec.params["cassette"]


def described(value: object) -> str:
    """A value's class for a message; a learner object's as the learner process reports it."""
    return value.dlgrade_type.rpartition(".")[2] if isinstance(value, Handle) else type(value).__name__


class Api:
    """A check's replay server, and the client the check hands to the learner's functions."""

    def __init__(self, server: ReplayServer):
        self.server = server
        self.client = Recipe("openai_client", api_key=FAKE_KEY, base_url=server.base_url(), max_retries=0)

    def run(self, call: Callable[[], object]) -> object:
        """`call()` (a learner function given `self.client`); a failure it raised is explained from the
        server's side when a request went unanswered or never arrived."""
        try:
            return call()
        except NotImplementedError:
            raise
        except Exception as exc:
            self.explain(exc)
            raise

    def explain(self, exc: BaseException) -> None:
        """Fail with what the server saw, when that is why `exc` was raised in the learner process."""
        if self.server.unmatched:
            fail(tr("your request differs from the recorded one: {problem}", problem=self.server.unmatched[0].why_not))
        if not self.server.received and isinstance(exc, (openai.APIConnectionError, RemoteHostRefused)):
            self._nothing_arrived(got=prose(f"{type(exc).__name__}: {exc}"))

    @staticmethod
    def _nothing_arrived(**shown: object) -> None:
        fail(tr("no request reached the recorded API through the `client` the check passed in"), **shown,
             hint=tr("send every request with the client argument, not a client of your own; and do not "
                     "catch exceptions around the call: the error says what went wrong"))

    def answer(self) -> dict:
        """The recorded answer the server sent last; a learner-facing failure when there is none."""
        if self.server.unmatched:
            fail(tr("your request got no recorded answer ({why}), and your code caught the error instead of "
                    "letting it through", why=self.server.unmatched[0].why_not),
                 hint=tr("remove the try/except around the API call to see the error"))
        if not self.server.answered:
            self._nothing_arrived()
        return self.server.answered[-1].response_json()

    def request(self) -> dict:
        """The JSON body of the last request that got a recorded answer, as the server received it."""
        self.answer()
        return self.server.answered[-1].json()

    def answer_text(self) -> str:
        """The text of the last answer (chat completion or Responses API object)."""
        body = self.answer()
        if "choices" in body:
            return body["choices"][0]["message"]["content"]
        return "".join(part["text"] for item in body["output"] for part in item.get("content", [])
                       if part.get("type") == "output_text")


@pytest.fixture
def api(request: pytest.FixtureRequest, target: Target, ex3: LearnerModule) -> Iterator[Api]:
    marker = request.node.get_closest_marker("replay")
    server = ReplayServer(CASSETTES / cassette_name(request), before_match=drop_image_detail,
                          match_on=tuple(marker.kwargs["match_on"]) if marker else MATCH_ON)
    ex3.load()
    target.recipe("offline", tr(REFUSAL))
    with server.running():
        yield Api(server)


def expect_client(client: object, function: str) -> None:
    """An openai.OpenAI client (as the learner process reports its class)."""
    expect(isinstance(client, Handle) and client.dlgrade_is("openai.OpenAI"),
           tr("{what} has the wrong type", what=tr("{function}()'s return value", function=function)),
           expected=prose("OpenAI"), got=prose(described(client)))


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: max(0, r[2] - r[0]) * max(0, r[3] - r[1])  # noqa: E731
    union = area(a) + area(b) - inter
    return inter / union if union else 0.0


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def file_pixels(path) -> replay.ImageRef:
    """The image file's pixels, read by Pillow, to compare a data URL's image with."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        return replay.ImageRef(size=rgb.size, pixels=rgb.tobytes(), mime=Image.MIME.get(image.format, "?"))


def request_texts(body: dict) -> list[str]:
    """Every text a chat request sends: string contents and text parts of every message."""
    texts = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return texts


# ---------------------------------------------------------------- ex3.1 text generation


@pytest.mark.item("ex3.1")
@pytest.mark.hint(N_("client.chat.completions.create(model=model, messages=[one user message with the prompt]), "
                     "then return completion.choices[0].message.content"))
@pytest.mark.default_cassette("text_chat.yaml")
def test_text_generation_chat_completions(ex3, api):
    answer = api.run(lambda: ex3.complete_text(api.client, SCENARIOS["text_prompt"]))
    expect_type(answer, str, tr("{function}()'s return value", function="complete_text"))
    expect(answer == api.answer_text(), tr("complete_text() must return the message text of the first choice"),
           expected=api.answer_text(), got=answer, hint=tr("return completion.choices[0].message.content"))


@pytest.mark.item("ex3.1")
@pytest.mark.hint(N_("client.responses.create(model=model, input=prompt), then return response.output_text"))
@pytest.mark.default_cassette("text_responses.yaml")
def test_text_generation_responses_api(ex3, api):
    answer = api.run(lambda: ex3.respond_text(api.client, SCENARIOS["text_prompt"]))
    expect_type(answer, str, tr("{function}()'s return value", function="respond_text"))
    expect(answer == api.answer_text(), tr("respond_text() must return the response's output text"),
           expected=api.answer_text(), got=answer, hint=tr("return response.output_text"))


@pytest.mark.item("ex3.1")
@pytest.mark.hint(N_("check the key yourself at the start of make_client(): no api_key and OPENAI_API_KEY unset "
                     "or empty means raise MissingAPIKeyError, before creating any client"))
@pytest.mark.parametrize("environment", [None, ""], ids=["unset", "empty"])
def test_client_without_key_fails_before_any_request(ex3, learner_env, environment):
    learner_env(OPENAI_API_KEY=environment)
    situation = (tr("make_client() with OPENAI_API_KEY unset") if environment is None else
                 tr("make_client() with OPENAI_API_KEY empty"))
    try:
        client = ex3.make_client()
    except ex3.MissingAPIKeyError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the docstring promises MissingAPIKeyError, nothing else
        fail(tr("{situation} raised {error}, not MissingAPIKeyError", situation=situation, error=type(exc).__name__),
             expected=prose("MissingAPIKeyError"), got=prose(f"{type(exc).__name__}: {exc}"),
             hint=tr("openai's own error for a missing key is not the one make_client() promises: check the key "
                     "yourself and raise MissingAPIKeyError before creating the client"))
    fail(tr("{situation} returned a client", situation=situation),
         expected=prose(tr("MissingAPIKeyError raised, before any request")),
         got=prose(described(client)), hint=tr("raise MissingAPIKeyError; never fall back to a placeholder key"))


@pytest.mark.item("ex3.1")
@pytest.mark.hint(N_("openai.OpenAI(api_key=<the api_key argument, else OPENAI_API_KEY read when make_client() is "
                     "called>, base_url=base_url, max_retries=...)"))
@pytest.mark.parametrize("given,environment,base_url", [
    ("sk-dlgrade-given", "sk-dlgrade-environment", None),
    (None, "sk-dlgrade-environment", None),
    ("sk-dlgrade-given", None, PROXY),
], ids=["key-argument", "key-from-environment", "base-url"])
def test_make_client_uses_its_arguments(ex3, target, learner_env, given, environment, base_url):
    learner_env(OPENAI_BASE_URL=None, OPENAI_API_KEY=environment)
    call = f"make_client({given!r}" + (f", base_url={base_url!r})" if base_url else ")")
    fresh_key = tr("read OPENAI_API_KEY inside make_client(), each time it is called: a key read when the module "
                   "was imported is not the one set now")
    try:
        client = ex3.make_client(given, base_url=base_url)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as exc:  # noqa: BLE001 - a key was there: no error is right
        fail(tr("{call} with OPENAI_API_KEY={environment} raised an error although a key was there", call=call,
                environment=repr(environment)), got=prose(f"{type(exc).__name__}: {exc}"),
             hint=fresh_key if given is None else tr("the api_key argument wins over OPENAI_API_KEY"))
    expect_client(client, "make_client")
    # The client's key and base URL as the learner process reports them (an observation): this check
    # sends no request that the replay server could judge instead.
    key, url = client.api_key, target.recipe("text", client.base_url)
    expect(isinstance(key, str) and key == (given or environment),
           tr("{call} with OPENAI_API_KEY={environment}: the client's API key", call=call,
              environment=repr(environment)), expected=given or environment, got=key,
           hint=fresh_key if given is None else
           tr("the api_key argument wins; OPENAI_API_KEY only when it is None; never a key written in the code"))
    expect(url.rstrip("/") == (base_url or OFFICIAL_API),
           tr("{call} with OPENAI_API_KEY={environment}: the client's base URL", call=call,
              environment=repr(environment)), expected=base_url or OFFICIAL_API, got=url,
           hint=tr("pass base_url on to openai.OpenAI(base_url=...)"))


@pytest.mark.item("ex3.1")
@pytest.mark.hint(N_("make_client() must return openai.OpenAI(..., max_retries=2) or more: the client itself retries "
                     "a 429; a retry loop in your own functions does not make the client retry"))
@pytest.mark.default_cassette("text_chat_rate_limited.yaml")
def test_rate_limit_is_retried(ex3, api, learner_env):
    learner_env(OPENAI_BASE_URL=None)
    client = ex3.make_client(FAKE_KEY, base_url=api.server.base_url())
    expect_client(client, "make_client")
    # The check sends the recorded request itself, through the client alone: what is tested is the
    # client's own retrying, whatever complete_text() does. The requests counted are those the
    # replay server received.
    try:
        client.chat.completions.create(model="gpt-4o",
                                       messages=[{"role": "user", "content": SCENARIOS["text_prompt"]}])
    except openai.RateLimitError:
        fail(tr("the client make_client() returned gave up after {count} HTTP 429 (rate limit) answers",
                count=len(api.server.answered)),
             expected=prose(tr("{count} requests", count=MIN_RETRIES + 1)),
             got=prose(tr("{count} requests", count=len(api.server.received))))
    except Exception as exc:  # a request the recording cannot answer, or one that never arrived: say why
        if api.server.unmatched:
            fail(tr("the check's request through the client make_client() returned got no recorded answer: {why}",
                    why=api.server.unmatched[0].why_not),
                 hint=tr("pass base_url on to openai.OpenAI(base_url=...): None means the official API"))
        if not api.server.received and isinstance(exc, (openai.APIConnectionError, RemoteHostRefused)):
            fail(tr("the check's request through the client make_client() returned never reached the base_url it "
                    "was given"), got=prose(f"{type(exc).__name__}: {exc}"),
                 hint=tr("pass base_url on to openai.OpenAI(base_url=...): None means the official API"))
        raise
    expect(len(api.server.received) == MIN_RETRIES + 1,
           tr("the request should be sent again after each of the {count} 429s", count=MIN_RETRIES),
           expected=prose(tr("{count} requests", count=MIN_RETRIES + 1)),
           got=prose(tr("{count} requests", count=len(api.server.received))))


def expect_api_error_propagates(api: Api, call: Callable[[], object], what: str, status: int) -> None:
    """`call` meets an HTTP `status` error from the API; the caller must get openai's own exception."""
    try:
        value = api.run(call)
    except (NotImplementedError, AssertionError, LearnerProcessError):
        raise  # not started, a check's own failure, or the learner's process ended: said as they are
    except openai.APIStatusError:
        api.answer()  # the error came from the recorded answer, not from learner code
        return
    except Exception as exc:  # noqa: BLE001 - what the learner raised instead of openai's error
        # The server sent the recorded error: whatever the learner's code raised instead was made from it.
        wrapped = bool(api.server.answered)
        fail(tr("{call}: the API answered HTTP {status}; your code raised something else", call=what, status=status),
             expected=prose(f"openai.APIStatusError (HTTP {status})"), got=prose(f"{type(exc).__name__}: {exc}"),
             hint=tr("you turned openai's error into {error}: a caller that catches openai's errors (a wrong key, a "
                     "blocked region) no longer sees it; let it propagate unchanged", error=type(exc).__name__)
             if wrapped else tr("let openai's exception propagate"))
    fail(tr("{call}: the API answered HTTP {status} and your function returned as if it had an answer", call=what,
            status=status),
         expected=prose(tr("openai.APIStatusError (HTTP {status}) raised", status=status)), got=value,
         hint=tr("do not wrap the call in try/except: an empty answer hides a wrong key or a blocked region"))


@pytest.mark.item("ex3.1")
@pytest.mark.hint(N_("no try/except around the API call: the caller must get openai's own exception"))
@pytest.mark.parametrize("function,cassette", [("complete_text", "text_chat_unauthorized.yaml"),
                                               ("respond_text", "text_responses_region_blocked.yaml")])
@pytest.mark.replay(match_on=("method", "scheme", "host", "path"))
def test_text_api_errors_propagate(ex3, api, function, cassette):
    expect_api_error_propagates(api, lambda: getattr(ex3, function)(api.client, SCENARIOS["text_prompt"]),
                                f"{function}()", API_ERRORS[cassette])


# ---------------------------------------------------------------- ex3.2 image question


@pytest.mark.item("ex3.2")
@pytest.mark.hint(N_("the file's bytes in base64 after data:<MIME type>;base64, (the base64 module; mimetypes "
                     "knows the MIME type of a file name)"))
@pytest.mark.parametrize("suffix,mime", [(".png", "image/png"), (".jpg", "image/jpeg")])
def test_image_data_url_holds_the_pixels(ex3, tmp_path, suffix, mime):
    path = tmp_path / f"scene{suffix}"
    Image.open(SCENE).convert("RGB").save(path, quality=95)
    url = ex3.image_data_url(path)
    expect_type(url, str, tr("{function}()'s return value", function="image_data_url"))
    expect(url.startswith(f"data:{mime};base64,"), tr("a data URL starts with its MIME type and ';base64,'"),
           expected=prose(f"data:{mime};base64,..."), got=url[:40],
           hint=tr("the MIME type follows the file name: image/png for .png, image/jpeg for .jpg"))
    decoded = replay.decode_data_url(url)
    expect(decoded is not None, tr("the base64 payload must decode to the image file"), got=url[:60],
           hint=tr("base64 of the file's bytes, not of its name"))
    expect(decoded.same_as(file_pixels(path)),
           tr("the data URL's image differs from the file's"), got=prose(repr(decoded)))


@pytest.mark.item("ex3.2")
@pytest.mark.hint(N_("one user message with two content parts: {\"type\": \"text\", ...} with the question, then "
                     "{\"type\": \"image_url\", \"image_url\": {\"url\": image_data_url(image_path)}}"))
@pytest.mark.default_cassette("image_chat.yaml")
def test_image_question_chat_completions(ex3, api):
    answer = api.run(lambda: ex3.ask_about_image(api.client, SCENE, SCENARIOS["image_question"]))
    expect(answer == api.answer_text(), tr("ask_about_image() must return the answer's text"),
           expected=api.answer_text(), got=answer, hint=tr("return completion.choices[0].message.content"))
    parts = api.request()["messages"][0]["content"]
    image = replay.decode_data_url(parts[1]["image_url"]["url"])
    expect(image is not None and image.same_as(file_pixels(SCENE)),
        tr("the image part must decode to the same pixels as the image file"),
        hint=tr("send image_data_url(image_path) as the image_url part's url"))


@pytest.mark.item("ex3.2")
@pytest.mark.hint(N_("input=[one user item whose content is an input_text part (the question), then an input_image "
                     "part with image_url=image_data_url(image_path)], then return response.output_text"))
@pytest.mark.default_cassette("image_responses.yaml")
def test_image_question_responses_api(ex3, api):
    answer = api.run(lambda: ex3.respond_about_image(api.client, SCENE, SCENARIOS["image_question"]))
    expect(answer == api.answer_text(), tr("respond_about_image() must return the response's output text"),
           expected=api.answer_text(), got=answer, hint=tr("return response.output_text"))


@pytest.mark.item("ex3.2")
@pytest.mark.hint(N_("no try/except around the API call: the caller must get openai's own exception"))
@pytest.mark.parametrize("function,cassette", [("ask_about_image", "image_chat_unauthorized.yaml"),
                                               ("respond_about_image", "image_responses_region_blocked.yaml")])
@pytest.mark.replay(match_on=("method", "scheme", "host", "path"))
def test_image_api_errors_propagate(ex3, api, function, cassette):
    expect_api_error_propagates(
        api, lambda: getattr(ex3, function)(api.client, SCENE, SCENARIOS["image_question"]),
        f"{function}()", API_ERRORS[cassette])


# ---------------------------------------------------------------- ex3.3 grounding


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("x * width / 1000 and y * height / 1000, each rounded to the nearest int, then clipped"))
@settings(max_examples=60, deadline=None)
@given(width=st.integers(32, 4000), height=st.integers(32, 4000),
       corners=st.tuples(*[st.floats(0.0, 1.0)] * 4))
def test_parse_box_converts_to_pixels(ex3, width, height, corners):
    fx0, fx1 = sorted(corners[:2])
    fy0, fy1 = sorted(corners[2:])
    normalised = [round(fx0 * 1000), round(fy0 * 1000), round(fx1 * 1000), round(fy1 * 1000)]
    if normalised[2] <= normalised[0] or normalised[3] <= normalised[1]:
        return
    exact = tuple(v * size / 1000 for v, size in zip(normalised, (width, height, width, height)))
    box = ex3.parse_box(json.dumps({"found": True, "box_2d": normalised}), width, height)
    expect_box_of_ints(box)
    off = max(abs(a - b) for a, b in zip(box, exact))
    expect(off <= ROUNDING_SLACK,
           tr("box_2d {box} in a {width}x{height} image is pixel box {pixels}", box=normalised, width=width,
              height=height, pixels=tuple(f"{v:g}" for v in exact)),
           expected=prose(tr("within {slack} px", slack="0.5")), got=box,
           hint=tr("x scales with the width, y with the height; the model's coordinates run to 1000; round to the "
                   "nearest pixel (not floor or ceil)"))


def expect_box_of_ints(box) -> None:
    expect(isinstance(box, (tuple, list)) and len(box) == 4,
           tr("parse_box() returns the four numbers (x_min, y_min, x_max, y_max)"), got=box,
           hint=tr("a tuple (or list) of four ints"))
    expect(all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in box),
           tr("parse_box() returns whole pixels"), expected=prose(tr("four ints")), got=box,
           hint=tr("round() each coordinate after scaling"))


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("scale, round (not int(), which cuts), then clip x to 0..width and y to 0..height"))
@pytest.mark.parametrize("normalised,wanted", [
    ([-8, 12.6, 1004, 1012], (0, 6, 640, 480)),
    # 160.256, 48.24, 479.744, 431.76 px: rounding and cutting (int()) differ; no .5 ties
    ([250.4, 100.5, 749.6, 899.5], (160, 48, 480, 432)),
    # 160.704, 48.72, 479.296, 431.28 px: minima above .5, maxima below, so flooring the minima and
    # ceiling the maxima (a box grown outward) differs from rounding; the case above catches a box
    # shrunk inward (ceil the minima, floor the maxima), int() and floor/ceil alike.
    ([251.1, 101.5, 748.9, 898.5], (161, 49, 479, 431)),
], ids=["outside-the-image", "floats", "floats-grown-outward"])
def test_parse_box_rounds_and_clips(ex3, normalised, wanted):
    answer = json.dumps({"found": True, "box_2d": normalised})
    box = ex3.parse_box(answer, 640, 480)
    expect_box_of_ints(box)
    expect(tuple(box) == wanted, tr("parse_box({answer}, 640, 480): the box in pixels of the 640x480 image",
                                   answer=repr(answer)), expected=wanted, got=tuple(box),
           hint=tr("scale, round (not int(), which cuts), then clip x to 0..width and y to 0..height"))


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("json.loads the answer; a box only when found is true and box_2d has four numbers with "
                     "x_max > x_min and y_max > y_min; every other answer raises GroundingError"))
@pytest.mark.parametrize("answer", [None, "", "Sure! The circle is on the left.", '{"found": false, "box_2d": []}',
                                    '{"found": false, "box_2d": [109, 229, 390, 480]}',
                                    "The red circle is at [109, 229, 390, 480].",
                                    '{"found": true, "box_2d": [10, 20]}',
                                    '{"found": true, "box_2d": [500, 20, 100, 90]}'],
                         ids=["none", "empty", "prose", "not-found", "not-found-with-box", "prose-with-numbers",
                              "short", "inverted"])
def test_parse_box_rejects_bad_answers(ex3, answer):
    try:
        box = ex3.parse_box(answer, 640, 480)
    except ex3.GroundingError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - not a GroundingError: say which it was
        fail(tr("parse_box({answer}) should raise GroundingError", answer=repr(answer)),
             got=prose(f"{type(exc).__name__}: {exc}"), hint=tr("turn every failure into GroundingError"))
    fail(tr("parse_box({answer}) should raise GroundingError", answer=repr(answer)), got=box,
         hint=tr("json.loads the answer; a box only when found is true and box_2d has four numbers"))


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("an instruction built from object_name, response_format json_schema with BOX_SCHEMA and "
                     "strict True, then parse_box() with the image's own width and height"))
@pytest.mark.parametrize("name,cassette", [(name, f"grounding_{name.replace(' ', '_')}.yaml")
                                            for name in SCENARIOS["grounding_objects"]])
@pytest.mark.replay(match_on=("method", "scheme", "host", "path", "openai_grounding"))
def test_locate_object_box_in_pixels(ex3, api, name, cassette):
    box = api.run(lambda: ex3.locate_object(api.client, SCENE, name))
    words = " ".join(request_texts(api.request())).lower()
    expect(name in words, tr("the request must name the object ({name})", name=repr(name)),
           hint=tr("put object_name into the instruction's text"))
    # The recording answers whatever the wording: only the request's text shows which object was asked about.
    others = [other for other in TRUTH["boxes"] if other != name and other in words]
    expect(not others, tr("the request for the {name} also names {others}: the instruction names object_name only",
                          name=name, others=", ".join(others)),
           hint=tr("build the instruction from the object_name argument alone; no object's name written in the code"))
    expect_box_of_ints(box)
    truth = TRUTH["boxes"][name]
    overlap = iou(tuple(box), truth)
    expect(overlap >= MIN_IOU, tr("box of the {name} (IoU with the true box)", name=name),
           expected=prose(tr("IoU >= {minimum} with {box}", minimum=MIN_IOU, box=truth)),
           got=prose(tr("{box}, IoU {iou}", box=tuple(box), iou=f"{overlap:.2f}")),
           hint=tr("parse_box() with the image's own width and height"))


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("check message.refusal first (raise GroundingError with the refusal's text), then let "
                     "parse_box() raise GroundingError"))
@pytest.mark.parametrize("case,cassette", [(case, f"grounding_{case}.yaml") for case in ("refusal", "malformed")])
@pytest.mark.replay(match_on=("method", "scheme", "host", "path", "openai_grounding"))
def test_locate_object_bad_answer_raises_grounding_error(ex3, api, case, cassette):
    try:
        box = api.run(lambda: ex3.locate_object(api.client, SCENE, SCENARIOS["grounding_objects"][0]))
    except ex3.GroundingError as exc:
        answer = api.answer()  # the GroundingError follows the recorded answer, not a request left unsent
        if case == "refusal":
            refusal = answer["choices"][0]["message"]["refusal"]
            expect(refusal in str(exc), tr("the GroundingError for a refusal should carry the model's refusal text"),
                   expected=prose(tr("a message containing {text}", text=repr(refusal))), got=str(exc),
                   hint=tr("check message.refusal before parsing, and put it into the GroundingError's message"))
        return
    except (NotImplementedError, AssertionError):
        raise
    except Exception as exc:  # noqa: BLE001 - not a GroundingError: say which it was
        fail(tr("a {case} answer should raise GroundingError", case=case), got=prose(f"{type(exc).__name__}: {exc}"),
             hint=tr("check message.refusal, then let parse_box() raise GroundingError"))
    fail(tr("a {case} answer should raise GroundingError", case=case), got=box,
         hint=tr("check message.refusal, then let parse_box() raise GroundingError"))


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("no try/except around the API call: the caller must get openai's own exception, not a "
                     "GroundingError"))
@pytest.mark.default_cassette("grounding_unauthorized.yaml")
@pytest.mark.replay(match_on=("method", "scheme", "host", "path"))
def test_locate_object_api_error_propagates(ex3, api):
    expect_api_error_propagates(api, lambda: ex3.locate_object(api.client, SCENE, SCENARIOS["grounding_objects"][0]),
                                "locate_object()", API_ERRORS["grounding_unauthorized.yaml"])


@pytest.mark.item("ex3.3")
@pytest.mark.hint(N_("ImageDraw.Draw(image).rectangle(box, outline=color, width=line_width) on an RGB copy, "
                     "then image.save(out_path)"))
@pytest.mark.parametrize("options", [{}, {"color": (0, 160, 255), "line_width": 7}], ids=["defaults", "color-width"])
def test_draw_box_outline(ex3, tmp_path, options):
    box = (100, 80, 300, 240)
    color, width = options.get("color", (255, 0, 0)), options.get("line_width", 4)
    call = "draw_box(image_path, box, out_path" + "".join(f", {k}={v!r}" for k, v in options.items()) + ")"
    out = tmp_path / "boxed.png"
    image = ex3.draw_box(SCENE, box, out, **options)
    expect(isinstance(image, Image.Image), tr("draw_box() returns the PIL image"), got=prose(type(image).__name__))
    expect(out.is_file(), tr("draw_box() must save the image to out_path"), hint=tr("image.save(out_path)"))
    with Image.open(out) as saved:
        saved.load()
        expect(saved.size == Image.open(SCENE).size, tr("the saved image keeps the original size"),
               expected=Image.open(SCENE).size, got=saved.size)
        before, after = pixels(Image.open(SCENE)), pixels(saved)
    changed = np.abs(after - before).sum(axis=2) > 30
    x0, y0, x1, y1 = box
    edges = {N_("top"): changed[y0, x0:x1], N_("bottom"): changed[y1 - 1: y1 + 1, x0:x1].any(axis=0),
             N_("left"): changed[y0:y1, x0], N_("right"): changed[y0:y1, x1 - 1: x1 + 1].any(axis=1)}
    for side, line in edges.items():
        expect(line.mean() > 0.9, tr("the {side} edge of the box should be drawn", side=tr(side)),
               got=prose(tr("{share} of it", share=f"{line.mean():.0%}")),
               hint=tr("ImageDraw.Draw(image).rectangle(box, outline=color, width=line_width)"))
    # The scene has no pixel of either colour (its shapes are darker reds and blues); the outline may
    # lie inside the box (ImageDraw.rectangle) or straddle its edge (ImageDraw.line): a cross-section
    # through the middle of each edge, line_width + 3 pixels either way, holds exactly line_width
    # pixels of the colour in both (docs/measurements/ex3.md).
    drawn = (after == np.array(color)).all(axis=2)
    middle_x, middle_y, reach = (x0 + x1) // 2, (y0 + y1) // 2, width + 3
    sections = {N_("top"): drawn[y0 - reach: y0 + reach, middle_x],
                N_("bottom"): drawn[y1 - reach: y1 + reach, middle_x],
                N_("left"): drawn[middle_y, x0 - reach: x0 + reach],
                N_("right"): drawn[middle_y, x1 - reach: x1 + reach]}
    for side, section in sections.items():
        expect(int(section.sum()) == width,
               tr("{call}: the {side} edge should be {width} pixels of colour {color}", call=call, side=tr(side),
                  width=width, color=color),
               expected=prose(tr("{count} pixels", count=width)),
               got=prose(tr("{count} pixels", count=int(section.sum()))),
               hint=tr("draw with the color and line_width arguments: outline=color, width=line_width"))
    inside = changed[y0 + 10: y1 - 10, x0 + 10: x1 - 10]
    expect(inside.mean() < 0.01, tr("only the outline is drawn; the inside stays as it was"),
           got=prose(tr("{share} of the inside changed", share=f"{inside.mean():.0%}")),
           hint=tr("outline=, not fill="))
    outside = np.concatenate([changed[: y0 - 10].ravel(), changed[y1 + 10:].ravel()])
    expect(outside.mean() < 0.01, tr("nothing is drawn outside the box"),
           got=prose(tr("{share} changed", share=f"{outside.mean():.0%}")))
