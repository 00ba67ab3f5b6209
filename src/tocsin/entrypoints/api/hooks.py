"""Webhooks from monitoring: Alertmanager, Grafana, PagerDuty Events API v2, any JSON, heartbeats
and change events.

An accepted delivery is answered 2xx only once it is committed to the alert inbox (see
`entrypoints/intake.py`); a refused one (unknown key, bad signature, malformed body, too large)
changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tocsin import jsontext
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.alerts import AlertSignal, IntakeResult, Link
from tocsin.domain.errors import AuthenticationFailed, InvalidInput, NotFound, TooLarge
from tocsin.domain.incidents import reference
from tocsin.domain.integrations import IntegrationKind
from tocsin.entrypoints.api.senders import generic as generic_sender
from tocsin.entrypoints.api.senders import pagerduty, prometheus
from tocsin.views.alerts import IntegrationView

router = APIRouter(tags=["webhooks"])

GRAFANA_SIGNATURE = "x-grafana-alerting-signature"
GRAFANA_TIMESTAMP = "x-grafana-alerting-signature-timestamp"
SIGNATURE_MAX_AGE_S = 300


def _tocsin(request: Request) -> Tocsin:
    tocsin: Tocsin = request.app.state.tocsin
    return tocsin


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes instead of after reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {declared} bytes; the limit is {limit}", field="body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the body is over the {limit}-byte limit", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


async def _find(tocsin: Tocsin, key: str) -> IntegrationView | None:
    """The integration a key opens; a query, when needed, runs off the event loop."""
    known = tocsin.alerts.known_integration(key)
    if known is not None:
        return known
    return await run_in_threadpool(tocsin.alerts.integration_by_key, key)


async def integration_for(tocsin: Tocsin, key: str, kind: IntegrationKind) -> IntegrationView:
    integration = await _find(tocsin, key)
    if integration is None:
        raise NotFound("no integration has this key (was it rotated?)", field="key")
    if integration.kind != kind.value:
        raise InvalidInput(
            f"this key belongs to a {integration.kind} integration; "
            f"post to /hooks/{integration.kind}/<key>",
            field="key",
        )
    return integration


def _json(body: bytes) -> Any:
    try:
        return jsontext.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", field="body") from None


def _json_object(body: bytes) -> dict[str, Any]:
    document = _json(body)
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return document


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], document: dict[str, Any]) -> M:
    """The body as `model`; every problem named by its place in the body, as the API does."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        ) from None


def _notification(document: dict[str, Any], version: str) -> prometheus.Notification:
    notification = _validated(prometheus.Notification, document)
    if notification.version != version:
        raise InvalidInput(
            f"version is {notification.version!r}; this endpoint reads version {version!r}",
            field="version",
        )
    return notification


def summary(result: IntakeResult | None, received: int) -> dict[str, Any]:
    if result is None:  # durable in the inbox, applied shortly
        return {"status": "queued", "alerts": received}
    return {
        "status": "accepted",
        "alerts": len(result.dedup_keys),
        "opened": result.opened,
        "updated": result.updated,
        "duplicates": result.duplicates,
        "resolved": result.resolved,
        "incidents": [reference(i) for i in sorted(result.incidents)],
    }


def notification_signals(
    integration: IntegrationView, body: bytes, headers: Mapping[str, str], version: str
) -> tuple[AlertSignal, ...]:
    """The alerts of an Alertmanager or Grafana notification; raises naming any problem."""
    if integration.secret:
        verify_grafana_signature(headers, body, integration.secret)
    document = _json_object(body)
    notification = _notification(document, version)
    return prometheus.signals(notification, document.get("alerts", []))


async def _receive(
    request: Request, key: str, kind: IntegrationKind, version: str
) -> dict[str, Any]:
    tocsin = _tocsin(request)
    body = await read_body(request, tocsin.settings.hook_max_bytes)
    integration = await integration_for(tocsin, key, kind)
    signals = notification_signals(integration, body, request.headers, version)
    result = await request.app.state.intake.submit(integration.id, signals)
    return summary(result, len(signals))


@router.post("/hooks/alertmanager/{key}", summary="Prometheus Alertmanager webhook (version 4)")
async def alertmanager(request: Request, key: str) -> dict[str, Any]:
    return await _receive(request, key, IntegrationKind.ALERTMANAGER, "4")


@router.post("/hooks/grafana/{key}", summary="Grafana alerting webhook (version 1)")
async def grafana(request: Request, key: str) -> dict[str, Any]:
    return await _receive(request, key, IntegrationKind.GRAFANA, "1")


def verify_grafana_signature(headers: Mapping[str, str], body: bytes, secret: str) -> None:
    """Hex HMAC-SHA256 of the body, or of `<timestamp>:<body>` when Grafana sends a timestamp."""
    given = headers.get(GRAFANA_SIGNATURE, "").strip().lower()
    if not given:
        raise AuthenticationFailed(
            f"this integration has a signing secret; the {GRAFANA_SIGNATURE} header is missing"
        )
    stamp = headers.get(GRAFANA_TIMESTAMP, "").strip()
    signed = body
    if stamp:
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > SIGNATURE_MAX_AGE_S:
            raise AuthenticationFailed(
                f"the signature timestamp {stamp!r} is not within {SIGNATURE_MAX_AGE_S} s of now"
            )
        signed = stamp.encode() + b":" + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        raise AuthenticationFailed("the request signature does not match the integration's secret")


