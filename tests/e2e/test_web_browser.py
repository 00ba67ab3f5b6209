"""The web UI in headless Chromium against a real uvicorn server: forms, htmx and live updates."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import CATALOG, chromium_path, require_component
from tests.fakes import FakePasswordHasher
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole
from tocsin.domain.actors import Actor
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.entrypoints.app import create_app
from tocsin.entrypoints.web import live

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIVE_TIMEOUT_MS = 5_000


@dataclass
class LiveServer:
    url: str
    core: Tocsin


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    path = chromium_path()
    require_component(
        "Chromium",
        None
        if path
        else "chromium not found; install Debian packages chromium and chromium-driver",
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """uvicorn in a background thread on a free port, on SQLite with the test catalog and users."""
    # No paging: these tests count timeline entries; paging has its own tests (tests/paging).
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'tocsin.db'}", paging_embedded=False
    )
    core = bootstrap(settings, hasher=FakePasswordHasher())
    core.migrate()
    core.handle(CATALOG)
    core.handle(commands.CreateUser("alice", PASSWORD, OrgRole.RESPONDER, "Alice Martin"))
    core.handle(commands.CreateUser("bob", PASSWORD, OrgRole.RESPONDER, "Bob Chen"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(core), log_level="warning", timeout_graceful_shutdown=2, lifespan="on"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", core)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()
        core.close()


def signed_in(
    browser: Browser, server: LiveServer, username: str, **context_options: object
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=server.url, **context_options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/incidents")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fincidents")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/incidents")
    return context, page


def test_declare_and_change_status_while_another_responder_watches_live(
    chromium: Browser, server: LiveServer
) -> None:
    alice_context, alice = signed_in(chromium, server, "alice")
    bob_context, bob = signed_in(chromium, server, "bob")
    try:
        # Alice declares through the form.
        alice.get_by_role("button", name="Declare incident").click()
        alice.get_by_label("Title").fill("Checkout returns 500 for card payments")
        alice.locator("input[name=severity][value=P2]").check()
        alice.locator("input[name=services][value=checkout]").check()
        alice.get_by_label("Summary").fill("Every card checkout fails")
        alice.get_by_role("button", name="Declare incident").click()
        expect(alice).to_have_url(f"{server.url}/incidents/1")
        expect(alice.locator("h1")).to_have_text("Checkout returns 500 for card payments")
        expect(alice.locator("#panel-details .incident-head")).to_contain_text("P2 · High")

        # Bob has the incident open and is halfway through typing a note in a live panel.
        bob.goto("/incidents/1")
        expect(bob.locator(".incident-page")).to_have_attribute("data-live-state", "open")
        bob.evaluate("window.notReloaded = true")
        bob.locator("#status-note").fill("half-typed thought")
        timeline = bob.locator("#panel-timeline")
        expect(timeline).to_contain_text("Declared P2 incident")
        shown = timeline.locator(".entry").count()  # with the pages declaring sent at once

        # Alice moves the incident to Identified.
        alice.locator("#panel-status input[value=identified]").check()
        alice.locator("#status-note").fill("bad deploy of cart v42")
        alice.get_by_role("button", name="Change status").click()
        expect(alice.locator("#panel-details .incident-head .status")).to_have_text("Identified")
        expect(alice.locator("#status-note")).to_have_value("")

        # Bob sees it without reloading, and keeps what he was typing.
        head = bob.locator("#panel-details .incident-head")
        expect(head.locator(".status")).to_have_text("Identified", timeout=LIVE_TIMEOUT_MS)
        expect(timeline.locator(".entry")).to_have_count(shown + 1, timeout=LIVE_TIMEOUT_MS)
        expect(timeline).to_contain_text(
            "Status changed: Investigating → Identified — bad deploy of cart v42"
        )
        expect(bob.locator("#status-note")).to_have_value("half-typed thought")

        # A note from Alice, and a change made outside the web UI, both appear for Bob too.
        alice.get_by_label("What happened, was done, decided or said").fill("Rolled back cart")
        alice.get_by_role("button", name="Add to timeline").click()
        expect(timeline.locator(".entry").first).to_contain_text(
            "Rolled back cart", timeout=LIVE_TIMEOUT_MS
        )
        server.core.handle(
            commands.ReclassifyIncident(1, Severity.P1, "all regions", Actor("Carol via CLI"))
        )
        expect(head).to_contain_text("P1 · Critical", timeout=LIVE_TIMEOUT_MS)
        expect(timeline.locator(".entry").first).to_contain_text("Severity raised from P2 to P1")
        assert bob.evaluate("window.notReloaded") is True
    finally:
        alice_context.close()
        bob_context.close()


def test_an_invalid_change_is_explained_next_to_its_form(
    chromium: Browser, server: LiveServer
) -> None:
    server.core.handle(commands.DeclareIncident("Search slow", Severity.P3, Actor("Pager")))
    context, page = signed_in(chromium, server, "alice")
    try:
        page.goto("/incidents/1")
        shown = page.locator("#panel-timeline .entry").count()
        page.get_by_text("Reclassify severity").click()
        page.locator("#panel-severity input[value=P1]").check()
        # The browser's own check would stop an empty reason; a reason of spaces gets through it.
        page.locator("#severity-reason").fill("   ")
        page.get_by_role("button", name="Reclassify").click()
        alert = page.locator("#panel-severity [role=alert]")
        expect(alert).to_contain_text("reason must not be empty")
        expect(page.locator("#panel-details .incident-head")).to_contain_text("P3 · Medium")
        expect(page.locator("#panel-timeline .entry")).to_have_count(shown)
    finally:
        context.close()


def test_live_updates_carry_on_across_recycled_streams(
    chromium: Browser, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends each event stream after a while; the page reconnects and misses nothing."""
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.5)
    server.core.handle(commands.DeclareIncident("Search slow", Severity.P3, Actor("Pager")))
    context, page = signed_in(chromium, server, "bob")
    try:
        page.goto("/incidents/1")
        page.evaluate("window.notReloaded = true")
        page.wait_for_timeout(1_600)  # at least two streams have ended and been replaced
        server.core.handle(commands.ChangeStatus(1, Status.MONITORING, Actor("Carol via CLI")))
        head = page.locator("#panel-details .incident-head")
        expect(head.locator(".status")).to_have_text("Monitoring", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator(".incident-page")).to_have_attribute("data-live-state", "open")
        assert page.evaluate("window.notReloaded") is True
    finally:
        context.close()


