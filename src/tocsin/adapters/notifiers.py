"""Send one delivery: email over SMTP, signed JSON webhooks, and everything else through apprise.

Each sender raises `SendFailed` saying whether trying again later may help (a timeout, a 5xx,
a refused connection) or not (a 4xx, a rejected address, no sender configured for the kind).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import make_msgid

import apprise
import httpx

from tocsin.domain.paging import Delivery, SendFailed
from tocsin.policy.paging import PagingPolicy

SIGNATURE_HEADER = "X-Tocsin-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMEOUT_SECONDS = 10.0
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
        self._tls = httpx.create_ssl_context()
        self._idle: list[httpx.Client] = []  # most recently used last: its connection is warm
        self._clients: list[httpx.Client] = []
        self._clients_lock = threading.Lock()

    def close(self) -> None:
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        """A client no other send is using. With one client shared by every sending thread,
        they queued on its connection pool's lock (28% of the samples of the process sending
        1,000 pages a second); there are at most as many clients as sends ever ran at once."""
        try:
            client = self._idle.pop()
        except IndexError:
            client = httpx.Client(timeout=TIMEOUT_SECONDS, verify=self._tls)
            with self._clients_lock:
                self._clients.append(client)
        try:
            yield client
        finally:
            self._idle.append(client)

    def send(self, delivery: Delivery) -> None:
        if delivery.ack_token:
            link = f"{self._base_url}/ack/{delivery.ack_token}"
            delivery = replace(delivery, body=f"{delivery.body}\nAcknowledge in one click: {link}")
        with self._client() as http:
            self._send(delivery, http)

    def ack_url(self, delivery: Delivery) -> str | None:
        return f"{self._base_url}/ack/{delivery.ack_token}" if delivery.ack_token else None

    def _send(self, delivery: Delivery, http: httpx.Client) -> None:
        if delivery.method == "email":
            send_email(self._smtp, delivery)
        elif delivery.method == "webhook":
            send_webhook(http, delivery.address, None, delivery, self.ack_url(delivery))
        elif delivery.method == "destination":
            destination = self._paging.destinations.get(delivery.address)
            if destination is None:
                raise SendFailed(
                    f"no destination {delivery.address!r} in the policy", permanent=True
                )
            if destination.webhook:
                secret = expand(destination.secret) if destination.secret else None
                send_webhook(http, expand(destination.webhook), secret, delivery, None)
            elif destination.pagerduty:
                routing_key = expand(destination.pagerduty)
                send_pagerduty(http, expand(destination.url), routing_key, delivery)
            else:
                send_apprise(expand(destination.apprise or ""), delivery)
        else:
            template = self._paging.contact_urls.get(delivery.method)
            if template is None:
                raise SendFailed(
                    f"no sender for {delivery.method} pages: set paging.contact_urls."
                    f"{delivery.method} in the policy",
                    permanent=True,
                )
            send_apprise(expand(template).replace("{address}", delivery.address), delivery)


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
        raise SendFailed(refused, permanent=True) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"mail server {smtp.host}:{smtp.port}: {exc}", permanent=False) from exc


def send_webhook(
    http: httpx.Client, url: str, secret: str | None, delivery: Delivery, ack_url: str | None
) -> None:
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
    try:
        response = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise SendFailed(f"{url}: {type(exc).__name__}: {exc}", permanent=False) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise SendFailed(f"{url} answered {response.status_code}", permanent=False)
    if response.status_code >= 400:
        raise SendFailed(f"{url} refused the page with {response.status_code}", permanent=True)


_SEVERITY = re.compile(r"^\[(P[1-4])\]")
_PAGERDUTY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info"}


def send_pagerduty(http: httpx.Client, url: str, routing_key: str, delivery: Delivery) -> None:
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
    try:
        response = http.post(url, json=event)
    except httpx.HTTPError as exc:
        raise SendFailed(f"{url}: {type(exc).__name__}: {exc}", permanent=False) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise SendFailed(f"PagerDuty answered {response.status_code}", permanent=False)
    if response.status_code >= 400:
        raise SendFailed(
            f"PagerDuty refused the event with {response.status_code}: {response.text[:300]}",
            permanent=True,
        )


def send_apprise(url: str, delivery: Delivery) -> None:
    sender = apprise.Apprise()
    if not sender.add(url):
        raise SendFailed("the apprise URL is not one apprise understands", permanent=True)
    # Acknowledge and resolve say so in the title; pages and messages read as they are.
    plain = delivery.event in ("trigger", "message", "update")
    title = delivery.subject if plain else f"{delivery.event}: {delivery.subject}"
    if not sender.notify(title=title, body=delivery.body):
        raise SendFailed("apprise could not deliver the message (see the log)", permanent=False)
