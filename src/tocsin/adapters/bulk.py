"""Many rows into one table in one executemany, for the paths every alert and page takes.

SQLAlchemy converts each value with its column's type and keeps per-row, per-parameter books
while doing so; for a storm of alerts, each with its timeline entry, that bookkeeping costs
about as much as SQLite's own work. On SQLite the rows go to the driver as tuples, every value
converted by the very processor SQLAlchemy would use (so what is stored, and how it compares,
is the same); elsewhere SQLAlchemy's multi-row INSERT is kept: it saves round trips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Table, insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]


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
    conn.exec_driver_sql(plan.sql, values)


def _plan(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> _Plan | None:
    """None where SQLAlchemy must write the rows: another paramstyle, or a column left out
    that has a default computed in Python."""
    columns = [table.c[key] for key in keys]
    plan = None
    if dialect.paramstyle == "qmark" and not any(
        c.default is not None for c in table.columns if c.key not in keys
    ):
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in columns)
        plan = _Plan(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' for _ in keys)})",
            tuple((c.key, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in columns),
        )
    return plan
