"""Server-sent events that tell an open incident page when the incident has changed.

The stream wakes on the process's ChangeHub (commits here, and NOTIFY from other processes on
PostgreSQL) and also polls the incident's version, which catches writers the hub cannot hear
(another process on SQLite, a lost NOTIFY connection). It sends `changed` only when the version
moved, a comment as a heartbeat, and stops when the browser goes away.

Each stream also ends by itself after a while; the browser reconnects at once, carrying the last
version it saw (Last-Event-ID), so nothing is missed. Servers therefore never wait long on open
streams when they shut down, and proxies that cut long requests do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from tocsin.bootstrap import Tocsin
from tocsin.domain.errors import NotFound
from tocsin.domain.incidents import parse_reference, reference
from tocsin.entrypoints.web.sessions import SignInRequired, current_principal, next_for, tocsin_of
from tocsin.views.accounts import Principal

router = APIRouter(include_in_schema=False)
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
STREAM_SECONDS = 30.0


def poll_seconds(tocsin: Tocsin) -> float:
    """The configured interval, else 1s on SQLite (nothing wakes us across processes), 10s on PG."""
    configured = tocsin.settings.live_poll_seconds
    if configured is not None:
        return configured
    return 1.0 if tocsin.database.dialect == "sqlite" else 10.0


def _event(name: str, version: int) -> str:
    return f"id: {version}\nevent: {name}\ndata: {version}\n\n"


async def changes(
    tocsin: Tocsin,
    incident_id: int,
    known: int | None,
    viewer: Principal | None = None,
    *,
    poll: float,
    heartbeat: float = HEARTBEAT_SECONDS,
    lifetime: float = STREAM_SECONDS,
) -> AsyncIterator[str]:
    """Yield SSE messages for `lifetime` seconds; `known` is the version the page shows."""
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + lifetime
    with tocsin.hub.subscribe(incident_id) as wake:
        # The id (even without an event) is what the browser sends back when it reconnects.
        yield f"retry: {RETRY_MILLISECONDS}\n" + (f"id: {known}\n\n" if known else "\n")
        quiet_since = loop.time()
        while True:
            wake.clear()  # before reading, so a commit during the read wakes the next wait
            # Asked each time: someone made private and no longer a participant stops seeing it.
            current = await run_in_threadpool(tocsin.incidents.version, incident_id, viewer)
            if current is None:
                yield "event: gone\ndata: deleted\n\n"
                return
            if known is None:
                known = current
                yield f"id: {current}\n\n"
            elif current != known:
                known = current
                yield _event("changed", current)
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= heartbeat:
                yield ": heartbeat\n\n"
                quiet_since = loop.time()
            left = ends_at - loop.time()
            if left <= 0:
                yield "retry: 250\n\n"  # a planned end: come back quickly
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(poll, heartbeat, left))


@router.get("/incidents/{ref}/events")
async def incident_events(
    ref: str, request: Request, since: int | None = None
) -> StreamingResponse:
    """An EventSource stream for one incident; `since` (or Last-Event-ID) is the version shown."""
    principal = await run_in_threadpool(current_principal, request)
    if principal is None:
        raise SignInRequired(next_for(request))
    tocsin = tocsin_of(request)
    incident_id = parse_reference(ref)
    if await run_in_threadpool(tocsin.incidents.version, incident_id, principal) is None:
        raise NotFound(f"no incident {reference(incident_id)}", field="incident")
    last_event = request.headers.get("last-event-id", "")
    known = int(last_event) if last_event.isdigit() else since
    return StreamingResponse(
        changes(
            tocsin,
            incident_id,
            known,
            principal,
            poll=poll_seconds(tocsin),
            lifetime=STREAM_SECONDS,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
