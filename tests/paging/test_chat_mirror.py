"""War-room messages mirrored both ways: out to a chat tool through apprise, in by its webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import CATALOG, make_tocsin, serving, wait_for
from tests.fakes import FakeClock, FakePasswordHasher
from tests.paging.receivers import Receiver
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.severities import Severity
from tocsin.policy import Policy, load_default_policy
from tocsin.policy.paging import Destination


def mirrored_policy(apprise_url: str) -> Policy:
    """The default policy with war-room messages mirrored to one apprise destination."""
    policy = load_default_policy()
    chat = Destination(apprise=apprise_url)
    paging = policy.paging.model_copy(update={"destinations": {"team-chat": chat}})
    rooms = policy.channels.war_room.model_copy(update={"mirror": ["team-chat"]})
    channels = policy.channels.model_copy(update={"war_room": rooms})
    return policy.model_copy(update={"paging": paging, "channels": channels})


@pytest.fixture
def core(tmp_path: Path, receiver: Receiver) -> Iterator[Tocsin]:
    policy = mirrored_policy(f"json://127.0.0.1:{receiver.server_address[1]}/chat")
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'tocsin.db'}")
    tocsin = bootstrap(settings, hasher=FakePasswordHasher(), policy=policy)
    tocsin.migrate()
    tocsin.handle(CATALOG)
    tocsin.handle(
        commands.CreateUser("alice", "correct horse battery", OrgRole.RESPONDER, "Alice", "alice")
    )
    yield tocsin
    tocsin.close()


def settle(core: Tocsin, sent: int) -> None:
    """Wait until the worker has sent `sent` mirror messages and nothing else is pending."""
    wait_for(
        f"{sent} mirrored messages",
        lambda: [d.status for d in core.paging.deliveries()] == ["sent"] * sent,
        timeout=10,
    )


def test_messages_go_out_to_chat_and_come_back_in_without_looping(
    core: Tocsin, receiver: Receiver
) -> None:
    token = core.handle(commands.CreateApiToken("alice", "t", Scope.WRITE)).secret
    key = core.handle(
        commands.CreateIntegration("slack-in", IntegrationKind.CHAT, Actor("test"))
    ).key
    core.handle(commands.DeclareIncident("Search slow", Severity.P3, Actor("Dana")))
    with serving(core) as url:
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        api.post("/api/v1/incidents/1/messages", json={"body": "Rolling back"}).raise_for_status()
        wait_for("the mirrored message", lambda: len(receiver.bodies) == 1, timeout=10)
        [out] = receiver.bodies
        assert out["path"] == "/chat"
        assert out["title"] == "INC-1 war room"
        assert out["message"] == "[INC-1] Alice: Rolling back"

        # Slack's outgoing webhook posts a form; the channel name says which war room.
        hook = f"{url}/hooks/chat/{key}"
        said = httpx.post(
            hook, data={"channel_name": "incident-1", "user_name": "dana", "text": "Recovering"}
        )
        assert said.json() == {"status": "accepted", "incident": "INC-1"}
        # Our own message coming back, and a bot's, are not taken in again.
        echo = httpx.post(hook, data={"channel_name": "incident-1", "text": out["message"]})
        assert echo.json()["status"] == "ignored"
        bot = httpx.post(hook, json={"channel": "#incident-1", "text": "hi", "bot_id": "B1"})
        assert bot.json()["status"] == "ignored"
        messages = api.get("/api/v1/incidents/1/messages").json()
        assert [(m["author"], m["body"]) for m in messages] == [
            ("Alice", "Rolling back"),
            ("dana (via slack-in)", "Recovering"),
        ]
        time.sleep(0.5)  # give the worker a chance to (wrongly) send the chat message back out
        settle(core, 1)
        assert len(receiver.bodies) == 1

        # A private incident keeps its conversation out of chat, in both directions.
        api.put("/api/v1/incidents/1/visibility", json={"private": True}).raise_for_status()
        refused = httpx.post(hook, json={"incident": "INC-1", "text": "anyone?", "user": "eve"})
        assert refused.status_code == 404
        api.post("/api/v1/incidents/1/messages", json={"body": "secret"}).raise_for_status()
        time.sleep(0.5)
        settle(core, 1)
        assert len(receiver.bodies) == 1


def test_chat_hook_input_is_checked(core: Tocsin) -> None:
    key = core.handle(
        commands.CreateIntegration("slack-in", IntegrationKind.CHAT, Actor("test"))
    ).key
    core.handle(commands.DeclareIncident("Search slow", Severity.P3, Actor("Dana")))
    with serving(core) as url:
        hook = f"{url}/hooks/chat/{key}"
        cases = [
            (hook, {"channel_name": "incident-1"}, 422, "text is missing or empty"),
            (hook, {"channel_name": "general", "text": "x"}, 422, "is not a war-room channel"),
            (hook, {"incident": "INC-9", "text": "x"}, 404, "no incident INC-9"),
            (f"{url}/hooks/chat/{'x' * 20}", {"text": "x"}, 404, "no integration has this key"),
        ]
        for target, form, status, detail in cases:
            response = httpx.post(target, data=form)
            assert response.status_code == status, response.text
            assert detail in response.json()["detail"]
        not_json = httpx.post(hook, content=b"{", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 422
        assert [m.body for m in core.war_room.messages(1)] == []


def test_making_an_incident_private_cancels_what_was_queued_for_channels(
    db_url: str, clock: FakeClock
) -> None:
    policy = mirrored_policy("json://127.0.0.1:9/chat")
    core = make_tocsin(db_url, clock, policy)
    try:
        core.handle(CATALOG)
        core.handle(commands.DeclareIncident("Search slow", Severity.P3, Actor("Dana")))
        core.handle(commands.PostMessage(1, "Rolling back", Actor("Dana")))
        queued = [d for d in core.paging.deliveries() if d.channel == "team-chat"]
        assert [d.status for d in queued] == ["pending"]
        core.handle(commands.SetIncidentPrivacy(1, True, Actor("Dana")))
        queued = [d for d in core.paging.deliveries() if d.channel == "team-chat"]
        assert [d.status for d in queued] == ["cancelled"]
        timeline = [e.body for e in core.incidents.timeline(1)]
        assert timeline[-1] == (
            "Cancelled 1 queued message(s) to channels: the incident is now private"
        )
    finally:
        core.close()
