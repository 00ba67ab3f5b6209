"""/api/v1/incidents: declare, list, read and change incidents and their timelines."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.incidents import parse_reference
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.entrypoints.api import schemas
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.entrypoints.api.presenters import entry_read, incident_read, summary_read
from tocsin.views.accounts import Principal
from tocsin.views.incident_search import IncidentFilter

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def _read(tocsin: Tocsin, incident_id: int, viewer: Principal) -> schemas.IncidentRead:
    detail = tocsin.incidents.detail(incident_id, viewer)
    return incident_read(detail, tocsin.policy, tocsin.settings.public_url())


def _split(values: list[str]) -> list[str]:
    """Accept ?status=a&status=b and ?status=a,b alike."""
    return [part for value in values for part in value.split(",") if part.strip()]


@router.get("", response_model=schemas.IncidentPage)
def list_incidents(
    status: list[str] = Query(
        [], description="investigating, identified, monitoring, resolved, closed; or 'open'"
    ),
    severity: list[str] = Query([], description="P1 … P4"),
    service: str | None = Query(None, description="service slug"),
    since: AwareDatetime | None = Query(None, description="declared at or after"),
    until: AwareDatetime | None = Query(None, description="declared before"),
    q: str | None = Query(None, max_length=200, description="text in the title or summary"),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = None,
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentPage:
    statuses: list[Status] = []
    for raw in _split(status):
        if raw.strip().lower() == "open":
            statuses += [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING]
        else:
            statuses.append(Status.parse(raw))
    filters = IncidentFilter(
        statuses=tuple(statuses),
        severities=tuple(Severity.parse(s) for s in _split(severity)),
        service=service.strip().lower() if service else None,
        since=since,
        until=until,
        text=q or None,
        viewer=principal,
    )
    page = tocsin.incidents.list(filters, limit=limit, cursor=cursor)
    return schemas.IncidentPage(
        items=[summary_read(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.post("", status_code=201, response_model=schemas.IncidentRead)
def declare_incident(
    body: schemas.IncidentCreate,
    response: Response,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    incident_id = tocsin.handle(
        commands.DeclareIncident(
            title=body.title,
            severity=body.severity,
            actor=principal.actor,
            summary=body.summary,
            services=tuple(body.services),
            user_impact=body.user_impact,
            business_impact=body.business_impact,
            customer_facing=body.customer_facing,
            detection_source=body.detection_source,
            detected_at=body.detected_at,
            impact_started_at=body.impact_started_at,
            private=body.private,
            workflow=body.workflow,
        )
    )
    response.headers["Location"] = f"/api/v1/incidents/{incident_id}"
    return _read(tocsin, incident_id, principal)


@router.get("/{ref}", response_model=schemas.IncidentRead)
def get_incident(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> schemas.IncidentRead:
    return _read(tocsin, parse_reference(ref), principal)


@router.patch("/{ref}", response_model=schemas.IncidentRead)
def update_incident(
    ref: str,
    body: schemas.IncidentUpdate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    incident_id = parse_reference(ref)
    tocsin.handle(
        commands.UpdateIncident(
            incident_id=incident_id,
            actor=principal.actor,
            title=body.title,
            summary=body.summary,
            user_impact=body.user_impact,
            business_impact=body.business_impact,
            customer_facing=body.customer_facing,
            detection_source=body.detection_source,
            services=tuple(body.services) if body.services is not None else None,
        )
    )
    return _read(tocsin, incident_id, principal)


@router.post("/{ref}/status", response_model=schemas.IncidentRead)
def change_status(
    ref: str,
    body: schemas.StatusChange,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    incident_id = parse_reference(ref)
    tocsin.handle(commands.ChangeStatus(incident_id, body.status, principal.actor, body.note))
    return _read(tocsin, incident_id, principal)


@router.post("/{ref}/acknowledge", response_model=schemas.IncidentRead)
def acknowledge(
    ref: str,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    """Someone has it: escalation stops and pages not yet sent are cancelled."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.AcknowledgeIncident(incident_id, principal.actor))
    return _read(tocsin, incident_id, principal)


@router.post("/{ref}/severity", response_model=schemas.IncidentRead)
def reclassify(
    ref: str,
    body: schemas.SeverityChange,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    incident_id = parse_reference(ref)
    tocsin.handle(
        commands.ReclassifyIncident(incident_id, body.severity, body.reason, principal.actor)
    )
    return _read(tocsin, incident_id, principal)


@router.get("/{ref}/roles", response_model=list[schemas.RoleRead])
def list_roles(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[schemas.RoleRead]:
    return _read(tocsin, parse_reference(ref), principal).roles


@router.post("/{ref}/roles", response_model=schemas.IncidentRead)
def assign_role(
    ref: str,
    body: schemas.RoleAssign,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    """Give a role to a person; a single-holder role is handed over from its current holder."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.AssignRole(incident_id, body.role, body.person, principal.actor))
    return _read(tocsin, incident_id, principal)


@router.delete("/{ref}/roles/{role}", response_model=schemas.IncidentRead)
def relieve_role(
    ref: str,
    role: str,
    person: str | None = Query(None, description="required when several people hold the role"),
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    incident_id = parse_reference(ref)
    tocsin.handle(commands.RelieveRole(incident_id, Role.parse(role), principal.actor, person))
    return _read(tocsin, incident_id, principal)


@router.put("/{ref}/timestamps/{name}", response_model=schemas.IncidentRead)
def set_timestamp(
    ref: str,
    name: str,
    body: schemas.TimestampSet,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    incident_id = parse_reference(ref)
    tocsin.handle(
        commands.SetTimestamp(incident_id, Milestone.parse(name), body.value, principal.actor)
    )
    return _read(tocsin, incident_id, principal)


@router.get("/{ref}/timeline", response_model=list[schemas.TimelineEntryRead])
def get_timeline(
    ref: str,
    key_moments: bool = Query(False, description="only entries marked as key moments"),
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[schemas.TimelineEntryRead]:
    entries = tocsin.incidents.timeline(
        parse_reference(ref), key_moments_only=key_moments, viewer=principal
    )
    return [entry_read(e) for e in entries]


@router.post("/{ref}/timeline", status_code=201, response_model=schemas.TimelineEntryRead)
def add_timeline_entry(
    ref: str,
    body: schemas.TimelineEntryCreate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.TimelineEntryRead:
    """Add an observation, action, decision or communication; `corrects` points at an entry."""
    incident_id = parse_reference(ref)
    seq = tocsin.handle(
        commands.AddTimelineEntry(
            incident_id=incident_id,
            kind=body.kind,
            body=body.body,
            actor=principal.actor,
            occurred_at=body.occurred_at,
            corrects_seq=body.corrects,
        )
    )
    return entry_read(tocsin.incidents.entry(incident_id, seq, principal))


@router.patch("/{ref}/timeline/{seq}", response_model=schemas.TimelineEntryRead)
def flag_timeline_entry(
    ref: str,
    seq: int,
    body: schemas.TimelineEntryUpdate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.TimelineEntryRead:
    """Mark or unmark a key moment. The text never changes: post a correction instead."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.MarkKeyMoment(incident_id, seq, body.key_moment, principal.actor))
    return entry_read(tocsin.incidents.entry(incident_id, seq, principal))


@router.put("/{ref}/visibility", response_model=schemas.IncidentRead)
def set_visibility(
    ref: str,
    body: schemas.VisibilitySet,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.IncidentRead:
    """Make an incident private (participants and admins only) or visible to everyone."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.SetIncidentPrivacy(incident_id, body.private, principal.actor))
    return _read(tocsin, incident_id, principal)
