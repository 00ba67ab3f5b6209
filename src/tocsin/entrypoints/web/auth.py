"""Signing in and out of the web UI; the password check itself is the LogIn command's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tocsin.domain import commands
from tocsin.domain.errors import DomainError
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.forms import FormState, kept_values, text
from tocsin.entrypoints.web.sessions import (
    CSRF_FIELD,
    SESSION_COOKIE,
    Change,
    check_csrf,
    clear_login_cookie,
    current_principal,
    end_session,
    login_token,
    login_token_matches,
    safe_next,
    set_login_cookie,
    start_session,
    tocsin_of,
)
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal

router = APIRouter(include_in_schema=False)


def _login_page(
    request: Request, next_path: str, state: FormState, *, status: int = 200, notice: str = ""
) -> Response:
    token = login_token(request)
    response = render(
        request,
        "login.html",
        {"form": state, "next": next_path, "login_token": token, "notice": notice},
        status=status,
    )
    set_login_cookie(response, token, tocsin_of(request).settings)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in form, with a fresh pre-session token; signed-in browsers go straight on."""
    next_path = safe_next(request.query_params.get("next"))
    if current_principal(request) is not None:
        return RedirectResponse(next_path, status_code=303)
    request.state.principal = None  # the form is shown signed out, whatever the cookie said
    notice = "You have signed out." if request.query_params.get("signed_out") else ""
    return _login_page(request, next_path, FormState(), notice=notice)


@router.post("/login")
async def log_in(request: Request) -> Response:
    """Check the pre-session token, then the password; on success set the session cookie."""
    form = await request.form()
    next_path = safe_next(text(form, "next"))
    request.state.principal = None
    if not login_token_matches(request, form.get(CSRF_FIELD)):
        expired = FormState(
            kept_values(form),
            "This sign-in form expired or was sent from another site. Please sign in again.",
            title="Form expired",
        )
        return _login_page(request, next_path, expired, status=403)
    tocsin = tocsin_of(request)
    command = commands.LogIn(text(form, "username"), text(form, "password"))
    try:
        session = await run_in_threadpool(tocsin.handle, command)
    except DomainError as exc:
        refused = FormState(kept_values(form), exc.detail, exc.field, "Not signed in")
        return _login_page(request, next_path, refused, status=status_for(exc))
    response = RedirectResponse(next_path, status_code=303)
    start_session(response, session.secret, tocsin.settings)
    clear_login_cookie(response, tocsin.settings)
    return response


async def _signed_in_form(request: Request) -> Change | None:
    principal: Principal | None = await run_in_threadpool(current_principal, request)
    form = await request.form()
    if principal is None:
        return None
    check_csrf(principal, form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token"))
    return Change(principal, form)


@router.post("/logout")
def log_out(request: Request, change: Change | None = Depends(_signed_in_form)) -> Response:
    """End the session (viewers too); a browser already signed out just lands on the form."""
    tocsin = tocsin_of(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if change is not None and secret:
        tocsin.handle(commands.LogOut(secret))
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    end_session(response, tocsin.settings)
    return response
