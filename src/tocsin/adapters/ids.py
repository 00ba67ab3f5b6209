"""Ids handed out before their rows are written, so the rows can go in together later."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, Select, Table, func, insert, select, text

from tocsin.adapters.bulk import insert_many


class IdBlock:
    """The next ids of `table`.

    PostgreSQL: drawn from the table's sequence `per_fetch` at a time, safe beside any other
    writer (ids left unused when the transaction ends are gaps, as after any rollback).
    SQLite: on from the highest id, safe because this transaction holds the only write lock.
    """

    def __init__(self, conn: Connection, table: Table, per_fetch: int) -> None:
        self._conn = conn
        self._table = table
        self._per_fetch = per_fetch
        self._ids: list[int] = []
        self._last: int | None = None  # SQLite

    def reserve(self, count: int) -> None:
        """Draw `count` more ids at once on PostgreSQL, e.g. for rows a batch is about to add."""
        if count > 0 and self._conn.dialect.name == "postgresql":
            self._ids = sorted([*self._ids, *self._draw(count)])

    def next(self) -> int:
        if self._conn.dialect.name != "postgresql":
            if self._last is None:
                self._last = int(self._conn.scalar(_highest_id(self._table)) or 0)
            self._last += 1
            return self._last
        if not self._ids:
            self._ids = sorted(self._draw(self._per_fetch))
        return self._ids.pop(0)

    def _draw(self, count: int) -> list[int]:
        sequence = f"pg_get_serial_sequence('{self._table.name}', 'id')"
        query = text(f"SELECT nextval({sequence}) FROM generate_series(1, :n)")
        return list(self._conn.execute(query, {"n": count}).scalars())


def insert_numbered(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` into `table` in one statement; their new ids, in the order given.

    PostgreSQL numbers them and says so (RETURNING, in parameter order). SQLite could only
    return ids in order one row per statement, so a batch is numbered on from the highest id,
    safe because this transaction holds the only write lock, and goes in as one executemany.
    """
    if conn.dialect.name == "postgresql" or len(rows) == 1:
        return [row[0] for row in conn.execute(_returning(table), list(rows))]
    top = int(conn.scalar(_highest_id(table)) or 0)
    numbered = [{**row, "id": top + n} for n, row in enumerate(rows, start=1)]
    insert_many(conn, table, numbered)
    return [row["id"] for row in numbered]


@cache
def _highest_id(table: Table) -> Select[tuple[int]]:
    return select(func.coalesce(func.max(table.c.id), 0))


@cache
def _returning(table: Table) -> Insert:
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)
