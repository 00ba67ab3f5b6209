"""/api/v1/actions and an incident's runs: define actions, run, approve, check, clearance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.actions import DEFAULT_TIMEOUT, MAX_INTERVAL, MAX_REPEAT, MAX_TIMEOUT
from tocsin.domain.incidents import parse_reference
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.entrypoints.api.runbooks import ClearanceRead, clearance_read
from tocsin.runbookfile import ActionCreate
from tocsin.services.action_runs import execute_run, run_check
from tocsin.views.accounts import Principal
from tocsin.views.runbooks import ActionView, RunView

router = APIRouter(prefix="/api/v1", tags=["actions"])


class ActionRead(BaseModel):
    name: str
    title: str
    method: str
    url: str = Field(description="`${NAME}` references stay as written; values are never shown")
    headers: dict[str, str]
    body: str
    timeout: float
    requires_approval: bool
    expect_status: int | None
    runbook: str | None


class RunRead(BaseModel):
    id: int
    incident: str
    kind: str = Field(description="action or check")
    name: str
    method: str
    url: str
    state: str = Field(
        description="awaiting_approval, ready, running, succeeded, failed, timed_out, or "
        "outcome_unknown (still running past its timeout: its worker stopped)"
    )
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    status_code: int | None
    duration_ms: int | None
    excerpt: str = Field(
        description="an action's response, first 500 characters, secrets redacted (checks: none)"
    )
    error: str
    attempts: int
    passes: int
    repeat: int


class CheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1, max_length=2048)]
    expect_status: Annotated[int, Field(ge=100, le=599)] = 200
    expect_body: Annotated[str, Field(max_length=1000)] = ""
    max_latency_ms: Annotated[int | None, Field(ge=1, le=60_000)] = None
    repeat: Annotated[int, Field(ge=1, le=MAX_REPEAT)] = 1
    interval: Annotated[float, Field(ge=0, le=MAX_INTERVAL)] = 2.0
    timeout: Annotated[float, Field(gt=0, le=MAX_TIMEOUT)] = DEFAULT_TIMEOUT


def action_read(view: ActionView) -> ActionRead:
    return ActionRead(**vars(view))


def run_read(view: RunView) -> RunRead:
    return RunRead(**vars(view))


@router.get("/actions", response_model=list[ActionRead])
def list_actions(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[ActionRead]:
    return [action_read(a) for a in tocsin.runbooks.actions()]


@router.put("/actions/{name}", response_model=ActionRead)
def save_action(
    name: str,
    body: ActionCreate,
    response: Response,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> ActionRead:
    """Create or update a standalone action (the name in the path wins over the body's)."""
    spec = body.model_copy(update={"name": name}).spec()
    outcome = tocsin.handle(commands.SaveAction(spec, principal.actor))
    if outcome == "created":
        response.status_code = 201
    return next(action_read(a) for a in tocsin.runbooks.actions() if a.name == name.lower())


@router.get("/incidents/{ref}/runs", response_model=list[RunRead])
def list_runs(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[RunRead]:
    """The incident's latest action and check runs, newest first."""
    tocsin.incidents.require(parse_reference(ref), principal)
    return [run_read(r) for r in tocsin.runbooks.runs(parse_reference(ref), tocsin.clock.now())]


@router.get("/incidents/{ref}/runs/{run_id}", response_model=RunRead)
def get_run(
    ref: str,
    run_id: int,
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> RunRead:
    tocsin.incidents.require(parse_reference(ref), principal)
    return run_read(tocsin.runbooks.run(parse_reference(ref), run_id, tocsin.clock.now()))


@router.post("/incidents/{ref}/actions/{name}/runs", status_code=201, response_model=RunRead)
def run_action(
    ref: str,
    name: str,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> RunRead:
    """Run an action now (Technical Lead or Incident Commander); one that needs approval waits
    for the Incident Commander and runs when approved. Answers once the call has finished."""
    incident_id = parse_reference(ref)
    run_id = tocsin.handle(commands.RequestActionRun(incident_id, name, principal.actor))
    run = tocsin.runbooks.run(incident_id, run_id, tocsin.clock.now())
    if run.state == "ready":
        execute_run(tocsin.handle, tocsin.action_runner, incident_id, run_id, principal.actor)
        run = tocsin.runbooks.run(incident_id, run_id, tocsin.clock.now())
    return run_read(run)


@router.post("/incidents/{ref}/runs/{run_id}/approve", response_model=RunRead)
def approve_run(
    ref: str,
    run_id: int,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> RunRead:
    """The Incident Commander approves a waiting action, which then runs."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.ApproveActionRun(incident_id, run_id, principal.actor))
    execute_run(tocsin.handle, tocsin.action_runner, incident_id, run_id, principal.actor)
    return run_read(tocsin.runbooks.run(incident_id, run_id, tocsin.clock.now()))


@router.post("/incidents/{ref}/checks", status_code=201, response_model=RunRead)
def run_recovery_check(
    ref: str,
    body: CheckCreate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> RunRead:
    """GET a URL `repeat` times, `interval` seconds apart; every attempt must meet the expected
    status, body text and latency bound. The result lands on the timeline as evidence."""
    incident_id = parse_reference(ref)
    command = commands.StartCheck(incident_id, actor=principal.actor, **body.model_dump())
    run_id = run_check(tocsin.handle, tocsin.action_runner, command)
    return run_read(tocsin.runbooks.run(incident_id, run_id, tocsin.clock.now()))


@router.get("/incidents/{ref}/clearance", response_model=ClearanceRead)
def clearance(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> ClearanceRead:
    """Which of the incident's alerts still fire."""
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)  # 404 when unknown or not theirs to see
    return clearance_read(tocsin.runbooks.clearance(incident_id))
