"""The alert inbox: accepted deliveries are group-committed here before senders are answered.

Many concurrent requests share one transaction (and one fsync): a writer thread takes whatever
has queued up since its last commit, inserts it all, commits, and only then answers each waiting
request with its inbox id. Applying the deliveries to alerts and incidents happens afterwards,
in arrival order, through the bus (`ProcessInbox`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Text,
    bindparam,
    cast,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.pool import PoolProxiedConnection

from tocsin import jsontext
from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.adapters.live import INBOX_CHANNEL
from tocsin.adapters.recent_deliveries import RecentDeliveries
from tocsin.domain.alerts import AlertSignal, InboxItem, Link, SignalAction
from tocsin.services.ports import Clock

log = logging.getLogger(__name__)
MAX_BATCH = 1000
# Any constant shared by every process: the advisory lock that makes one applier at a time.
APPLIER_LOCK = 7452317
# Built once: the applier runs them for every batch.
_box = orm.alert_inbox
PENDING = (
    # The signals as text: parsed only when not kept decoded (see RecentDeliveries).
    select(_box.c.id, _box.c.integration_id, _box.c.received_at, cast(_box.c.signals, Text))
    .where(_box.c.failed_at.is_(None))
    .order_by(_box.c.id)
    .limit(bindparam("limit"))
)
REMOVE = delete(_box).where(_box.c.id.in_(bindparam("ids", expanding=True)))


def encode_text(signals: tuple[AlertSignal, ...]) -> str:
    """The signals as the inbox stores them: orjson writes the dataclasses itself, in C (a
    storm's deliveries were a tenth of ingest's Python time when built as dicts first). What it
    refuses (an integer beyond 64 bits in a raw payload, say) goes the slow way."""
    try:
        return orjson.dumps(signals, default=_mapping).decode()
    except TypeError:
        return jsontext.dumps(encode(signals))


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError


def encode(signals: tuple[AlertSignal, ...]) -> list[dict[str, Any]]:
    return [
        {
            "dedup_key": s.dedup_key,
            "action": s.action.value,
            "title": s.title,
            "description": s.description,
            "source_severity": s.source_severity,
            "labels": dict(s.labels),
            "annotations": dict(s.annotations),
            "details": dict(s.details),
            "links": [[link.href, link.text] for link in s.links],
            "source": s.source,
            "group_key": s.group_key,
            "started_at": s.started_at.isoformat() if s.started_at else None,
            "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            "raw": dict(s.raw),
        }
        for s in signals
    ]


def decode(documents: list[dict[str, Any]]) -> tuple[AlertSignal, ...]:
    return tuple(
        AlertSignal(
            dedup_key=d["dedup_key"],
            action=SignalAction(d["action"]),
            title=d["title"],
            description=d["description"],
            source_severity=d["source_severity"],
            labels=d["labels"],
            annotations=d["annotations"],
            details=d["details"],
            links=tuple(_link(link) for link in d["links"]),
            source=d["source"],
            group_key=d["group_key"],
            started_at=_time(d["started_at"]),
            ended_at=_time(d["ended_at"]),
            raw=d["raw"],
        )
        for d in documents
    )


def _link(value: dict[str, str] | list[str]) -> Link:
    """As orjson writes a Link, or as a pair (how `encode` writes it)."""
    return Link(value["href"], value["text"]) if isinstance(value, dict) else Link(*value)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SqlAlchemyAlertInbox:
    def __init__(self, conn: Connection, recent: RecentDeliveries | None = None) -> None:
        self._conn = conn
        self._recent = recent

    def claim(self) -> bool:
        if self._conn.dialect.name != "postgresql":
            return True  # SQLite writers already take turns
        taken = self._conn.scalar(text(f"SELECT pg_try_advisory_xact_lock({APPLIER_LOCK})"))
        return bool(taken)

    def pending(self, limit: int, now: datetime) -> list[InboxItem]:
        rows = self._conn.execute(PENDING, {"limit": limit}).all()
        if self._recent is not None:
            self._recent.forget_before(rows[0][0] if rows else None)
        items = []
        for inbox_id, integration_id, received_at, stored in rows:
            signals = self._recent.take(inbox_id, stored) if self._recent else None
            if signals is None:
                try:
                    signals = decode(jsontext.loads(stored))
                except (KeyError, TypeError, ValueError) as exc:  # e.g. from another version
                    error = f"unreadable delivery: {type(exc).__name__}: {exc}"
                    self.set_aside(inbox_id, error, now)
                    continue
            items.append(InboxItem(inbox_id, integration_id, received_at, signals))
        return items

    def remove(self, ids: list[int]) -> None:
        if ids:
            self._conn.execute(REMOVE, {"ids": ids})

    def set_aside(self, item_id: int, error: str, now: datetime) -> None:
        self._conn.execute(
            update(orm.alert_inbox)
            .where(orm.alert_inbox.c.id == item_id)
            .values(failed_at=now, error=error[:10_000])
        )

    def retry(self, item_id: int) -> bool:
        box = orm.alert_inbox
        result = self._conn.execute(
            update(box)
            .where(box.c.id == item_id, box.c.failed_at.is_not(None))
            .values(failed_at=None, error=None)
        )
        return result.rowcount == 1


class InboxWriter:
    """Group commit: one transaction for every delivery that arrived since the last one."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        on_commit: Callable[[], None] | None = None,
        recent: RecentDeliveries | None = None,
    ) -> None:
        self._database = database
        self._recent = recent
        self._clock = clock
        self._on_commit = on_commit or (lambda: None)
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: PoolProxiedConnection | None = None  # the writer thread's own
        self._lost_connection = False

    def submit(self, integration_id: int, signals: tuple[AlertSignal, ...]) -> Future[int]:
        """A future that completes with the inbox id once the delivery is committed."""
        self._ensure_started()
        done: Future[int] = Future()
        self._queue.put((integration_id, signals, done))
        return done

    async def accept(
        self,
        integration_id: int,
        signals: tuple[AlertSignal, ...],
        on_stored: Callable[[int], None] = lambda _: None,
    ) -> int:
        """The inbox id, once the delivery is committed. `on_stored(id)` runs on this event
        loop before anything the commit wakes there. The requests of a batch are answered
        with one call into their loop, not one thread-safe hand-off each."""
        self._ensure_started()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put((integration_id, signals, _Waiting(future, on_stored)))
        return await future

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._thread = None

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[_Delivery]) -> None:
        rows = [(i, encode_text(s)) for i, s, _ in batch]
        try:
            ids = self._store(rows, self._clock.now())
        except Exception as exc:  # the senders are told to retry; nothing was written
            log.exception("could not write %d deliveries to the alert inbox", len(batch))
            _answer([(done, exc) for *_, done in batch])
            return
        if self._recent is not None:  # before anyone is woken to apply them
            self._recent.keep(
                (inbox_id, stored, signals)
                for inbox_id, (_, stored), (_, signals, _) in zip(ids, rows, batch, strict=True)
            )
        _answer([(done, inbox_id) for (*_, done), inbox_id in zip(batch, ids, strict=True)])
        self._on_commit()

    def _store(self, rows: list[tuple[int, str]], received_at: datetime) -> list[int]:
        """Commit the rows (integration id, signals as JSON); their inbox ids, in order.

        The writer keeps its own driver connection: no pool checkout and ping per batch, and
        none of SQLAlchemy's per-statement work, which would cost more than the database's on
        the path every delivery waits for. A connection that fails is dropped; if it had died
        while idle (PostgreSQL restarted), the batch is tried once more on a new one. Should the
        first try have committed after all, the applier deduplicates the repeat as it does any
        sender's retry.
        """
        try:
            return self._store_once(rows, received_at)
        except Exception:
            if not self._lost_connection:
                raise
            return self._store_once(rows, received_at)

    def _store_once(self, rows: list[tuple[int, str]], received_at: datetime) -> list[int]:
        self._lost_connection = False
        if self._conn is None:
            self._conn = self._database.writer.raw_connection()
            if self._database.dialect == "postgresql":
                self._conn.driver_connection.autocommit = True  # type: ignore[union-attr]
        driver: Any = self._conn.driver_connection
        try:
            if self._database.dialect == "postgresql":
                return _store_postgres(driver, rows, received_at)
            with self._database.write_lock:
                return _store_sqlite(driver, rows, received_at)
        except Exception:
            self._lost_connection = bool(getattr(driver, "broken", False))
            self._conn.invalidate()
            self._conn = None
            raise


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A request on an event loop, waiting for its delivery to be committed."""

    future: asyncio.Future[int]
    on_stored: Callable[[int], None]


_Delivery = tuple[int, tuple[AlertSignal, ...], Future[int] | _Waiting]
_Answer = tuple[Future[int] | _Waiting, int | Exception]


def _answer(answers: list[_Answer]) -> None:
    on_loops: dict[asyncio.AbstractEventLoop, list[tuple[_Waiting, int | Exception]]]
    on_loops = defaultdict(list)
    for done, outcome in answers:
        if isinstance(done, _Waiting):
            on_loops[done.future.get_loop()].append((done, outcome))
        elif isinstance(outcome, Exception):
            done.set_exception(outcome)
        else:
            done.set_result(outcome)
    for loop, waiting in on_loops.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(_answer_on_loop, waiting)


def _answer_on_loop(answers: list[tuple[_Waiting, int | Exception]]) -> None:
    for waiting, outcome in answers:
        if waiting.future.done():
            continue  # the request was cancelled; its delivery is stored all the same
        if isinstance(outcome, Exception):
            waiting.future.set_exception(outcome)
        else:
            waiting.on_stored(outcome)
            waiting.future.set_result(outcome)


def _store_sqlite(driver: Any, rows: list[tuple[int, str]], received_at: datetime) -> list[int]:
    # Written as SQLAlchemy writes UtcDateTime on SQLite, so reads and comparisons agree.
    at = received_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    cursor = driver.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        # This transaction holds the only write lock, so nobody else is numbering.
        (last,) = cursor.execute(SQLITE_LAST_ID).fetchone()
        ids = list(range(last + 1, last + 1 + len(rows)))
        numbered = [(n, i, at, signals) for n, (i, signals) in zip(ids, rows, strict=True)]
        cursor.executemany(SQLITE_INSERT, numbered)
        cursor.execute("COMMIT")
    except BaseException:
        if driver.in_transaction:
            driver.rollback()
        raise
    return ids


def _store_postgres(driver: Any, rows: list[tuple[int, str]], received_at: datetime) -> list[int]:
    """One statement, committed on its own: a single round trip stores, numbers the
    deliveries in arrival order, and wakes the appliers of every process. The batch goes as
    one JSON document built from the texts at hand (a text[] would be escaped element by
    element)."""
    batch = "[" + ",".join(f"[{integration},{signals}]" for integration, signals in rows) + "]"
    return sorted(row[0] for row in driver.execute(POSTGRES_INSERT, (received_at, batch)))


SQLITE_LAST_ID = "SELECT coalesce(max(id), 0) FROM alert_inbox"
SQLITE_INSERT = (
    "INSERT INTO alert_inbox (id, integration_id, received_at, signals) VALUES (?, ?, ?, ?)"
)
# Sequence values follow the ORDER BY, so the ids sorted are the deliveries' ids in order; a
# notification repeated in one transaction is delivered once.
POSTGRES_INSERT = f"""
INSERT INTO alert_inbox (integration_id, received_at, signals)
SELECT (delivery->>0)::integer, %s, delivery->1
FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS d(delivery, position)
ORDER BY position
RETURNING id, pg_notify('{INBOX_CHANNEL}', '')
"""
