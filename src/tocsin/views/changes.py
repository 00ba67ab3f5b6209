"""Change events as plain data: per service, and the suspects of an incident."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.changes import CORRELATION_WINDOW
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference

MAX_LIMIT = 500


@dataclass(frozen=True)
class ChangeView:
    id: int
    integration: str
    summary: str
    service: str | None
    source: str
    occurred_at: datetime
    received_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)


class ChangeViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def list(
        self,
        *,
        services: tuple[str, ...] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[ChangeView]:
        """Newest first."""
        c, i = orm.change_events, orm.integrations
        query = select(c, i.c.name.label("integration")).join(i, i.c.id == c.c.integration_id)
        if services:
            query = query.where(c.c.service.in_(services))
        if since is not None:
            query = query.where(c.c.occurred_at >= since)
        if until is not None:
            query = query.where(c.c.occurred_at <= until)
        limit = max(1, min(limit, MAX_LIMIT))
        query = query.order_by(c.c.occurred_at.desc(), c.c.id.desc()).limit(limit)
        with self._db.reader.connect() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def before_incident(self, incident_id: int) -> builtins.list[ChangeView]:
        """Changes to the incident's services from an hour before it started until declared."""
        t, links, svc = orm.incidents, orm.incident_services, orm.services
        with self._db.reader.connect() as conn:
            row = conn.execute(
                select(t.c.impact_started_at, t.c.detected_at, t.c.declared_at).where(
                    t.c.id == incident_id
                )
            ).first()
            if row is None:
                raise NotFound(f"no incident {reference(incident_id)}", field="incident")
            slugs = conn.scalars(
                select(svc.c.slug)
                .join(links, links.c.service_id == svc.c.id)
                .where(links.c.incident_id == incident_id)
            ).all()
        if not slugs:
            return []
        started = row.impact_started_at or row.detected_at or row.declared_at
        return self.list(
            services=tuple(slugs), since=started - CORRELATION_WINDOW, until=row.declared_at
        )


def _change(row: Any) -> ChangeView:
    return ChangeView(
        id=row["id"],
        integration=row["integration"],
        summary=row["summary"],
        service=row["service"],
        source=row["source"],
        occurred_at=row["occurred_at"],
        received_at=row["received_at"],
        details=row["details"],
        links=row["links"],
    )
