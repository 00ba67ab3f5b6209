"""The one-click acknowledgement link sent in every page: no login, the token is the proof.

Opening the link only shows a button: mail scanners and chat previews fetch links, and a fetch
must not acknowledge anything. The button's POST does, once, until the link expires.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tocsin.domain import commands
from tocsin.domain.errors import DomainError
from tocsin.domain.incidents import reference
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.sessions import tocsin_of
from tocsin.entrypoints.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/ack/{token}")
def confirm(request: Request, token: str) -> Response:
    return render(request, "ack.html", {"token": token, "done": None, "error": None})


@router.post("/ack/{token}")
async def acknowledge(request: Request, token: str) -> Response:
    tocsin = tocsin_of(request)
    try:
        incident_id = await run_in_threadpool(tocsin.handle, commands.AcknowledgeByLink(token))
    except DomainError as exc:
        context = {"token": token, "done": None, "error": exc.detail}
        return render(request, "ack.html", context, status=status_for(exc))
    return render(
        request, "ack.html", {"token": token, "done": reference(incident_id), "error": None}
    )
