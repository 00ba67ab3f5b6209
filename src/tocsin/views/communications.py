"""An incident's stakeholder updates, its open "next update by" promise and its compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.communications import UpdateTemplate


@dataclass(frozen=True)
class UpdateView:
    id: int
    template: str
    template_label: str
    audiences: list[str]
    subject: str
    body: str
    summary: str
    author: str
    sent_at: datetime
    next_update_at: datetime | None
    promise: str | None  # how the promise this update made ended: kept, missed, ended; or open


@dataclass(frozen=True)
class PromiseView:
    due_at: datetime
    remind_at: datetime
    reminded_at: datetime | None
    overdue_at: datetime | None

    def state(self, now: datetime) -> str:
        """overdue (red), due-soon (amber, within the reminder window) or on-track."""
        if self.overdue_at is not None or now >= self.due_at:
            return "overdue"
        return "due-soon" if now >= self.remind_at else "on-track"

    def remaining(self, now: datetime) -> timedelta:
        return self.due_at - now


@dataclass(frozen=True)
class Compliance:
    """Promises kept against promises made (those ended by resolution in time not counted)."""

    kept: int
    missed: int

    @property
    def promised(self) -> int:
        return self.kept + self.missed

    @property
    def rate(self) -> float | None:
        return self.kept / self.promised if self.promised else None


@dataclass(frozen=True)
class IncidentCommunications:
    updates: list[UpdateView]  # newest first
    promise: PromiseView | None  # the open promise, if any
    compliance: Compliance


class CommunicationViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def for_incident(self, incident_id: int) -> IncidentCommunications:
        """Every update sent, newest first, with the promise still open and the record so far."""
        s, p = orm.stakeholder_updates, orm.update_promises
        with self._db.reader.connect() as conn:
            updates = conn.execute(
                select(s).where(s.c.incident_id == incident_id).order_by(s.c.id.desc())
            ).mappings().all()  # fmt: skip
            promises = conn.execute(
                select(p).where(p.c.incident_id == incident_id).order_by(p.c.id)
            ).mappings().all()  # fmt: skip
        by_update = {r["update_id"]: r for r in promises}
        opened = [r for r in promises if r["outcome"] is None]
        kept = sum(1 for r in promises if r["outcome"] == "kept")
        missed = sum(
            1
            for r in promises
            if r["outcome"] == "missed" or (r["outcome"] is None and r["overdue_at"] is not None)
        )
        views = []
        for row in updates:
            made = by_update.get(row["id"])
            views.append(
                UpdateView(
                    id=row["id"],
                    template=row["template"],
                    template_label=UpdateTemplate(row["template"]).label,
                    audiences=list(row["audiences"]),
                    subject=row["subject"],
                    body=row["body"],
                    summary=row["summary"],
                    author=row["author"],
                    sent_at=row["sent_at"],
                    next_update_at=row["next_update_at"],
                    promise=None if made is None else (made["outcome"] or "open"),
                )
            )
        promise = None
        if opened:
            last = opened[-1]
            promise = PromiseView(
                last["due_at"], last["remind_at"], last["reminded_at"], last["overdue_at"]
            )
        return IncidentCommunications(views, promise, Compliance(kept, missed))
