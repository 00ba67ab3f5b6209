"""Browser sessions: the session cookie, who is signed in, CSRF checks and the read-only rule."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from tocsin.bootstrap import Tocsin
from tocsin.config import Settings
from tocsin.domain.accounts import Scope
from tocsin.domain.actors import Actor
from tocsin.services.handlers.accounts import SESSION_LIFETIME, secret_hash
from tocsin.views.accounts import Principal

SESSION_COOKIE = "tocsin_session"
# A pre-session token, double-submitted by the sign-in form, so that another site cannot sign a
# browser in to an account of the attacker's choosing (login CSRF).
LOGIN_COOKIE = "tocsin_login"
LOGIN_COOKIE_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_NEXT = "/incidents"
_UNSET = object()


class SignInRequired(Exception):
    """Nobody is signed in; the page handler sends the browser to /login?next=…"""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class Refused(Exception):
    """A change the server will not make (bad CSRF token, read-only account); nothing is written."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True)
class Change:
    """A signed-in, CSRF-checked, write-capable request and the form it posted."""

    principal: Principal
    form: FormData

    @property
    def actor(self) -> Actor:
        return self.principal.actor


def tocsin_of(request: Request) -> Tocsin:
    """The wired Tocsin the app was built around."""
    core: Tocsin = request.app.state.tocsin
    return core


def is_htmx(request: Request) -> bool:
    """True for requests htmx made, which get fragments instead of pages."""
    return request.headers.get("hx-request") == "true"


def safe_next(raw: str | None) -> str:
    """Only local paths: `/incidents/4`, never `//evil.example` or `https://…`."""
    if not raw or not raw.startswith("/") or raw.startswith("//"):
        return DEFAULT_NEXT
    if "\\" in raw or any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        return DEFAULT_NEXT
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return raw


def next_for(request: Request) -> str:
    """Where to come back to after signing in: this page, or for a POST the page it came from."""
    if request.method == "GET" and not is_htmx(request):
        query = f"?{request.url.query}" if request.url.query else ""
        return safe_next(request.url.path + query)
    for header in ("hx-current-url", "referer"):
        value = request.headers.get(header)
        if value:
            parts = urlsplit(value)
            if parts.netloc == request.url.netloc:
                query = f"?{parts.query}" if parts.query else ""
                return safe_next(parts.path + query)
    return DEFAULT_NEXT


def current_principal(request: Request) -> Principal | None:
    """Resolve the session cookie once per request (blocking: call from a worker thread)."""
    cached = getattr(request.state, "principal", _UNSET)
    if cached is not _UNSET:
        return cast("Principal | None", cached)
    principal = None
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        core = tocsin_of(request)
        principal = core.accounts.session_principal(secret_hash(secret), core.clock.now())
    request.state.principal = principal
    return principal


def signed_in(request: Request) -> Principal:
    """Dependency for pages: the signed-in principal, or a trip to the sign-in page."""
    principal = current_principal(request)
    if principal is None:
        raise SignInRequired(next_for(request))
    return principal


def check_csrf(principal: Principal, submitted: object) -> None:
    """Refuse unless `submitted` is this session's CSRF token (compared in constant time)."""
    expected = principal.csrf_token
    if (
        not expected
        or not isinstance(submitted, str)
        or not secrets.compare_digest(submitted.encode(), expected.encode())
    ):
        raise Refused(
            403,
            "Form expired",
            "This form did not carry this session's security token, so nothing was changed. "
            "Reload the page and try again.",
        )


async def change_request(request: Request) -> Change:
    """Dependency for every POST that changes something: signed in, CSRF-checked, not a viewer."""
    principal = await run_in_threadpool(current_principal, request)
    if principal is None:
        raise SignInRequired(next_for(request))
    form = await request.form()
    submitted = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    check_csrf(principal, submitted)
    if not principal.scope.allows(Scope.WRITE):
        raise Refused(
            403,
            "Read-only access",
            f"You are signed in as {principal.display_name}, a {principal.org_role.value}: "
            "you can read incidents but not change them. Ask an admin for the responder role.",
        )
    return Change(principal, form)


def require_admin(principal: Principal, what: str) -> Principal:
    """Refuse anyone but an admin; `what` says what is reserved, e.g. "manage integrations"."""
    if not principal.scope.allows(Scope.ADMIN):
        raise Refused(
            403,
            "Admins only",
            f"You are signed in as {principal.display_name}, a {principal.org_role.value}: "
            f"only admins can {what}. Ask an admin if you need a change here.",
        )
    return principal


# ----- cookies --------------------------------------------------------------------------------
def start_session(response: Response, secret: str, settings: Settings) -> None:
    """Hand the browser its session secret: HttpOnly, SameSite=Lax, Secure when configured."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def end_session(response: Response, settings: Settings) -> None:
    """Make the browser forget its session secret."""
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )


def login_token(request: Request) -> str:
    """The pre-session token already in the browser, or a new one."""
    existing = request.cookies.get(LOGIN_COOKIE, "")
    if 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        return existing
    return secrets.token_urlsafe(24)


def set_login_cookie(response: Response, token: str, settings: Settings) -> None:
    """Give the sign-in form's double-submit token to the browser, for /login only."""
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=LOGIN_COOKIE_SECONDS,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def clear_login_cookie(response: Response, settings: Settings) -> None:
    """Drop the pre-session token once a session exists."""
    response.delete_cookie(
        LOGIN_COOKIE,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def login_token_matches(request: Request, submitted: object) -> bool:
    """True when the form carries the same pre-session token as the browser's cookie."""
    cookie = request.cookies.get(LOGIN_COOKIE)
    return (
        bool(cookie)
        and isinstance(submitted, str)
        and secrets.compare_digest(submitted.encode(), (cookie or "").encode())
    )
