"""The express lane for alert deliveries: well-formed webhooks skip the framework.

Alert storms arrive as thousands of small POSTs a second. Routing each through FastAPI's
dependency machinery costs more than validating and storing it, so deliveries to
/hooks/alertmanager, /hooks/grafana and /v2/enqueue are served here when everything about them
is in order: a known key, the right kind, a valid body. Anything else (an unknown or uncached
key, a bad signature, an invalid body, a throttled routing key, a body too large) is handed to
the app unchanged, whose routes give the documented answer. Both use the same parsing
functions, so what is accepted is the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers, State
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.domain.alerts import AlertSignal
from tocsin.domain.errors import Unavailable
from tocsin.domain.integrations import IntegrationKind
from tocsin.entrypoints.api import hooks
from tocsin.entrypoints.api.errors import PROBLEM_TYPE, RETRY_AFTER_SECONDS, problem_body
from tocsin.entrypoints.api.senders import pagerduty

WEBHOOK = re.compile(r"^/hooks/(alertmanager|grafana)/([^/]+)$")
VERSIONS = {"alertmanager": "4", "grafana": "1"}
PAGERDUTY_ENQUEUE = "/v2/enqueue"


_Answer = Callable[[Any], tuple[int, dict[str, Any]]]  # the outcome → status, JSON body


class Fallback(Exception):
    """The app's route must answer this delivery."""


class ExpressIntake:
    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        webhook = WEBHOOK.match(path)
        if webhook is None and path != PAGERDUTY_ENQUEUE:
            await self.app(scope, receive, send)
            return
        state = self.state
        limit = pagerduty.MAX_BYTES if webhook is None else state.tocsin.settings.hook_max_bytes
        chunks, complete = await _read(receive, limit)
        if not complete:
            await self.app(scope, _replay(chunks, receive, complete=False), send)
            return
        body = b"".join(chunks)
        headers = Headers(scope=scope)
        try:
            if webhook is None:
                integration_id, signals, answer = _pagerduty(state, body)
            else:
                kind, key = webhook.groups()
                integration_id, signals, answer = _webhook(state, kind, key, body, headers)
        except Exception:
            await self.app(scope, _replay(chunks, receive, complete=True), send)
            return
        try:
            result = await state.intake.submit(integration_id, signals)
        except Unavailable as exc:
            response = JSONResponse(
                problem_body(503, exc.title, exc.detail, path, "unavailable"),
                status_code=503,
                media_type=PROBLEM_TYPE,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
            await response(scope, receive, send)
            return
        status, document = answer(result)
        await _send_json(send, status, document)


def _webhook(
    state: Any, kind: str, key: str, body: bytes, headers: Headers
) -> tuple[int, tuple[AlertSignal, ...], _Answer]:
    integration = state.tocsin.alerts.known_integration(key)
    if integration is None or integration.kind != IntegrationKind(kind).value:
        raise Fallback
    signals = hooks.notification_signals(integration, body, headers, VERSIONS[kind])
    return (
        integration.id,
        signals,
        lambda result: (200, hooks.summary(result, len(signals))),
    )


def _pagerduty(state: Any, body: bytes) -> tuple[int, tuple[AlertSignal, ...], _Answer]:
    event, document = pagerduty.parse(body, pagerduty.AlertEvent)
    integration = state.tocsin.alerts.known_integration(event.routing_key)
    if integration is None or integration.kind != IntegrationKind.PAGERDUTY.value:
        raise Fallback
    if not state.pagerduty_limiter.allow(event.routing_key):
        raise Fallback
    signal = pagerduty.signal(event, document)
    return integration.id, (signal,), lambda _: (202, pagerduty.accepted_body(signal.dedup_key))


async def _send_json(send: Send, status: int, document: dict[str, Any]) -> None:
    """What JSONResponse would send (the same compact JSON), without building one."""
    body = orjson.dumps(document)
    headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read(receive: Receive, limit: int) -> tuple[list[bytes], bool]:
    """The body's chunks, and whether that is all of it within `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return chunks, False  # a disconnect: let the app see it
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return chunks, False
        if not message.get("more_body", False):
            return chunks, True


def _replay(chunks: list[bytes], receive: Receive, *, complete: bool) -> Receive:
    """A receive that gives back what was read, then carries on with the real one."""
    pending = list(chunks)

    async def replayed() -> Message:
        if pending:
            chunk = pending.pop(0)
            more = bool(pending) or not complete
            return {"type": "http.request", "body": chunk, "more_body": more}
        return await receive()

    return replayed
