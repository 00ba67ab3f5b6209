"""Integrations, alerts and silences as plain data for the API, pages and the CLI."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.alerts import AlertStatus
from tocsin.domain.errors import InvalidInput, NotFound
from tocsin.views.accounts import Principal
from tocsin.views.pagination import Page, decode_cursor, encode_cursor
from tocsin.views.visibility import visible

MAX_LIMIT = 200


@dataclass(frozen=True)
class IntegrationView:
    id: int
    name: str
    kind: str
    key: str
    service: str | None
    signed: bool
    created_at: datetime
    created_by: str
    key_rotated_at: datetime | None
    secret: str | None = field(default=None, repr=False)
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertFilter:
    statuses: tuple[str, ...] = ()
    integration: str | None = None
    service: str | None = None
    incident_id: int | None = None
    viewer: Principal | None = None  # alerts of private incidents they are not part of are hidden
    silenced: bool = False  # only alerts a silence muted


SILENCED = "silenced"


def parse_statuses(words: Iterable[str]) -> tuple[tuple[str, ...], bool]:
    """Status filter words, as (alert statuses, only silenced ones). "open" is firing or
    acknowledged; "silenced" is muted by a silence, and firing unless a status is named too."""
    statuses: list[str] = []
    silenced = False
    for word in words:
        value = word.strip().lower()
        if value == SILENCED:
            silenced = True
        elif value == "open":
            statuses.extend(s.value for s in AlertStatus if s.is_open)
        elif value:
            try:
                statuses.append(AlertStatus(value).value)
            except ValueError:
                raise InvalidInput(
                    f"unknown alert status {word!r}; expected open, firing, acknowledged, "
                    "resolved or silenced",
                    field="status",
                ) from None
    if silenced and not statuses:
        statuses.append(AlertStatus.FIRING.value)
    return tuple(dict.fromkeys(statuses)), silenced


@dataclass(frozen=True)
class AlertView:
    id: int
    integration: str
    integration_kind: str
    dedup_key: str
    status: str
    title: str
    severity: str
    source_severity: str
    service: str | None
    declares: bool
    rule: str | None
    started_at: datetime | None
    ended_at: datetime | None
    acknowledged_at: datetime | None
    first_received_at: datetime
    last_received_at: datetime
    received_count: int
    incident_id: int | None
    silenced_by: int | None
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SilenceView:
    id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None

    @property
    def ended_at(self) -> datetime:
        """When it stops muting: its end, or when someone expired it early."""
        return min(self.ends_at, self.expired_at) if self.expired_at else self.ends_at

    def state(self, now: datetime) -> str:
        end = self.ended_at
        if now < self.starts_at and end > now:
            return "pending"
        return "active" if self.starts_at <= now < end else "expired"


# How long a webhook key found in the database is trusted without asking again. A key rotated
# in this process is forgotten at once (`forget_keys`); one rotated in another process stops
# working here within this time.
KEY_CACHE_SECONDS = 1.0
KEY_CACHE_SIZE = 1_000


@dataclass(frozen=True)
class SetAsideView:
    """An accepted delivery that could not be applied; kept until someone retries it."""

    id: int
    integration: str
    received_at: datetime
    failed_at: datetime
    error: str
    alerts: int


class AlertViews:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._by_key: dict[str, tuple[IntegrationView, float]] = {}

    # ----- integrations -----------------------------------------------------------------------
    def integration_by_key(self, key: str) -> IntegrationView | None:
        """The integration a sender's key opens, or None; the hot path of every webhook."""
        found = self.known_integration(key)
        if found is None:
            found = self._integration(orm.integrations.c.key == key)
            if found is not None:
                if len(self._by_key) >= KEY_CACHE_SIZE:
                    self._by_key.clear()
                self._by_key[key] = (found, time.monotonic() + KEY_CACHE_SECONDS)
        return found

    def known_integration(self, key: str) -> IntegrationView | None:
        """The integration of a key looked up within the last second, without a query."""
        hit = self._by_key.get(key)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def set_aside(self, limit: int = 50) -> builtins.list[SetAsideView]:
        """Deliveries the inbox could not apply, oldest first."""
        box, i = orm.alert_inbox, orm.integrations
        query = (
            select(box, i.c.name)
            .join(i, i.c.id == box.c.integration_id)
            .where(box.c.failed_at.is_not(None))
            .order_by(box.c.id)
            .limit(limit)
        )
        with self._db.reader.connect() as conn:
            return [
                SetAsideView(
                    r["id"],
                    r["name"],
                    r["received_at"],
                    r["failed_at"],
                    r["error"] or "",
                    len(r["signals"]),
                )
                for r in conn.execute(query).mappings()
            ]

    def forget_keys(self) -> None:
        """Drop remembered keys, so a key rotated here stops working at once."""
        self._by_key.clear()

    def integration(self, name: str) -> IntegrationView:
        found = self._integration(orm.integrations.c.name == name.strip().lower())
        if found is None:
            raise NotFound(f"no integration named {name!r}", field="name")
        return found

    def integrations(self) -> builtins.list[IntegrationView]:
        with self._db.reader.connect() as conn:
            rows = conn.execute(select(orm.integrations).order_by(orm.integrations.c.name))
            return [_integration(r) for r in rows.mappings()]

    def _integration(self, condition: Any) -> IntegrationView | None:
        with self._db.reader.connect() as conn:
            row = conn.execute(select(orm.integrations).where(condition)).mappings().first()
        return None if row is None else _integration(row)

    # ----- alerts -----------------------------------------------------------------------------
    def list(
        self, filters: AlertFilter, *, limit: int = 50, cursor: str | None = None
    ) -> Page[AlertView]:
        """Newest first by first receipt; `next_cursor` continues where this page ended."""
        a, i = orm.alerts, orm.integrations
        query = (
            select(a, i.c.name.label("integration"), i.c.kind.label("integration_kind"))
            .join(i, i.c.id == a.c.integration_id)
            .where(visible(filters.viewer, a.c.incident_id))
        )
        if filters.statuses:
            query = query.where(a.c.status.in_(filters.statuses))
        if filters.silenced:
            query = query.where(a.c.silenced_by.is_not(None))
        if filters.integration:
            query = query.where(i.c.name == filters.integration)
        if filters.service:
            query = query.where(a.c.service == filters.service)
        if filters.incident_id is not None:
            query = query.where(a.c.incident_id == filters.incident_id)
        if cursor:
            at, ident = decode_cursor(cursor)
            # A row-value comparison walks the (first_received_at, id) index straight to the page.
            query = query.where(tuple_(a.c.first_received_at, a.c.id) < tuple_(at, ident))
        limit = max(1, min(limit, MAX_LIMIT))
        query = query.order_by(a.c.first_received_at.desc(), a.c.id.desc()).limit(limit + 1)
        with self._db.reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
        more = len(rows) > limit
        items = [_alert(r) for r in rows[:limit]]
        last = items[-1] if items else None
        next_cursor = encode_cursor(last.first_received_at, last.id) if more and last else None
        return Page(items, next_cursor)

    def alert(self, alert_id: int, viewer: Principal | None = None) -> AlertView:
        a, i = orm.alerts, orm.integrations
        query = (
            select(a, i.c.name.label("integration"), i.c.kind.label("integration_kind"))
            .join(i, i.c.id == a.c.integration_id)
            .where(a.c.id == alert_id, visible(viewer, a.c.incident_id))
        )
        with self._db.reader.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no alert {alert_id}", field="alert")
        return _alert(row)

    # ----- silences ---------------------------------------------------------------------------
    def silences(
        self, *, include_ended_since: datetime | None = None
    ) -> builtins.list[SilenceView]:
        s = orm.silences
        query = select(s).order_by(s.c.starts_at.desc(), s.c.id.desc())
        if include_ended_since is not None:
            query = query.where(s.c.ends_at > include_ended_since)
        with self._db.reader.connect() as conn:
            return [_silence(r) for r in conn.execute(query).mappings()]

    def silence(self, silence_id: int) -> SilenceView:
        with self._db.reader.connect() as conn:
            row = (
                conn.execute(select(orm.silences).where(orm.silences.c.id == silence_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no silence {silence_id}", field="silence")
        return _silence(row)


def _integration(row: Any) -> IntegrationView:
    return IntegrationView(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        key=row["key"],
        service=row["service"],
        signed=bool(row["secret"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        key_rotated_at=row["key_rotated_at"],
        secret=row["secret"],
        config=row["config"],
    )


def _alert(row: Any) -> AlertView:
    return AlertView(
        id=row["id"],
        integration=row["integration"],
        integration_kind=row["integration_kind"],
        dedup_key=row["dedup_key"],
        status=row["status"],
        title=row["title"],
        severity=row["severity"],
        source_severity=row["source_severity"],
        service=row["service"],
        declares=row["declares"],
        rule=row["rule"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        acknowledged_at=row["acknowledged_at"],
        first_received_at=row["first_received_at"],
        last_received_at=row["last_received_at"],
        received_count=row["received_count"],
        incident_id=row["incident_id"],
        silenced_by=row["silenced_by"],
        description=row["description"],
        labels=row["labels"],
        annotations=row["annotations"],
        details=row["details"],
        links=row["links"],
        source=row["source"],
        raw=row["raw"],
    )


def _silence(row: Any) -> SilenceView:
    return SilenceView(
        id=row["id"],
        matchers=list(row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        comment=row["comment"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        expired_at=row["expired_at"],
    )
