"""Stakeholder updates and their promises in SQL; due promises are claimed like escalations.

What a cycle of stakeholder reports writes (updates, promises, scheduled updates done or new)
is held until the next read of those tables, or commit, and then written one statement per
table: a cycle sends the reports of many incidents, and writing each row as it came cost a
round trip per row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from tocsin.adapters import orm
from tocsin.adapters.bulk import insert_many
from tocsin.adapters.due import PROMISE_DUE, REPORT_DUE
from tocsin.adapters.ids import IdBlock, insert_numbered
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
OPEN_PROMISES = (
    select(_p)
    .where(_p.c.incident_id.in_(bindparam("incident_ids", expanding=True)), _p.c.outcome.is_(None))
    .order_by(_p.c.incident_id, _p.c.id)
)
OPEN_PROMISES_FOR_UPDATE = OPEN_PROMISES.with_for_update()
PROMISED = (
    select(_p.c.incident_id, _p.c.next_check_at.label("at"))
    .where(PROMISE_DUE, _p.c.incident_id.not_in(bindparam("skip", expanding=True)))
    .order_by(_p.c.next_check_at, _p.c.id)
    .limit(bindparam("limit"))
)
SCHEDULED_DUE = (
    select(_s.c.incident_id, _s.c.due_at.label("at"))
    .where(REPORT_DUE, _s.c.incident_id.not_in(bindparam("skip", expanding=True)))
    .order_by(_s.c.due_at, _s.c.id)
    .limit(bindparam("limit"))
)
REPORTS_DUE = (
    select(_s)
    .where(
        _s.c.incident_id.in_(bindparam("incident_ids", expanding=True)),
        _s.c.done_at.is_(None),
        _s.c.due_at <= bindparam("now"),
    )
    .order_by(_s.c.incident_id, _s.c.id)
)
REPORTS_DUE_FOR_UPDATE = REPORTS_DUE.with_for_update()
SAVE_PROMISE = update(_p).where(_p.c.id == bindparam("promise_id"))  # SET from the keys
REPORTS_DONE = (
    update(_s).where(_s.c.id == bindparam("report_id")).values(done_at=bindparam("when_done"))
)
_UPDATE_IDS_PER_FETCH = 10


class SqlAlchemyCommunicationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._update_ids = IdBlock(conn, orm.stakeholder_updates, _UPDATE_IDS_PER_FETCH)
        self._updates: list[dict[str, Any]] = []
        self._promises: list[UpdatePromise] = []  # new ones, inserted as they then stand
        self._scheduled: list[ScheduledUpdate] = []
        self._done: dict[int, dict[str, Any]] = {}
        # Each incident's open promise (or None), once looked up: a cycle asks for many.
        self._open: dict[int, UpdatePromise | None] = {}

    def add_update(self, update: StakeholderUpdate) -> None:
        update.id = self._update_ids.next()
        self._updates.append(
            {
                "id": update.id,
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
            }
        )

    def load_promises(self, incident_ids: list[int]) -> None:
        """Look up (and lock) the open promises of many incidents at once."""
        wanted = sorted(set(incident_ids) - self._open.keys())
        if not wanted:
            return
        self.flush()
        query = OPEN_PROMISES_FOR_UPDATE if self._postgres else OPEN_PROMISES
        for incident_id in wanted:
            self._open[incident_id] = None
        for row in self._conn.execute(query, {"incident_ids": wanted}).mappings():
            self._open[row["incident_id"]] = _promise(row)  # the newest, as rows come in id order

    def open_promise(self, incident_id: int) -> UpdatePromise | None:
        self.load_promises([incident_id])
        promise = self._open[incident_id]
        return promise if promise is not None and promise.is_open else None

    def add_promise(self, promise: UpdatePromise) -> None:
        self._promises.append(promise)
        self._open[promise.incident_id] = promise

    def save_promise(self, promise: UpdatePromise) -> None:
        if any(p is promise for p in self._promises):
            return  # not inserted yet: flush writes it as it then stands
        self._conn.execute(SAVE_PROMISE, {**_promise_row(promise), "promise_id": promise.id})

    def due(self, now: datetime, limit: int, skip: tuple[int, ...] = ()) -> list[int]:
        """Incidents with a scheduled update or a promise to act on; not locked here: the caller
        locks the incident, then its rows, in the order every writer takes them."""
        self.flush()
        values = {"now": now, "limit": limit, "skip": list(skip)}
        rows = [*self._conn.execute(SCHEDULED_DUE, values), *self._conn.execute(PROMISED, values)]
        return list(dict.fromkeys(r.incident_id for r in sorted(rows, key=lambda r: r.at)))[:limit]

    def schedule(self, scheduled: ScheduledUpdate) -> None:
        self._scheduled.append(scheduled)

    def scheduled_due(self, incident_ids: list[int], now: datetime) -> list[ScheduledUpdate]:
        self.flush()
        query = REPORTS_DUE_FOR_UPDATE if self._postgres else REPORTS_DUE
        found = self._conn.execute(query, {"incident_ids": incident_ids, "now": now}).mappings()
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
        if scheduled.id is None:
            self.flush()  # one of those not yet inserted: it needs its id
        self._done[scheduled.id or 0] = {"report_id": scheduled.id, "when_done": scheduled.done_at}

    def flush(self) -> None:
        if self._scheduled:
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
            ids = insert_numbered(self._conn, orm.scheduled_updates, rows)
            for s, new_id in zip(scheduled, ids, strict=True):
                s.id = new_id
        if self._updates:  # before the promises that point at them
            updates, self._updates = self._updates, []
            insert_many(self._conn, orm.stakeholder_updates, updates)
        if self._promises:
            promises, self._promises = self._promises, []
            rows = [_promise_row(p) for p in promises]
            ids = insert_numbered(self._conn, orm.update_promises, rows)
            for p, new_id in zip(promises, ids, strict=True):
                p.id = new_id
        if self._done:
            done, self._done = list(self._done.values()), {}
            self._conn.execute(REPORTS_DONE, done)


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
