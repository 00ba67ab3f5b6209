"""The web UI's entry points for the app: mount the page routers and static files, render errors."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tocsin.entrypoints.web import (
    ack,
    alerts,
    auth,
    catalog,
    changes,
    communications,
    deliveries,
    incidents,
    integrations,
    live,
    schedules,
    silences,
    war_room,
    workflows,
)
from tocsin.entrypoints.web import runbooks as runbook_pages
from tocsin.entrypoints.web.forms import FormState
from tocsin.entrypoints.web.sessions import Refused, SignInRequired, is_htmx
from tocsin.entrypoints.web.templating import STATIC_DIR, render


def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    """An HTML error page (or, for htmx, a message in the page's notice area)."""
    if is_htmx(request):
        return render(
            request,
            "flash.html",
            {"flash": FormState(error=detail, title=title)},
            status=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return render(
        request, "error.html", {"status": status, "title": title, "detail": detail}, status=status
    )


async def _sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = "/login?" + urlencode({"next": exc.next_path})
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    if "text/event-stream" in request.headers.get("accept", ""):
        return Response("sign in again", status_code=401, media_type="text/plain")
    return RedirectResponse(target, status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return render_error(request, exc.status, exc.title, exc.detail)


def _home() -> Response:
    return RedirectResponse("/incidents", status_code=303)


def mount(app: FastAPI) -> None:
    """Add the pages, their error handlers and /static to the app."""
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(Refused, _refused)
    app.add_api_route("/", _home, include_in_schema=False)
    for module in (
        auth, ack, incidents, changes, live, catalog, alerts, silences, deliveries, integrations,
        schedules, war_room, workflows, communications, runbook_pages,
    ):  # fmt: skip
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