def test_the_incident_list_fits_a_phone(chromium: Browser, server: LiveServer) -> None:
    for n, severity in enumerate(Severity, start=1):
        server.core.handle(
            commands.DeclareIncident(
                f"Incident {n}: intermittent_failures_in_the_payment_reconciliation_pipeline",
                severity,
                Actor("Pager"),
                services=("checkout", "payments", "search"),
                customer_facing=True,
            )
        )
    context, page = signed_in(chromium, server, "alice", viewport={"width": 375, "height": 800})
    try:
        expect(page.locator(".incident-card")).to_have_count(4)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.goto("/incidents/1")
        expect(page.locator("h1")).to_contain_text("Incident 1")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_a_silence_made_through_the_form_is_listed_and_can_be_expired(
    chromium: Browser, server: LiveServer
) -> None:
    context, page = signed_in(chromium, server, "alice", viewport={"width": 390, "height": 844})
    try:
        page.get_by_role("link", name="Silences").click()
        expect(page).to_have_url(f"{server.url}/silences")
        expect(page.get_by_role("link", name="Silences")).to_have_attribute("aria-current", "page")
        expect(page.locator("main")).to_contain_text("No silences are active or pending")
        page.get_by_label("Matchers").fill('service="search"\nalertname=~"Disk.*"')
        page.get_by_label("For", exact=True).fill("2h")
        page.get_by_label("Why").fill("Reindexing search tonight")
        page.get_by_role("button", name="Create silence").click()
        expect(page).to_have_url(f"{server.url}/silences#silence-1")
        card = page.locator("#silence-1")
        expect(card.locator(".silence-state")).to_have_text("Active")
        expect(card.locator(".matcher")).to_have_text(['service="search"', 'alertname=~"Disk.*"'])
        expect(card).to_contain_text("Reindexing search tonight")
        expect(card).to_contain_text("by Alice Martin")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert [s.comment for s in server.core.alerts.silences()] == ["Reindexing search tonight"]

        card.get_by_role("button", name="Expire silence #1 now").click()
        expect(page.locator("#silence-1 .silence-state")).to_have_text("Expired")
        expect(page.locator("main")).to_contain_text("No silences are active or pending")
    finally:
        context.close()


