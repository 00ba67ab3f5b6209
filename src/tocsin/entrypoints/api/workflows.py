"""/api/v1/incidents/{ref}/workflow and /tasks: stages, checklists, tasks and the critical path."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.incidents import parse_reference, reference
from tocsin.domain.tasks import describe
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.entrypoints.api.schemas import Input
from tocsin.views.accounts import Principal
from tocsin.views.workflows import StageView, TaskView, WorkflowBoard

router = APIRouter(prefix="/api/v1/incidents", tags=["workflow"])
Key = Annotated[str, Field(min_length=1, max_length=63)]


# ----- bodies ---------------------------------------------------------------------------------
class StageMove(Input):
    stage: Key = Field(description="next, back, or a stage key such as containment")


class ChecklistTick(Input):
    item: Annotated[str, Field(min_length=1, max_length=500)] = Field(
        description="the item's text, or its number in the stage's checklist (1 = first)"
    )
    done: bool = Field(True, description="false unticks the item")
    stage: Key | None = Field(None, description="a stage key; the current stage when omitted")


class TaskStart(Input):
    override: bool = Field(
        False, description="start before the dependencies are done (Incident Commander only)"
    )


class TaskSkip(Input):
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]


class TaskUpdate(Input):
    owner: Key | None = Field(description="a person handle, or null for no owner")


class ChecklistItemRead(BaseModel):
    number: int
    item: str
    done: bool
    by: str | None
    at: datetime | None


class StageRead(BaseModel):
    key: str
    name: str
    role: str
    role_label: str
    number: int
    state: str
    ticked: int
    checklist: list[ChecklistItemRead]


class WorkflowRead(BaseModel):
    incident: str
    workflow: str
    stage: StageRead
    stages: list[StageRead]


class TaskRead(BaseModel):
    key: str
    content: str
    priority: str
    role: str | None
    estimate: str | None
    depends_on: list[str]
    workstream: str
    team: str
    status: str
    owner: str | None
    owner_handle: str | None
    started_at: datetime | None
    done_at: datetime | None
    overdue: bool
    overdue_by: str | None
    blocked_by: list[str]
    critical: bool


class TaskBoardRead(BaseModel):
    incident: str
    tasks: list[TaskRead]
    workstreams: list[TaskRead]
    critical_path: list[str] = Field(description="unfinished tasks that block resolution, in order")
    critical_remaining: str = Field(description="the estimates left on the critical path")


def _stage(view: StageView) -> StageRead:
    items = [ChecklistItemRead(number=i.number, item=i.text, done=i.done, by=i.by, at=i.at)
             for i in view.checklist]  # fmt: skip
    return StageRead(
        key=view.key, name=view.name, role=view.role, role_label=view.role_label,
        number=view.number, state=view.state, ticked=view.ticked, checklist=items,
    )  # fmt: skip


def _task(view: TaskView) -> TaskRead:
    return TaskRead(
        key=view.key, content=view.content, priority=view.priority, role=view.role,
        estimate=describe(view.estimate) if view.estimate else None,
        depends_on=view.depends_on, workstream=view.workstream, team=view.team,
        status=view.status, owner=view.owner, owner_handle=view.owner_handle,
        started_at=view.started_at, done_at=view.done_at, overdue=view.overdue,
        overdue_by=describe(view.overdue_by) if view.overdue_by else None,
        blocked_by=view.blocked_by, critical=view.critical,
    )  # fmt: skip


def _board(tocsin: Tocsin, incident_id: int) -> WorkflowBoard:
    return tocsin.workflows.board(incident_id, tocsin.clock.now())


def workflow_read(board: WorkflowBoard) -> WorkflowRead:
    return WorkflowRead(
        incident=reference(board.incident_id),
        workflow=board.name,
        stage=_stage(board.stage),
        stages=[_stage(s) for s in board.stages],
    )


def task_board_read(board: WorkflowBoard) -> TaskBoardRead:
    return TaskBoardRead(
        incident=reference(board.incident_id),
        tasks=[_task(t) for t in board.tasks],
        workstreams=[_task(t) for t in board.workstreams],
        critical_path=board.critical_path,
        critical_remaining=describe(board.critical_remaining),
    )


# ----- routes ---------------------------------------------------------------------------------
@router.get("/{ref}/workflow", response_model=WorkflowRead)
def get_workflow(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> WorkflowRead:
    """The stages, which one the incident is at, and who ticked which checklist item when."""
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)
    return workflow_read(_board(tocsin, incident_id))


@router.post("/{ref}/workflow/stage", response_model=WorkflowRead)
def move_stage(
    ref: str,
    body: StageMove,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> WorkflowRead:
    """Go to the next stage, back one, or to a named stage: the Incident Commander's decision."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.MoveStage(incident_id, body.stage, principal.actor))
    return workflow_read(_board(tocsin, incident_id))


@router.post("/{ref}/workflow/checklist", response_model=WorkflowRead)
def tick_item(
    ref: str,
    body: ChecklistTick,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> WorkflowRead:
    """Tick or untick a checklist item; the stage's specialist role or a technical role may."""
    incident_id = parse_reference(ref)
    tocsin.handle(
        commands.TickChecklistItem(incident_id, body.item, principal.actor, body.done, body.stage)
    )
    return workflow_read(_board(tocsin, incident_id))


@router.get("/{ref}/tasks", response_model=TaskBoardRead)
def list_tasks(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> TaskBoardRead:
    """The task graph and workstreams, with overdue and blocked tasks and the critical path."""
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)
    return task_board_read(_board(tocsin, incident_id))


@router.post("/{ref}/tasks/{key}/start", response_model=TaskBoardRead)
def start_task(
    ref: str,
    key: str,
    body: TaskStart | None = None,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> TaskBoardRead:
    """Start a task; 409 names the unfinished dependencies unless the IC overrides."""
    incident_id = parse_reference(ref)
    override = body.override if body else False
    tocsin.handle(commands.StartTask(incident_id, key, principal.actor, override))
    return task_board_read(_board(tocsin, incident_id))


@router.post("/{ref}/tasks/{key}/complete", response_model=TaskBoardRead)
def complete_task(
    ref: str,
    key: str,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> TaskBoardRead:
    """Finish a task (a pending one starts and ends at once); its owner may always finish it."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.CompleteTask(incident_id, key, principal.actor))
    return task_board_read(_board(tocsin, incident_id))


@router.post("/{ref}/tasks/{key}/skip", response_model=TaskBoardRead)
def skip_task(
    ref: str,
    key: str,
    body: TaskSkip,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> TaskBoardRead:
    """Leave a task out, with a reason: the Incident Commander's decision."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.SkipTask(incident_id, key, body.reason, principal.actor))
    return task_board_read(_board(tocsin, incident_id))


@router.patch("/{ref}/tasks/{key}", response_model=TaskBoardRead)
def update_task(
    ref: str,
    key: str,
    body: TaskUpdate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> TaskBoardRead:
    """Give a task or workstream an owner, or none."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.AssignTask(incident_id, key, body.owner, principal.actor))
    return task_board_read(_board(tocsin, incident_id))
