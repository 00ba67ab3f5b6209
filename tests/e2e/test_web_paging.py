"""Paging on the web and over the API: the incident's paging panel, acknowledging from the
page, the deliveries page with the pages Tocsin gave up on, and their API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.e2e.test_web_pages import Browser, browser_for, create_user, declare
from tests.fakes import FakeNotifier
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.paging import SendFailed
from tocsin.entrypoints.paging import paging_cycle


@pytest.fixture
def web(catalog: Tocsin) -> Iterator[Browser]:
    """Alice, a responder and the on-call engineer of checkout's team, signed in."""
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    with browser_for(catalog, "alice") as browser:
        yield browser


def page(core: Tocsin, receiver: FakeNotifier, cycles: int = 1) -> None:
    core.notifier = receiver  # type: ignore[assignment]
    for _ in range(cycles):
        asyncio.run(paging_cycle(core))


def test_the_incident_page_shows_its_pages_and_acknowledges_them(web: Browser) -> None:
    incident = declare(web.core)
    page(web.core, FakeNotifier())
    panel = web.read(f"/incidents/{incident}/panels/paging")
    assert "Escalating (P2 path): step 2" in panel
    assert "Alice Martin · email · step 1" in panel and "Bob Chen · email · step 1" in panel
    assert "Acknowledge" in panel

    done = web.post(f"/incidents/{incident}/acknowledge", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("#panel-paging")
    panel = web.read(f"/incidents/{incident}/panels/paging")
    assert "Acknowledged" in panel and "escalation stopped" in panel
    assert "<button" not in web.client.get(f"/incidents/{incident}/panels/paging").text
    assert "Acknowledged by Alice Martin; paging stops" in web.read(f"/incidents/{incident}")

    again = web.post(f"/incidents/{incident}/acknowledge")
    assert again.status_code == 409 and "already acknowledged" in again.text


def test_pages_given_up_on_are_listed_on_the_web_and_the_api(web: Browser) -> None:
    receiver = FakeNotifier()
    receiver.fail("alice@example.com", SendFailed("550 mailbox unavailable", permanent=True))
    incident = declare(web.core)
    page(web.core, receiver, cycles=2)
    dead = web.read("/deliveries?status=dead")
    assert "INC-1" in dead and "Alice Martin" in dead and "550 mailbox unavailable" in dead
    assert "Bob Chen" not in dead
    assert "Bob Chen" in web.read("/deliveries")

    token = make_token(web.core, Scope.READ, "reader")
    with TestClient(web.client.app, headers={"Authorization": f"Bearer {token}"}) as api:
        listed = api.get("/api/v1/deliveries", params={"status": "dead"}).json()
        assert [(d["incident"], d["person"], d["status"]) for d in listed] == [
            ("INC-1", "Alice Martin", "dead")
        ]
        paging = api.get(f"/api/v1/incidents/INC-{incident}/paging").json()
        assert paging["escalation"]["state"] == "active"
        assert sorted(d["person"] for d in paging["deliveries"]) == ["Alice Martin", "Bob Chen"]
        assert api.get("/api/v1/deliveries", params={"status": "lost"}).status_code == 422
