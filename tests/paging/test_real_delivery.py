"""A served Tocsin's embedded worker pages through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import contextlib
import email
import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import CATALOG, serving, wait_for
from tests.fakes import FakePasswordHasher
from tests.paging.receivers import Receiver
from tocsin.adapters.notifiers import Notifier, SmtpSettings, send_email
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.paging import Delivery, SendFailed
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.policy import load_default_policy
from tocsin.policy.paging import Destination
from tocsin.views.alerts import AlertFilter

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@contextlib.contextmanager
def mock_env(name: str, value: str) -> Iterator[None]:
    os.environ[name] = value
    try:
        yield
    finally:
        del os.environ[name]


def bootstrap_notifier(core: Tocsin, base_url: str) -> Notifier:
    """The notifier for a server whose address is only known once it listens."""
    smtp = SmtpSettings(core.settings.smtp_host, core.settings.smtp_port, core.settings.smtp_from)
    return Notifier(core.policy.paging, smtp, base_url)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_an_incident_pages_its_on_call_engineer_by_email(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}", smtp_port=port, paging_embedded=True
    )
    core = bootstrap(settings, hasher=FakePasswordHasher())
    core.migrate()
    core.handle(CATALOG)
    try:
        with serving(core):
            core.handle(
                commands.DeclareIncident(
                    "Checkout failing", Severity.P3, Actor("Dana"), services=("checkout",)
                )
            )
            wait_for("the email page", lambda: len(box.messages) >= 1, timeout=10)
        recipients, message = box.messages[0]
        assert recipients == ["alice@example.com"]
        assert message["Subject"] == "[P3] INC-1: Checkout failing"
        assert "tocsin incident ack INC-1" in message.get_payload()
        assert message["Idempotency-Key"]
        assert len(box.messages) == 1  # P3 pages only the on-call engineer at once
        timeline = [e.body for e in core.incidents.timeline(1)]
        assert "Paged Alice Martin (on-call engineer) by email now" in timeline
    finally:
        core.close()


def test_a_webhook_page_carries_a_link_that_acknowledges_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    policy = load_default_policy()
    signed = Destination(webhook=receiver.url, secret="${TEST_HOOK_SECRET}")
    paging = policy.paging.model_copy(update={"destinations": {"slack-incidents": signed}})
    policy = policy.model_copy(update={"paging": paging})
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'tocsin.db'}")
    core = bootstrap(settings, hasher=FakePasswordHasher(), policy=policy)
    core.migrate()
    people = [replace(p, contact_methods=(("webhook", receiver.url),)) for p in CATALOG.people]
    core.handle(replace(CATALOG, people=tuple(people)))
    try:
        with serving(core) as url, mock_env("TEST_HOOK_SECRET", "s3cret"):
            core.settings = settings.model_copy(update={"base_url": url})
            core.notifier = bootstrap_notifier(core, url)
            core.handle(
                commands.DeclareIncident(
                    "Checkout failing", Severity.P3, Actor("Dana"), services=("checkout",)
                )
            )
            wait_for("two webhooks", lambda: len(receiver.bodies) >= 2, timeout=10)
            by_channel = {b["channel"]: b for b in receiver.bodies}
            page, announcement = by_channel["webhook"], by_channel["slack-incidents"]
            assert page["subject"] == "[P3] INC-1: Checkout failing"
            assert page["headers"]["Idempotency-Key"] == page["idempotency_key"]
            signature = announcement["headers"]["X-Tocsin-Signature"]
            assert signature.startswith("sha256=") and "X-Tocsin-Signature" not in page["headers"]
            link = page["ack_url"]
            assert link.startswith(f"{url}/ack/") and announcement["ack_url"] is None

            with httpx.Client() as client:
                shown = client.get(link)  # what a mail scanner's fetch does: nothing
                assert shown.status_code == 200 and "Acknowledge" in shown.text
                assert core.incidents.detail(1).stamp("acknowledged_at") is None
                clicked = client.post(link)
                assert clicked.status_code == 200
                assert "INC-1 acknowledged" in clicked.text
                again = client.post(link)
                assert again.status_code == 409 and "already used" in again.text
                forged = client.post(f"{url}/ack/not-a-real-token")
                assert forged.status_code == 404 and "not valid" in forged.text
        timeline = [e.body for e in core.incidents.timeline(1)]
        assert "Acknowledged by Alice Martin (page link); paging stops" in timeline
    finally:
        core.close()


def test_a_destination_hears_through_apprise(tmp_path: Path, receiver: Receiver) -> None:
    policy = load_default_policy()
    port = receiver.server_address[1]
    hook = Destination(apprise=f"json://127.0.0.1:{port}/apprise")
    paging = policy.paging.model_copy(update={"destinations": {"slack-incidents": hook}})
    policy = policy.model_copy(update={"paging": paging})
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'tocsin.db'}")
    core = bootstrap(settings, hasher=FakePasswordHasher(), policy=policy)
    core.migrate()
    core.handle(CATALOG)
    try:
        with serving(core):
            core.handle(
                commands.DeclareIncident(
                    "Search slow", Severity.P3, Actor("Dana"), services=("search",)
                )
            )
            wait_for("apprise's JSON", lambda: len(receiver.bodies) >= 1, timeout=10)
        [message] = receiver.bodies
        assert message["path"] == "/apprise"
        assert message["title"] == "[P3] INC-1: Search slow"
        assert "Paging has started." in message["message"]
    finally:
        core.close()


def test_incidents_are_forwarded_to_a_pagerduty_events_api(tmp_path: Path) -> None:
    """Another Tocsin's drop-in PagerDuty Events API v2 stands in for PagerDuty."""
    upstream = bootstrap(
        load_settings(database_url=f"sqlite:///{tmp_path / 'upstream.db'}", paging_embedded=False),
        hasher=FakePasswordHasher(),
    )
    upstream.migrate()
    key = upstream.handle(
        commands.CreateIntegration("from-tocsin", IntegrationKind.PAGERDUTY, Actor("test"))
    ).key
    try:
        with serving(upstream) as upstream_url:
            forwarder = Destination(pagerduty="${TEST_PD_KEY}", url=f"{upstream_url}/v2/enqueue")
            policy = load_default_policy()
            paging = policy.paging.model_copy(update={"destinations": {"pagerduty": forwarder}})
            settings = load_settings(database_url=f"sqlite:///{tmp_path / 'tocsin.db'}")
            core = bootstrap(
                settings,
                hasher=FakePasswordHasher(),
                policy=policy.model_copy(update={"paging": paging}),
            )
            core.migrate()
            core.handle(CATALOG)

            def upstream_alerts() -> list[tuple[str, str]]:
                found = upstream.alerts.list(AlertFilter()).items
                return [(a.title, a.status) for a in found]

            try:
                with serving(core), mock_env("TEST_PD_KEY", key):
                    incident = core.handle(
                        commands.DeclareIncident(
                            "Checkout down", Severity.P1, Actor("Dana"), services=("checkout",)
                        )
                    )
                    title = "[P1] INC-1: Checkout down"
                    wait_for("the trigger", lambda: upstream_alerts() == [(title, "firing")])
                    [alert] = upstream.alerts.list(AlertFilter()).items
                    assert alert.severity == "P1" and alert.dedup_key == "tocsin-1"
                    core.handle(commands.AcknowledgeIncident(incident, Actor("Dana")))
                    wait_for("the ack", lambda: upstream_alerts() == [(title, "acknowledged")])
                    core.handle(commands.ChangeStatus(incident, Status.RESOLVED, Actor("Dana")))
                    wait_for("the resolve", lambda: upstream_alerts() == [(title, "resolved")])
            finally:
                core.close()
    finally:
        upstream.close()


