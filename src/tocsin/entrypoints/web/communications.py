"""The incident page's Communications forms: preview an update, edit it, send it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.communications import Draft
from tocsin.domain.errors import DomainError
from tocsin.domain.incidents import parse_reference
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.changes import apply
from tocsin.entrypoints.web.forms import Fields, FormState, kept_values, text, texts
from tocsin.entrypoints.web.panels import IncidentPage, render_page, render_panel
from tocsin.entrypoints.web.sessions import Change, change_request, is_htmx, tocsin_of

router = APIRouter(include_in_schema=False)
PANEL = "compose"


def _lines(raw: str) -> tuple[str, ...]:
    return tuple(line for line in raw.splitlines() if line.strip())


def _compose(form: Fields, incident_id: int, actor: Actor) -> commands.ComposeUpdate:
    return commands.ComposeUpdate(
        incident_id,
        text(form, "template"),
        tuple(texts(form, "audiences")),
        text(form, "summary"),
        _lines(text(form, "actions")),
        actor,
    )


@router.post("/incidents/{ref}/updates/preview")
def preview_update(
    ref: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Fill the form's text with the rendered update, to read and edit before sending."""
    tocsin = tocsin_of(request)
    incident_id = parse_reference(ref)
    status = 200
    try:
        draft: Draft = tocsin.handle(_compose(change.form, incident_id, change.actor))
    except DomainError as exc:
        state = FormState.refused(change.form, exc)
        status = status_for(exc)
    else:
        values = kept_values(change.form)
        values["body"] = draft.body
        state = FormState(values)
    page = IncidentPage(tocsin, incident_id, change.principal, {PANEL: state})
    if is_htmx(request):
        return render_panel(request, page, PANEL, status=status)
    return render_page(request, page, status=status)


@router.post("/incidents/{ref}/updates")
def send_update(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Send the update (the edited text when there is one) to the chosen audiences."""
    form = change.form

    def build(incident_id: int) -> commands.Command:
        compose = _compose(form, incident_id, change.actor)
        body = text(form, "body")
        return commands.SendUpdate(
            incident_id,
            compose.template,
            compose.audiences,
            change.actor,
            compose.summary,
            compose.actions,
            body if body.strip() else None,
        )

    return apply(request, change, ref, PANEL, build)
