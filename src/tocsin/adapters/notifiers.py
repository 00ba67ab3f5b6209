"""Send one delivery: email over SMTP, signed JSON webhooks, and everything else through apprise.

Each sender raises `SendFailed` saying whether trying again later may help (a timeout, a 5xx,
a refused connection) or not (a 4xx, a rejected address, no sender configured for the kind).
Webhooks and the PagerDuty forwarder are sent on the worker's event loop with aiohttp: a send
there costs ~0.1 ms of CPU where httpx in a thread cost ~0.7 ms (bench/page_send.py). Email and
apprise block, so they run in threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiohttp
import anyio
import anyio.to_thread
import apprise
import certifi

from tocsin.domain.paging import Delivery, SendFailed
from tocsin.policy.paging import PagingPolicy

SIGNATURE_HEADER = "X-Tocsin-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMEOUT_SECONDS = 10.0
SEND_THREADS = 25  # blocking sends (mail, apprise) at once; the rest wait their turn
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand(value: str) -> str:
    """`${NAME}` replaced from the environment; a missing variable is a configuration error."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SendFailed(f"the environment variable {name} is not set", permanent=True)
        return os.environ[name]

    return _VARIABLE.sub(variable, value)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str


class Notifier:
    """Routes a delivery to the sender its method names."""

    def __init__(self, paging: PagingPolicy, smtp: SmtpSettings, base_url: str) -> None:
        self._paging = paging
        self._smtp = smtp
        self._base_url = base_url
        # One TLS context for every page: making one costs ~20 ms of CPU.
        self._tls = ssl.create_default_context(cafile=certifi.where())
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self._threads_loop: asyncio.AbstractEventLoop | None = None

    async def aclose(self) -> None:
        """Close the HTTP connections; call it on the event loop that sent."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        """The session of the running event loop (a session cannot outlive its loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                connector=aiohttp.TCPConnector(ssl=self._tls),
            )
            self._session_loop = loop
        return self._session

    async def _in_thread(self, send: Callable[..., None], *args: Any) -> None:
        """A blocking send in a thread of the senders' own: by the default limiter, fifty pages
        to a slow mail server took every thread the database calls of the server wait for."""
        loop = asyncio.get_running_loop()
        if self._threads is None or self._threads_loop is not loop:
            self._threads, self._threads_loop = anyio.CapacityLimiter(SEND_THREADS), loop
        await anyio.to_thread.run_sync(send, *args, limiter=self._threads)

    async def send(self, delivery: Delivery) -> None:
        link = self.ack_url(delivery)
        if link:
            delivery = replace(delivery, body=f"{delivery.body}\nAcknowledge in one click: {link}")
        if delivery.method == "email":
            await self._in_thread(send_email, self._smtp, delivery)
        elif delivery.method == "webhook":
            await send_webhook(self._http(), delivery.address, None, delivery, link)
        elif delivery.method == "destination":
            await self._send_destination(delivery)
        else:
            template = self._paging.contact_urls.get(delivery.method)
            if template is None:
                raise SendFailed(
                    f"no sender for {delivery.method} pages: set paging.contact_urls."
                    f"{delivery.method} in the policy",
                    permanent=True,
                )
            url = expand(template).replace("{address}", delivery.address)
            await self._in_thread(send_apprise, url, delivery)

    def ack_url(self, delivery: Delivery) -> str | None:
        return f"{self._base_url}/ack/{delivery.ack_token}" if delivery.ack_token else None

    async def _send_destination(self, delivery: Delivery) -> None:
        destination = self._paging.destinations.get(delivery.address)
        if destination is None:
            raise SendFailed(f"no destination {delivery.address!r} in the policy", permanent=True)
        if destination.webhook:
            secret = expand(destination.secret) if destination.secret else None
            await send_webhook(self._http(), expand(destination.webhook), secret, delivery, None)
        elif destination.pagerduty:
            routing_key = expand(destination.pagerduty)
            await send_pagerduty(self._http(), expand(destination.url), routing_key, delivery)
        else:
            url = expand(destination.apprise or "")
            await self._in_thread(send_apprise, url, delivery)


