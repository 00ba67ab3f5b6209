"""Runbooks, actions, runs and alert clearance as plain data for the API, CLI and pages."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.adapters.runbook_repositories import action_from_row, run_from_row, runbook_from_row
from tocsin.domain.actions import Action, shown_headers
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference
from tocsin.domain.runbooks import Runbook, Step, StepState

RUNS_SHOWN = 20


@dataclass(frozen=True)
class RunbookView:
    slug: str
    title: str
    body: str
    services: list[str]
    alerts: list[str]
    private: bool
    actions: list[str]
    steps: list[Step]
    updated_at: datetime


@dataclass(frozen=True)
class ActionView:
    name: str
    title: str
    method: str
    url: str
    headers: dict[str, str]  # references shown, literal credentials redacted
    body: str
    timeout: float
    requires_approval: bool
    expect_status: int | None
    runbook: str | None


@dataclass(frozen=True)
class RunView:
    id: int
    incident: str
    kind: str
    name: str
    method: str
    url: str
    state: str  # a run past its deadline still "running" reads outcome_unknown
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    status_code: int | None
    duration_ms: int | None
    excerpt: str
    error: str
    attempts: int
    passes: int
    repeat: int


@dataclass(frozen=True)
class AttachedView:
    slug: str
    title: str
    steps: list[StepState]
    attached_by: str
    attached_at: datetime

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.done_at is not None)


@dataclass(frozen=True)
class Suggestion:
    slug: str
    title: str
    reasons: list[str]


@dataclass(frozen=True)
class FiringAlert:
    id: int
    title: str
    status: str
    service: str | None


@dataclass(frozen=True)
class Clearance:
    """Which of an incident's alerts still fire: the incident is clear when none do."""

    firing: list[FiringAlert] = field(default_factory=list)
    resolved: int = 0

    @property
    def total(self) -> int:
        return len(self.firing) + self.resolved


@dataclass(frozen=True)
class IncidentRunbooks:
    attached: list[AttachedView]
    suggested: list[Suggestion]
    others: list[Suggestion]  # every other runbook, to attach by hand
    actions: list[ActionView]
    runs: list[RunView]
    clearance: Clearance


class RunbookViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def list(self) -> builtins.list[RunbookView]:
        with self._db.reader.connect() as conn:
            rows = conn.execute(select(orm.runbooks).order_by(orm.runbooks.c.title)).mappings()
            return [_runbook(r) for r in rows]

    def runbook(self, slug: str) -> RunbookView:
        with self._db.reader.connect() as conn:
            row = (
                conn.execute(select(orm.runbooks).where(orm.runbooks.c.slug == slug))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no runbook {slug!r}", field="runbook")
        return _runbook(row)

    def actions(self) -> builtins.list[ActionView]:
        with self._db.reader.connect() as conn:
            rows = conn.execute(select(orm.actions).order_by(orm.actions.c.name)).mappings()
            return [_action(action_from_row(r)) for r in rows]

    def run(self, incident_id: int, run_id: int, now: datetime) -> RunView:
        t = orm.action_runs
        with self._db.reader.connect() as conn:
            row = (
                conn.execute(select(t).where(t.c.id == run_id, t.c.incident_id == incident_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no run #{run_id} on {reference(incident_id)}", field="run")
        return _run(row, now)

    def runs(self, incident_id: int, now: datetime) -> builtins.list[RunView]:
        """The incident's latest runs, newest first."""
        t = orm.action_runs
        query = (
            select(t)
            .where(t.c.incident_id == incident_id)
            .order_by(t.c.id.desc())
            .limit(RUNS_SHOWN)
        )
        with self._db.reader.connect() as conn:
            return [_run(r, now) for r in conn.execute(query).mappings()]

    def clearance(self, incident_id: int) -> Clearance:
        a = orm.alerts
        query = (
            select(a.c.id, a.c.title, a.c.status, a.c.service)
            .where(a.c.incident_id == incident_id)
            .order_by(a.c.id)
        )
        with self._db.reader.connect() as conn:
            rows = conn.execute(query).all()
        firing = [FiringAlert(r.id, r.title, r.status, r.service) for r in rows]
        return Clearance(
            firing=[f for f in firing if f.status != "resolved"],
            resolved=sum(1 for f in firing if f.status == "resolved"),
        )

    def for_incident(self, incident_id: int, now: datetime) -> IncidentRunbooks:
        """What the war room's runbook panel shows for one incident."""
        with self._db.reader.connect() as conn:
            found = conn.scalar(select(orm.incidents.c.id).where(orm.incidents.c.id == incident_id))
            if found is None:
                raise NotFound(f"no incident {reference(incident_id)}", field="incident")
            t = orm.incident_runbooks
            attached_rows = conn.execute(
                select(t).where(t.c.incident_id == incident_id).order_by(t.c.attached_at, t.c.id)
            ).mappings()
            attached = [
                AttachedView(
                    r["slug"],
                    r["title"],
                    [StepState.from_dict(s) for s in r["steps"]],
                    r["attached_by"],
                    r["attached_at"],
                )
                for r in attached_rows
            ]
            services = set(
                conn.scalars(
                    select(orm.services.c.slug)
                    .join(
                        orm.incident_services,
                        orm.incident_services.c.service_id == orm.services.c.id,
                    )
                    .where(orm.incident_services.c.incident_id == incident_id)
                )
            )
            a = orm.alerts
            alert_names: set[str] = set()
            for title, labels in conn.execute(
                select(a.c.title, a.c.labels).where(a.c.incident_id == incident_id)
            ):
                alert_names.add(title)
                if isinstance(labels, dict) and labels.get("alertname"):
                    alert_names.add(str(labels["alertname"]))
            books = [
                runbook_from_row(r)
                for r in conn.execute(
                    select(orm.runbooks).order_by(orm.runbooks.c.title)
                ).mappings()
            ]
        taken = {a.slug for a in attached}
        suggested: builtins.list[Suggestion] = []
        others: builtins.list[Suggestion] = []
        for book in books:
            if book.slug in taken:
                continue
            reasons = book.matches(services, alert_names)
            (suggested if reasons else others).append(Suggestion(book.slug, book.title, reasons))
        return IncidentRunbooks(
            attached=attached,
            suggested=suggested,
            others=others,
            actions=self.actions(),
            runs=self.runs(incident_id, now),
            clearance=self.clearance(incident_id),
        )


def _runbook(row: object) -> RunbookView:
    book: Runbook = runbook_from_row(row)
    return RunbookView(
        book.slug,
        book.title,
        book.body,
        book.services,
        book.alerts,
        book.private,
        book.actions,
        book.steps,
        row["updated_at"],  # type: ignore[index]
    )


def _action(action: Action) -> ActionView:
    return ActionView(
        action.name,
        action.title,
        action.method,
        action.url,
        shown_headers(action.headers),
        action.body,
        action.timeout,
        action.requires_approval,
        action.expect_status,
        action.runbook,
    )


def _run(row: object, now: datetime) -> RunView:
    run = run_from_row(row)
    assert run.id is not None
    return RunView(
        id=run.id,
        incident=reference(run.incident_id),
        kind=run.kind.value,
        name=run.name,
        method=run.method,
        url=run.url,
        state=run.shown_state(now),
        requested_by=run.requested_by,
        requested_at=run.requested_at,
        approved_by=run.approved_by,
        approved_at=run.approved_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status_code=run.status_code,
        duration_ms=run.duration_ms,
        excerpt=run.excerpt,
        error=run.error,
        attempts=run.attempts,
        passes=run.passes,
        repeat=run.check.repeat if run.check else 1,
    )
