"""A webhook page receiver for the benchmarks, in its own process so it is never the bottleneck.

An asyncio server reads minimal HTTP/1.1 (request line, headers, Content-Length body), notes
time.time() as soon as a page's body is in, and answers 200 with an empty body. The parent asks
for the pages through a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
SETTLE_S = 3.0  # after the last page expected: what else arrives (nothing should)
STALL_S, GIVE_UP_S = 30.0, 900.0  # no new page for this long, or this long in all: stop waiting


@dataclass(frozen=True)
class Page:
    """One page as the receiver saw it; received_at is time.time() (CLOCK_REALTIME)."""

    received_at: float
    incident_id: int
    subject: str
    step: int
    key: str

    @property
    def title(self) -> str:
        """The incident title, from a subject like "[P1] INC-7: title"."""
        return self.subject.partition(": ")[2]


class PageReceiver:
    """`with PageReceiver() as r:` pages POSTed to `r.url` are listed by `r.pages()`."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child,), daemon=True
        )
        self._process.start()
        self.port: int = self._conn.recv()
        self._seen: list[Page] = []

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/page"

    def pages(self) -> list[Page]:
        """Every page received so far, in arrival order."""
        self._conn.send(len(self._seen))
        self._seen.extend(Page(*row) for row in self._conn.recv())
        return list(self._seen)

    def wait(self, prefix: str, alerts: int, steps: int) -> list[Page]:
        """Pages whose title starts with `prefix`, once each of `alerts` has `steps` of them (or
        none came for STALL_S), and any more that come in SETTLE_S: later cycles of the engine
        must send nothing else."""
        last, started = -1, time.time()
        changed = started
        while True:
            pages = [p for p in self.pages() if p.title.startswith(prefix)]
            if len({(p.title, p.step) for p in pages}) >= alerts * steps:
                time.sleep(SETTLE_S)
                return [p for p in self.pages() if p.title.startswith(prefix)]
            if len(pages) != last:
                last, changed = len(pages), time.time()
            elif time.time() - changed > STALL_S or time.time() - started > GIVE_UP_S:
                return pages
            time.sleep(0.2)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()

    def __enter__(self) -> PageReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(conn: Connection) -> None:
    asyncio.run(_main(conn))


async def _main(conn: Connection) -> None:
    records: list[tuple[float, int, str, int, str]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:  # keep-alive: one request after another on the connection
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                at = time.time()
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    page = json.loads(body)
                    records.append(
                        (at, int(page.get("incident_id") or 0), str(page.get("subject", "")),
                         int(page.get("step") or 0), str(page.get("idempotency_key", "")))
                    )  # fmt: skip
                writer.write(OK)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    conn.send(server.sockets[0].getsockname()[1])
    loop, done = asyncio.get_running_loop(), asyncio.Event()

    def answer() -> None:  # a thread, so the event loop never blocks on the pipe
        while (since := conn.recv()) is not None:
            conn.send(records[since:])
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=answer, daemon=True).start()
    async with server:
        await done.wait()
