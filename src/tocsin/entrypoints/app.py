"""The ASGI application: REST API, web pages, health checks and live updates in one app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from tocsin import __version__
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.entrypoints.api import (
    accounts,
    alerts,
    catalog,
    chat_hooks,
    communications,
    errors,
    feeds,
    hooks,
    incidents,
    paging,
    schedules,
    system,
    war_room,
    workflows,
)
from tocsin.entrypoints.api import actions as actions_api
from tocsin.entrypoints.api import runbooks as runbooks_api
from tocsin.entrypoints.api.express import ExpressIntake
from tocsin.entrypoints.api.ratelimit import RateLimiter
from tocsin.entrypoints.heap import freeze_startup_heap
from tocsin.entrypoints.intake import InboxApplier, watch_the_clock
from tocsin.entrypoints.paging import run_paging
from tocsin.entrypoints.web import pages

API_DESCRIPTION = """Tocsin's REST API. Authenticate with `Authorization: Bearer <token>`
(create a token with `tocsin token create --scope read|write|admin`). Errors are RFC 9457
problem+json documents whose `errors` list names the offending fields."""


class TocsinApp(FastAPI):
    """FastAPI with the express lane for alert deliveries in front of everything else, even
    of FastAPI's own per-request look for a telemetry provider (4 % of a storm's work)."""

    _express: ExpressIntake | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._express is None:
            self._express = ExpressIntake(super().__call__, self.state)
        await self._express(scope, receive, send)


def create_app(tocsin: Tocsin | None = None) -> FastAPI:
    """Build the app around a wired Tocsin (tests pass their own), or one from the settings."""
    owned = tocsin is None
    core = tocsin or bootstrap()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background = [
            asyncio.create_task(core.relay_changes()),
            asyncio.create_task(watch_the_clock(core, core.settings.heartbeat_check_seconds)),
        ]
        if core.settings.intake_embedded:
            background.append(asyncio.create_task(app.state.intake.run()))
        if core.settings.paging_embedded:
            background.append(asyncio.create_task(run_paging(core)))
        freeze_startup_heap()
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owned:
                core.close()

    app = TocsinApp(
        title="Tocsin",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.tocsin = core
    wait = core.settings.intake_wait_seconds if core.settings.intake_embedded else 0.0
    app.state.intake = InboxApplier(core, wait)
    app.state.pagerduty_limiter = RateLimiter(core.settings.pagerduty_events_per_minute)
    errors.install(app, html=pages.render_error)
    app.include_router(system.router)
    app.include_router(incidents.router)
    app.include_router(catalog.router)
    app.include_router(accounts.router)
    app.include_router(alerts.router)
    app.include_router(hooks.router)
    app.include_router(paging.router)
    app.include_router(schedules.router)
    app.include_router(feeds.router)
    app.include_router(war_room.router)
    app.include_router(chat_hooks.router)
    app.include_router(workflows.router)
    app.include_router(communications.router)  # issue 5: stakeholder updates
    app.include_router(runbooks_api.router)
    app.include_router(actions_api.router)
    pages.mount(app)
    return app
