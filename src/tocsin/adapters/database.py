"""Engines for SQLite (WAL, one writer at a time) and PostgreSQL, from one URL."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from tocsin import jsontext

SQLITE_BUSY_TIMEOUT_MS = 10_000


@dataclass
class Database:
    """A write engine and a read engine; on PostgreSQL they are the same pool.

    `write_lock` is held for a whole write transaction. On SQLite, where one writer at a time is
    the rule anyway, this process's writers queue on it instead of on SQLite's busy handler,
    which sleeps in steps of up to 100 ms and would add that to a page or a webhook's answer.
    """

    url: str
    writer: Engine
    reader: Engine
    write_lock: AbstractContextManager[Any] = field(default_factory=nullcontext)

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def normalize_url(url: str) -> str:
    """Let people write postgresql:// and still get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


JSON_TEXT: dict[str, Any] = {"json_serializer": jsontext.dumps, "json_deserializer": jsontext.loads}


def connect(url: str, *, pool_size: int = 10) -> Database:
    """Build engines; SQLite files get their folder created, WAL mode and immediate writes."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        writer = _sqlite_engine(url, begin="BEGIN IMMEDIATE")
        reader = _sqlite_engine(url, begin="BEGIN")
        return Database(url, writer, reader, threading.Lock())
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **JSON_TEXT
    )
    return Database(url, engine, engine)


def _sqlite_engine(url: str, *, begin: str) -> Engine:
    # The driver's own transaction handling is switched off so that writers take the lock at
    # BEGIN (IMMEDIATE) instead of failing with "database is locked" when they upgrade later.
    engine = create_engine(url, connect_args={"check_same_thread": False}, **JSON_TEXT)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed page survives power loss
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine
