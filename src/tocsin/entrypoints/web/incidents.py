"""Incident pages: the filtered list, the declare form, and the incident page with its panels."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from tocsin.domain import commands
from tocsin.domain.errors import DomainError, InvalidInput
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.incidents import parse_reference
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import OPEN_STATUSES, Status
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.forms import (
    EMPTY,
    FormState,
    filter_query,
    flag,
    parse_time,
    required,
    text,
    texts,
)
from tocsin.entrypoints.web.panels import IncidentPage, render_page, render_panel, severity_choices
from tocsin.entrypoints.web.sessions import Change, change_request, signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal
from tocsin.views.incident_search import IncidentFilter, IncidentSummary
from tocsin.views.pagination import Page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
FILTER_FIELDS = ("status", "severity", "service", "since", "until", "q")
STATUS_CHOICES = (("open", "Open (not resolved)"), *((s.value, s.label) for s in Status))


def parse_filters(query: QueryParams) -> IncidentFilter:
    """The list's query string as a filter; a bad value names its field."""
    statuses: list[Status] = []
    for raw in texts(query, "status"):
        if raw.lower() == "open":
            statuses += sorted(OPEN_STATUSES, key=list(Status).index)
        else:
            statuses.append(Status.parse(raw))
    since = parse_time(text(query, "since"), "since")
    until = parse_time(text(query, "until"), "until")
    if since and until and since >= until:
        raise InvalidInput("'since' must be earlier than 'until'", field="since")
    service = text(query, "service").strip().lower()
    return IncidentFilter(
        statuses=tuple(dict.fromkeys(statuses)),
        severities=tuple(Severity.parse(s) for s in texts(query, "severity")),
        service=service or None,
        since=since,
        until=until,
        text=text(query, "q").strip()[:200] or None,
    )


@router.get("/incidents")
def incident_list(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """Newest first, filtered, one page at a time with an 'older' link."""
    tocsin = tocsin_of(request)
    query = request.query_params
    state = FormState(values={k: query.getlist(k) for k in FILTER_FIELDS if query.getlist(k)})
    page: Page[IncidentSummary] = Page([], None)
    status = 200
    try:
        filters = replace(parse_filters(query), viewer=principal)
        page = tocsin.incidents.list(filters, limit=PAGE_SIZE, cursor=text(query, "cursor") or None)
    except DomainError as exc:
        state = FormState(state.values, exc.detail, exc.field, exc.title)
        status = status_for(exc)
    filtered = any(query.getlist(k) for k in FILTER_FIELDS)
    return render(
        request,
        "incidents/list.html",
        {
            "incidents": page.items,
            "older": f"?{filter_query(query, FILTER_FIELDS, cursor=page.next_cursor)}"
            if page.next_cursor
            else None,
            "newest": f"?{filter_query(query, FILTER_FIELDS)}" if query.get("cursor") else None,
            "filters": state,
            "filtered": filtered,
            "status_choices": STATUS_CHOICES,
            "severities": severity_choices(tocsin),
            "services": tocsin.catalog.services(),
        },
        status=status,
    )


def _declare_page(request: Request, state: FormState, status: int = 200) -> Response:
    tocsin = tocsin_of(request)
    return render(
        request,
        "incidents/declare.html",
        {
            "form": state,
            "severities": severity_choices(tocsin),
            "services": tocsin.catalog.services(),
            "detection_sources": tuple(DetectionSource),
            "workflows": list(tocsin.policy.workflows),
        },
        status=status,
    )


@router.get("/incidents/new")
def declare_form(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """The empty declare form."""
    return _declare_page(request, EMPTY)


@router.post("/incidents")
def declare(request: Request, change: Change = Depends(change_request)) -> Response:
    """Open an incident from the form and go to its page; a refusal keeps what was typed."""
    form = change.form
    try:
        command = commands.DeclareIncident(
            title=text(form, "title"),
            severity=required(form, "severity", Severity.parse, "a severity"),
            actor=change.actor,
            summary=text(form, "summary"),
            services=tuple(texts(form, "services")),
            user_impact=text(form, "user_impact"),
            business_impact=text(form, "business_impact"),
            customer_facing=flag(form, "customer_facing"),
            detection_source=DetectionSource.parse(text(form, "detection_source") or "employee"),
            private=flag(form, "private"),
            workflow=text(form, "workflow").strip() or None,
        )
        incident_id = tocsin_of(request).handle(command)
    except DomainError as exc:
        return _declare_page(request, FormState.refused(form, exc), status_for(exc))
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.get("/incidents/{ref}")
def incident_page(
    ref: str, request: Request, principal: Principal = Depends(signed_in)
) -> Response:
    """Details, timeline and the forms to work the incident, kept live by /events."""
    page = IncidentPage(tocsin_of(request), parse_reference(ref), principal)
    return render_page(request, page)


@router.get("/incidents/{ref}/panels/{name}")
def incident_panel(
    ref: str, name: str, request: Request, principal: Principal = Depends(signed_in)
) -> Response:
    """One panel of the incident page, fetched again by htmx when the incident changes."""
    tocsin = tocsin_of(request)
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)  # panels that never read the incident
    page = IncidentPage(tocsin, incident_id, principal)
    return render_panel(request, page, name)
