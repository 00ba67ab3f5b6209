"""Alert pages: what monitoring sent, newest first and filtered, and one alert with its payload."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from tocsin.domain import commands
from tocsin.domain.alerts import AlertStatus
from tocsin.domain.errors import DomainError
from tocsin.domain.incidents import parse_reference
from tocsin.domain.matchers import Matcher, Operator
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.forms import FormState, filter_query, parse_id, text, texts
from tocsin.entrypoints.web.sessions import Change, change_request, signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal
from tocsin.views.alerts import SILENCED, AlertFilter, AlertView, parse_statuses
from tocsin.views.pagination import Page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
FILTER_FIELDS = ("status", "integration", "service", "incident")
STATUS_CHOICES = (
    ("open", "Open (firing or acknowledged)"),
    *((s.value, s.value.capitalize()) for s in AlertStatus),
    (SILENCED, "Silenced (muted and firing)"),
)


def parse_filters(query: QueryParams, viewer: Principal | None = None) -> AlertFilter:
    """The list's query string as a filter; a bad value names its field."""
    statuses, silenced = parse_statuses(texts(query, "status"))
    incident = text(query, "incident").strip()
    return AlertFilter(
        statuses=statuses,
        integration=text(query, "integration").strip().lower() or None,
        service=text(query, "service").strip().lower() or None,
        incident_id=parse_reference(incident) if incident else None,
        viewer=viewer,
        silenced=silenced,
    )


@router.get("/alerts")
def alert_list(request: Request, principal: Principal = Depends(signed_in)) -> Response:
    """Newest first, filtered by status, integration, service or incident, a page at a time."""
    tocsin = tocsin_of(request)
    query = request.query_params
    state = FormState(values={k: query.getlist(k) for k in FILTER_FIELDS if query.getlist(k)})
    page: Page[AlertView] = Page([], None)
    status = 200
    try:
        page = tocsin.alerts.list(
            parse_filters(query, principal), limit=PAGE_SIZE, cursor=text(query, "cursor") or None
        )
    except DomainError as exc:
        state = FormState(state.values, exc.detail, exc.field, exc.title)
        status = status_for(exc)
    services = tocsin.catalog.services()
    chosen_service = state.value("service").strip().lower()
    return render(
        request,
        "alerts/list.html",
        {
            "alerts": page.items,
            "older": f"?{filter_query(query, FILTER_FIELDS, cursor=page.next_cursor)}"
            if page.next_cursor
            else None,
            "newest": f"?{filter_query(query, FILTER_FIELDS)}" if query.get("cursor") else None,
            "filters": state,
            "filtered": any(query.getlist(k) for k in FILTER_FIELDS),
            "status_choices": STATUS_CHOICES,
            "integrations": [i.name for i in tocsin.alerts.integrations()],
            "services": [(s.slug, s.name) for s in services],
            # A service named only by alert labels (not in the catalog) can still be filtered on.
            "set_aside": tocsin.alerts.set_aside(),
            "extra_service": chosen_service
            if chosen_service and all(s.slug != chosen_service for s in services)
            else None,
        },
        status=status,
    )


@router.post("/alerts/inbox/{item_id}/retry")
def retry_set_aside(
    item_id: int, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Apply a set-aside delivery again (after fixing the catalog or policy that broke it)."""
    tocsin_of(request).handle(commands.RetryInboxItem(item_id))
    return RedirectResponse("/alerts", status_code=303)


@router.get("/alerts/{alert_id}")
def alert_page(
    alert_id: str, request: Request, principal: Principal = Depends(signed_in)
) -> Response:
    """One alert: every field, its labels and links, how it was routed and what it was sent as."""
    tocsin = tocsin_of(request)
    alert = tocsin.alerts.alert(parse_id(alert_id, "alert"), principal)
    silence = tocsin.alerts.silence(alert.silenced_by) if alert.silenced_by else None
    now = tocsin.clock.now()
    return render(
        request,
        "alerts/alert.html",
        {
            "alert": alert,
            "silence": silence,
            "silence_state": silence.state(now) if silence else None,
            "silence_matchers": _matchers_like(alert),
        },
    )


def _matchers_like(alert: AlertView) -> str:
    """Matchers for a silence of alerts like this one, to fill the silence form with."""
    pairs = (
        ("alertname", alert.labels.get("alertname", "")),
        ("service", alert.service or alert.labels.get("service", "")),
    )
    return "\n".join(str(Matcher(name, Operator.EQUAL, value)) for name, value in pairs if value)
