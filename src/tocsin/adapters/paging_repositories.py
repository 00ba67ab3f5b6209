"""Schedules, escalations and the delivery outbox in SQL.

New escalations and queued pages are inserted with the next read of their table, or at commit:
a pass of the alert inbox starts one escalation and queues pages for every incident it
declares, and one statement per table serves them all.

Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of workers share the due rows
without waiting on each other; on SQLite the single writer already serialises them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tocsin.adapters import orm
from tocsin.adapters.bulk import insert_many
from tocsin.adapters.catalog_repositories import person_from_row
from tocsin.adapters.due import PAGE_DUE, STEP_DUE
from tocsin.adapters.ids import insert_numbered
from tocsin.domain.catalog import Membership, Person, Team
from tocsin.domain.errors import ConcurrencyConflict
from tocsin.domain.paging import AckLink, Delivery, DeliveryStatus, Escalation, EscalationState
from tocsin.domain.schedule_documents import parse_schedule
from tocsin.domain.schedules import Schedule
from tocsin.domain.severities import Severity

# Built once; the SET clause comes from the parameters' keys (cheaper than `.values(...)` anew).
SAVE_ESCALATION = update(orm.escalations).where(
    orm.escalations.c.id == bindparam("known_id"),
    orm.escalations.c.version == bindparam("known_version"),
)
RECORD_OUTCOME = update(orm.deliveries).where(
    orm.deliveries.c.id == bindparam("known_id"),
    orm.deliveries.c.fence == bindparam("known_fence"),
    orm.deliveries.c.status == DeliveryStatus.SENDING.value,
)

_d = orm.deliveries
CLAIM_DUE = select(_d).where(PAGE_DUE).order_by(_d.c.due_at, _d.c.id).limit(bindparam("limit"))
CLAIM_DUE_POSTGRES = CLAIM_DUE.with_for_update(skip_locked=True)
TAKE_LEASE = (
    update(_d)
    .where(_d.c.id.in_(bindparam("claimed_ids", expanding=True)))
    .values(
        status=DeliveryStatus.SENDING.value,
        fence=_d.c.fence + 1,
        attempts=_d.c.attempts + 1,
        lease_until=bindparam("leased_until"),
    )
)
UNSENT = _d.c.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value])
DELIVERIES_BY_ID = select(_d).where(_d.c.id.in_(bindparam("ids", expanding=True)))
QUEUE_SQLITE = sqlite_insert(_d).on_conflict_do_nothing(index_elements=[_d.c.idempotency_key])
QUEUE_POSTGRES = postgresql_insert(_d).on_conflict_do_nothing(index_elements=[_d.c.idempotency_key])
ADD_DELIVERY_SQLITE = QUEUE_SQLITE.returning(_d.c.id)
ADD_DELIVERY_POSTGRES = QUEUE_POSTGRES.returning(_d.c.id)
_e = orm.escalations
STEPS_DUE = select(_e).where(STEP_DUE).order_by(_e.c.next_step_at).limit(bindparam("limit"))
# Every other writer locks the incident before its escalation (an acknowledgement, a new
# severity): the engine takes both at once, passing over any that one of them holds.
STEPS_DUE_POSTGRES = STEPS_DUE.join(
    orm.incidents, orm.incidents.c.id == _e.c.incident_id
).with_for_update(skip_locked=True, of=[_e, orm.incidents])


class SqlAlchemyScheduleRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, slug: str) -> Schedule | None:
        document = self.document(slug)
        return None if document is None else parse_schedule(document)

    def document(self, slug: str) -> dict[str, Any] | None:
        s = orm.schedules
        found: dict[str, Any] | None = self._conn.scalar(
            select(s.c.document).where(s.c.slug == slug)
        )
        return found

    def save(self, slug: str, name: str, document: dict[str, Any]) -> None:
        s = orm.schedules
        values = {"slug": slug, "name": name, "document": document, "updated_at": func.now()}
        dialect_insert = (
            postgresql_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        )
        statement = dialect_insert(s).values(**values)
        self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[s.c.slug],
                set_={"name": name, "document": document, "updated_at": func.now()},
            )
        )


class SqlAlchemyEscalationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._new: list[Escalation] = []  # inserted, as they then stand, by flush
        self._saved: dict[int, dict[str, Any]] = {}  # by id: written by flush, version-checked

    def add(self, escalation: Escalation) -> None:
        escalation.version = 1
        self._new.append(escalation)

    def flush(self) -> None:
        if self._new:
            new, self._new = self._new, []
            rows = [_escalation_row(e) for e in new]
            ids = insert_numbered(self._conn, orm.escalations, rows)
            for escalation, new_id in zip(new, ids, strict=True):
                escalation.id = new_id
        if self._saved:
            saved, self._saved = list(self._saved.values()), {}
            if self._conn.execute(SAVE_ESCALATION, saved).rowcount != len(saved):
                raise ConcurrencyConflict("an escalation moved on meanwhile; trying again")

    def for_incident(self, incident_id: int) -> Escalation | None:
        self.flush()
        query = select(orm.escalations).where(orm.escalations.c.incident_id == incident_id)
        if self._postgres:
            query = query.with_for_update()
        row = self._conn.execute(query).mappings().first()
        return None if row is None else _escalation(row)

    def claim_due(self, now: datetime, limit: int) -> list[Escalation]:
        self.flush()
        query = STEPS_DUE_POSTGRES if self._postgres else STEPS_DUE
        rows = self._conn.execute(query, {"now": now, "limit": limit}).mappings()
        return [_escalation(r) for r in rows]

    def save(self, escalation: Escalation) -> None:
        if any(e is escalation for e in self._new):
            return  # not inserted yet: flush writes it as it then stands
        known = self._saved.get(escalation.id or 0, {}).get("known_version", escalation.version)
        escalation.version = known + 1
        self._saved[escalation.id or 0] = {
            **_escalation_row(escalation),
            "known_id": escalation.id,
            "known_version": known,
        }


def _escalation_row(e: Escalation) -> dict[str, Any]:
    return {
        "incident_id": e.incident_id,
        "severity": e.severity.value,
        "state": e.state.value,
        "step": e.step,
        "round": e.round,
        "started_at": e.started_at,
        "next_step_at": e.next_step_at,
        "paged": sorted(e.paged),
        "version": e.version,
    }


def _escalation(row: Any) -> Escalation:
    return Escalation(
        incident_id=row["incident_id"],
        severity=Severity(row["severity"]),
        started_at=row["started_at"],
        next_step_at=row["next_step_at"],
        step=row["step"],
        round=row["round"],
        state=EscalationState(row["state"]),
        paged=set(row["paged"]),
        id=row["id"],
        version=row["version"],
    )


_DELIVERY_COLUMNS = [c.name for c in orm.deliveries.columns if c.name != "id"]


class SqlAlchemyDeliveryRepository:
    """Every method that reads or changes deliveries first inserts the queued ones."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._queued: list[dict[str, Any]] = []
        self._outcomes: dict[int, dict[str, Any]] = {}  # by id: recorded by flush

    def queue(self, delivery: Delivery) -> None:
        self._queued.append(_delivery_row(delivery))

    def flush(self) -> None:
        if self._queued:
            rows, self._queued = self._queued, []
            self._conn.execute(QUEUE_POSTGRES if self._postgres else QUEUE_SQLITE, rows)
        if self._outcomes:
            outcomes, self._outcomes = list(self._outcomes.values()), {}
            if self._conn.execute(RECORD_OUTCOME, outcomes).rowcount != len(outcomes):
                # Cancelled or claimed again since it was read: the retry reads it anew.
                raise ConcurrencyConflict("a delivery moved on meanwhile; trying again")

    def add(self, delivery: Delivery) -> bool:
        self.flush()
        statement = ADD_DELIVERY_POSTGRES if self._postgres else ADD_DELIVERY_SQLITE
        found = self._conn.execute(statement, _delivery_row(delivery)).scalar()
        if found is None:
            return False
        delivery.id = found
        return True

    def due_times(self, person_id: int, method: str, since: datetime) -> list[datetime]:
        self.flush()
        d = orm.deliveries
        rows = self._conn.execute(
            select(d.c.due_at).where(
                d.c.person_id == person_id,
                d.c.method == method,
                d.c.due_at > since,
                d.c.status != DeliveryStatus.CANCELLED.value,
            )
        )
        return [r.due_at for r in rows]

    def announced(self, incident_id: int) -> list[str]:
        self.flush()
        d = orm.deliveries
        rows = self._conn.execute(
            select(d.c.channel)
            .where(d.c.incident_id == incident_id, d.c.method == "destination")
            .where(d.c.event == "trigger")
            # Not one cancelled before any worker took it: it never went out.
            .where(or_(d.c.status != DeliveryStatus.CANCELLED.value, d.c.attempts > 0))
            .distinct()
        )
        return sorted(r.channel for r in rows)

    def cancel_unsent(self, incident_id: int, people_only: bool) -> int:
        """Cancel what is queued or in flight: a send under way finishes, but its outcome is
        dropped, so a failure is neither retried nor followed by a fallback."""
        self.flush()
        d = orm.deliveries
        condition = and_(d.c.incident_id == incident_id, UNSENT)
        condition = and_(condition, d.c.event != "update")  # a stakeholder update still goes out
        if people_only:
            condition = and_(condition, d.c.person_id.is_not(None))
        return self._cancel(condition)

    def cancel_to_channels(self, incident_id: int) -> int:
        self.flush()
        d = orm.deliveries
        return self._cancel(and_(d.c.incident_id == incident_id, UNSENT, d.c.person_id.is_(None)))

    def _cancel(self, condition: ColumnElement[bool]) -> int:
        d = orm.deliveries
        result = self._conn.execute(
            update(d).where(condition).values(status=DeliveryStatus.CANCELLED.value)
        )
        return int(result.rowcount)

    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        self.flush()
        query = CLAIM_DUE_POSTGRES if self._postgres else CLAIM_DUE
        rows = self._conn.execute(query, {"now": now, "limit": limit}).mappings().all()
        claimed = [_delivery(row) for row in rows]
        if not claimed:
            return []
        lease_until = now + lease
        self._conn.execute(
            TAKE_LEASE, {"claimed_ids": [c.id for c in claimed], "leased_until": lease_until}
        )
        for delivery in claimed:  # as the statement just wrote them
            delivery.status = DeliveryStatus.SENDING
            delivery.fence += 1
            delivery.attempts += 1
            delivery.lease_until = lease_until
        return claimed

    def get_many(self, delivery_ids: list[int]) -> dict[int, Delivery]:
        self.flush()
        rows = self._conn.execute(DELIVERIES_BY_ID, {"ids": delivery_ids}).mappings()
        return {row["id"]: _delivery(row) for row in rows}

    def record(self, delivery: Delivery) -> None:
        self._outcomes[delivery.id or 0] = {
            **_delivery_row(delivery),
            "known_id": delivery.id,
            "known_fence": delivery.fence,
        }


