"""The web UI over HTTP as a browser (with or without htmx) uses it, on both dialects."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.fakes import FakeClock, FakePasswordHasher
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole
from tocsin.domain.actors import Actor
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.entrypoints.app import create_app
from tocsin.entrypoints.web import live

PASSWORD = "correct horse battery"
HTMX = {"HX-Request": "true"}


def create_user(
    core: Tocsin, username: str, role: OrgRole, name: str, person: str | None = None
) -> None:
    core.handle(commands.CreateUser(username, PASSWORD, role, name, person))


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name} field in the page"
    return html.unescape(found.group(1))


def text_of(page: str) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    form = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": hidden(form.text, "csrf_token"),
            "next": "/incidents",
        },
        follow_redirects=False,
    )


class Browser:
    """A signed-in client that knows its session's CSRF token."""

    def __init__(self, client: TestClient, core: Tocsin) -> None:
        self.client, self.core = client, core
        self.csrf = hidden(client.get("/incidents").text, "csrf_token")

    def post(self, path: str, data: dict[str, object] | None = None, **kwargs: object) -> Response:
        fields = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(path, data=fields, **kwargs)  # type: ignore[arg-type]

    def read(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        return text_of(response.text)

    def entries(self, incident_id: int) -> int:
        """How many entries the incident's timeline shows."""
        return self.client.get(f"/incidents/{incident_id}/panels/timeline").text.count("data-seq=")


@contextlib.contextmanager
def browser_for(core: Tocsin, username: str) -> Iterator[Browser]:
    with TestClient(create_app(core)) as client:
        assert sign_in(client, username).status_code == 303
        yield Browser(client, core)


@pytest.fixture
def web(catalog: Tocsin) -> Iterator[Browser]:
    """Alice, a responder who is the catalog's person alice, signed in with the test catalog."""
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin", person="alice")
    with browser_for(catalog, "alice") as browser:
        yield browser


def declare(core: Tocsin, title: str = "Checkout down", severity: Severity = Severity.P2) -> int:
    incident_id: int = core.handle(
        commands.DeclareIncident(title, severity, Actor("Pager"), services=("checkout",))
    )
    return incident_id


# ----- signing in and out ---------------------------------------------------------------------
def test_signed_out_pages_send_the_browser_to_sign_in(catalog: Tocsin) -> None:
    with TestClient(create_app(catalog)) as client:
        for path in ("/incidents?status=open", "/incidents/new", "/incidents/1", "/services"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
        assert client.get("/", follow_redirects=True).url.path == "/login"
        redirect = client.get("/incidents?status=open", follow_redirects=False)
        assert redirect.headers["location"] == "/login?next=%2Fincidents%3Fstatus%3Dopen"
        assert "Sign in" in text_of(client.get(redirect.headers["location"]).text)


def test_a_wrong_password_is_refused_and_the_username_kept(catalog: Tocsin) -> None:
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    with TestClient(create_app(catalog)) as client:
        response = sign_in(client, "alice", "not the password")
        assert response.status_code == 401
        assert "wrong username or password" in text_of(response.text)
        assert 'value="alice"' in response.text
        assert "tocsin_session" not in client.cookies
        assert client.get("/incidents", follow_redirects=False).status_code == 303


def test_signing_in_sets_a_protected_session_cookie_and_returns_to_the_page(
    catalog: Tocsin,
) -> None:
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    with TestClient(create_app(catalog)) as client:
        form = client.get("/login?next=/teams")
        assert hidden(form.text, "next") == "/teams"
        response = client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORD,
                "csrf_token": hidden(form.text, "csrf_token"),
                "next": "/teams",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/teams"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("tocsin_session=")
        )
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # settings.secure_cookies is off in tests
        assert "Alice Martin" in text_of(client.get("/incidents").text)


def test_cookies_are_marked_secure_when_served_over_https(catalog: Tocsin) -> None:
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    catalog.settings = catalog.settings.model_copy(update={"secure_cookies": True})
    with TestClient(create_app(catalog), base_url="https://testserver") as client:
        response = sign_in(client, "alice")
        assert response.status_code == 303
        cookies = response.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("tocsin_session="))
        assert "Secure" in session
        assert "HttpOnly" in session