def send_email(smtp: SmtpSettings, delivery: Delivery) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = delivery.address
    message["Subject"] = delivery.subject
    # The same Message-ID on a retry lets mail systems drop the copy.
    message["Message-ID"] = make_msgid(idstring=delivery.idempotency_key, domain="tocsin")
    message[IDEMPOTENCY_HEADER] = delivery.idempotency_key
    message.set_content(delivery.body)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS) as client:
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = f"the mail server refused {delivery.address}: {exc}"
        # 4xx is "not now" (greylisting, a full mailbox): worth retrying; 5xx is final.
        final = all(code >= 500 for code, _ in exc.recipients.values())
        raise SendFailed(refused, permanent=final) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"mail server {smtp.host}:{smtp.port}: {exc}", permanent=False) from exc


async def _post(
    http: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    """The status and, for a refusal, the start of its text; failing to get an answer may pass."""
    try:
        async with http.post(url, data=body, headers=headers) as response:
            text = await response.text(errors="replace") if response.status >= 400 else ""
            return response.status, text[:300]
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SendFailed(f"{url}: {type(exc).__name__}: {exc}", permanent=False) from exc


def send_webhook_body(
    delivery: Delivery, secret: str | None, ack_url: str | None
) -> tuple[bytes, dict[str, str]]:
    """The JSON body of a webhook page and its headers, signed when there is a secret."""
    body = json.dumps(
        {
            "incident_id": delivery.incident_id,
            "channel": delivery.channel,
            "subject": delivery.subject,
            "body": delivery.body,
            "person_id": delivery.person_id,
            "step": delivery.step,
            "round": delivery.round,
            "ack_url": ack_url,
            "idempotency_key": delivery.idempotency_key,
            "event": delivery.event,
        },
        separators=(",", ":"),
    ).encode()
    headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: delivery.idempotency_key}
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    return body, headers


async def send_webhook(
    http: aiohttp.ClientSession,
    url: str,
    secret: str | None,
    delivery: Delivery,
    ack_url: str | None,
) -> None:
    body, headers = send_webhook_body(delivery, secret, ack_url)
    status, _ = await _post(http, url, body, headers)
    if status >= 500 or status == 429:
        raise SendFailed(f"{url} answered {status}", permanent=False)
    if status >= 400:
        raise SendFailed(f"{url} refused the page with {status}", permanent=True)


_SEVERITY = re.compile(r"^\[(P[1-4])\]")
_PAGERDUTY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info"}


async def send_pagerduty(
    http: aiohttp.ClientSession, url: str, routing_key: str, delivery: Delivery
) -> None:
    """Forward to PagerDuty's Events API v2; one dedup key per incident ties the events up."""
    event: dict[str, object] = {
        "routing_key": routing_key,
        "event_action": delivery.event,
        "dedup_key": f"tocsin-{delivery.incident_id}",
    }
    if delivery.event == "trigger":
        level = _SEVERITY.match(delivery.subject)  # the subject starts "[P1] INC-7: …"
        event["payload"] = {
            "summary": delivery.subject[:1024],
            "source": "tocsin",
            "severity": _PAGERDUTY_SEVERITY[level.group(1)] if level else "error",
            "custom_details": {"body": delivery.body},
        }
    body = json.dumps(event).encode()
    status, text = await _post(http, url, body, {"Content-Type": "application/json"})
    if status >= 500 or status == 429:
        raise SendFailed(f"PagerDuty answered {status}", permanent=False)
    if status >= 400:
        raise SendFailed(f"PagerDuty refused the event with {status}: {text}", permanent=True)


def send_apprise(url: str, delivery: Delivery) -> None:
    sender = apprise.Apprise()
    if not sender.add(url):
        raise SendFailed("the apprise URL is not one apprise understands", permanent=True)
    # Acknowledge and resolve say so in the title; pages and messages read as they are.
    plain = delivery.event in ("trigger", "message", "update")
    title = delivery.subject if plain else f"{delivery.event}: {delivery.subject}"
    if not sender.notify(title=title, body=delivery.body):
        raise SendFailed("apprise could not deliver the message (see the log)", permanent=False)
