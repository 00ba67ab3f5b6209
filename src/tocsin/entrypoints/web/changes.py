"""Forms on the incident page: each builds one command, sends it to the bus, and re-renders.

With htmx the answer is the form's panel (fresh after a change, with the message and the typed
values after a refusal) plus an `incident-changed` event that refreshes the other panels. Without
JavaScript a change redirects back to the page and a refusal re-renders the page.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.errors import DomainError, InvalidInput
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.incidents import parse_reference
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.forms import (
    FormState,
    flag,
    parse_number,
    parse_time,
    required,
    text,
    texts,
)
from tocsin.entrypoints.web.panels import IncidentPage, render_page, render_panel
from tocsin.entrypoints.web.sessions import Change, change_request, is_htmx, tocsin_of
from tocsin.entrypoints.web.templating import render

router = APIRouter(include_in_schema=False)
CHANGED_EVENT = "incident-changed"
Build = Callable[[int], commands.Command]
Work = Callable[[Tocsin, int], object]


def apply(request: Request, change: Change, ref: str, panel: str | None, build: Build) -> Response:
    """Run the command built from the form; `panel` is None for one-click buttons."""
    return apply_work(request, change, ref, panel, lambda tocsin, i: tocsin.handle(build(i)))


def apply_work(
    request: Request, change: Change, ref: str, panel: str | None, work: Work
) -> Response:
    """Do the form's work (one command, or several around an HTTP call) and answer as `apply`."""
    tocsin = tocsin_of(request)
    incident_id = parse_reference(ref)
    try:
        work(tocsin, incident_id)
    except DomainError as exc:
        return _refused(request, change, incident_id, panel, exc)
    if not is_htmx(request):
        anchor = f"#panel-{panel}" if panel else ""
        return RedirectResponse(f"/incidents/{incident_id}{anchor}", status_code=303)
    # The version lets the page skip the same change when it also arrives as a live event.
    changed = json.dumps({CHANGED_EVENT: {"version": tocsin.incidents.version(incident_id)}})
    if panel is None:
        return Response(status_code=204, headers={"HX-Trigger": changed})
    fresh = IncidentPage(tocsin, incident_id, change.principal)
    return render_panel(request, fresh, panel, headers={"HX-Trigger-After-Settle": changed})


def _refused(
    request: Request, change: Change, incident_id: int, panel: str | None, exc: DomainError
) -> Response:
    status = status_for(exc)
    state = FormState.refused(change.form, exc)
    page = IncidentPage(
        tocsin_of(request), incident_id, change.principal, {panel: state} if panel else None
    )
    if not is_htmx(request):
        return render_page(request, page, status=status, flash=None if panel else state)
    if panel is not None:
        return render_panel(request, page, panel, status=status)
    # A button whose premise was stale (someone else got there first): say so, and refresh.
    return render(
        request,
        "flash.html",
        {"flash": state},
        status=status,
        headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", "HX-Trigger": CHANGED_EVENT},
    )


@router.post("/incidents/{ref}/status")
def change_status(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Move the incident along its lifecycle, with an optional note for the timeline."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        "status",
        lambda i: commands.ChangeStatus(
            i,
            required(form, "status", Status.parse, "the new status"),
            change.actor,
            text(form, "note"),
        ),
    )


@router.post("/incidents/{ref}/acknowledge")
def acknowledge(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """I have it: escalation stops and pages not yet sent are cancelled."""
    return apply(
        request, change, ref, "paging", lambda i: commands.AcknowledgeIncident(i, change.actor)
    )


@router.post("/incidents/{ref}/severity")
def reclassify(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Change the severity; the domain refuses it without a reason."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        "severity",
        lambda i: commands.ReclassifyIncident(
            i,
            required(form, "severity", Severity.parse, "the new severity"),
            text(form, "reason"),
            change.actor,
        ),
    )


@router.post("/incidents/{ref}/roles")
def assign_role(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Give a role to a person; a single-holder role is handed over from its holder."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        "roles",
        lambda i: commands.AssignRole(
            i,
            required(form, "role", Role.parse, "a role"),
            required(form, "person", str, "a person"),
            change.actor,
        ),
    )


@router.post("/incidents/{ref}/roles/relieve")
def relieve_role(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Take a role from one holder (a one-click button on the details panel)."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        None,
        lambda i: commands.RelieveRole(
            i,
            required(form, "role", Role.parse, "a role"),
            change.actor,
            text(form, "person").strip() or None,
        ),
    )


@router.post("/incidents/{ref}/timeline")
def add_entry(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """An observation, action, decision or communication; may correct an earlier entry."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        "note",
        lambda i: commands.AddTimelineEntry(
            incident_id=i,
            kind=required(form, "kind", EntryKind.parse_manual, "a kind of entry"),
            body=text(form, "body"),
            actor=change.actor,
            occurred_at=parse_time(text(form, "occurred_at"), "occurred_at"),
            corrects_seq=parse_number(text(form, "corrects"), "corrects"),
        ),
    )


@router.post("/incidents/{ref}/timeline/{seq}/key-moment")
def mark_key_moment(
    ref: str, seq: int, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Flag or unflag a timeline entry as a key moment (a one-click button)."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        None,
        lambda i: commands.MarkKeyMoment(i, seq, flag(form, "key_moment"), change.actor),
    )


@router.post("/incidents/{ref}/timestamps")
def set_timestamp(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Enter or correct a lifecycle timestamp (recorded as set by a person)."""
    form = change.form

    def build(incident_id: int) -> commands.Command:
        milestone = required(form, "milestone", Milestone.parse, "which timestamp to set")
        value = parse_time(text(form, "value"), "value")
        if value is None:
            raise InvalidInput("enter a date and time (UTC)", field="value")
        return commands.SetTimestamp(incident_id, milestone, value, change.actor)

    return apply(request, change, ref, "timestamp", build)


@router.post("/incidents/{ref}/details")
def edit_details(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Title, summary, impact, customer facing, detection source and services in one go."""
    form = change.form
    return apply(
        request,
        change,
        ref,
        "edit",
        lambda i: commands.UpdateIncident(
            incident_id=i,
            actor=change.actor,
            title=text(form, "title"),
            summary=text(form, "summary"),
            user_impact=text(form, "user_impact"),
            business_impact=text(form, "business_impact"),
            customer_facing=flag(form, "customer_facing"),
            detection_source=required(
                form, "detection_source", DetectionSource.parse, "how it was detected"
            ),
            services=tuple(texts(form, "services")),
        ),
    )
