"""/api/v1/incidents/{ref}/messages and /participants: the war room's conversation and people."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.incidents import parse_reference
from tocsin.domain.war_room import MESSAGE_MAX
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.entrypoints.api.schemas import Input, Slug
from tocsin.views.accounts import Principal
from tocsin.views.war_room import MessageView

router = APIRouter(prefix="/api/v1/incidents", tags=["war room"])


class MessageCreate(Input):
    body: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX)]


class MessageRead(BaseModel):
    id: int
    author: str
    body: str
    posted_at: datetime


class ParticipantCreate(Input):
    person: Slug


class ParticipantRead(BaseModel):
    person: str
    name: str
    reason: str = Field(description="declared, role, paged or invited")
    added_at: datetime
    added_by: str


@router.get("/{ref}/messages", response_model=list[MessageRead])
def list_messages(
    ref: str,
    after: int = Query(0, ge=0, description="only messages with a larger id"),
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[MessageRead]:
    """The latest 200 messages of the war room, oldest first."""
    found = tocsin.war_room.messages(parse_reference(ref), principal, after=after)
    return [_message(m) for m in found]


@router.post("/{ref}/messages", status_code=201, response_model=list[MessageRead])
def post_message(
    ref: str,
    body: MessageCreate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[MessageRead]:
    """Say something in the war room; returns the conversation as it now stands."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.PostMessage(incident_id, body.body, principal.actor))
    found = tocsin.war_room.messages(incident_id, principal)
    return [_message(m) for m in found]


@router.get("/{ref}/participants", response_model=list[ParticipantRead])
def list_participants(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[ParticipantRead]:
    """Role holders, people paged or invited, and the declarer."""
    return _participants(tocsin, parse_reference(ref), principal)


@router.post("/{ref}/participants", status_code=201, response_model=list[ParticipantRead])
def invite(
    ref: str,
    body: ParticipantCreate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[ParticipantRead]:
    """Bring a person into the war room; for a private incident, into the secret too."""
    incident_id = parse_reference(ref)
    tocsin.handle(commands.InviteParticipant(incident_id, body.person, principal.actor))
    return _participants(tocsin, incident_id, principal)


def _message(m: MessageView) -> MessageRead:
    return MessageRead(id=m.id, author=m.author, body=m.body, posted_at=m.posted_at)


def _participants(tocsin: Tocsin, incident_id: int, viewer: Principal) -> list[ParticipantRead]:
    return [
        ParticipantRead(
            person=p.handle, name=p.name, reason=p.reason, added_at=p.added_at, added_by=p.added_by
        )
        for p in tocsin.war_room.participants(incident_id, viewer)
    ]
