"""Engines for SQLite (WAL, one writer at a time) and PostgreSQL, from one URL."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from tocsin import jsontext

try:
    import fcntl
except ImportError:  # Windows has none: processes there meet SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

SQLITE_BUSY_TIMEOUT_MS = 10_000


@dataclass
class Database:
    """A write engine and a read engine; on PostgreSQL they are the same pool.

    `write_lock` is held for a whole write transaction. On SQLite, where one writer at a time is
    the rule anyway, writers queue on it instead of on SQLite's busy handler, which sleeps in
    steps of up to 100 ms and would add that to a page or a webhook's answer: this process's
    threads, and the processes on the same file (see `SqliteWriteLock`).
    """

    url: str
    writer: Engine
    reader: Engine
    write_lock: AbstractContextManager[Any] = field(default_factory=nullcontext)

    @property
    def dialect(self) -> str:
        return self.writer.dialect.name

    def dispose(self) -> None:
        if isinstance(self.write_lock, SqliteWriteLock):
            self.write_lock.close()
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
        lock_path = None if parsed.database in (None, "", ":memory:") else parsed.database
        return Database(url, writer, reader, SqliteWriteLock(lock_path))
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **JSON_TEXT
    )
    return Database(url, engine, engine)


class SqliteWriteLock:
    """One writer at a time: a thread of this process, then a process on the same file.

    Processes take turns through an advisory lock on a file beside the database, which the
    kernel hands over the moment it is released; SQLite's own busy handler, which they would
    otherwise meet, sleeps in steps of up to 100 ms, and a server beside a `tocsin worker` spent
    its time there. Anything else writing the file (the sqlite3 shell) still meets the busy
    handler, as before.
    """

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.Lock()
        self._path = f"{database_path}.writer-lock" if database_path and fcntl else None
        self._file: tuple[int, int] | None = None  # (pid, descriptor): not inherited by forks

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._path is not None:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_: object) -> None:
        try:
            if self._path is not None and self._file is not None:
                fcntl.flock(self._file[1], fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._file is not None and self._file[0] == os.getpid():
                os.close(self._file[1])
            self._file = None

    def _descriptor(self) -> int:
        assert self._path is not None
        if self._file is None or self._file[0] != os.getpid():
            self._file = (os.getpid(), os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
        return self._file[1]


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
