"""A real local HTTP receiver for pages: records what it accepts, refuses with 503 on demand."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver(ThreadingHTTPServer):
    """Records the idempotency key of every page it accepts; answers `failure_status` (503
    unless set) while failing."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.accepted: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # accepted bodies as sent, for checking signatures
        self.refused = 0
        self.failing = False
        self.failure_status = 503
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/page"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers.get("Idempotency-Key", "")
        document = json.loads(body)
        with self.server.lock:
            if self.server.failing:
                self.server.refused += 1
                status = self.server.failure_status
            else:
                self.server.accepted.append(key)
                self.server.raw.append(body)
                self.server.bodies.append(
                    {"path": self.path, "headers": dict(self.headers), **document}
                )
                status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None
