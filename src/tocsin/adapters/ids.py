"""Ids handed out before their rows are written, so the rows can go in together later."""

from __future__ import annotations

from sqlalchemy import Connection, Table, func, select, text


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
                top = self._conn.scalar(select(func.coalesce(func.max(self._table.c.id), 0)))
                self._last = int(top or 0)
            self._last += 1
            return self._last
        if not self._ids:
            self._ids = sorted(self._draw(self._per_fetch))
        return self._ids.pop(0)

    def _draw(self, count: int) -> list[int]:
        sequence = f"pg_get_serial_sequence('{self._table.name}', 'id')"
        query = text(f"SELECT nextval({sequence}) FROM generate_series(1, :n)")
        return list(self._conn.execute(query, {"n": count}).scalars())
