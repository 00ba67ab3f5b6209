"""Paging as plain data: an incident's escalation and deliveries, and the outbox at large."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.adapters.due import PAGE_DUE, PROMISE_DUE, REPORT_DUE, STEP_DUE
from tocsin.views.accounts import Principal
from tocsin.views.visibility import visible

MAX_LIMIT = 500
STATUSES = ("pending", "sending", "sent", "dead", "cancelled")


@dataclass(frozen=True)
class EscalationView:
    severity: str
    state: str
    step: int
    round: int
    started_at: datetime
    next_step_at: datetime | None


@dataclass(frozen=True)
class DeliveryView:
    id: int
    incident_id: int
    person: str | None  # the person's name, None for a channel destination
    channel: str
    method: str
    address: str
    status: str
    step: int | None
    round: int
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class IncidentPaging:
    escalation: EscalationView | None
    deliveries: list[DeliveryView]

    @property
    def dead(self) -> list[DeliveryView]:
        return [d for d in self.deliveries if d.status == "dead"]


@dataclass(frozen=True)
class DueWork:
    """What the paging worker has to do right now."""

    steps: bool
    pages: bool
    updates: bool  # stakeholder reports, reminders, deadlines


# The very conditions the worker's claims use, asked together in one read.
DUE_WORK = select(
    exists().where(STEP_DUE),
    exists().where(PAGE_DUE),
    or_(exists().where(REPORT_DUE), exists().where(PROMISE_DUE)),
)
_e, _d, _s, _p = orm.escalations, orm.deliveries, orm.scheduled_updates, orm.update_promises
# When the next step or page, and the next report or promise check, fall due: one read each.
NEXT_PAGING = select(
    select(func.min(_e.c.next_step_at)).where(_e.c.state == "active").scalar_subquery(),
    select(func.min(_d.c.due_at)).where(_d.c.status == "pending").scalar_subquery(),
)
NEXT_UPDATE = select(
    select(func.min(_p.c.next_check_at)).scalar_subquery(),
    select(func.min(_s.c.due_at)).where(_s.c.done_at.is_(None)).scalar_subquery(),
)


class PagingViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def for_incident(self, incident_id: int) -> IncidentPaging:
        """Its escalation and every delivery it caused, oldest first."""
        e = orm.escalations
        with self._db.reader.connect() as conn:
            row = conn.execute(select(e).where(e.c.incident_id == incident_id)).mappings().first()
            deliveries = conn.execute(
                _deliveries().where(orm.deliveries.c.incident_id == incident_id)
                .order_by(orm.deliveries.c.id)
            ).mappings()  # fmt: skip
            found = [_delivery(r) for r in deliveries]
        escalation = None
        if row is not None:
            escalation = EscalationView(
                row["severity"], row["state"], row["step"], row["round"], row["started_at"],
                row["next_step_at"],
            )  # fmt: skip
        return IncidentPaging(escalation, found)

    def due_now(self, now: datetime) -> DueWork:
        """Whether steps, pages or updates are due: a read, which on SQLite does not queue
        for the write lock as each of the worker's transactions would, even to find nothing."""
        with self._db.reader.connect() as conn:
            steps, pages, updates = conn.execute(DUE_WORK, {"now": now}).one()
        return DueWork(bool(steps), bool(pages), bool(updates))

    def next_due(self) -> datetime | None:
        """When the paging worker next has a step to fire or a page to send."""
        with self._db.reader.connect() as conn:
            return _earliest(*conn.execute(NEXT_PAGING).one())

    def next_update_due(self) -> datetime | None:
        """When a stakeholder report, update reminder or update deadline next falls due."""
        with self._db.reader.connect() as conn:
            return _earliest(*conn.execute(NEXT_UPDATE).one())

    def deliveries(
        self, *, status: str | None = None, limit: int = 100, viewer: Principal | None = None
    ) -> list[DeliveryView]:
        """The newest deliveries, optionally of one status (`dead`: the ones given up on)."""
        d = orm.deliveries
        query = (
            _deliveries()
            .where(visible(viewer, d.c.incident_id))
            .order_by(d.c.id.desc())
            .limit(min(limit, MAX_LIMIT))
        )
        if status:
            query = query.where(d.c.status == status)
        with self._db.reader.connect() as conn:
            return [_delivery(r) for r in conn.execute(query).mappings()]


def _earliest(*times: datetime | None) -> datetime | None:
    found = [t for t in times if t is not None]
    return min(found) if found else None


def _deliveries() -> Any:
    d, p = orm.deliveries, orm.people
    return select(d, p.c.name.label("person_name")).outerjoin(p, p.c.id == d.c.person_id)


def _delivery(r: Any) -> DeliveryView:
    return DeliveryView(
        id=r["id"],
        incident_id=r["incident_id"],
        person=r["person_name"],
        channel=r["channel"],
        method=r["method"],
        address=r["address"],
        status=r["status"],
        step=r["step"],
        round=r["round"],
        attempts=r["attempts"],
        due_at=r["due_at"],
        sent_at=r["sent_at"],
        last_error=r["last_error"],
        created_at=r["created_at"],
    )
