"""Alerts, alert groups and silences in SQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    bindparam,
    cast,
    column,
    func,
    insert,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from tocsin.adapters import orm
from tocsin.adapters.bulk import insert_many
from tocsin.adapters.ids import IdBlock
from tocsin.domain.alerts import Alert, AlertStatus, Link
from tocsin.domain.errors import ConcurrencyConflict, NotFound
from tocsin.domain.matchers import parse_matchers
from tocsin.domain.severities import Severity
from tocsin.domain.silences import Silence

_ALERT_COLUMNS = [c.name for c in orm.alerts.columns if c.name != "id"]
_IDS_PER_FETCH = 100
_UPDATE_ALERT = (
    update(orm.alerts)
    .where(orm.alerts.c.id == bindparam("alert_id"))
    .values({name: bindparam(name) for name in _ALERT_COLUMNS})
)


# The newest alert of each key: the open one when a key has one, since a key opens again only
# after its previous alert closed. One query per chunk of keys instead of two per alert.
_NEWEST = select(orm.alerts).where(
    orm.alerts.c.id.in_(
        select(func.max(orm.alerts.c.id))
        .where(
            orm.alerts.c.integration_id == bindparam("integration_id"),
            orm.alerts.c.dedup_key.in_(bindparam("keys", expanding=True)),
        )
        .group_by(orm.alerts.c.dedup_key)
    )
)
# PostgreSQL: each key's newest alert by its own walk down (integration_id, dedup_key, id),
# locked in key order. The IN form above let a planner without statistics yet (a new
# database's first storm) filter every alert of the integration for each batch of keys:
# 100 ms a query at 20,000 alerts, growing with them.
_NEWEST_LOCKED = text(
    """
    SELECT newest.* FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS wanted(key, position)
    CROSS JOIN LATERAL (
        SELECT * FROM alerts
        WHERE alerts.integration_id = :integration_id AND alerts.dedup_key = wanted.key
        ORDER BY alerts.id DESC LIMIT 1 FOR UPDATE
    ) AS newest
    ORDER BY wanted.position
    """
).columns(*orm.alerts.columns)
_KEYS_PER_QUERY = 500  # well inside SQLite's and PostgreSQL's limits on bound parameters


class SqlAlchemyAlertRepository:
    """New alerts get their ids at once but are inserted together, and changed ones updated
    together, before the next read of alerts and at commit: one statement each for a whole
    alert storm (or Alertmanager repeating a group of a hundred) instead of one per alert."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"
        self._unwritten: list[Alert] = []
        self._changed: dict[int, Alert] = {}
        self._ids = IdBlock(conn, orm.alerts, _IDS_PER_FETCH)

    def newest(self, integration_id: int, dedup_keys: Collection[str]) -> dict[str, Alert]:
        """The newest alert of each key that has one, locked until the transaction ends."""
        self.flush()
        query = _NEWEST_LOCKED if self._locks else _NEWEST
        keys = sorted(set(dedup_keys))  # one lock order for every transaction
        found: dict[str, Alert] = {}
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            params = {
                "integration_id": integration_id,
                "keys": keys[start : start + _KEYS_PER_QUERY],
            }
            for row in self._conn.execute(query, params).mappings():
                found[row["dedup_key"]] = _alert(row)
        return found

    def add(self, alert: Alert) -> None:
        alert.id = self._ids.next()
        self._unwritten.append(alert)

    def save(self, alert: Alert) -> None:
        if any(a is alert for a in self._unwritten):
            return  # inserted as it then stands by the next flush
        self._changed[alert.id or 0] = alert

    def flush(self) -> None:
        if self._changed:  # first: an alert closed here frees its key for one opened after
            changed, self._changed = list(self._changed.values()), {}
            self._conn.execute(
                _UPDATE_ALERT, [{"alert_id": a.id, **_alert_row(a)} for a in changed]
            )
        if not self._unwritten:
            return
        rows = [{"id": a.id, **_alert_row(a)} for a in self._unwritten]
        self._unwritten = []
        try:
            insert_many(self._conn, orm.alerts, rows)
        except IntegrityError as exc:
            # Another delivery opened the same alert a moment ago; the bus retries from scratch.
            raise ConcurrencyConflict(
                "an alert was opened concurrently", field="dedup_key"
            ) from exc

    def silence_over(self, now: datetime, limit: int) -> list[Alert]:
        self.flush()
        a, s = orm.alerts, orm.silences
        over = or_(s.c.ends_at <= now, s.c.expired_at <= now)
        query = (
            select(a)
            .join(s, s.c.id == a.c.silenced_by)
            .where(
                a.c.silenced_by.is_not(None),
                a.c.status == AlertStatus.FIRING.value,
                a.c.incident_id.is_(None),
                a.c.declares.is_(True),
                over,
            )
            .order_by(a.c.id)
            .limit(limit)
        )
        if self._locks:
            query = query.with_for_update(of=a, skip_locked=True)
        return [_alert(row) for row in self._conn.execute(query).mappings()]

    def open_counts(self, incident_ids: Collection[int]) -> dict[int, int]:
        """How many alerts of each incident are not resolved; incidents with none are left out."""
        self.flush()
        a = orm.alerts
        query = (
            select(a.c.incident_id, func.count())
            .where(
                a.c.incident_id.in_(sorted(incident_ids)),
                a.c.status != AlertStatus.RESOLVED.value,
            )
            .group_by(a.c.incident_id)
        )
        return {incident_id: int(n) for incident_id, n in self._conn.execute(query)}