def test_next_only_leads_to_local_pages(catalog: Tocsin) -> None:
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    with TestClient(create_app(catalog)) as client:
        form = client.get("/login?next=//evil.example/x")
        assert hidden(form.text, "next") == "/incidents"
        response = client.post(
            "/login",
            data={
                "username": "alice",
                "password": PASSWORD,
                "csrf_token": hidden(form.text, "csrf_token"),
                "next": "https://evil.example/",
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/incidents"


def test_a_sign_in_form_posted_from_elsewhere_is_refused(catalog: Tocsin) -> None:
    """Login CSRF: without the pre-session cookie's token the form signs nobody in."""
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    with TestClient(create_app(catalog)) as client:
        response = client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": "forged-token-value"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "expired or was sent from another site" in text_of(response.text)
        assert "tocsin_session" not in client.cookies


def test_signing_out_ends_the_session(web: Browser) -> None:
    old_cookie = web.client.cookies["tocsin_session"]
    response = web.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert "You have signed out." in text_of(web.client.get(response.headers["location"]).text)
    assert web.client.get("/incidents", follow_redirects=False).status_code == 303
    # The old secret is dead on the server too, not only forgotten by this browser.
    web.client.cookies.set("tocsin_session", old_cookie)
    assert web.client.get("/incidents", follow_redirects=False).status_code == 303


# ----- the incident list ------------------------------------------------------------------------
def test_the_list_filters_by_status_severity_service_time_and_text(
    web: Browser, clock: FakeClock
) -> None:
    core = web.core
    first = clock.now()
    declare(core, "Search is slow", Severity.P3)
    core.handle(
        commands.UpdateIncident(1, Actor("Pager"), services=("search",), summary="index lag")
    )
    core.handle(commands.ChangeStatus(1, Status.RESOLVED, Actor("Pager")))
    clock.advance(hours=2)
    declare(core, "Checkout down", Severity.P1)
    clock.advance(hours=2)
    declare(core, "Payments API errors", Severity.P2)

    def titles(query: str) -> list[str]:
        page = web.read(f"/incidents?{query}")
        return [t for t in ("Search is slow", "Checkout down", "Payments API errors") if t in page]

    assert titles("") == ["Search is slow", "Checkout down", "Payments API errors"]
    assert titles("status=open") == ["Checkout down", "Payments API errors"]
    assert titles("status=resolved") == ["Search is slow"]
    assert titles("severity=P1") == ["Checkout down"]
    assert titles("service=search") == ["Search is slow"]
    assert titles("q=index+LAG") == ["Search is slow"]
    since = (first.replace(tzinfo=None)).isoformat(timespec="minutes")
    assert titles(f"since={since}&until={since[:-5]}01:45") == ["Search is slow"]
    assert titles("status=open&severity=P2") == ["Payments API errors"]
    assert "No incidents match these filters" in web.read("/incidents?severity=P4")
    bad = web.client.get("/incidents?since=yesterday")
    assert bad.status_code == 422
    assert "since 'yesterday' is not a date and time" in text_of(bad.text)


def test_the_list_pages_back_with_an_older_link(web: Browser, clock: FakeClock) -> None:
    for n in range(1, 28):
        declare(web.core, f"Incident number {n:02d}", Severity.P4)
        clock.advance(minutes=1)
    first = web.client.get("/incidents?severity=P4")
    page = text_of(first.text)
    assert "Incident number 27" in page
    assert "Incident number 03" in page
    assert "Incident number 02" not in page
    older = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*>Older incidents', first.text)
    assert older, "no 'Older incidents' link on a full page"
    second = text_of(web.client.get("/incidents" + html.unescape(older.group(1))).text)
    assert "Incident number 02" in second
    assert "Incident number 01" in second
    assert "Incident number 03" not in second
    assert "Older incidents" not in second


# ----- declaring --------------------------------------------------------------------------------
def test_declaring_through_the_form_opens_the_incident_page(web: Browser) -> None:
    response = web.post(
        "/incidents",
        {
            "title": "Checkout returns 500",
            "severity": "P1",
            "services": ["checkout", "payments"],
            "summary": "Every checkout fails since 00:20",
            "user_impact": "Nobody can pay",
            "business_impact": "All revenue stopped",
            "customer_facing": "on",
            "detection_source": "customer",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/incidents/1"
    page = web.read("/incidents/1")
    for shown in (
        "INC-1",
        "Checkout returns 500",
        "P1 · Critical",
        "respond within 15m",
        "Investigating",
        "Checkout",
        "Payments API",
        "Nobody can pay",
        "All revenue stopped",
        "Customer facing",
        "Detected by Customer",
        "#incident-1",
        "incident-bridge-1",
        "Declared P1 incident: Checkout returns 500 (checkout, payments)",
        "Alice Martin",
    ):
        assert shown in page, shown
    assert "Investigating can move to: Identified Monitoring Resolved" in page
    assert "Detected 2026-03-29 00:30 UTC system, set by Alice Martin" in page


def test_a_refused_declaration_keeps_what_was_typed(web: Browser) -> None:
    response = web.post(
        "/incidents",
        {"title": "  ", "severity": "P2", "summary": "Half the pods are crash-looping"},
    )
    assert response.status_code == 422
    page = text_of(response.text)
    assert "title must not be empty" in page
    assert "Nothing was changed" in page
    assert "Half the pods are crash-looping" in page
    assert "No incidents yet" in web.read("/incidents")
    unknown = web.post("/incidents", {"title": "Broken", "severity": "P9"})
    assert "unknown severity 'P9'" in text_of(unknown.text)


# ----- working an incident ----------------------------------------------------------------------
def test_changing_status_through_the_form(web: Browser) -> None:
    declare(web.core)
    response = web.post(
        "/incidents/1/status",
        {"status": "identified", "note": "bad deploy of cart v42"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = web.read("/incidents/1")
    assert "Status changed: Investigating → Identified — bad deploy of cart v42" in page
    assert "Identified can move to: Investigating Monitoring Resolved" in page
    # The same form through htmx answers with its refreshed panel and tells the page to refresh.
    panel = web.post("/incidents/1/status", {"status": "monitoring"}, headers=HTMX)
    assert panel.status_code == 200
    changed = json.loads(panel.headers["HX-Trigger-After-Settle"])
    assert changed == {"incident-changed": {"version": web.core.incidents.version(1)}}
    assert "Now Monitoring" in text_of(panel.text)


def test_an_invalid_transition_names_the_allowed_ones_and_writes_nothing(web: Browser) -> None:
    declare(web.core)
    before = web.entries(1)
    for headers in ({}, HTMX):
        response = web.post(
            "/incidents/1/status", {"status": "closed", "note": "all good"}, headers=headers
        )
        assert response.status_code == 409
        page = text_of(response.text)
        assert (
            "cannot move INC-1 from Investigating to Closed; "
            "allowed from Investigating: Identified, Monitoring, Resolved" in page
        )
        assert "all good" in page  # the note survives for another try
    assert web.entries(1) == before
    assert "Investigating can move to" in web.read("/incidents/1")


def test_reclassifying_needs_a_reason(web: Browser) -> None:
    declare(web.core, severity=Severity.P2)
    before = web.entries(1)
    refused = web.post("/incidents/1/severity", {"severity": "P1", "reason": " "}, headers=HTMX)
    assert refused.status_code == 422
    assert "reason must not be empty" in text_of(refused.text)
    assert web.entries(1) == before
    web.post("/incidents/1/severity", {"severity": "P1", "reason": "all regions affected"})
    page = web.read("/incidents/1")
    assert "Severity raised from P2 to P1: all regions affected" in page
    assert "P1 · Critical" in page


def test_roles_are_assigned_handed_over_and_relieved(web: Browser) -> None:
    declare(web.core)
    web.post("/incidents/1/roles", {"role": "incident_commander", "person": "alice"})
    web.post("/incidents/1/roles", {"role": "incident_commander", "person": "bob"})
    page = web.read("/incidents/1")
    assert "Alice Martin is now Incident Commander" in page
    assert "Incident Commander handed over from Alice Martin to Bob Chen" in page
    details = text_of(web.client.get("/incidents/1/panels/details").text)
    assert "Incident Commander Bob Chen" in details
    assert "Incident Commander Alice Martin" not in details
    # Alice handed command to Bob: taking it back is now Bob's decision, not hers.
    refused = web.post(
        "/incidents/1/roles/relieve",
        {"role": "incident_commander", "person": "bob"},
        headers=HTMX,
    )
    assert refused.status_code == 403
    assert (
        "relieving the Incident Commander on INC-1 needs the Incident Commander (Bob Chen); "
        "you hold no role on it" in text_of(refused.text)
    )
    create_user(web.core, "bob", OrgRole.RESPONDER, "Bob Chen", person="bob")
    with browser_for(web.core, "bob") as bob:
        again = bob.post("/incidents/1/roles", {"role": "ic", "person": "bob"}, headers=HTMX)
        assert again.status_code == 409
        assert "Bob Chen is already Incident Commander" in text_of(again.text)
        relieved = bob.post(
            "/incidents/1/roles/relieve",
            {"role": "incident_commander", "person": "bob"},
            headers=HTMX,
        )
        assert relieved.status_code == 204
        assert "incident-changed" in json.loads(relieved.headers["HX-Trigger"])
    assert "Bob Chen is no longer Incident Commander" in web.read("/incidents/1")


def test_notes_can_correct_earlier_entries(web: Browser, clock: FakeClock) -> None:
    declare(web.core)
    before = web.entries(1)  # the declaration and the first escalation step's pages
    note, fix = before + 1, before + 2
    web.post("/incidents/1/timeline", {"kind": "observation", "body": "Errors started 00:10"})
    web.post(
        "/incidents/1/timeline",
        {"kind": "observation", "body": "Errors started 00:05, not 00:10", "corrects": f"#{note}"},
    )
    timeline = text_of(web.client.get("/incidents/1/panels/timeline").text)
    assert f"#{fix} Observation Alice Martin" in timeline
    assert f"corrects #{note}" in timeline
    assert f"corrected by #{fix}" in timeline
    late = web.post(
        "/incidents/1/timeline",
        {"kind": "action", "body": "Rolled back", "occurred_at": "2026-03-29T01:30"},
        headers=HTMX,
    )
    assert late.status_code == 422
    assert "occurred_at (2026-03-29T01:30:00Z) is in the future" in text_of(late.text)
    assert "Rolled back" in text_of(late.text)
    earlier = web.post(
        "/incidents/1/timeline",
        {"kind": "action", "body": "Rolled back", "occurred_at": "2026-03-29T00:20"},
        headers=HTMX,
    )
    assert earlier.status_code == 200
    assert "Rolled back" not in earlier.text  # the form comes back empty, ready for the next
    assert "00:20 UTC" in web.read("/incidents/1/panels/timeline")
    missing = web.post("/incidents/1/timeline", {"kind": "decision", "body": "x", "corrects": "99"})
    assert missing.status_code == 404
    assert web.entries(1) == before + 3


def test_key_moments_are_marked_and_unmarked(web: Browser) -> None:
    declare(web.core)
    assert "★" not in web.read("/incidents/1/panels/timeline")
    marked = web.post("/incidents/1/timeline/1/key-moment", {"key_moment": "true"}, headers=HTMX)
    assert marked.status_code == 204
    timeline = web.read("/incidents/1/panels/timeline")
    assert "★" in timeline
    assert "Unmark key moment" in timeline
    twice = web.post("/incidents/1/timeline/1/key-moment", {"key_moment": "true"}, headers=HTMX)
    assert twice.status_code == 409
    assert twice.headers["HX-Retarget"] == "#flash"
    assert "entry #1 is already a key moment" in text_of(twice.text)
    web.post("/incidents/1/timeline/1/key-moment", {"key_moment": "false"})
    assert "★" not in web.read("/incidents/1/panels/timeline")


def test_lifecycle_timestamps_keep_their_order(web: Browser) -> None:
    declare(web.core)
    web.post(
        "/incidents/1/timestamps", {"milestone": "impact_started", "value": "2026-03-29T00:12"}
    )
    details = web.read("/incidents/1/panels/details")
    assert "Impact started 2026-03-29 00:12 UTC person, set by Alice Martin" in details
    refused = web.post(
        "/incidents/1/timestamps", {"milestone": "impact_started", "value": "2026-03-29T00:33"}
    )
    assert refused.status_code == 422
    assert "must not be later than detected_at" in text_of(refused.text)
    assert "00:12 UTC" in web.read("/incidents/1/panels/details")


def test_details_are_edited_in_one_form(web: Browser) -> None:
    declare(web.core)
    web.post(
        "/incidents/1/details",
        {
            "title": "Checkout and search down",
            "summary": "",
            "user_impact": "No orders",
            "business_impact": "",
            "detection_source": "alert",
            "services": ["checkout", "search"],
        },
    )
    page = web.read("/incidents/1")
    assert "Checkout and search down" in page
    assert "Services Checkout Search" in page
    assert "Detected by Alert" in page
    same = web.post(
        "/incidents/1/details",
        {
            "title": "Checkout and search down",
            "user_impact": "No orders",
            "detection_source": "alert",
            "services": ["checkout", "search"],
        },
    )
    assert same.status_code == 409
    assert "nothing differs from the incident as it stands" in text_of(same.text)


# ----- refusals: CSRF and read-only accounts ----------------------------------------------------
def test_posts_without_the_session_token_change_nothing(web: Browser) -> None:
    declare(web.core)
    before = web.entries(1)
    client = web.client
    no_token = client.post("/incidents/1/timeline", data={"kind": "action", "body": "forged"})
    assert no_token.status_code == 403
    assert "security token" in text_of(no_token.text)
    wrong = client.post(
        "/incidents/1/status", data={"status": "resolved", "csrf_token": web.csrf[:-2] + "xx"}
    )
    assert wrong.status_code == 403
    forged_declare = client.post(
        "/incidents", data={"title": "Forged", "severity": "P1", "csrf_token": ""}
    )
    assert forged_declare.status_code == 403
    assert web.entries(1) == before
    assert "Forged" not in web.read("/incidents")
    # htmx sends the token in a header instead of the form.
    by_header = client.post(
        "/incidents/1/timeline",
        data={"kind": "action", "body": "restarted cart"},
        headers={**HTMX, "X-CSRF-Token": web.csrf},
    )
    assert by_header.status_code == 200
    assert web.entries(1) == before + 1


def test_viewers_can_read_but_not_change(catalog: Tocsin) -> None:
    declare(catalog)
    create_user(catalog, "vic", OrgRole.VIEWER, "Vic Viewer")
    with browser_for(catalog, "vic") as viewer:
        page = viewer.read("/incidents/1")
        assert "Checkout down" in page
        assert "read-only access" in page
        assert "Change status" not in page
        assert "Declare incident" not in viewer.read("/incidents")
        before = viewer.entries(1)
        refused = viewer.post("/incidents/1/status", {"status": "resolved"})
        assert refused.status_code == 403
        assert "you can read incidents but not change them" in text_of(refused.text)
        assert viewer.post("/incidents", {"title": "x", "severity": "P4"}).status_code == 403
        assert viewer.entries(1) == before
        assert "Investigating can move to" in viewer.read("/incidents/1")
        assert viewer.post("/logout", follow_redirects=False).status_code == 303


# ----- catalog and errors -----------------------------------------------------------------------
def test_services_and_teams_pages_list_the_catalog(web: Browser) -> None:
    declare(web.core)
    services = web.read("/services")
    for shown in ("Checkout", "Payments API", "Search", "Tier 1", "Tier 3", "1 open"):
        assert shown in services, shown
    assert "Depends on payments" in services
    teams = web.read("/teams")
    assert "Payments" in teams
    assert "Alice Martin @alice · on-call engineer" in teams
    assert "Bob Chen @bob · team lead" in teams


def test_unknown_pages_and_incidents_get_an_html_error_page(web: Browser) -> None:
    missing = web.client.get("/incidents/42")
    assert missing.status_code == 404
    assert "no incident INC-42" in text_of(missing.text)
    assert missing.headers["content-type"].startswith("text/html")
    assert web.client.get("/incidents/INC-x").status_code == 404
    assert web.client.get("/incidents/1/panels/nope").status_code == 404


def test_static_assets_are_served(web: Browser) -> None:
    for name in ("htmx.min.js", "sse.js", "pico.min.css", "app.css", "app.js", "VENDORED.md"):
        response = web.client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert len(response.content) > 500, name
    page = web.client.get("/incidents/new").text
    assert re.search(r'src="/static/htmx\.min\.js\?v=[0-9a-f]{10}"', page)


# ----- live updates -------------------------------------------------------------------------------
def next_event(lines: Iterator[str], deadline_seconds: float = 20.0) -> dict[str, str]:
    """Read one server-sent event (skipping comments and the retry hint)."""
    deadline = time.monotonic() + deadline_seconds
    event: dict[str, str] = {}
    for line in lines:
        if time.monotonic() > deadline:
            break
        if not line:
            if "event" in event:
                return event
            event = {}
            continue
        name, _, value = line.partition(":")
        if name:
            event[name] = value.strip()
    raise AssertionError("no event arrived in time")


def test_the_event_stream_announces_every_change(web: Browser) -> None:
    declare(web.core)
    shown = web.core.incidents.version(1)
    with web.client.stream("GET", f"/incidents/1/events?since={shown}") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        # A change through the bus (the API, the CLI and the forms all go this way) wakes it.
        web.core.handle(commands.AddTimelineEntry(1, EntryKind.ACTION, "restarted", Actor("CLI")))
        event = next_event(lines)
        assert event["event"] == "changed"
        assert event["data"] == str(web.core.incidents.version(1))
        web.post("/incidents/1/status", {"status": "identified"})
        assert next_event(lines)["data"] == str(web.core.incidents.version(1))


def test_the_event_stream_hears_other_processes(web: Browser, clock: FakeClock) -> None:
    """Another server or CLI process has its own hub: SQLite is polled, PostgreSQL notifies."""
    declare(web.core)
    other = bootstrap(
        load_settings(database_url=web.core.database.url), clock=clock, hasher=FakePasswordHasher()
    )
    try:
        shown = web.core.incidents.version(1)
        with web.client.stream("GET", f"/incidents/1/events?since={shown}") as stream:
            lines = stream.iter_lines()
            other.handle(commands.ChangeStatus(1, Status.MONITORING, Actor("Other process")))
            event = next_event(lines)
            assert event["event"] == "changed"
            assert event["data"] == str(other.incidents.version(1))
    finally:
        other.close()


def test_a_page_rendered_before_a_change_catches_up_at_once(web: Browser) -> None:
    declare(web.core)
    shown = web.core.incidents.version(1)
    web.post("/incidents/1/timeline", {"kind": "observation", "body": "while loading"})
    with web.client.stream("GET", f"/incidents/1/events?since={shown}") as stream:
        assert next_event(stream.iter_lines())["event"] == "changed"


def test_live_requests_from_a_signed_out_browser_are_sent_to_sign_in(catalog: Tocsin) -> None:
    declare(catalog)
    with TestClient(create_app(catalog)) as client:
        events = client.get("/incidents/1/events", headers={"Accept": "text/event-stream"})
        assert events.status_code == 401
        panel = client.get(
            "/incidents/1/panels/details",
            headers={**HTMX, "HX-Current-URL": "http://testserver/incidents/1"},
        )
        assert panel.status_code == 401
        assert panel.headers["HX-Redirect"] == "/login?next=%2Fincidents%2F1"


def test_a_stream_ends_by_itself_leaving_the_browser_its_place(web: Browser) -> None:
    """Streams are recycled (so shutdowns never wait on them); the id lets the browser resume."""
    declare(web.core)
    shown = web.core.incidents.version(1)

    async def collect() -> list[str]:
        stream = live.changes(web.core, 1, shown, poll=0.05, lifetime=0.3)
        return [message async for message in stream]

    messages = asyncio.run(collect())
    assert messages[0] == f"retry: 2000\nid: {shown}\n\n"
    assert messages[-1] == "retry: 250\n\n"
    assert not any("event: changed" in m for m in messages)
