"""Incident details and timelines as plain data (lists and search: `incident_search`)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    or_,
    select,
)

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.views.accounts import Principal
from tocsin.views.incident_search import (
    IncidentFilter,
    IncidentSummary,
    ServiceLabel,
    search_incidents,
    services_for,
)
from tocsin.views.pagination import Page
from tocsin.views.visibility import require_visible, visible


@dataclass(frozen=True)
class RoleHolder:
    role: str
    role_label: str
    person_handle: str
    person_name: str
    assigned_at: datetime
    assigned_by: str


@dataclass(frozen=True)
class TimestampView:
    name: str
    value: datetime | None
    source: str | None = None
    set_by: str | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class IncidentDetail:
    id: int
    reference: str
    title: str
    summary: str
    severity: str
    status: str
    user_impact: str
    business_impact: str
    customer_facing: bool
    detection_source: str
    created_by: str
    version: int
    services: list[ServiceLabel]
    roles: list[RoleHolder]
    timestamps: list[TimestampView]
    updated_at: datetime
    private: bool = False

    def stamp(self, name: str) -> datetime | None:
        return next((t.value for t in self.timestamps if t.name == name), None)

    def holder(self, role: Role) -> RoleHolder | None:
        return next((r for r in self.roles if r.role == role.value), None)

    @property
    def needs_commander(self) -> bool:
        """An open P1/P2 without an Incident Commander: flagged until one is named."""
        return (
            Severity(self.severity).needs_commander
            and Status(self.status).is_open
            and self.holder(Role.INCIDENT_COMMANDER) is None
        )


@dataclass(frozen=True)
class EntryView:
    seq: int
    kind: str
    body: str
    author: str
    occurred_at: datetime
    recorded_at: datetime
    corrects_seq: int | None
    corrected_by: list[int]
    key_moment: bool
    key_moment_by: str | None
    key_moment_at: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


class IncidentViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def list(
        self, filters: IncidentFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page[IncidentSummary]:
        """Newest first by declaration time; `next_cursor` continues where this page ended."""
        return search_incidents(self._db, filters, limit=limit, cursor=cursor)

    def detail(self, incident_id: int, viewer: Principal | None = None) -> IncidentDetail:
        t = orm.incidents
        query = select(t).where(t.c.id == incident_id, visible(viewer, t.c.id))
        with self._db.reader.connect() as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                raise NotFound(f"no incident {reference(incident_id)}", field="incident")
            services = services_for(conn, [incident_id]).get(incident_id, [])
            role_rows = (
                conn.execute(
                    select(orm.incident_roles, orm.people.c.handle)
                    .join(orm.people, orm.people.c.id == orm.incident_roles.c.person_id)
                    .where(orm.incident_roles.c.incident_id == incident_id)
                    .order_by(orm.incident_roles.c.assigned_at)
                )
                .mappings()
                .all()
            )
        order = {role: i for i, role in enumerate(Role)}
        roles = sorted(
            (
                RoleHolder(
                    role=r["role"],
                    role_label=Role(r["role"]).label,
                    person_handle=r["handle"],
                    person_name=r["person_name"],
                    assigned_at=r["assigned_at"],
                    assigned_by=r["assigned_by"],
                )
                for r in role_rows
            ),
            key=lambda h: order[Role(h.role)],
        )
        provenance = row["timestamp_provenance"]
        timestamps = []
        for milestone in Milestone:
            meta = provenance.get(milestone.value, {}) if row[milestone.field] else {}
            recorded = meta.get("recorded_at")
            timestamps.append(
                TimestampView(
                    name=milestone.field,
                    value=row[milestone.field],
                    source=meta.get("source"),
                    set_by=meta.get("set_by"),
                    recorded_at=datetime.fromisoformat(recorded) if recorded else None,
                )
            )
        return IncidentDetail(
            id=row["id"],
            reference=reference(row["id"]),
            title=row["title"],
            summary=row["summary"],
            severity=row["severity"],
            status=row["status"],
            user_impact=row["user_impact"],
            business_impact=row["business_impact"],
            customer_facing=row["customer_facing"],
            detection_source=row["detection_source"],
            created_by=row["created_by"],
            version=row["version"],
            services=services,
            roles=roles,
            timestamps=timestamps,
            updated_at=row["updated_at"],
            private=row["private"],
        )

    def timeline(
        self,
        incident_id: int,
        *,
        key_moments_only: bool = False,
        viewer: Principal | None = None,
    ) -> builtins.list[EntryView]:
        """All entries in the order written, each listing the entries that correct it."""
        t = orm.timeline_entries
        query = select(t).where(t.c.incident_id == incident_id).order_by(t.c.seq)
        with self._db.reader.connect() as conn:
            require_visible(conn, incident_id, viewer)
            rows = conn.execute(query).mappings().all()
        entries = _entries(rows)
        return [e for e in entries if e.key_moment] if key_moments_only else entries

    def entry(self, incident_id: int, seq: int, viewer: Principal | None = None) -> EntryView:
        t = orm.timeline_entries
        with self._db.reader.connect() as conn:
            require_visible(conn, incident_id, viewer)
            rows = (
                conn.execute(
                    select(t).where(
                        t.c.incident_id == incident_id,
                        or_(t.c.seq == seq, t.c.corrects_seq == seq),
                    )
                )
                .mappings()
                .all()
            )
        found = [e for e in _entries(rows) if e.seq == seq]
        if not found:
            raise NotFound(f"no entry #{seq} on {reference(incident_id)}'s timeline", field="seq")
        return found[0]

    def version(self, incident_id: int, viewer: Principal | None = None) -> int | None:
        """A cheap change marker for live views; None when missing or hidden from the viewer."""
        t = orm.incidents
        with self._db.reader.connect() as conn:
            value = conn.scalar(
                select(t.c.version).where(t.c.id == incident_id, visible(viewer, t.c.id))
            )
        return None if value is None else int(value)

    def require(self, incident_id: int, viewer: Principal | None) -> None:
        """Raise NotFound unless the incident exists and the viewer may see it."""
        with self._db.reader.connect() as conn:
            require_visible(conn, incident_id, viewer)


def _entries(rows: Any) -> list[EntryView]:
    corrected_by: dict[int, list[int]] = {}
    for r in rows:
        if r["corrects_seq"] is not None:
            corrected_by.setdefault(r["corrects_seq"], []).append(r["seq"])
    return [
        EntryView(
            seq=r["seq"],
            kind=r["kind"],
            body=r["body"],
            author=r["author"],
            occurred_at=r["occurred_at"],
            recorded_at=r["recorded_at"],
            corrects_seq=r["corrects_seq"],
            corrected_by=corrected_by.get(r["seq"], []),
            key_moment=r["key_moment"],
            key_moment_by=r["key_moment_by"],
            key_moment_at=r["key_moment_at"],
            data=r["data"],
        )
        for r in rows
    ]
