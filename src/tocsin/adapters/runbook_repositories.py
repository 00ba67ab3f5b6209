"""Runbooks, action definitions and action runs in SQL; writes go straight to the transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tocsin.adapters import orm
from tocsin.domain.action_runs import ActionRun, RunKind, RunState
from tocsin.domain.actions import Action, CheckSpec
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference
from tocsin.domain.runbooks import AttachedRunbook, Runbook, StepState


class SqlAlchemyRunbookRepository:
    def __init__(self, conn: Connection, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._now = now

    def find(self, slug: str) -> Runbook | None:
        row = (
            self._conn.execute(select(orm.runbooks).where(orm.runbooks.c.slug == slug))
            .mappings()
            .first()
        )
        return None if row is None else runbook_from_row(row)

    def save(self, runbook: Runbook) -> None:
        t = orm.runbooks
        values = {
            "slug": runbook.slug,
            "title": runbook.title,
            "body": runbook.body,
            "services": runbook.services,
            "alerts": runbook.alerts,
            "private": runbook.private,
            "actions": runbook.actions,
            "updated_at": self._now(),
        }
        if runbook.id is None:
            runbook.id = self._conn.execute(
                insert(t).values(**values).returning(t.c.id)
            ).scalar_one()
        else:
            self._conn.execute(update(t).where(t.c.id == runbook.id).values(**values))

    def attached(self, incident_id: int, slug: str) -> AttachedRunbook | None:
        t = orm.incident_runbooks
        row = (
            self._conn.execute(select(t).where(t.c.incident_id == incident_id, t.c.slug == slug))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return AttachedRunbook(
            incident_id=row["incident_id"],
            runbook_id=row["runbook_id"],
            slug=row["slug"],
            title=row["title"],
            steps=[StepState.from_dict(s) for s in row["steps"]],
            attached_by=row["attached_by"],
            attached_at=row["attached_at"],
            id=row["id"],
        )

    def attach(self, attached: AttachedRunbook) -> None:
        t = orm.incident_runbooks
        attached.id = self._conn.execute(
            insert(t)
            .values(
                incident_id=attached.incident_id,
                runbook_id=attached.runbook_id,
                slug=attached.slug,
                title=attached.title,
                steps=[s.as_dict() for s in attached.steps],
                attached_by=attached.attached_by,
                attached_at=attached.attached_at,
            )
            .returning(t.c.id)
        ).scalar_one()

    def save_attached(self, attached: AttachedRunbook) -> None:
        t = orm.incident_runbooks
        self._conn.execute(
            update(t)
            .where(t.c.id == attached.id)
            .values(steps=[s.as_dict() for s in attached.steps])
        )


class SqlAlchemyActionRepository:
    def __init__(self, conn: Connection, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._now = now

    def find(self, name: str) -> Action | None:
        t = orm.actions
        row = self._conn.execute(select(t).where(t.c.name == name)).mappings().first()
        return None if row is None else action_from_row(row)

    def save(self, action: Action) -> None:
        t = orm.actions
        values = {k: v for k, v in dataclasses.asdict(action).items() if k != "id"} | {
            "updated_at": self._now()
        }
        if action.id is None:
            action.id = self._conn.execute(
                insert(t).values(**values).returning(t.c.id)
            ).scalar_one()
        else:
            self._conn.execute(update(t).where(t.c.id == action.id).values(**values))

    def add_run(self, run: ActionRun) -> None:
        t = orm.action_runs
        run.id = self._conn.execute(
            insert(t).values(**_run_row(run)).returning(t.c.id)
        ).scalar_one()

    def get_run(self, incident_id: int, run_id: int) -> ActionRun:
        t = orm.action_runs
        row = (
            self._conn.execute(select(t).where(t.c.id == run_id, t.c.incident_id == incident_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no run #{run_id} on {reference(incident_id)}", field="run")
        return run_from_row(row)

    def save_run(self, run: ActionRun) -> None:
        t = orm.action_runs
        self._conn.execute(update(t).where(t.c.id == run.id).values(**_run_row(run)))


def runbook_from_row(row: Any) -> Runbook:
    return Runbook(
        slug=row["slug"],
        title=row["title"],
        body=row["body"],
        services=list(row["services"]),
        alerts=list(row["alerts"]),
        private=row["private"],
        actions=list(row["actions"]),
        id=row["id"],
    )


def action_from_row(row: Any) -> Action:
    return Action(
        name=row["name"],
        title=row["title"],
        method=row["method"],
        url=row["url"],
        headers=dict(row["headers"]),
        body=row["body"],
        timeout=row["timeout"],
        requires_approval=row["requires_approval"],
        expect_status=row["expect_status"],
        runbook=row["runbook"],
        id=row["id"],
    )


def _run_row(run: ActionRun) -> dict[str, Any]:
    values = {
        f.name: getattr(run, f.name)
        for f in dataclasses.fields(run)
        if f.name not in ("id", "check", "kind", "state")
    }
    values["kind"] = run.kind.value
    values["state"] = run.state.value
    values["check_spec"] = dataclasses.asdict(run.check) if run.check else None
    return values


def run_from_row(row: Any) -> ActionRun:
    names = {f.name for f in dataclasses.fields(ActionRun)} - {"check", "kind", "state"}
    spec = row["check_spec"]
    return ActionRun(
        **{name: row[name] for name in names},
        kind=RunKind(row["kind"]),
        state=RunState(row["state"]),
        check=CheckSpec(**spec) if spec else None,
    )
