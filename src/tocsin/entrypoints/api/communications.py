"""/api/v1/incidents/{ref}/updates: compose, preview and send stakeholder updates."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.communications import Draft
from tocsin.domain.incidents import parse_reference
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.entrypoints.api.schemas import Input, Text
from tocsin.views.accounts import Principal
from tocsin.views.communications import IncidentCommunications

router = APIRouter(prefix="/api/v1/incidents", tags=["stakeholder updates"])


class UpdateCompose(Input):
    """What an update says; the policy template turns it into the text every channel gets."""

    template: str = Field(
        "status", description="status (Status Update) or initial (Initial Incident Report)"
    )
    audiences: list[str] = Field(description="internal, executive and/or customer")
    summary: Text = ""
    actions: list[str] = Field([], description="Current actions, one line each")


class UpdateCreate(UpdateCompose):
    body: Text | None = Field(None, description="The previewed text as edited; sent as is")


class UpdatePreview(BaseModel):
    subject: str
    body: str
    next_update_at: datetime | None


class UpdateRead(BaseModel):
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
    promise: str | None = Field(description="how its promise ended: kept, missed, ended; open")


class PromiseRead(BaseModel):
    due_at: datetime
    remind_at: datetime
    reminded_at: datetime | None
    overdue_at: datetime | None
    state: str = Field(description="on-track, due-soon (within the reminder) or overdue")


class ComplianceRead(BaseModel):
    kept: int
    missed: int
    promised: int
    rate: float | None


class UpdatesRead(BaseModel):
    updates: list[UpdateRead] = Field(description="Newest first")
    next_update: PromiseRead | None = Field(description="The open promise, if any")
    compliance: ComplianceRead


def updates_read(comms: IncidentCommunications, now: datetime) -> UpdatesRead:
    """The API's shape of an incident's updates, also used by the CLI."""
    promise = comms.promise
    return UpdatesRead(
        updates=[UpdateRead(**vars(u)) for u in comms.updates],
        next_update=None
        if promise is None
        else PromiseRead(**vars(promise), state=promise.state(now)),
        compliance=ComplianceRead(
            kept=comms.compliance.kept,
            missed=comms.compliance.missed,
            promised=comms.compliance.promised,
            rate=comms.compliance.rate,
        ),
    )


@router.get("/{ref}/updates", response_model=UpdatesRead)
def list_updates(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> UpdatesRead:
    """Every update sent, the next one promised, and how many promises were kept."""
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)
    return updates_read(tocsin.communications.for_incident(incident_id), tocsin.clock.now())


@router.post("/{ref}/updates/preview", response_model=UpdatePreview)
def preview_update(
    ref: str,
    body: UpdateCompose,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> UpdatePreview:
    """The text the update would carry, prefilled from the incident; nothing is written."""
    draft: Draft = tocsin.handle(
        commands.ComposeUpdate(
            parse_reference(ref),
            body.template,
            tuple(body.audiences),
            body.summary,
            tuple(body.actions),
            principal.actor,
        )
    )
    return UpdatePreview(
        subject=draft.subject, body=draft.body, next_update_at=draft.next_update_at
    )


@router.post("/{ref}/updates", status_code=201, response_model=UpdateRead)
def send_update(
    ref: str,
    body: UpdateCreate,
    response: Response,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> UpdateRead:
    """Send to the audiences' channels (needs the Incident Commander or Communications Lead)."""
    incident_id = parse_reference(ref)
    update_id = tocsin.handle(
        commands.SendUpdate(
            incident_id,
            body.template,
            tuple(body.audiences),
            principal.actor,
            body.summary,
            tuple(body.actions),
            body.body,
        )
    )
    response.headers["Location"] = f"/api/v1/incidents/{incident_id}/updates"
    sent = tocsin.communications.for_incident(incident_id).updates
    return UpdateRead(**vars(next(u for u in sent if u.id == update_id)))
