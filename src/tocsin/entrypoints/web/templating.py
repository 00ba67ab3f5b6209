"""The Jinja2 environment for pages: time, badge and JSON filters, static URLs, one render call."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from tocsin.domain.accounts import Scope
from tocsin.domain.incidents import reference
from tocsin.domain.statuses import Status

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# 2xx and the refusals a person can act on (403 viewer/CSRF, 404, 409 conflict, 422 invalid input)
# are swapped into the page; anything else is left to htmx's error events.
HTMX_CONFIG = (
    '{"responseHandling":['
    '{"code":"204","swap":false},'
    '{"code":"[23]..","swap":true},'
    '{"code":"40[349]|422","swap":true,"error":false},'
    '{"code":"...","swap":false,"error":true}],'
    '"historyRestoreAsHxRequest":false,"includeIndicatorStyles":false,"defaultSwapStyle":"innerHTML"}'
)


def when(value: datetime | None, *, short: bool = False) -> Markup:
    """A UTC time for people, with the exact ISO value in the markup for machines and tooltips."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    utc = value.astimezone(UTC)
    iso = utc.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = utc.strftime("%H:%M UTC" if short else "%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(iso, text)


def status_label(value: str) -> str:
    """`investigating` → `Investigating`."""
    try:
        return Status(value).label
    except ValueError:
        return value


def humanize(value: str) -> str:
    """`automated_test` → `Automated test`."""
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def pretty_json(value: object) -> str:
    """A sender's document as indented JSON with sorted keys (PostgreSQL keeps no key order)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def safe_url(value: object) -> str | None:
    """The URL when it is an http(s) link, else None: senders' links are never `javascript:`."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


@functools.cache
def _static_version(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static(name: str) -> str:
    """A cache-busting URL: the query changes whenever the file's content does."""
    return f"/static/{name}?v={_static_version(name)}"


@functools.cache
def environment() -> Environment:
    """The one Jinja2 environment, built on first use (no I/O at import)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        status_label=status_label,
        humanize=humanize,
        pretty_json=pretty_json,
        safe_url=safe_url,
        incident_ref=reference,
    )
    env.globals.update(static=static, htmx_config=HTMX_CONFIG)
    return env


def render_html(name: str, context: Mapping[str, Any]) -> str:
    """Render a template to a string."""
    return environment().get_template(name).render(context)


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or fragment; the signed-in principal and CSRF token are always available."""
    principal = getattr(request.state, "principal", None)
    full: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "csrf_token": principal.csrf_token if principal is not None else None,
        "can_change": principal is not None and principal.scope.allows(Scope.WRITE),
        "is_admin": principal is not None and principal.scope.allows(Scope.ADMIN),
        "path": request.url.path,
    }
    full.update(context or {})
    response = HTMLResponse(render_html(name, full), status_code=status, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
