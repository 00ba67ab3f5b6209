"""The war room's conversation and its participants, as plain data for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.views.accounts import Principal
from tocsin.views.visibility import require_visible

MESSAGES_SHOWN = 200


@dataclass(frozen=True)
class MessageView:
    id: int
    author: str
    body: str
    posted_at: datetime


@dataclass(frozen=True)
class ParticipantView:
    handle: str
    name: str
    reason: str
    added_at: datetime
    added_by: str


class WarRoomViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def messages(
        self, incident_id: int, viewer: Principal | None = None, *, after: int = 0
    ) -> list[MessageView]:
        """The latest messages, oldest first; `after` returns only those newer than an id."""
        m = orm.war_room_messages
        query = (
            select(m.c.id, m.c.author, m.c.body, m.c.posted_at)
            .where(m.c.incident_id == incident_id, m.c.id > after)
            .order_by(m.c.id.desc())
            .limit(MESSAGES_SHOWN)
        )
        with self._db.reader.connect() as conn:
            require_visible(conn, incident_id, viewer)
            rows = conn.execute(query).all()
        return [MessageView(r.id, r.author, r.body, r.posted_at) for r in reversed(rows)]

    def participants(
        self, incident_id: int, viewer: Principal | None = None
    ) -> list[ParticipantView]:
        p, people = orm.incident_participants, orm.people
        query = (
            select(people.c.handle, people.c.name, p.c.reason, p.c.added_at, p.c.added_by)
            .join(people, people.c.id == p.c.person_id)
            .where(p.c.incident_id == incident_id)
            .order_by(p.c.added_at, people.c.name)
        )
        with self._db.reader.connect() as conn:
            require_visible(conn, incident_id, viewer)
            rows = conn.execute(query).all()
        return [ParticipantView(*r) for r in rows]

    def handle_of(self, person_id: int | None) -> str | None:
        """The catalog handle of a signed-in user's person, to offer them a role."""
        if person_id is None:
            return None
        with self._db.reader.connect() as conn:
            found = conn.scalar(select(orm.people.c.handle).where(orm.people.c.id == person_id))
        return None if found is None else str(found)
