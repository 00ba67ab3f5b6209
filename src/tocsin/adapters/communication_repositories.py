"""Stakeholder updates and their promises in SQL; due promises are claimed like escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from tocsin.adapters import orm
from tocsin.domain.communications import (
    Audience,
    PromiseOutcome,
    ScheduledUpdate,
    StakeholderUpdate,
    UpdatePromise,
    UpdateTemplate,
)

# What the update cycle runs for every incident, built once.
_p, _s = orm.update_promises, orm.scheduled_updates
OPEN_PROMISE = (
    select(_p)
    .where(_p.c.incident_id == bindparam("incident_id"), _p.c.outcome.is_(None))
    .order_by(_p.c.id.desc())
    .limit(1)
)
OPEN_PROMISE_FOR_UPDATE = OPEN_PROMISE.with_for_update()
PROMISED = (
    select(_p.c.incident_id, _p.c.next_check_at.label("at"))
    .where(_p.c.next_check_at <= bindparam("now"))
    .order_by(_p.c.next_check_at, _p.c.id)
    .limit(bindparam("limit"))
)
SCHEDULED_DUE = (
    select(_s.c.incident_id, _s.c.due_at.label("at"))
    .where(_s.c.done_at.is_(None), _s.c.due_at <= bindparam("now"))
    .order_by(_s.c.due_at, _s.c.id)
    .limit(bindparam("limit"))
)
REPORTS_DUE = (
    select(_s)
    .where(
        _s.c.incident_id == bindparam("incident_id"),
        _s.c.done_at.is_(None),
        _s.c.due_at <= bindparam("now"),
    )
    .order_by(_s.c.id)
)
REPORTS_DUE_FOR_UPDATE = REPORTS_DUE.with_for_update()
INSERT_UPDATE = orm.stakeholder_updates.insert().returning(orm.stakeholder_updates.c.id)
INSERT_PROMISE = _p.insert().returning(_p.c.id)
SAVE_PROMISE = update(_p).where(_p.c.id == bindparam("promise_id"))  # SET from the keys
# Scheduled updates go in together, their ids back in the order given.
INSERT_REPORTS = _s.insert().returning(_s.c.id, sort_by_parameter_order=True)
REPORT_DONE = (
    update(_s).where(_s.c.id == bindparam("report_id")).values(done_at=bindparam("when_done"))
)


class SqlAlchemyCommunicationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        # Scheduled updates are inserted with the next read of them, or at commit: a pass of
        # the alert inbox schedules one for every incident it declares.
        self._scheduled: list[ScheduledUpdate] = []

    def add_update(self, update: StakeholderUpdate) -> None:
        update.id = self._conn.execute(
            INSERT_UPDATE,
            {
                "incident_id": update.incident_id,
                "template": update.template.value,
                "audiences": [a.value for a in update.audiences],
                "subject": update.subject[:255],
                "body": update.body,
                "summary": update.summary,
                "author": update.author[:120],
                "author_user_id": update.author_user_id,
                "sent_at": update.sent_at,
                "next_update_at": update.next_update_at,
            },
        ).scalar_one()

    def open_promise(self, incident_id: int) -> UpdatePromise | None:
        query = OPEN_PROMISE_FOR_UPDATE if self._postgres else OPEN_PROMISE
        row = self._conn.execute(query, {"incident_id": incident_id}).mappings().first()
        return None if row is None else _promise(row)

    def add_promise(self, promise: UpdatePromise) -> None:
        promise.id = self._conn.execute(INSERT_PROMISE, _promise_row(promise)).scalar_one()

    def save_promise(self, promise: UpdatePromise) -> None:
        self._conn.execute(SAVE_PROMISE, {**_promise_row(promise), "promise_id": promise.id})

    def due(self, now: datetime, limit: int) -> list[int]:
        """Incidents with a scheduled update or a promise to act on; not locked here: the caller
        locks the incident, then its rows, in the order every writer takes them."""
        self.flush()
        values = {"now": now, "limit": limit}
        rows = [*self._conn.execute(SCHEDULED_DUE, values), *self._conn.execute(PROMISED, values)]
        return list(dict.fromkeys(r.incident_id for r in sorted(rows, key=lambda r: r.at)))[:limit]

    def schedule(self, scheduled: ScheduledUpdate) -> None:
        self._scheduled.append(scheduled)

    def flush(self) -> None:
        if not self._scheduled:
            return
        scheduled, self._scheduled = self._scheduled, []
        rows = [
            {
                "incident_id": s.incident_id,
                "template": s.template.value,
                "audiences": [a.value for a in s.audiences],
                "due_at": s.due_at,
                "done_at": s.done_at,
            }
            for s in scheduled
        ]
        for s, row in zip(scheduled, self._conn.execute(INSERT_REPORTS, rows), strict=True):
            s.id = row.id

    def scheduled_due(self, incident_id: int, now: datetime) -> list[ScheduledUpdate]:
        self.flush()
        query = REPORTS_DUE_FOR_UPDATE if self._postgres else REPORTS_DUE
        found = self._conn.execute(query, {"incident_id": incident_id, "now": now}).mappings()
        return [
            ScheduledUpdate(
                incident_id=r["incident_id"],
                template=UpdateTemplate(r["template"]),
                audiences=tuple(Audience(a) for a in r["audiences"]),
                due_at=r["due_at"],
                done_at=r["done_at"],
                id=r["id"],
            )
            for r in found
        ]

    def done(self, scheduled: ScheduledUpdate) -> None:
        self.flush()  # it may be one of those not yet inserted
        self._conn.execute(REPORT_DONE, {"report_id": scheduled.id, "when_done": scheduled.done_at})


def _promise_row(promise: UpdatePromise) -> dict[str, Any]:
    return {
        "incident_id": promise.incident_id,
        "update_id": promise.update_id,
        "due_at": promise.due_at,
        "remind_at": promise.remind_at,
        "reminded_at": promise.reminded_at,
        "overdue_at": promise.overdue_at,
        "outcome": promise.outcome.value if promise.outcome else None,
        "closed_at": promise.closed_at,
        "next_check_at": promise.next_check_at,
    }


def _promise(row: Any) -> UpdatePromise:
    return UpdatePromise(
        incident_id=row["incident_id"],
        update_id=row["update_id"],
        due_at=row["due_at"],
        remind_at=row["remind_at"],
        reminded_at=row["reminded_at"],
        overdue_at=row["overdue_at"],
        outcome=PromiseOutcome(row["outcome"]) if row["outcome"] else None,
        closed_at=row["closed_at"],
        id=row["id"],
    )
