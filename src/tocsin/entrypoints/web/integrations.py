"""The integrations page (admins only): the keyed URLs monitoring tools send to, and their keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tocsin.domain import commands
from tocsin.domain.errors import DomainError, InvalidInput
from tocsin.domain.integrations import IntegrationKind
from tocsin.entrypoints.api.alerts import endpoint_url, stored_config
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.forms import EMPTY, FormState, required, text
from tocsin.entrypoints.web.sessions import (
    Change,
    change_request,
    require_admin,
    signed_in,
    tocsin_of,
)
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal
from tocsin.views.alerts import IntegrationView

router = APIRouter(include_in_schema=False)
WHAT = "see and manage integrations, whose keys let monitoring tools in"
SECRET_MIN = 8
SECRET_MAX = 255


@dataclass(frozen=True)
class KindChoice:
    kind: IntegrationKind
    label: str


# The kinds the form offers: those a sender can post to today (see entrypoints/api/hooks.py).
KIND_CHOICES = (
    KindChoice(IntegrationKind.ALERTMANAGER, "Prometheus Alertmanager"),
    KindChoice(IntegrationKind.GRAFANA, "Grafana alerting"),
    KindChoice(IntegrationKind.PAGERDUTY, "PagerDuty Events API v2"),
    KindChoice(IntegrationKind.CHANGE, "Deploys and changes (CI/CD)"),
    KindChoice(IntegrationKind.GENERIC, "Any JSON (field mapping)"),
    KindChoice(IntegrationKind.HEARTBEAT, "Heartbeat (dead man's switch)"),
    KindChoice(IntegrationKind.CHAT, "Chat messages into war rooms (Slack, Mattermost)"),
)
_RECEIVED = frozenset(c.kind.value for c in KIND_CHOICES)


@dataclass(frozen=True)
class IntegrationRow:
    """One integration as the page shows it; the signing secret is deliberately not here."""

    name: str
    kind: str
    service: str | None
    signed: bool
    key: str
    url: str | None  # None for a kind no endpoint receives yet
    created_at: datetime
    created_by: str
    key_rotated_at: datetime | None

    @property
    def separate_key(self) -> bool:
        """PagerDuty senders are configured with the URL and the routing key apart."""
        return self.kind == IntegrationKind.PAGERDUTY.value


def _row(base: str, view: IntegrationView) -> IntegrationRow:
    return IntegrationRow(
        name=view.name,
        kind=view.kind,
        service=view.service,
        signed=view.signed,
        key=view.key,
        url=endpoint_url(base, view.kind, view.key) if view.kind in _RECEIVED else None,
        created_at=view.created_at,
        created_by=view.created_by,
        key_rotated_at=view.key_rotated_at,
    )


def _page(
    request: Request,
    state: FormState = EMPTY,
    *,
    status: int = 200,
    flash: FormState | None = None,
) -> Response:
    tocsin = tocsin_of(request)
    base = tocsin.settings.public_url()
    rows = [_row(base, i) for i in tocsin.alerts.integrations()]
    names = {r.name for r in rows}
    query = request.query_params
    return render(
        request,
        "alerts/integrations.html",
        {
            "integrations": rows,
            "form": state,
            "flash": flash,
            "kinds": KIND_CHOICES,
            "services": tocsin.catalog.services(),
            "created": query.get("created") if query.get("created") in names else None,
            "rotated": query.get("rotated") if query.get("rotated") in names else None,
        },
        status=status,
    )


def _admin(request: Request) -> Principal:
    return require_admin(signed_in(request), WHAT)


async def _admin_change(request: Request) -> Change:
    change = await change_request(request)
    require_admin(change.principal, WHAT)
    return change


@router.get("/integrations")
def integrations_page(request: Request, _: Principal = Depends(_admin)) -> Response:
    """Each integration's URL (and PagerDuty routing key) to copy, and the create form."""
    return _page(request)


def _secret(raw: str, kind: IntegrationKind) -> str | None:
    """The optional Grafana secret; the domain refuses one on any other kind."""
    if not raw:
        return None
    if kind is IntegrationKind.GRAFANA and not SECRET_MIN <= len(raw) <= SECRET_MAX:
        raise InvalidInput(
            f"a signing secret is {SECRET_MIN} to {SECRET_MAX} characters long", field="secret"
        )
    return raw


def _config(form: Any, kind: IntegrationKind) -> dict[str, Any]:
    """A heartbeat's interval, or a generic integration's mapping (YAML), checked like the API."""
    raw: dict[str, Any] = {}
    if kind is IntegrationKind.HEARTBEAT:
        raw = {"interval": text(form, "interval").strip()}
    elif kind is IntegrationKind.GENERIC:
        try:
            loaded = yaml.safe_load(text(form, "mapping")) or {}
        except yaml.YAMLError as exc:
            raise InvalidInput(f"the mapping is not YAML: {exc}", field="mapping") from None
        if not isinstance(loaded, dict):
            raise InvalidInput("the mapping is field: expression lines", field="mapping")
        raw = loaded
    try:
        return stored_config(kind, raw)
    except ValidationError as exc:
        field = "interval" if kind is IntegrationKind.HEARTBEAT else "mapping"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}".strip(": ") for e in exc.errors()
        )
        raise InvalidInput(problems, field=field) from None


@router.post("/integrations")
def create_integration(request: Request, change: Change = Depends(_admin_change)) -> Response:
    """Create an integration and show it with its URL; a refusal keeps what was typed."""
    form = change.form
    try:
        kind = required(form, "kind", IntegrationKind.parse, "a kind of integration")
        made = tocsin_of(request).handle(
            commands.CreateIntegration(
                name=text(form, "name"),
                kind=kind,
                actor=change.actor,
                service=text(form, "service").strip() or None,
                secret=_secret(text(form, "secret"), kind),
                config=_config(form, kind),
            )
        )
    except DomainError as exc:
        return _page(request, FormState.refused(form, exc), status=status_for(exc))
    query = urlencode({"created": made.name})
    return RedirectResponse(f"/integrations?{query}#integration-{made.name}", status_code=303)


@router.post("/integrations/{name}/rotate-key")
def rotate_key(name: str, request: Request, change: Change = Depends(_admin_change)) -> Response:
    """A new key at once; the old URL (or routing key) stops working."""
    try:
        made = tocsin_of(request).handle(commands.RotateIntegrationKey(name, change.actor))
    except DomainError as exc:
        return _page(request, status=status_for(exc), flash=FormState.refused(change.form, exc))
    query = urlencode({"rotated": made.name})
    return RedirectResponse(f"/integrations?{query}#integration-{made.name}", status_code=303)
