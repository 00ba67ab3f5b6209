"""One table from domain errors to HTTP statuses, rendered as RFC 9457 problem+json."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from tocsin.domain import errors

STATUS: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.ChronologyViolation: 422,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.InvalidTransition: 409,
    errors.NoChange: 409,
    errors.ConcurrencyConflict: 409,
    errors.AuthenticationFailed: 401,
    errors.PermissionDenied: 403,
    errors.TooLarge: 413,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}
RETRY_AFTER_SECONDS = "5"
# Paths whose errors are problem+json whatever the caller accepts: the API and the webhooks.
MACHINE_PATHS = ("/api/", "/hooks/", "/v2/")
PROBLEM_TYPE = "application/problem+json"
# Non-API pages render errors themselves; the web layer registers its renderer here.
HtmlRenderer = Callable[[Request, int, str, str], Response]


def status_for(exc: errors.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem_body(
    status: int,
    title: str,
    detail: str,
    instance: str,
    kind: str | None = None,
    problem_errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": f"urn:tocsin:problem:{kind or _slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if problem_errors:
        body["errors"] = problem_errors
    return body


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    problem_errors: list[dict[str, str]] | None = None,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(status, title, detail, request.url.path, kind, problem_errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def install(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    """Register the handlers; API paths get problem+json, pages get `html` when given."""

    def wants_json(request: Request) -> bool:
        return html is None or request.url.path.startswith(MACHINE_PATHS)

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, exc: errors.DomainError) -> Response:
        status = status_for(exc)
        if not wants_json(request):
            assert html is not None
            return html(request, status, exc.title, exc.detail)
        field_errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 503:
            headers = {"Retry-After": RETRY_AFTER_SECONDS}
        return problem(
            request, status, exc.title, exc.detail, field_errors, _slug(type(exc).__name__), headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        field_errors = [
            {"field": _field(err["loc"]), "message": str(err["msg"]).removeprefix("Value error, ")}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors)
        if not wants_json(request):
            assert html is not None
            return html(request, 422, "Invalid input", detail)
        return problem(request, 422, "Invalid input", detail, field_errors, "invalid-input")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        title = _TITLES.get(exc.status_code, "Error")
        detail = str(exc.detail)
        if not wants_json(request):
            assert html is not None
            return html(request, exc.status_code, title, detail)
        headers = dict(exc.headers) if exc.headers else None
        return problem(request, exc.status_code, title, detail, headers=headers)


_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _slug(text: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", text).lower().replace(" ", "-")
