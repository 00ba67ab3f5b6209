"""The war room on the incident page: the conversation, participants, privacy, taking command."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tocsin.domain import commands
from tocsin.domain.errors import InvalidInput
from tocsin.domain.roles import Role
from tocsin.entrypoints.web.changes import apply
from tocsin.entrypoints.web.forms import flag, required, text
from tocsin.entrypoints.web.sessions import Change, change_request, tocsin_of

router = APIRouter(include_in_schema=False)


@router.post("/incidents/{ref}/messages")
def post_message(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Say something in the war room; every open page shows it at once."""
    body = text(change.form, "body")
    return apply(
        request, change, ref, "message", lambda i: commands.PostMessage(i, body, change.actor)
    )


@router.post("/incidents/{ref}/participants")
def invite(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Bring a person into the war room (and into a private incident's secret)."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        "participants",
        lambda i: commands.InviteParticipant(
            i, required(form, "person", str, "a person"), change.actor
        ),
    )


@router.post("/incidents/{ref}/visibility")
def set_visibility(
    ref: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Make the incident private, or visible to everyone again (a one-click button)."""
    private = flag(change.form, "private")
    return apply(
        request,
        change,
        ref,
        None,
        lambda i: commands.SetIncidentPrivacy(i, private, change.actor),
    )


@router.post("/incidents/{ref}/take-command")
def take_command(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """The offer made to responders of a P1/P2 without a commander: become its IC."""
    handle = tocsin_of(request).war_room.handle_of(change.principal.person_id)

    def build(incident_id: int) -> commands.Command:
        if handle is None:
            raise InvalidInput(
                "your account is not linked to a catalog person; ask an admin to link it",
                field="person",
            )
        return commands.AssignRole(incident_id, Role.INCIDENT_COMMANDER, handle, change.actor)

    return apply(request, change, ref, None, build)
