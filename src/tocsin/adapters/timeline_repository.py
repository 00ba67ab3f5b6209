"""Single timeline entries in SQL, loaded to correct or flag them.

New entries are written with their incident (incident_repository.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from tocsin.adapters import orm
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference
from tocsin.domain.timeline import EntryKind, TimelineEntry


class SqlAlchemyTimelineRepository:
    """Loads single entries (to correct or flag them); only the key-moment flag is ever updated."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._loaded: dict[tuple[int, int], tuple[TimelineEntry, bool]] = {}

    def get(self, incident_id: int, seq: int) -> TimelineEntry:
        key = (incident_id, seq)
        if key in self._loaded:
            return self._loaded[key][0]
        table = orm.timeline_entries
        row = (
            self._conn.execute(
                select(table).where(table.c.incident_id == incident_id, table.c.seq == seq)
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no entry #{seq} on {reference(incident_id)}'s timeline", field="seq")
        entry = TimelineEntry(
            incident_id=row["incident_id"],
            seq=row["seq"],
            kind=EntryKind(row["kind"]),
            body=row["body"],
            author=row["author"],
            author_user_id=row["author_user_id"],
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            corrects_seq=row["corrects_seq"],
            data=row["data"],
            key_moment=row["key_moment"],
            key_moment_by=row["key_moment_by"],
            key_moment_at=row["key_moment_at"],
            id=row["id"],
        )
        self._loaded[key] = (entry, entry.key_moment)
        return entry

    def flush(self) -> None:
        table = orm.timeline_entries
        for entry, was_key_moment in self._loaded.values():
            if entry.key_moment != was_key_moment:
                self._conn.execute(
                    update(table)
                    .where(table.c.id == entry.id)
                    .values(
                        key_moment=entry.key_moment,
                        key_moment_by=entry.key_moment_by,
                        key_moment_at=entry.key_moment_at,
                    )
                )
        self._loaded.clear()
