"""Executable HTTP actions and recovery checks: their definitions and the HTTP calls they make.

Secrets are written as `${NAME}` references and resolved from the server's environment only by
the runner, at run time; what is stored and shown keeps the references, never the values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tocsin.domain.catalog import clean_slug
from tocsin.domain.errors import InvalidInput

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
MAX_REPEAT = 10
MAX_INTERVAL = 10.0
EXCERPT_CHARS = 500
URL_MAX = 2048
BODY_MAX = 20_000
REDACTED = "[redacted]"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
# Only variables with this prefix are secrets an action may use: a definition can never read the
# server's own settings (its database URL, its keys) and send them somewhere.
SECRET_PREFIX = "TOCSIN_SECRET_"
_ANY_REFERENCE = re.compile(r"\$\{([^}]*)\}")


def check_references(value: str, field_name: str) -> str:
    """Refuse `${NAME}` references that do not name an action secret (TOCSIN_SECRET_…)."""
    for match in _ANY_REFERENCE.finditer(value):
        name = match.group(1)
        if not name.startswith(SECRET_PREFIX) or not _REFERENCE.fullmatch(match.group(0)):
            raise InvalidInput(
                f"{field_name}: ${{{name}}} is not an action secret; secrets are environment "
                f"variables named {SECRET_PREFIX}…, e.g. ${{{SECRET_PREFIX}DEPLOY_TOKEN}}",
                field=field_name,
            )
    return value


_SENSITIVE = re.compile(r"auth|cookie|token|secret|key|pass|signature", re.IGNORECASE)


def shown_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers as people may see them: `${NAME}` references stay, a literal credential does not."""
    return {
        name: value if not _SENSITIVE.search(name) or _REFERENCE.search(value) else REDACTED
        for name, value in headers.items()
    }


def _clean_url(raw: str, field_name: str = "url") -> str:
    url = check_references(raw.strip(), field_name)
    if not url.startswith(("http://", "https://", "${")):
        raise InvalidInput(f"{field_name} must start with http:// or https://", field=field_name)
    if len(url) > URL_MAX or any(ch.isspace() for ch in url):
        raise InvalidInput(
            f"{field_name} must be one URL of at most {URL_MAX} characters", field=field_name
        )
    return url


def _clean_timeout(raw: float, field_name: str = "timeout") -> float:
    if not 0 < raw <= MAX_TIMEOUT:
        raise InvalidInput(
            f"{field_name} must be more than 0 and at most {MAX_TIMEOUT:g} seconds",
            field=field_name,
        )
    return float(raw)


def _clean_status(raw: int | None, field_name: str) -> int | None:
    if raw is not None and not 100 <= raw <= 599:
        raise InvalidInput(f"{field_name} must be an HTTP status from 100 to 599", field=field_name)
    return raw


@dataclass
class Action:
    """An HTTP call worth one click in a war room: toggle a flag, roll back, scale out."""

    name: str
    title: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""  # a Jinja template: {{ reference }}, {{ severity }}, {{ services }} …
    timeout: float = DEFAULT_TIMEOUT
    requires_approval: bool = False
    expect_status: int | None = None
    runbook: str | None = None  # the runbook that defines it, if imported with one
    id: int | None = None


def clean_action(
    name: str,
    method: str,
    url: str,
    *,
    title: str = "",
    headers: dict[str, str] | None = None,
    body: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    requires_approval: bool = False,
    expect_status: int | None = None,
    runbook: str | None = None,
) -> Action:
    """Validate an action definition, naming the field that is wrong."""
    verb = method.strip().upper()
    if verb not in METHODS:
        raise InvalidInput(f"method {method!r} is not one of {', '.join(METHODS)}", field="method")
    clean_headers = {}
    for key, value in (headers or {}).items():
        if not _HEADER_NAME.match(key) or not isinstance(value, str) or "\n" in value:
            raise InvalidInput(
                f"header {key!r} needs a token name and a one-line text value",
                field=f"headers.{key}",
            )
        clean_headers[key] = check_references(value.strip(), f"headers.{key}")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"body is longer than {BODY_MAX} characters", field="body")
    check_references(body, "body")
    slug = clean_slug(name, "name")
    return Action(
        name=slug,
        title=" ".join(title.split())[:200] or slug,
        method=verb,
        url=_clean_url(url),
        headers=clean_headers,
        body=body,
        timeout=_clean_timeout(timeout),
        requires_approval=requires_approval,
        expect_status=_clean_status(expect_status, "expect_status"),
        runbook=runbook,
    )


@dataclass(frozen=True)
class CheckSpec:
    """What a recovery check expects: a status, a text in the body, a latency bound, n times."""

    url: str
    expect_status: int = 200
    expect_body: str = ""
    max_latency_ms: int | None = None
    repeat: int = 1
    interval: float = 2.0
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if "${" in self.url:  # a check is anyone's URL: it never carries the server's secrets
            raise InvalidInput("a check's url cannot use ${…} secrets", field="url")
        _clean_url(self.url)
        _clean_status(self.expect_status, "expect_status")
        _clean_timeout(self.timeout)
        if self.max_latency_ms is not None and not 1 <= self.max_latency_ms <= 60_000:
            raise InvalidInput("max_latency must be 1 ms to 60 s", field="max_latency")
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise InvalidInput(f"repeat must be 1 to {MAX_REPEAT}", field="repeat")
        if not 0 <= self.interval <= MAX_INTERVAL:
            raise InvalidInput(f"interval must be 0 to {MAX_INTERVAL:g} seconds", field="interval")
        if len(self.expect_body) > 1000:
            raise InvalidInput("expect_body is longer than 1000 characters", field="expect_body")

    def failure(self, outcome: HttpOutcome) -> str | None:
        """Why one attempt did not pass, or None when it did."""
        if outcome.status_code is None:
            return outcome.error or "no response"
        if outcome.status_code != self.expect_status:
            return f"HTTP {outcome.status_code}, expected {self.expect_status}"
        if self.expect_body and self.expect_body not in outcome.body:
            return f"the response does not contain {self.expect_body!r}"
        if self.max_latency_ms is not None and outcome.duration_ms > self.max_latency_ms:
            return f"took {outcome.duration_ms} ms, over the {self.max_latency_ms} ms bound"
        return None


@dataclass(frozen=True)
class HttpCall:
    """One request for the runner: references unresolved, the body still a template."""

    method: str
    url: str
    headers: dict[str, str]
    body: str
    timeout: float
    variables: dict[str, Any]


@dataclass(frozen=True)
class HttpOutcome:
    """What came back; the runner has already taken every secret value out of it."""

    status_code: int | None
    duration_ms: int
    body: str = ""
    error: str = ""  # why no response arrived (or the body template failed)
    timed_out: bool = False
