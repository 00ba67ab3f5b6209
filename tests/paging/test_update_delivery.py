"""A served Tocsin's worker delivers stakeholder updates to real local receivers, word for word."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import CATALOG, serving, wait_for
from tests.fakes import FakePasswordHasher
from tests.paging.receivers import Receiver
from tocsin.bootstrap import bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.communications import Audience
from tocsin.domain.severities import Severity
from tocsin.policy import load_default_policy
from tocsin.policy.communications import AudienceChannels
from tocsin.policy.paging import Destination


def test_updates_reach_apprise_and_a_webhook_with_the_same_text(
    tmp_path: Path, receiver: Receiver
) -> None:
    port = receiver.server_address[1]
    policy = load_default_policy()
    hooks = {
        "internal-chat": Destination(apprise=f"json://127.0.0.1:{port}/apprise"),
        "exec-hook": Destination(webhook=receiver.url),
    }
    audiences = {
        Audience.INTERNAL: AudienceChannels(destinations=["internal-chat"]),
        Audience.EXECUTIVE: AudienceChannels(destinations=["exec-hook"]),
        Audience.CUSTOMER: AudienceChannels(),
    }
    policy = policy.model_copy(
        update={
            "paging": policy.paging.model_copy(update={"destinations": hooks}),
            "communications": policy.communications.model_copy(update={"audiences": audiences}),
        }
    )
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}", base_url="https://tocsin.example.com"
    )
    core = bootstrap(settings, hasher=FakePasswordHasher(), policy=policy)
    core.migrate()
    core.handle(CATALOG)  # `search` has no team: its P1 pages nobody at once
    try:
        with serving(core):
            core.handle(
                commands.DeclareIncident(
                    "Search down", Severity.P1, Actor("Dana"), services=("search",)
                )
            )
            wait_for("the initial report twice", lambda: len(receiver.bodies) >= 2, timeout=10)
            core.handle(
                commands.SendUpdate(
                    1,
                    "status",
                    ("internal", "executive"),
                    Actor("Dana"),
                    summary="Index rebuilt",
                    actions=("Watching latency",),
                )
            )
            wait_for("the status update twice", lambda: len(receiver.bodies) >= 4, timeout=10)
            time.sleep(0.5)  # a few more worker cycles: nothing else may arrive
        assert len(receiver.bodies) == 4
        by_path: dict[str, list[str]] = {"/apprise": [], "/page": []}
        for message in receiver.bodies:
            text = message["message"] if message["path"] == "/apprise" else message["body"]
            by_path[message["path"]].append(text)
        assert by_path["/apprise"] == by_path["/page"], "every channel gets the same words"
        initial, update = by_path["/page"]
        assert initial.startswith("**INCIDENT DECLARED - P1**")
        assert "War Room: https://tocsin.example.com/incidents/1" in initial
        assert "Summary: Index rebuilt" in update and "- Watching latency" in update
        hooked = [m for m in receiver.bodies if m["path"] == "/page"]
        assert {m["event"] for m in hooked} == {"update"}
        assert hooked[1]["subject"] == "[P1] INC-1 Status Update: Search down"
    finally:
        core.close()
