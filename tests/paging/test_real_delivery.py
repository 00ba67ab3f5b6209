"""A served Tocsin's embedded worker pages through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import CATALOG, serving, wait_for
from tests.fakes import FakePasswordHasher
from tocsin.bootstrap import bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.severities import Severity


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
        assert "Paged Alice Martin (on-call engineer) by email" in timeline
    finally:
        core.close()
