"""Health, readiness and the active policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tocsin import __version__
from tocsin.bootstrap import Tocsin
from tocsin.entrypoints.api.deps import get_tocsin, read_access
from tocsin.views.accounts import Principal

router = APIRouter(tags=["system"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up; says nothing about the database."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
def readyz(tocsin: Tocsin = Depends(get_tocsin)) -> JSONResponse:
    """Ready to serve: the database answers and its schema is current."""
    try:
        with tocsin.database.reader.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = tocsin.schema_is_current()
    except Exception as exc:  # any failure means "not ready", with the reason
        return JSONResponse({"status": "unavailable", "reason": str(exc)[:200]}, status_code=503)
    if not current:
        return JSONResponse(
            {
                "status": "unavailable",
                "reason": "database schema is not current; run `tocsin db upgrade`",
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready", "database": tocsin.database.dialect})


@router.get("/api/v1/policy", tags=["policy"])
def get_policy(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> dict[str, Any]:
    """The active policy as JSON: severities, roles, escalation matrix, channels, templates."""
    return tocsin.policy.model_dump(mode="json")
