"""An HTTP server on loopback, in a thread of the checks' process, for the length of a block: the
replay server, the stand-in Hub and exercise 5's tool server each answer learner code through one."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# shutdown() waits for the serving loop's next look at its flag: every 50 ms, not the default 500
# (measured: 0.5 s of every replayed check went there).
POLL_INTERVAL_S = 0.05


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], name: str) -> Iterator[ThreadingHTTPServer]:
    """A server on a free loopback port (`server.server_address[1]`), stopped and closed after the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL_S}, name=name,
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
