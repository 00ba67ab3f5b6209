"""An incident's workflow as plain data: its stages and checklists, tasks, and critical path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.adapters.workflow_rows import load_workflow
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import reference
from tocsin.domain.tasks import Task, describe
from tocsin.domain.workflows import IncidentWorkflow


@dataclass(frozen=True)
class ChecklistItemView:
    number: int
    text: str
    done: bool
    by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class StageView:
    key: str
    name: str
    role: str
    role_label: str
    number: int
    state: str  # done (before the current stage), current, or upcoming
    checklist: list[ChecklistItemView]

    @property
    def ticked(self) -> int:
        return sum(1 for item in self.checklist if item.done)


@dataclass(frozen=True)
class TaskView:
    key: str
    content: str
    priority: str
    role: str | None
    role_label: str | None
    estimate: timedelta | None
    depends_on: list[str]
    workstream: str  # the team's name for a parallel workstream; empty for graph tasks
    team: str
    status: str
    owner: str | None
    owner_handle: str | None
    started_at: datetime | None
    done_at: datetime | None
    overdue_by: timedelta | None
    blocked_by: list[str]
    critical: bool

    @property
    def overdue(self) -> bool:
        return self.overdue_by is not None

    @property
    def waiting(self) -> bool:
        """Pending behind unfinished dependencies: greyed out, "waiting for …"."""
        return self.status == "pending" and bool(self.blocked_by)

    @property
    def estimate_text(self) -> str:
        return describe(self.estimate) if self.estimate else "—"

    @property
    def overdue_text(self) -> str:
        return describe(self.overdue_by) if self.overdue_by else ""


@dataclass(frozen=True)
class WorkflowBoard:
    """What the workflow and tasks panels, the API and the CLI show, computed as of `now`."""

    incident_id: int
    name: str
    stage: StageView
    stages: list[StageView]
    tasks: list[TaskView]
    workstreams: list[TaskView]
    critical_path: list[str]
    critical_remaining: timedelta
    now: datetime

    @property
    def overdue(self) -> list[TaskView]:
        return [t for t in self.tasks + self.workstreams if t.overdue]

    @property
    def critical_text(self) -> str:
        return describe(self.critical_remaining)

    @property
    def first_stage(self) -> bool:
        return self.stage.number == 1

    @property
    def last_stage(self) -> bool:
        return self.stage.number == len(self.stages)


class WorkflowViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def board(self, incident_id: int, now: datetime) -> WorkflowBoard:
        """The incident's workflow; NotFound names a missing incident or a missing workflow."""
        with self._db.reader.connect() as conn:
            workflow = load_workflow(conn, incident_id)
            if workflow is None:
                exists = conn.scalar(
                    select(orm.incidents.c.id).where(orm.incidents.c.id == incident_id)
                )
                if exists is None:
                    raise NotFound(f"no incident {reference(incident_id)}", field="incident")
                raise NotFound(
                    f"{reference(incident_id)} has no workflow (the policy defined none when it "
                    "was declared)",
                    field="incident",
                )
            owner_ids = [t.owner_id for t in workflow.tasks if t.owner_id is not None]
            p = orm.people
            handles = dict(
                conn.execute(select(p.c.id, p.c.handle).where(p.c.id.in_(owner_ids))).all()
                if owner_ids
                else []
            )
        return _board(workflow, handles, now)


def _board(workflow: IncidentWorkflow, handles: dict[int, str], now: datetime) -> WorkflowBoard:
    keys = [s.key for s in workflow.stages]
    current = keys.index(workflow.stage)
    stages = []
    for number, plan in enumerate(workflow.stages, 1):
        ticked = workflow.ticked(plan.key)
        items = [
            ChecklistItemView(
                i,
                text,
                text in ticked,
                ticked[text].by if text in ticked else None,
                ticked[text].at if text in ticked else None,
            )
            for i, text in enumerate(plan.checklist, 1)
        ]
        state = "done" if number - 1 < current else "current" if number - 1 == current else "next"
        stages.append(
            StageView(plan.key, plan.name, plan.role.value, plan.role.label, number, state, items)
        )
    path = workflow.critical_path(now)
    views = [_task(workflow, t, handles, now, t.key in path.keys) for t in workflow.tasks]
    return WorkflowBoard(
        incident_id=workflow.incident_id,
        name=workflow.name,
        stage=stages[current],
        stages=stages,
        tasks=[t for t in views if not t.workstream],
        workstreams=[t for t in views if t.workstream],
        critical_path=list(path.keys),
        critical_remaining=path.remaining,
        now=now,
    )


def _task(
    workflow: IncidentWorkflow, task: Task, handles: dict[int, str], now: datetime, critical: bool
) -> TaskView:
    return TaskView(
        key=task.key,
        content=task.content,
        priority=task.priority.value,
        role=task.role.value if task.role else None,
        role_label=task.role.label if task.role else None,
        estimate=task.estimate,
        depends_on=list(task.depends_on),
        workstream=task.workstream,
        team=task.team,
        status=task.status.value,
        owner=task.owner_name,
        owner_handle=handles.get(task.owner_id) if task.owner_id is not None else None,
        started_at=task.started_at,
        done_at=task.done_at,
        overdue_by=task.overdue_by(now),
        blocked_by=workflow.blocked_by(task) if not task.status.finished else [],
        critical=critical,
    )