def _alert_row(a: Alert) -> dict[str, Any]:
    return {
        "integration_id": a.integration_id,
        "dedup_key": a.dedup_key,
        "open_key": a.dedup_key if a.is_open else None,
        "status": a.status.value,
        "title": a.title,
        "description": a.description,
        "severity": a.severity.value,
        "source_severity": a.source_severity[:32],
        "service": a.service,
        "declares": a.declares,
        "rule": a.rule,
        "labels": a.labels,
        "annotations": a.annotations,
        "details": a.details,
        "links": [{"href": link.href, "text": link.text} for link in a.links],
        "source": a.source[:255],
        "group_key": a.group_key,
        "started_at": a.started_at,
        "ended_at": a.ended_at,
        "acknowledged_at": a.acknowledged_at,
        "first_received_at": a.first_received_at,
        "last_received_at": a.last_received_at,
        "received_count": a.received_count,
        "incident_id": a.incident_id,
        "silenced_by": a.silenced_by,
        "raw": a.raw,
    }


def _alert(row: Any) -> Alert:
    return Alert(
        id=row["id"],
        integration_id=row["integration_id"],
        dedup_key=row["dedup_key"],
        status=AlertStatus(row["status"]),
        title=row["title"],
        severity=Severity(row["severity"]),
        first_received_at=row["first_received_at"],
        last_received_at=row["last_received_at"],
        description=row["description"],
        source_severity=row["source_severity"],
        service=row["service"],
        declares=row["declares"],
        rule=row["rule"],
        labels=row["labels"],
        annotations=row["annotations"],
        details=row["details"],
        links=[Link(link["href"], link.get("text", "")) for link in row["links"]],
        source=row["source"],
        group_key=row["group_key"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        acknowledged_at=row["acknowledged_at"],
        received_count=row["received_count"],
        incident_id=row["incident_id"],
        silenced_by=row["silenced_by"],
        raw=row["raw"],
    )


# Statements the applier runs for every alert, built once: building them per call cost more
# than running them.
_g = orm.alert_groups
GROUP_ADD_SQLITE = sqlite_insert(_g).on_conflict_do_nothing()
GROUP_INCIDENT = select(_g.c.incident_id).where(_g.c.key == bindparam("key"))
# One round trip: a new group's row is made, an existing one is locked by the no-op update
# (as FOR UPDATE would) and its incident returned.
_upsert = postgresql_insert(_g)
GROUP_LOCK_POSTGRES = _upsert.on_conflict_do_update(
    index_elements=[_g.c.key], set_={"incident_id": _g.c.incident_id}
).returning(_g.c.incident_id)
# Many groups at once: one statement whose keys are one array parameter, upserted in the order
# given (and so locked). A multi-row VALUES list has three placeholders a row, and the driver
# parsed that text anew for every batch of a thousand.
_given = (
    select(
        column("key", String),
        cast(null(), Integer).label("incident_id"),
        bindparam("now", type_=_g.c.updated_at.type),
    )
    .select_from(
        func.unnest(bindparam("keys", type_=ARRAY(String)))
        .table_valued("key", with_ordinality="position")
        .render_derived()
    )
    .order_by(column("position"))
)
GROUP_LOCK_MANY_POSTGRES = (
    postgresql_insert(_g)
    .from_select(["key", "incident_id", "updated_at"], _given)
    .on_conflict_do_update(index_elements=[_g.c.key], set_={"incident_id": _g.c.incident_id})
    .returning(_g.c.key, _g.c.incident_id)
)
GROUP_INCIDENTS = select(_g.c.key, _g.c.incident_id).where(
    _g.c.key.in_(bindparam("keys", expanding=True))
)
GROUP_POINT = (
    update(_g)
    .where(_g.c.key == bindparam("known_key"))
    .values(incident_id=bindparam("joined_incident"), updated_at=bindparam("when"))
)
_s = orm.silences
ACTIVE_SILENCES = select(_s).where(
    _s.c.starts_at <= bindparam("now"), _s.c.ends_at > bindparam("now"), _s.c.expired_at.is_(None)
)


class SqlAlchemyAlertGroupRepository:
    """Groups pointed at a new incident are written together, at commit or before the next
    read of them: a pass of the alert inbox declares many incidents."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._points: dict[str, dict[str, Any]] = {}

    def lock(self, key: str, now: datetime) -> int | None:
        """The incident the group's alerts join, with the group held until the transaction ends."""
        if key in self._points:
            self.flush()
        row = {"key": key, "incident_id": None, "updated_at": now}
        if self._conn.dialect.name == "postgresql":
            locked: int | None = self._conn.scalar(GROUP_LOCK_POSTGRES, row)
            return locked
        self._conn.execute(GROUP_ADD_SQLITE, row)  # SQLite: this writer holds the only lock
        found: int | None = self._conn.scalar(GROUP_INCIDENT, {"key": key})
        return found

    def lock_many(self, keys: list[str], now: datetime) -> dict[str, int | None]:
        """`lock` for many groups in one statement; they are locked in the order given."""
        if not keys:
            return {}
        if any(key in self._points for key in keys):
            self.flush()
        if self._conn.dialect.name == "postgresql":
            found = self._conn.execute(GROUP_LOCK_MANY_POSTGRES, {"keys": keys, "now": now})
        else:
            rows = [{"key": key, "incident_id": None, "updated_at": now} for key in keys]
            self._conn.execute(GROUP_ADD_SQLITE, rows)
            found = self._conn.execute(GROUP_INCIDENTS, {"keys": keys})
        return {row.key: row.incident_id for row in found}

    def point(self, key: str, incident_id: int, now: datetime) -> None:
        """Point the group, locked by `lock` in this transaction, at the incident."""
        self._points[key] = {"known_key": key, "joined_incident": incident_id, "when": now}

    def flush(self) -> None:
        if self._points:
            points, self._points = list(self._points.values()), {}
            self._conn.execute(GROUP_POINT, points)

    def declared_among(self, incident_ids: Collection[int]) -> set[int]:
        self.flush()
        g = orm.alert_groups
        query = select(g.c.incident_id).where(g.c.incident_id.in_(sorted(incident_ids)))
        return set(self._conn.scalars(query.distinct()))


class SqlAlchemySilenceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, silence: Silence) -> None:
        silence.id = self._conn.execute(
            insert(orm.silences).values(**_silence_row(silence)).returning(orm.silences.c.id)
        ).scalar_one()

    def get(self, silence_id: int) -> Silence:
        row = (
            self._conn.execute(select(orm.silences).where(orm.silences.c.id == silence_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no silence {silence_id}", field="silence")
        return _silence(row)

    def active(self, now: datetime) -> list[Silence]:
        rows = self._conn.execute(ACTIVE_SILENCES, {"now": now}).mappings()
        return [_silence(row) for row in rows]

    def save(self, silence: Silence) -> None:
        self._conn.execute(
            update(orm.silences)
            .where(orm.silences.c.id == silence.id)
            .values(**_silence_row(silence))
        )


def _silence_row(s: Silence) -> dict[str, Any]:
    return {
        "matchers": [str(m) for m in s.matchers],
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "comment": s.comment,
        "created_by": s.created_by,
        "created_at": s.created_at,
        "expired_at": s.expired_at,
    }


def _silence(row: Any) -> Silence:
    return Silence(
        id=row["id"],
        matchers=parse_matchers(row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        comment=row["comment"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        expired_at=row["expired_at"],
    )
