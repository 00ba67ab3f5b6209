"""/api/v1/runbooks and an incident's runbooks: list, read, write, import, attach, tick steps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.incidents import parse_reference
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.runbookfile import ActionCreate, builtin_runbooks, parse_runbook
from tocsin.views.accounts import Principal
from tocsin.views.runbooks import AttachedView, Clearance, RunbookView

router = APIRouter(prefix="/api/v1", tags=["runbooks"])


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepRead(BaseModel):
    number: int
    text: str
    action: str | None = None


class RunbookRead(BaseModel):
    slug: str
    title: str
    body: str = Field(description="Markdown; rendered and sanitised by the web UI")
    services: list[str]
    alerts: list[str]
    private: bool = Field(description="a playbook for incidents kept private (security breach)")
    actions: list[str]
    steps: list[StepRead]
    updated_at: datetime


class RunbookWrite(Input):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1)]
    services: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)
    private: bool = False
    actions: list[ActionCreate] | None = Field(
        None, description="the runbook's actions; leave out to keep them as they are"
    )


class RunbookDocument(Input):
    name: Annotated[str, Field(min_length=1, max_length=255, description="file name")]
    text: str = Field(description="Markdown with YAML front matter")


class RunbookImport(Input):
    documents: list[RunbookDocument] = Field(default_factory=list)
    builtin: bool = Field(False, description="also import the built-in emergency playbooks")
    dry_run: bool = False


class Outcomes(BaseModel):
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)


class RunbookImportReport(BaseModel):
    runbooks: Outcomes
    actions: Outcomes
    dry_run: bool


class StepStateRead(BaseModel):
    number: int
    text: str
    action: str | None
    done: bool
    done_by: str | None
    done_at: datetime | None


class AttachedRunbookRead(BaseModel):
    slug: str
    title: str
    attached_by: str
    attached_at: datetime
    done: int
    steps: list[StepStateRead]


class SuggestionRead(BaseModel):
    slug: str
    title: str
    reasons: list[str] = Field(description="the services and alert names it shares")


class FiringAlertRead(BaseModel):
    id: int
    title: str
    status: str
    service: str | None


class ClearanceRead(BaseModel):
    firing: list[FiringAlertRead]
    firing_count: int
    resolved_count: int
    total: int
    clear: bool


class IncidentRunbooksRead(BaseModel):
    attached: list[AttachedRunbookRead]
    suggested: list[SuggestionRead]
    clearance: ClearanceRead


class RunbookAttach(Input):
    runbook: Annotated[str, Field(min_length=1, max_length=63)]


class StepTick(Input):
    done: bool = True


def runbook_read(view: RunbookView) -> RunbookRead:
    return RunbookRead(
        slug=view.slug,
        title=view.title,
        body=view.body,
        services=view.services,
        alerts=view.alerts,
        private=view.private,
        actions=view.actions,
        steps=[
            StepRead(number=i, text=s.text, action=s.action) for i, s in enumerate(view.steps, 1)
        ],
        updated_at=view.updated_at,
    )


def attached_read(view: AttachedView) -> AttachedRunbookRead:
    return AttachedRunbookRead(
        slug=view.slug,
        title=view.title,
        attached_by=view.attached_by,
        attached_at=view.attached_at,
        done=view.done,
        steps=[
            StepStateRead(
                number=i,
                text=s.text,
                action=s.action,
                done=s.done_at is not None,
                done_by=s.done_by,
                done_at=s.done_at,
            )
            for i, s in enumerate(view.steps, 1)
        ],
    )


def clearance_read(view: Clearance) -> ClearanceRead:
    return ClearanceRead(
        firing=[FiringAlertRead(**vars(a)) for a in view.firing],
        firing_count=len(view.firing),
        resolved_count=view.resolved,
        total=view.total,
        clear=not view.firing,
    )


@router.get("/runbooks", response_model=list[RunbookRead])
def list_runbooks(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[RunbookRead]:
    return [runbook_read(v) for v in tocsin.runbooks.list()]


@router.get("/runbooks/{slug}", response_model=RunbookRead)
def get_runbook(
    slug: str, _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> RunbookRead:
    return runbook_read(tocsin.runbooks.runbook(slug.strip().lower()))


@router.put("/runbooks/{slug}", response_model=RunbookRead)
def save_runbook(
    slug: str,
    body: RunbookWrite,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> RunbookRead:
    """Create or replace a runbook (its actions are created or updated too)."""
    spec = commands.RunbookSpec(
        slug=slug,
        title=body.title,
        body=body.body,
        services=tuple(body.services),
        alerts=tuple(body.alerts),
        private=body.private,
        actions=None if body.actions is None else tuple(a.spec() for a in body.actions),
    )
    tocsin.handle(commands.ImportRunbooks((spec,), principal.actor))
    return runbook_read(tocsin.runbooks.runbook(slug.strip().lower()))


@router.post("/runbooks/import", response_model=RunbookImportReport)
def import_runbooks(
    body: RunbookImport,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> RunbookImportReport:
    """Create or update runbooks from Markdown files; importing the same files again changes
    nothing. Nothing is written when any file is refused."""
    documents = [(d.name, d.text) for d in body.documents]
    if body.builtin:
        documents += builtin_runbooks()
    specs = tuple(parse_runbook(text, name) for name, text in documents)
    report = tocsin.handle(commands.ImportRunbooks(specs, principal.actor, body.dry_run))
    return RunbookImportReport(
        runbooks=Outcomes(**report["runbooks"]),
        actions=Outcomes(**report["actions"]),
        dry_run=body.dry_run,
    )


@router.get("/incidents/{ref}/runbooks", response_model=IncidentRunbooksRead)
def incident_runbooks(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> IncidentRunbooksRead:
    """The runbooks followed on the incident, the ones suggested for it, and alert clearance."""
    tocsin.incidents.require(parse_reference(ref), principal)
    view = tocsin.runbooks.for_incident(parse_reference(ref), tocsin.clock.now())
    return IncidentRunbooksRead(
        attached=[attached_read(a) for a in view.attached],
        suggested=[SuggestionRead(**vars(s)) for s in view.suggested],
        clearance=clearance_read(view.clearance),
    )


@router.post("/incidents/{ref}/runbooks", status_code=201, response_model=AttachedRunbookRead)
def attach_runbook(
    ref: str,
    body: RunbookAttach,
    response: Response,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> AttachedRunbookRead:
    incident_id = parse_reference(ref)
    tocsin.handle(commands.AttachRunbook(incident_id, body.runbook, principal.actor))
    response.headers["Location"] = f"/api/v1/incidents/{incident_id}/runbooks"
    return _attached(tocsin, incident_id, body.runbook)


@router.post("/incidents/{ref}/runbooks/{slug}/steps/{number}", response_model=AttachedRunbookRead)
def tick_step(
    ref: str,
    slug: str,
    number: int,
    body: StepTick,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> AttachedRunbookRead:
    """Check (or, with done false, uncheck) a step; it lands on the timeline with who and when."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.TickRunbookStep(incident_id, slug, number, body.done, principal.actor))
    return _attached(tocsin, incident_id, slug)


def _attached(tocsin: Tocsin, incident_id: int, slug: str) -> AttachedRunbookRead:
    view = tocsin.runbooks.for_incident(incident_id, tocsin.clock.now())
    return next(attached_read(a) for a in view.attached if a.slug == slug.strip().lower())
