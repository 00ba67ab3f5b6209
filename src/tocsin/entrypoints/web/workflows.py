"""Forms of the incident page's Workflow and Tasks panels: stages, checklist ticks and tasks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tocsin.domain import commands
from tocsin.entrypoints.web.changes import apply
from tocsin.entrypoints.web.forms import flag, is_on, text
from tocsin.entrypoints.web.sessions import Change, change_request

router = APIRouter(include_in_schema=False)


@router.post("/incidents/{ref}/workflow/stage")
def move_stage(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Next stage, back one, or a named stage: the Incident Commander's decision."""
    target = text(change.form, "stage")
    return apply(
        request, change, ref, "workflow", lambda i: commands.MoveStage(i, target, change.actor)
    )


@router.post("/incidents/{ref}/workflow/checklist")
def tick_item(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Tick or untick one checklist item; who and when go on the panel and the timeline."""
    form = change.form
    done = is_on(text(form, "done") or "true")
    stage = text(form, "stage").strip() or None
    return apply(
        request,
        change,
        ref,
        "workflow",
        lambda i: commands.TickChecklistItem(i, text(form, "item"), change.actor, done, stage),
    )


@router.post("/incidents/{ref}/tasks/{key}/start")
def start_task(
    ref: str, key: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Start a task; "start anyway" (override) is for the Incident Commander."""
    override = flag(change.form, "override")
    return apply(
        request,
        change,
        ref,
        "tasks",
        lambda i: commands.StartTask(i, key, change.actor, override),
    )


@router.post("/incidents/{ref}/tasks/{key}/done")
def complete_task(
    ref: str, key: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Finish a task."""
    return apply(
        request, change, ref, "tasks", lambda i: commands.CompleteTask(i, key, change.actor)
    )


@router.post("/incidents/{ref}/tasks/{key}/skip")
def skip_task(
    ref: str, key: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Leave a task out, with a reason."""
    reason = text(change.form, "reason")
    return apply(
        request, change, ref, "tasks", lambda i: commands.SkipTask(i, key, reason, change.actor)
    )


@router.post("/incidents/{ref}/tasks/{key}/owner")
def assign_task(
    ref: str, key: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Give a task or workstream an owner (an empty choice takes the owner away)."""
    owner = text(change.form, "owner").strip() or None
    return apply(
        request, change, ref, "tasks", lambda i: commands.AssignTask(i, key, owner, change.actor)
    )