def test_the_signing_secret_is_offered_only_for_grafana(
    chromium: Browser, server: LiveServer
) -> None:
    server.core.handle(commands.CreateUser("ada", PASSWORD, OrgRole.ADMIN, "Ada Admin"))
    context, page = signed_in(chromium, server, "ada")
    try:
        page.get_by_role("link", name="Integrations").click()
        secret = page.locator("#integration-secret")
        expect(secret).to_be_hidden()
        page.get_by_label("Kind").select_option("grafana")
        expect(secret).to_be_visible()
        page.get_by_label("Name").fill("grafana-prod")
        secret.fill("hmac-s3cret-value")
        page.get_by_role("button", name="Create integration").click()
        card = page.locator("#integration-grafana-prod")
        expect(card).to_contain_text("HMAC secret set")
        expect(card.locator(".copy-source")).to_contain_text("/hooks/grafana/")
        expect(page.locator("#integration-secret")).to_be_hidden()
    finally:
        context.close()


def test_two_participants_talk_in_the_war_room_live(chromium: Browser, server: LiveServer) -> None:
    server.core.handle(commands.DeclareIncident("Checkout down", Severity.P2, Actor("Pager")))
    alice_context, alice = signed_in(chromium, server, "alice")
    bob_context, bob = signed_in(chromium, server, "bob")
    try:
        for page in (alice, bob):
            page.goto("/incidents/1")
            expect(page.locator(".incident-page")).to_have_attribute("data-live-state", "open")
        bob.evaluate("window.notReloaded = true")
        bob.get_by_label("Message", exact=True).fill("half-typed")

        alice.get_by_label("Message", exact=True).fill("Rolling back cart v42")
        alice.get_by_role("button", name="Send").click()
        expect(alice.get_by_label("Message", exact=True)).to_have_value("")
        bob_messages = bob.locator("#panel-messages .message")
        expect(bob_messages).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
        expect(bob_messages.first).to_contain_text("Alice Martin")
        expect(bob_messages.first).to_contain_text("Rolling back cart v42")
        expect(bob.get_by_label("Message", exact=True)).to_have_value("half-typed")

        bob.get_by_label("Message", exact=True).fill("Error rate is dropping")
        bob.get_by_role("button", name="Send").click()
        alice_messages = alice.locator("#panel-messages .message")
        expect(alice_messages).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
        expect(alice_messages.last).to_contain_text("Bob Chen")
        expect(alice_messages.last).to_contain_text("Error rate is dropping")
        assert bob.evaluate("window.notReloaded") is True
    finally:
        alice_context.close()
        bob_context.close()


def test_ticks_and_task_changes_reach_the_other_participant_live(
    chromium: Browser, server: LiveServer
) -> None:
    server.core.handle(commands.DeclareIncident("Checkout down", Severity.P2, Actor("Pager")))
    alice_context, alice = signed_in(chromium, server, "alice")
    bob_context, bob = signed_in(chromium, server, "bob")
    try:
        for page in (alice, bob):
            page.goto("/incidents/1")
            expect(page.locator(".incident-page")).to_have_attribute("data-live-state", "open")
        bob.evaluate("window.notReloaded = true")
        item = "Alert validation and deduplication"

        alice.get_by_title(f"Tick: {item}", exact=False).first.click()
        ticked = bob.locator("#panel-workflow .check-item.is-done")
        expect(ticked).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
        expect(ticked).to_contain_text(item, ignore_case=True)
        expect(ticked).to_contain_text("ticked by Alice Martin")

        alice.locator("#task-initial_assessment").get_by_role("button", name="Start").click()
        task = bob.locator("#panel-tasks #task-initial_assessment")
        expect(task.locator(".task-status")).to_have_text("In progress", timeout=LIVE_TIMEOUT_MS)
        bob.locator("#task-initial_assessment").get_by_role("button", name="Done").click()
        done = alice.locator("#panel-tasks #task-initial_assessment .task-status")
        expect(done).to_have_text("Done", timeout=LIVE_TIMEOUT_MS)
        timeline = alice.locator("#panel-timeline")
        expect(timeline).to_contain_text("Bob Chen")
        assert bob.evaluate("window.notReloaded") is True
    finally:
        alice_context.close()
        bob_context.close()