@router.post("/hooks/generic/{key}", summary="Any JSON, read through the integration's mapping")
async def generic(request: Request, key: str) -> dict[str, Any]:
    tocsin = _tocsin(request)
    body = await read_body(request, tocsin.settings.hook_max_bytes)
    integration = await integration_for(tocsin, key, IntegrationKind.GENERIC)
    document = _json(body)
    mapping = generic_sender.GenericMapping.model_validate(integration.config)
    signals = generic_sender.signals(mapping, document)
    result = await request.app.state.intake.submit(integration.id, signals)
    return summary(result, len(signals))


@router.get("/hooks/heartbeat/{key}", summary="A heartbeat monitor's ping (GET)")
@router.post(
    "/hooks/heartbeat/{key}", summary="A heartbeat monitor's ping (POST)", operation_id="ping_post"
)
async def heartbeat(request: Request, key: str) -> dict[str, Any]:
    """Any GET or POST counts; a missed-heartbeat alert, if one is firing, resolves."""
    tocsin = _tocsin(request)
    await read_body(request, 64 * 1024)
    integration = await integration_for(tocsin, key, IntegrationKind.HEARTBEAT)
    ended = await run_in_threadpool(tocsin.handle, commands.PingHeartbeat(integration.id))
    return {"status": "ok", "resolved": ended}


class ChangeBody(BaseModel):
    """A deploy or config change from CI/CD; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=1, max_length=1024)
    service: str | None = Field(None, max_length=63)
    source: str = Field("", max_length=255)
    timestamp: AwareDatetime | None = None
    details: dict[str, Any] = {}
    links: list[pagerduty.EventLink] = []


@router.post("/hooks/change/{key}", summary="A deploy or configuration change", status_code=202)
async def change(request: Request, key: str) -> dict[str, Any]:
    tocsin = _tocsin(request)
    body = await read_body(request, tocsin.settings.hook_max_bytes)
    integration = await integration_for(tocsin, key, IntegrationKind.CHANGE)
    parsed = _validated(ChangeBody, _json_object(body))
    recorded = await run_in_threadpool(
        tocsin.handle,
        commands.RecordChange(
            integration.id,
            parsed.summary,
            occurred_at=parsed.timestamp,
            service=parsed.service,
            source=parsed.source,
            details=parsed.details,
            links=tuple(Link(link.href, link.text) for link in parsed.links),
        ),
    )
    return {"status": "accepted", "id": recorded.id, "service": recorded.service}


# ----- PagerDuty Events API v2: its own paths, statuses and response bodies -------------------
E = TypeVar("E", pagerduty.AlertEvent, pagerduty.ChangeEvent)


async def _pagerduty_event(
    request: Request, model: type[E], kinds: tuple[IntegrationKind, ...]
) -> tuple[E, IntegrationView, dict[str, Any]] | Response:
    """The event and its integration, or the response PagerDuty would give instead."""
    try:
        body = await read_body(request, pagerduty.MAX_BYTES)
    except TooLarge as exc:
        return pagerduty.invalid([exc.detail], status=413)
    try:
        event, document = pagerduty.parse(body, model)
    except pagerduty.InvalidEvent as exc:
        return pagerduty.invalid(exc.problems)
    integration = await _find(_tocsin(request), event.routing_key)
    if integration is None or integration.kind not in {k.value for k in kinds}:
        names = " or ".join(k.value for k in kinds)
        return pagerduty.invalid([f"'routing_key': no {names} integration has this key"])
    if not request.app.state.pagerduty_limiter.allow(event.routing_key):
        return pagerduty.throttled()
    return event, integration, document


@router.post("/v2/enqueue", summary="PagerDuty Events API v2: alert events", status_code=202)
async def pagerduty_enqueue(request: Request) -> Response:
    found = await _pagerduty_event(request, pagerduty.AlertEvent, (IntegrationKind.PAGERDUTY,))
    if isinstance(found, Response):
        return found
    event, integration, document = found
    signal = pagerduty.signal(event, document)
    await request.app.state.intake.submit(integration.id, (signal,))
    return pagerduty.accepted(signal.dedup_key)


@router.post(
    "/v2/change/enqueue", summary="PagerDuty Events API v2: change events", status_code=202
)
async def pagerduty_change(request: Request) -> Response:
    kinds = (IntegrationKind.PAGERDUTY, IntegrationKind.CHANGE)
    found = await _pagerduty_event(request, pagerduty.ChangeEvent, kinds)
    if isinstance(found, Response):
        return found
    event, integration, _ = found
    tocsin = _tocsin(request)
    payload = event.payload
    await run_in_threadpool(
        tocsin.handle,
        commands.RecordChange(
            integration.id,
            payload.summary,
            occurred_at=payload.timestamp,
            source=payload.source,
            details=pagerduty.details(payload.custom_details),
            links=tuple(Link(link.href, link.text) for link in event.links),
        ),
    )
    return pagerduty.accepted(None)
