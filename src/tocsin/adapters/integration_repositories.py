"""Integrations, their heartbeats and the change events they receive, in SQL; writes go straight
to the transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from tocsin.adapters import orm
from tocsin.domain.changes import ChangeEvent
from tocsin.domain.errors import NotFound
from tocsin.domain.integrations import Heartbeat, Integration, IntegrationKind

INTEGRATION_BY_ID = select(orm.integrations).where(orm.integrations.c.id == bindparam("id"))


class SqlAlchemyIntegrationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, integration: Integration) -> None:
        integration.id = self._conn.execute(
            insert(orm.integrations)
            .values(**_integration_row(integration))
            .returning(orm.integrations.c.id)
        ).scalar_one()

    def find(self, name: str) -> Integration | None:
        return self._one(orm.integrations.c.name == name)

    def get(self, integration_id: int) -> Integration:
        row = self._conn.execute(INTEGRATION_BY_ID, {"id": integration_id}).mappings().first()
        if row is None:
            raise NotFound(f"no integration {integration_id}", field="integration")
        return _integration(row)

    def save(self, integration: Integration) -> None:
        self._conn.execute(
            update(orm.integrations)
            .where(orm.integrations.c.id == integration.id)
            .values(**_integration_row(integration))
        )

    def _one(self, condition: Any) -> Integration | None:
        row = self._conn.execute(select(orm.integrations).where(condition)).mappings().first()
        return None if row is None else _integration(row)


def _integration_row(i: Integration) -> dict[str, Any]:
    return {
        "name": i.name,
        "kind": i.kind.value,
        "key": i.key,
        "service": i.service,
        "secret": i.secret,
        "config": i.config,
        "created_at": i.created_at,
        "created_by": i.created_by,
        "key_rotated_at": i.key_rotated_at,
    }


def _integration(row: Any) -> Integration:
    return Integration(
        id=row["id"],
        name=row["name"],
        kind=IntegrationKind(row["kind"]),
        key=row["key"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        service=row["service"],
        secret=row["secret"],
        config=row["config"],
        key_rotated_at=row["key_rotated_at"],
    )


# Built once: statements whose values arrive as parameters are compiled once and cached, which
# matters when an alert storm writes thousands of them a second.


class SqlAlchemyChangeEventRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, change: ChangeEvent) -> None:
        change.id = self._conn.execute(
            insert(orm.change_events)
            .values(
                integration_id=change.integration_id,
                summary=change.summary,
                service=change.service,
                source=change.source,
                occurred_at=change.occurred_at,
                received_at=change.received_at,
                details=change.details,
                links=[{"href": link.href, "text": link.text} for link in change.links],
            )
            .returning(orm.change_events.c.id)
        ).scalar_one()


class SqlAlchemyHeartbeatRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def add(self, heartbeat: Heartbeat) -> None:
        self._conn.execute(insert(orm.heartbeats).values(**_heartbeat_row(heartbeat)))

    def get(self, integration_id: int) -> Heartbeat:
        query = select(orm.heartbeats).where(orm.heartbeats.c.integration_id == integration_id)
        if self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"integration {integration_id} has no heartbeat", field="key")
        return _heartbeat(row)

    def missed(self, now: datetime) -> list[Heartbeat]:
        h = orm.heartbeats
        query = select(h).where(h.c.firing.is_(False), h.c.due_at <= now).order_by(h.c.due_at)
        if self._locks:
            query = query.with_for_update(skip_locked=True)
        return [_heartbeat(row) for row in self._conn.execute(query).mappings()]

    def save(self, heartbeat: Heartbeat) -> None:
        h = orm.heartbeats
        self._conn.execute(
            update(h)
            .where(h.c.integration_id == heartbeat.integration_id)
            .values(**_heartbeat_row(heartbeat))
        )


def _heartbeat_row(h: Heartbeat) -> dict[str, Any]:
    return {
        "integration_id": h.integration_id,
        "interval_seconds": int(h.interval.total_seconds()),
        "due_at": h.due_at,
        "last_ping_at": h.last_ping_at,
        "firing": h.firing,
    }


def _heartbeat(row: Any) -> Heartbeat:
    return Heartbeat(
        integration_id=row["integration_id"],
        interval=timedelta(seconds=row["interval_seconds"]),
        due_at=row["due_at"],
        last_ping_at=row["last_ping_at"],
        firing=row["firing"],
    )
