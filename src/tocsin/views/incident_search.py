"""Incident lists: filters, text search and keyset pages, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, column, exists, literal_column, or_, select, table, tuple_

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.incidents import reference
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.views.accounts import Principal
from tocsin.views.pagination import Page, decode_cursor, encode_cursor
from tocsin.views.visibility import visible

MAX_LIMIT = 200
TRIGRAM = 3


@dataclass(frozen=True)
class IncidentFilter:
    statuses: tuple[Status, ...] = ()
    severities: tuple[Severity, ...] = ()
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    viewer: Principal | None = None  # None: everything, private incidents included


@dataclass(frozen=True)
class ServiceLabel:
    slug: str
    name: str


@dataclass(frozen=True)
class IncidentSummary:
    id: int
    reference: str
    title: str
    severity: str
    status: str
    customer_facing: bool
    declared_at: datetime
    resolved_at: datetime | None
    services: list[ServiceLabel]
    incident_commander: str | None
    private: bool = False

    @property
    def needs_commander(self) -> bool:
        return (
            self.incident_commander is None
            and Severity(self.severity).needs_commander
            and Status(self.status).is_open
        )


def search_incidents(
    db: Database, filters: IncidentFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[IncidentSummary]:
    """Newest first by declaration time; `next_cursor` continues where this page ended."""
    t = orm.incidents
    query = select(
        t.c.id,
        t.c.title,
        t.c.severity,
        t.c.status,
        t.c.customer_facing,
        t.c.declared_at,
        t.c.resolved_at,
        t.c.private,
    ).where(visible(filters.viewer, t.c.id))
    if filters.statuses:
        query = query.where(t.c.status.in_([s.value for s in filters.statuses]))
    if filters.severities:
        query = query.where(t.c.severity.in_([s.value for s in filters.severities]))
    if filters.service:
        links, svc = orm.incident_services, orm.services
        query = query.where(
            exists()
            .where(links.c.incident_id == t.c.id)
            .where(links.c.service_id == svc.c.id)
            .where(svc.c.slug == filters.service)
        )
    if filters.since:
        query = query.where(t.c.declared_at >= filters.since)
    if filters.until:
        query = query.where(t.c.declared_at < filters.until)
    if filters.text and filters.text.strip():
        query = query.where(_text_matches(db.dialect, filters.text.strip()))
    if cursor:
        at, ident = decode_cursor(cursor)
        # A row-value comparison walks the (declared_at, id) index straight to the page.
        query = query.where(tuple_(t.c.declared_at, t.c.id) < tuple_(at, ident))
    limit = max(1, min(limit, MAX_LIMIT))
    query = query.order_by(t.c.declared_at.desc(), t.c.id.desc()).limit(limit + 1)
    with db.reader.connect() as conn:
        rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r.id for r in rows]
        services = services_for(conn, ids)
        commanders = _commanders_for(conn, ids)
    items = [
        IncidentSummary(
            id=r.id,
            reference=reference(r.id),
            title=r.title,
            severity=r.severity,
            status=r.status,
            customer_facing=r.customer_facing,
            declared_at=r.declared_at,
            resolved_at=r.resolved_at,
            services=services.get(r.id, []),
            incident_commander=commanders.get(r.id),
            private=r.private,
        )
        for r in rows
    ]
    next_cursor = encode_cursor(rows[-1].declared_at, rows[-1].id) if more else None
    return Page(items, next_cursor)


def _text_matches(dialect: str, text: str) -> ColumnElement[bool]:
    """Title or summary contains `text`, ignoring case, through the dialect's text index."""
    t = orm.incidents
    # Trigram indexes need three characters; shorter words read every row, still correctly.
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        search = table(orm.SQLITE_SEARCH_TABLE, column("rowid"))
        return t.c.id.in_(
            select(search.c.rowid).where(
                literal_column(orm.SQLITE_SEARCH_TABLE).op("MATCH")(_fts_phrase(text))
            )
        )
    pattern = "%" + _escape_like(text) + "%"
    return or_(t.c.title.ilike(pattern, escape="\\"), t.c.summary.ilike(pattern, escape="\\"))


def _fts_phrase(text: str) -> str:
    """An FTS5 phrase that a trigram table matches as a case-insensitive substring."""
    return '"' + text.replace('"', '""') + '"'


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def services_for(conn: Any, ids: list[int]) -> dict[int, list[ServiceLabel]]:
    if not ids:
        return {}
    links, svc = orm.incident_services, orm.services
    rows = conn.execute(
        select(links.c.incident_id, svc.c.slug, svc.c.name)
        .join(svc, svc.c.id == links.c.service_id)
        .where(links.c.incident_id.in_(ids))
        .order_by(links.c.incident_id, links.c.position)
    ).all()
    out: dict[int, list[ServiceLabel]] = {}
    for r in rows:
        out.setdefault(r.incident_id, []).append(ServiceLabel(r.slug, r.name))
    return out


def _commanders_for(conn: Any, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    roles = orm.incident_roles
    rows = conn.execute(
        select(roles.c.incident_id, roles.c.person_name).where(
            roles.c.incident_id.in_(ids), roles.c.role == Role.INCIDENT_COMMANDER.value
        )
    ).all()
    return {r.incident_id: r.person_name for r in rows}
