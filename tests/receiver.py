"""A real HTTP callback receiver on loopback that records what it receives."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Received:
    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path = path
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class CallbackReceiver:
    """Answers ``statuses`` in turn (then 200) and keeps every request."""

    def __init__(self, statuses: list[int] | None = None, port: int = 0) -> None:
        self.requests: list[Received] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(
        self, count: int, timeout_s: float = 30.0, path: str | None = None
    ) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            matching = [r for r in self.requests if path is None or r.path == path]
            if len(matching) >= count:
                return matching
            time.sleep(0.05)
        raise AssertionError(f"expected {count} callbacks, got {len(self.requests)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
