"""Read-only catalog pages: the services that can break and the teams that own them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tocsin.entrypoints.web.sessions import signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal

router = APIRouter(include_in_schema=False)


@router.get("/services")
def services_page(request: Request, _: Principal = Depends(signed_in)) -> Response:
    """Services by tier, with their owners, dependencies, runbooks and open incidents."""
    return render(
        request, "catalog/services.html", {"services": tocsin_of(request).catalog.services()}
    )


@router.get("/teams")
def teams_page(request: Request, _: Principal = Depends(signed_in)) -> Response:
    """Teams with their members' roles and the services they own."""
    return render(request, "catalog/teams.html", {"teams": tocsin_of(request).catalog.teams()})
