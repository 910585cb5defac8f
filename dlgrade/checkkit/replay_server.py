"""Recorded OpenAI answers served over HTTP on loopback, from the checks' process.

The learner's code runs in the learner process (dlgrade/boundary) with a real `openai` client
whose `base_url` points here. Every request that arrives is matched against a cassette with the
same semantic matchers as in-process replay (api_replay.py) and answered with the recorded
response, or with an HTTP 400 whose reason the check reads from `unmatched` (the learner's code
gets it too, in the error's message, for its own debugging; the check never trusts that copy).
What the check judges is what this server received, which learner code cannot rewrite after the fact.

A base URL names the recorded host in its first path segment,
`http://127.0.0.1:PORT/api.openai.com/v1`, so that one server replays cassettes recorded against
the official API and against a proxy alike, and a client that ignores the `base_url` it was given
never reaches it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException, UnhandledHTTPRequestError
from vcr.record_mode import RecordMode
from vcr.request import Request

from dlgrade.checkkit import api_replay
from dlgrade.checkkit.local_http import serving
from dlgrade.core.i18n import tr

MAX_BODY_BYTES = 64 * 2**20


@dataclass
class Received:
    """One request as the server saw it, whether a recorded answer matched it, and what the server answered."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    answered: bool
    status: int
    response: bytes
    why_not: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def response_json(self) -> Any:
        return json.loads(self.response) if self.response else None


@dataclass
class ReplayServer:
    cassette_path: Path
    match_on: tuple[str, ...] = ("method", "scheme", "host", "path", "openai_body")
    before_match: Callable[[Request], Request] | None = None
    received: list[Received] = field(default_factory=list)
    _cassette: Cassette | None = None
    _server: ThreadingHTTPServer | None = None

    def base_url(self, host: str = "api.openai.com", prefix: str = "/v1") -> str:
        assert self._server is not None, "the replay server is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}/{host}{prefix}"

    @property
    def answered(self) -> list[Received]:
        return [r for r in self.received if r.answered]

    @property
    def unmatched(self) -> list[Received]:
        return [r for r in self.received if not r.answered]

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        host, _, rest = path.lstrip("/").partition("/")
        recorded_url = f"https://{host}/{rest}"
        request = Request(method, recorded_url, body, headers)
        assert self._cassette is not None
        matched = self.before_match(request) if self.before_match else request
        try:
            response = self._cassette.play_response(matched)
        except (CannotOverwriteExistingCassetteException, UnhandledHTTPRequestError):
            why = api_replay.unanswered(method, recorded_url, matched.body, self._cassette)
            error = json.dumps({"error": {"message": tr("no recorded answer for this request: {why}", why=why),
                                          "type": "invalid_request_error", "code": "dlgrade_unrecorded"}}).encode()
            self.received.append(Received(method, recorded_url, headers, body, False, 400, error, why))
            return 400, {"content-type": "application/json"}, error
        status = int(response["status"]["code"])
        out_headers = {k: v[0] if isinstance(v, list) else v for k, v in response.get("headers", {}).items()
                       if k.lower() not in ("content-length", "content-encoding", "transfer-encoding", "connection")}
        raw = response["body"]["string"]
        payload = raw.encode() if isinstance(raw, str) else raw
        self.received.append(Received(method, recorded_url, headers, body, True, status, payload))
        return status, out_headers, payload

    @contextmanager
    def running(self) -> Iterator[ReplayServer]:
        for name, matcher in api_replay.MATCHERS.items():
            _register(name, matcher)
        self._cassette = Cassette.load(path=str(self.cassette_path), record_mode=RecordMode.NONE,
                                       match_on=tuple(_MATCHERS[name] for name in self.match_on))
        with serving(_handler_for(self), "dlgrade-replay") as server:
            self._server = server
            try:
                yield self
            finally:
                self._server = None


_MATCHERS: dict[str, Callable[..., Any]] = {}


def _register(name: str, matcher: Callable[..., Any]) -> None:
    from vcr import matchers
    _MATCHERS.update({n: getattr(matchers, n) for n in ("method", "scheme", "host", "port", "path", "query",
                                                          "uri", "body", "headers")})
    _MATCHERS[name] = matcher


def _handler_for(replay: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self.send_error(413)
                return
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, payload = replay.answer(self.command, self.path, headers, body)
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            # One request per connection: a learner's client outlives the check (it stays in the learner
            # process), and a kept-alive connection would hold a handler thread here until the session ends.
            self.send_header("connection", "close")
            self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