def _delivery_row(d: Delivery) -> dict[str, Any]:
    return {
        "incident_id": d.incident_id,
        "person_id": d.person_id,
        "step": d.step,
        "round": d.round,
        "channel": d.channel,
        "method": d.method,
        "event": d.event,
        "address": d.address,
        "subject": d.subject[:255],
        "body": d.body,
        "idempotency_key": d.idempotency_key,
        "status": d.status.value,
        "due_at": d.due_at,
        "attempts": d.attempts,
        "fence": d.fence,
        "lease_until": d.lease_until,
        "sent_at": d.sent_at,
        "last_error": d.last_error,
        "created_at": d.created_at,
    }


def _delivery(row: Any) -> Delivery:
    values = {name: row[name] for name in _DELIVERY_COLUMNS}
    values["status"] = DeliveryStatus(values["status"])
    return Delivery(id=row["id"], **values)


class SqlAlchemyAckLinkRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_all(self, links: list[AckLink]) -> None:
        if links:
            insert_many(self._conn, orm.ack_links, [vars(link) for link in links])

    def get(self, token_hash: str) -> AckLink | None:
        a = orm.ack_links
        query = select(a).where(a.c.token_hash == token_hash)
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._conn.execute(query).mappings().first()
        return None if row is None else AckLink(**dict(row))

    def save(self, link: AckLink) -> None:
        a = orm.ack_links
        self._conn.execute(
            update(a).where(a.c.token_hash == link.token_hash).values(used_at=link.used_at)
        )


