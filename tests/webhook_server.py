"""A real local HTTP server that counts webhook POSTs (tests start it themselves).

Answers each POST with the next status of ``statuses`` (the last one repeats), so a test can make
the first delivery fail and the retry succeed. Bodies are kept to check what was sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "s3cr3t-t0ken-do-not-log"  # the secret part of the default webhook path: tests look for it too


@dataclass
class Hook:
    url: str
    statuses: list[int]
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@contextmanager
def webhook_server(path: str = f"/services/T0DRIFT/B0PILOT/{TOKEN}", statuses: tuple[int, ...] = (200,)) -> Iterator[Hook]:
    hook = Hook(url="", statuses=list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.posts.append(json.loads(body))
            hook.paths.append(self.path)
            status = hook.statuses[min(len(hook.posts) - 1, len(hook.statuses) - 1)]
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # keep the request line (and its path) out of stderr
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
