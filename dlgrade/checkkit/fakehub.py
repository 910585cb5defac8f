"""A local stand-in for the Hugging Face Hub, so download exercises run the real client offline.

The learner's code calls the real `huggingface_hub.snapshot_download` / `hf_hub_download`
with `endpoint=` pointing here (or HF_ENDPOINT). The server answers the few routes those
functions use in huggingface_hub 2.4 — repo info, the recursive tree listing, and
HEAD/GET on `/{repo}/resolve/{revision}/{path}` — and records which files were fetched,
so a check can tell "downloaded only the PyTorch weights" from "downloaded everything".

`offline()` keeps a check from reaching the real Hub: without it a learner's call that
forgot `endpoint=` waits ~23 s for DNS and a connect timeout and ends in a bare
ConnectError; with it, it fails at once and says why. The learner's code runs in the learner
process (dlgrade/boundary): `learner_offline(target)` refuses the same hosts there, with the same
message, and the server here is reached over loopback.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from dlgrade.boundary.recipes import refuse_remote_hosts
from dlgrade.checkkit.feedback import CheckFailure
from dlgrade.checkkit.local_http import serving
from dlgrade.checkkit.targets import Target
from dlgrade.core.i18n import N_, tr

REFUSAL = N_("the checks run offline, and your code tried to reach {host}: pass the endpoint you are given on "
             "to every huggingface_hub call (endpoint=...), and load models from the folder you are given")


@dataclass
class FakeHub:
    """repo id -> {file path: content}; `fetched` lists (repo, path) of every GET of a file."""

    repos: dict[str, dict[str, bytes]]
    fetched: list[tuple[str, str]] = field(default_factory=list)
    endpoint: str = ""

    def sha(self, repo: str) -> str:
        digest = hashlib.sha1()
        for path, content in sorted(self.repos[repo].items()):
            digest.update(path.encode() + hashlib.sha1(content).digest())
        return digest.hexdigest()

    def fetched_files(self, repo: str) -> set[str]:
        return {path for r, path in self.fetched if r == repo}


def _etag(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def _handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep the check's output clean
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _json(self, data) -> None:
            self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

        def _route(self, head: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            for repo, files in hub.repos.items():
                sha = hub.sha(repo)
                if path in (f"/api/models/{repo}", f"/api/models/{repo}/revision/main",
                            f"/api/models/{repo}/revision/{sha}"):
                    return self._json({"id": repo, "modelId": repo, "sha": sha, "private": False,
                                       "siblings": [{"rfilename": name} for name in sorted(files)]})
                if path.startswith(f"/api/models/{repo}/tree/"):
                    return self._json([{"type": "file", "path": name, "size": len(content), "oid": _etag(content)}
                                       for name, content in sorted(files.items())])
                for revision in ("main", sha):
                    prefix = f"/{repo}/resolve/{revision}/"
                    if path.startswith(prefix) and path[len(prefix):] in files:
                        name = path[len(prefix):]
                        content = files[name]
                        if not head:
                            hub.fetched.append((repo, name))
                        return self._send(200, content, {
                            "Content-Type": "application/octet-stream", "ETag": f'"{_etag(content)}"',
                            "X-Repo-Commit": sha}, head=head)
            self._send(404, json.dumps({"error": f"{path} not found"}).encode(),
                       {"Content-Type": "application/json", "X-Error-Code": "EntryNotFound"}, head=head)

        def do_GET(self):  # http.server's naming
            self._route(head=False)

        def do_HEAD(self):
            self._route(head=True)

    return Handler


@contextmanager
def serve(repos: dict[str, dict[str, bytes]]):
    """Run a FakeHub on a free localhost port for the duration of the block."""
    hub = FakeHub(repos)
    with serving(_handler(hub), "dlgrade-fakehub") as server:
        hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        yield hub


class RemoteHostBlocked(CheckFailure):
    """The learner's code tried to reach a host other than this machine while the checks run offline.

    A CheckFailure (not an OSError): huggingface_hub and httpx turn OSErrors into "offline, try
    the cache" and lose the message; this one passes through them to the learner.
    """


@contextmanager
def offline():
    """Within the block, resolving or connecting to anything but this machine raises RemoteHostBlocked."""
    def refuse(host: object) -> None:
        raise RemoteHostBlocked(tr(REFUSAL, host=host))

    restore = refuse_remote_hosts(refuse)
    try:
        yield
    finally:
        restore()


def learner_offline(target: Target) -> None:
    """The same refusal, with the same message, in the learner process (where the learner's calls run).

    Run it before every check: a learner process restarted after a time limit starts online again.
    """
    target.recipe("offline", tr(REFUSAL))


@contextmanager
def offline_everywhere(target: Target) -> Iterator[None]:
    """No host but this machine, here and in the learner process, for a check of a model's files: one
    that reaches for the real Hub fails at once, with a message, not after a 23 s timeout."""
    learner_offline(target)
    with offline():
        yield
