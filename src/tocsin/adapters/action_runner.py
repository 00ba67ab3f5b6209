"""Actions and checks over HTTP with httpx: secrets resolved at run time and redacted after."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping

import httpx
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from tocsin.domain.actions import (
    REDACTED,
    SECRET_PREFIX,
    HttpCall,
    HttpOutcome,
    shown_headers,
)

READ_LIMIT = 64 * 1024  # enough for a check's expected text; the excerpt keeps far less
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingSecret(Exception):
    """A `${NAME}` reference names a variable the server's environment does not have."""


class HttpxActionRunner:
    """Makes one call per run, bounded by its timeout from the first byte sent to the last read."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._environ = environ
        self._transport = transport
        self._templates = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def execute(self, call: HttpCall) -> HttpOutcome:
        """The outcome, never an exception; no secret value survives into it."""
        environ = os.environ if self._environ is None else self._environ
        secrets: set[str] = set()

        def expand(value: str) -> str:
            def variable(match: re.Match[str]) -> str:
                name = match.group(1)
                if not name.startswith(SECRET_PREFIX):  # stored before the rule, or hand-made
                    raise MissingSecret(f"{name} is not an action secret ({SECRET_PREFIX}…)")
                if name not in environ:
                    raise MissingSecret(f"the environment variable {name} is not set")
                secrets.add(environ[name])
                return environ[name]

            return _VARIABLE.sub(variable, value)

        try:
            url = expand(call.url)
            headers = {name: expand(value) for name, value in call.headers.items()}
            body = expand(self._templates.from_string(call.body).render(call.variables))
        except MissingSecret as exc:
            return HttpOutcome(None, 0, error=str(exc))
        except TemplateError as exc:
            return HttpOutcome(None, 0, error=f"the body template failed: {exc}")
        # Literal credentials in sensitive headers are hidden like references' values.
        secrets |= {
            headers[name]
            for name, shown in shown_headers(call.headers).items()
            if shown == REDACTED
        }
        secrets = {s for s in secrets if s}

        def redact(text: str) -> str:
            for secret in sorted(secrets, key=len, reverse=True):
                text = text.replace(secret, REDACTED)
            return text

        started = time.monotonic()

        def elapsed_ms() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            with (
                httpx.Client(timeout=call.timeout, transport=self._transport) as client,
                client.stream(
                    call.method, url, headers=headers, content=body.encode() if body else None
                ) as response,
            ):
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if time.monotonic() - started > call.timeout:
                        raise httpx.ReadTimeout("the response took too long", request=None)
                    if len(data) >= READ_LIMIT:
                        break
                status = response.status_code
        except httpx.TimeoutException:
            return HttpOutcome(
                None, elapsed_ms(), error=f"no answer within {call.timeout:g} s", timed_out=True
            )
        except (httpx.HTTPError, ValueError) as exc:
            return HttpOutcome(None, elapsed_ms(), error=redact(f"{type(exc).__name__}: {exc}"))
        text = bytes(data[:READ_LIMIT]).decode("utf-8", errors="replace")
        return HttpOutcome(status, elapsed_ms(), body=redact(text))
