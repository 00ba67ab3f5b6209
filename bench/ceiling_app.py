"""The least a durable Python webhook receiver can do, to measure what any of them can reach.

Two ASGI apps, served by uvicorn with httptools and uvloop as `tocsin serve` is (though not
through its protocol subclass, which sets TCP_NODELAY and coalesces each response's writes):
- `answer_only` reads the body and answers: the HTTP stack alone.
- `durable` parses the body with orjson, checks it is a version-4 notification, and answers
  only after a writer thread has committed it to SQLite (WAL, synchronous=FULL), many requests
  to a commit (with CEILING_SHARDED set, to a file of each process's own): Tocsin's accept path
  without routing, deduplication, signals or applying.
`bench/ingest_ceiling.py` drives them with wrk beside Alertmanager.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
from typing import Any

import orjson

HEADERS = [(b"content-type", b"application/json")]
_deliveries: queue.Queue[tuple[bytes, asyncio.Future[None]]] = queue.Queue()
_writer: threading.Thread | None = None


async def answer_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    await _body(receive)
    await _answer(send, 200, b'{"status":"success"}')


async def durable(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _writer
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if _writer is None:
        _writer = threading.Thread(target=_write, daemon=True)
        _writer.start()
    body = await _body(receive)
    if scope["method"] == "GET":
        return await _answer(send, 200, b'{"status":"ready"}')
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return await _answer(send, 400, b'{"detail":"not JSON"}')
    if not isinstance(document, dict) or document.get("version") != "4":
        return await _answer(send, 400, b'{"detail":"not a version 4 notification"}')
    alerts = document.get("alerts")
    if not isinstance(alerts, list):
        return await _answer(send, 400, b'{"detail":"not a version 4 notification"}')
    done = asyncio.get_running_loop().create_future()
    _deliveries.put((orjson.dumps(alerts), done))
    await done
    await _answer(send, 200, orjson.dumps({"received": len(alerts)}))


def _write() -> None:
    path = os.environ["CEILING_DB"]
    if os.environ.get("CEILING_SHARDED"):  # a file of its own per process: no lock to share
        path = f"{path}.{os.getpid()}"
        prepare(path)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA synchronous=FULL")  # WAL and the table: see `prepare`
    while True:
        batch = [_deliveries.get()]
        while True:
            try:
                batch.append(_deliveries.get_nowait())
            except queue.Empty:
                break
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO inbox (alerts) VALUES (?)", [(a,) for a, _ in batch])
        db.execute("COMMIT")
        futures = [done for _, done in batch]
        futures[0].get_loop().call_soon_threadsafe(_wake, futures)


def prepare(path: str) -> None:
    """Before the servers start: processes that all switch a new file to WAL collide."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY, alerts BLOB)")
    db.close()


def _wake(futures: list[asyncio.Future[None]]) -> None:
    for done in futures:
        if not done.done():
            done.set_result(None)


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
