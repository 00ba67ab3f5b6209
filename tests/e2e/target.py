"""A real local HTTP server for actions and checks to call: it echoes, fails and dawdles."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: _Target

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        path = self.path.split("?")[0]
        if path.startswith("/slow/"):
            time.sleep(float(path.rsplit("/", 1)[1]))
        status = 500 if path == "/fail" else 202 if path == "/accepted" else 200
        echo = json.dumps(
            {"ok": status < 300, "path": self.path, "headers": dict(self.headers), "body": body}
        ).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            self.wfile.write(echo)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815


class _Target(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, object]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def target_server() -> Iterator[_Target]:
    """Answers /ok (200, echoing the request), /accepted (202), /fail (500), /slow/SECONDS."""
    server = _Target()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