def test_a_private_incident_is_not_announced_to_channel_destinations(
    tmp_path: Path, receiver: Receiver
) -> None:
    policy = load_default_policy()
    hook = Destination(apprise=f"json://127.0.0.1:{receiver.server_address[1]}/apprise")
    paging = policy.paging.model_copy(update={"destinations": {"slack-incidents": hook}})
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'tocsin.db'}")
    core = bootstrap(
        settings, hasher=FakePasswordHasher(), policy=policy.model_copy(update={"paging": paging})
    )
    core.migrate()
    core.handle(CATALOG)
    try:
        with serving(core):
            secret = commands.DeclareIncident(
                "Leaked keys", Severity.P3, Actor("Dana"), services=("search",), private=True
            )
            core.handle(secret)
            core.handle(
                commands.DeclareIncident(
                    "Search slow", Severity.P3, Actor("Dana"), services=("search",)
                )
            )
            wait_for("apprise's JSON", lambda: len(receiver.bodies) >= 1, timeout=10)
            wait_for(
                "every page handled",
                lambda: all(d.status != "pending" for d in core.paging.deliveries()),
                timeout=10,
            )
        assert [m["title"] for m in receiver.bodies] == ["[P3] INC-2: Search slow"]
        timeline = [e.body for e in core.incidents.timeline(1)]
        assert "Not announced to slack-incidents: the incident is private" in timeline
    finally:
        core.close()


class Refusing(Mailbox):
    """Refuses each recipient with the reply its local part names: greylisted@ or gone@."""

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("greylisted@"):
            return "450 4.7.1 greylisted, try again later"
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.mark.parametrize(("address", "permanent"), [("greylisted", False), ("gone", True)])
def test_a_mail_server_saying_try_later_gets_a_retry_and_one_saying_no_does_not(
    address: str, permanent: bool
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        page = Delivery(
            incident_id=1, channel="email", method="email", address=f"{address}@example.com",
            subject="[P1] INC-1", body="paged", idempotency_key="k1", due_at=NOW, created_at=NOW,
        )  # fmt: skip
        with pytest.raises(SendFailed, match=f"refused {address}@example.com") as refused:
            send_email(SmtpSettings("127.0.0.1", port, "tocsin@example.com"), page)
        assert refused.value.permanent is permanent
    finally:
        controller.stop()