class SqlAlchemyDirectory:
    """Read-only lookups for resolving targets, remembered for the transaction: one batch of
    escalation steps asks the same questions of an unchanging catalog many times."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._teams: dict[int, Team | None] = {}
        self._titled: dict[str, list[Person]] = {}

    def team(self, team_id: int) -> Team | None:
        if team_id not in self._teams:
            self._teams[team_id] = self._team(team_id)
        return self._teams[team_id]

    def _team(self, team_id: int) -> Team | None:
        row = self._conn.execute(select(orm.teams).where(orm.teams.c.id == team_id)).mappings()
        found = row.first()
        if found is None:
            return None
        members = self._conn.execute(
            select(orm.team_members.c.person_id, orm.team_members.c.role)
            .where(orm.team_members.c.team_id == team_id)
            .order_by(orm.team_members.c.position)
        ).all()
        return Team(
            slug=found["slug"],
            name=found["name"],
            description=found["description"],
            members=[Membership(m.person_id, m.role) for m in members],
            schedule=found["schedule"],
            id=found["id"],
        )

    def people_titled(self, title: str) -> list[Person]:
        key = title.lower()
        if key not in self._titled:
            p = orm.people
            rows = self._conn.execute(
                select(p).where(func.lower(p.c.title) == key).order_by(p.c.handle)
            ).mappings()
            self._titled[key] = [person_from_row(r) for r in rows]
        return list(self._titled[key])
