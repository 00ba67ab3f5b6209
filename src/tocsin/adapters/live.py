"""Live change notification: wake the browsers watching an incident when it changes.

Within one process a commit publishes to the hub directly. Across processes, PostgreSQL
carries the incident number on a NOTIFY channel to every server's listener; on SQLite the
live views also poll the incident's version, which catches changes made by other processes,
and a worker beside a server watches the file's data version to hear of queued work at once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "tocsin_changes"
INBOX_CHANNEL = "tocsin_inbox"
ALL = 0  # subscribe to every incident (lists)
INBOX = -1  # new alert deliveries are waiting to be applied
PAGING_CHANNEL = "tocsin_paging"
PAGING = -2  # escalation steps or deliveries were queued: the paging worker has work
_WORK = (INBOX, PAGING)  # queues, not incidents: not published to incident lists


class ChangeHub:
    """Thread-safe fan-out from committing threads to asyncio waiters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def publish(self, incident_id: int) -> None:
        with self._lock:
            waiters = list(self._waiters.get(incident_id, ()))
            if incident_id not in _WORK:
                waiters += self._waiters.get(ALL, ())
        for loop, wake in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake.set)

    @contextmanager
    def subscribe(self, incident_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever `incident_id` (or any incident, for ALL) changes."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(incident_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._waiters[incident_id].discard(entry)
                if not self._waiters[incident_id]:
                    del self._waiters[incident_id]


async def listen_postgres(dsn: str, hub: ChangeHub, *, retry_seconds: float = 2.0) -> None:
    """Relay NOTIFY payloads into the hub until cancelled; reconnects after failures."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                await conn.execute(f"LISTEN {PAGING_CHANNEL}")
                async for notify in conn.notifies():
                    if notify.channel == INBOX_CHANNEL:
                        hub.publish(INBOX)
                    elif notify.channel == PAGING_CHANNEL:
                        hub.publish(PAGING)
                    elif notify.payload.isdigit():
                        hub.publish(int(notify.payload))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database restarting must not end live updates for good
            log.warning("live-update listener lost its connection (%s); retrying", exc)
            await asyncio.sleep(retry_seconds)


async def watch_sqlite_commits(path: str, hub: ChangeHub, *, every_seconds: float = 0.01) -> None:
    """Until cancelled: wake the work queues whenever a commit lands in the SQLite file.

    SQLite has no NOTIFY; `PRAGMA data_version` changes when another connection commits and
    costs a few microseconds without touching the disk, so a worker beside a server looks
    often instead of waiting out its poll interval. It cannot tell what changed: both queues
    are woken, and each looks for what is due.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        seen, failing = None, False
        while True:
            try:
                (version,) = conn.execute("PRAGMA data_version").fetchone()
                failing = False
            except sqlite3.Error as exc:  # the worker's own poll still finds what is due
                if not failing:
                    log.warning("watching the database for commits failed (%s); retrying", exc)
                failing, version = True, seen
            if version != seen:
                seen = version
                hub.publish(INBOX)
                hub.publish(PAGING)
            await asyncio.sleep(every_seconds)
    finally:
        conn.close()
