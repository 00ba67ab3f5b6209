"""Many rows into one table at once, for the paths every alert and page takes.

SQLAlchemy converts each value with its column's type and keeps per-row, per-parameter books
while doing so; for a storm of alerts, each with its timeline entry, that bookkeeping costs
about as much as the database's own work. Here every value is converted by the very processor
SQLAlchemy would use (so what is stored, and how it compares, is the same), and the rows go to
the driver as tuples: one executemany on SQLite, one COPY on PostgreSQL (where the multi-row
INSERTs of alerts and their timeline entries took about half of applying a storm's alerts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, Dialect, Table, insert
from sqlalchemy.exc import IntegrityError


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    copy: bool  # COPY FROM STDIN (psycopg) rather than executemany


_plans: dict[tuple[str, Table, tuple[str, ...]], _Plan | None] = {}


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows`, which all name the same columns."""
    if not rows:
        return
    keys = tuple(rows[0])
    try:
        plan = _plans[(conn.dialect.name, table, keys)]
    except KeyError:
        plan = _plans[(conn.dialect.name, table, keys)] = _plan(conn.dialect, table, keys)
    if plan is None:
        conn.execute(insert(table), list(rows))
        return
    values = [
        tuple(
            [
                value if (value := row[name]) is None or convert is None else convert(value)
                for name, convert in plan.columns
            ]
        )
        for row in rows
    ]
    if not plan.copy:
        conn.exec_driver_sql(plan.sql, values)
        return
    try:
        with conn.connection.cursor() as cursor, cursor.copy(plan.sql) as copy:  # type: ignore[attr-defined]
            for row in values:
                copy.write_row(row)
    except psycopg.IntegrityError as exc:  # as SQLAlchemy would raise it: callers catch that
        raise IntegrityError(plan.sql, None, exc) from exc


def _plan(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _Plan | None:
    """None where SQLAlchemy must write the rows: another driver, or a column left out that
    has a default computed in Python."""
    columns = [table.c[key] for key in keys]
    copy = dialect.driver == "psycopg"
    if not (copy or dialect.paramstyle == "qmark") or any(
        c.default is not None for c in table.columns if c.key not in keys
    ):
        return None
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    sql = (
        f"COPY {quote(table.name)} ({names}) FROM STDIN"
        if copy
        else f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' for _ in keys)})"
    )
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    return _Plan(sql, tuple(zip(keys, processors, strict=True)), copy)
