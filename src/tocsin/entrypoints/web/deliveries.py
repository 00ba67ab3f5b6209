"""The deliveries page: every page and channel message, and the ones Tocsin gave up on."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tocsin.domain.incidents import reference
from tocsin.entrypoints.web.sessions import signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal
from tocsin.views.paging import STATUSES

router = APIRouter(include_in_schema=False)
SHOWN = 200


@router.get("/deliveries")
def deliveries_page(
    request: Request, status: str = "", principal: Principal = Depends(signed_in)
) -> Response:
    chosen = status if status in STATUSES else ""
    found = tocsin_of(request).paging.deliveries(
        status=chosen or None, limit=SHOWN, viewer=principal
    )
    return render(
        request,
        "paging/deliveries.html",
        {"deliveries": found, "status": chosen, "statuses": STATUSES, "reference": reference},
    )
