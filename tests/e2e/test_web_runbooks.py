"""The Runbooks pages and the war room's "Runbooks & actions" panel, as a browser uses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.target import _Target, target_server
from tests.e2e.test_web_pages import HTMX, Browser, browser_for, create_user, declare, text_of
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole
from tocsin.domain.actors import Actor
from tocsin.domain.roles import Role

SECRET = "hunter2-feature-flag-key"
OPERATOR = Actor("Operator")


@pytest.fixture
def target() -> Iterator[_Target]:
    with target_server() as server:
        yield server


@pytest.fixture
def web(catalog: Tocsin) -> Iterator[Browser]:
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin", person="alice")
    with browser_for(catalog, "alice") as browser:
        yield browser


def runbook(url: str, *, approval: bool = False) -> commands.RunbookSpec:
    return commands.RunbookSpec(
        slug="checkout-down",
        title="Checkout is down",
        body=(
            "# Checkout is down\n\nRead <script>alert('owned')</script> first.\n\n"
            "- [ ] Look at the dashboard\n- [ ] Turn the flag off {action: flag-off}\n"
        ),
        services=("checkout",),
        actions=(
            commands.ActionSpec(
                name="flag-off",
                method="POST",
                url=url + "/ok",
                title="Turn the new checkout flag off",
                headers=(("X-Flag-Key", "${TOCSIN_SECRET_FLAG_KEY}"),),
                requires_approval=approval,
            ),
        ),
    )


def test_runbook_pages_render_sanitised_markdown_and_edit_it(web: Browser, catalog: Tocsin) -> None:
    catalog.handle(commands.ImportRunbooks((runbook("http://127.0.0.1:9"),), OPERATOR))
    listing = web.read("/runbooks")
    assert "Checkout is down checkout-down" in listing and "Steps 2" in listing
    page = web.client.get("/runbooks/checkout-down")
    assert page.status_code == 200
    assert "<h1>Checkout is down</h1>" in page.text
    assert "<script>alert" not in page.text
    assert 'type="checkbox" disabled' in page.text

    fields: dict[str, object] = {
        "slug": "checkout-down",
        "title": "Checkout is down",
        "services": "checkout, payments",
        "alerts": "CheckoutErrors",
        "body": "- [ ] Only this step now\n",
    }
    saved = web.post("/runbooks", fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/runbooks/checkout-down"
    after = web.read("/runbooks/checkout-down")
    assert "Only this step now" in after and "Look at the dashboard" not in after
    assert "actions: flag-off" in after  # editing the text keeps the runbook's actions
    assert "alerts: CheckoutErrors" in after

    refused = web.post("/runbooks", {**fields, "title": "  "})
    assert refused.status_code == 422
    assert "title must not be empty" in text_of(refused.text)
    bad_slug = web.post("/runbooks", {**fields, "slug": "Not A Slug!"})
    assert bad_slug.status_code == 422 and "slug 'not a slug!' must be" in text_of(bad_slug.text)
    assert [b.slug for b in catalog.runbooks.list()] == ["checkout-down"]

    assert "Write the runbook" in web.read("/runbooks/new")
    new: dict[str, object] = {
        "slug": "db-failover",
        "title": "Fail the database over",
        "body": "1. Promote\n",
    }
    created = web.post("/runbooks", new, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/runbooks/db-failover"
    assert "Fail the database over" in web.read("/runbooks")


def test_the_war_room_attaches_ticks_runs_and_checks(
    web: Browser, catalog: Tocsin, target: _Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_SECRET_FLAG_KEY", SECRET)
    catalog.handle(commands.ImportRunbooks((runbook(target.url),), OPERATOR))
    incident_id = declare(catalog)
    base = f"/incidents/{incident_id}"
    panel = web.read(base + "/panels/runbooks")
    assert "Suggested for this incident: Checkout is down matches checkout" in panel
    assert "Alert clearance: no alerts are linked to this incident." in panel

    attached = web.post(base + "/runbooks", {"runbook": "checkout-down"}, headers=HTMX)
    assert (
        attached.status_code == 200
        and "incident-changed" in attached.headers["HX-Trigger-After-Settle"]
    )
    assert "Checkout is down 0/2 done" in text_of(attached.text)
    ticked = web.post(base + "/runbooks/checkout-down/steps/1", {"done": "on"}, headers=HTMX)
    assert "1/2 done" in text_of(ticked.text)
    assert "Look at the dashboard — Alice Martin" in text_of(ticked.text)

    ran = web.post(base + "/actions/flag-off/run", {}, headers=HTMX)
    assert ran.status_code == 200, ran.text
    shown = text_of(ran.text)
    assert "Succeeded #1 flag-off HTTP 200 in" in shown
    assert target.requests[-1]["headers"]["X-Flag-Key"] == SECRET  # type: ignore[index]

    checked = web.post(
        base + "/checks",
        {
            "url": target.url + "/ok",
            "expect_status": "200",
            "repeat": "2",
            "interval": "0",
            "max_latency_ms": "5000",
        },
        headers=HTMX,
    )
    assert checked.status_code == 200, checked.text
    refused = web.post(base + "/checks", {"url": target.url, "repeat": "many"}, headers=HTMX)
    assert refused.status_code == 422 and "repeat must be a whole number" in text_of(refused.text)

    timeline = web.read(base + "/panels/timeline")
    assert "Runbook attached: Checkout is down (2 steps)" in timeline
    assert "Step done (Checkout is down, step 1): Look at the dashboard" in timeline
    assert "Action flag-off succeeded: HTTP 200" in timeline
    assert f"Recovery check passed 2/2: GET {target.url}/ok → 200" in timeline
    for path in (base, base + "/panels/runbooks", base + "/panels/timeline"):
        assert SECRET not in web.client.get(path).text, path


def test_approval_in_the_war_room_needs_the_commander(
    web: Browser, catalog: Tocsin, target: _Target
) -> None:
    catalog.handle(commands.ImportRunbooks((runbook(target.url, approval=True),), OPERATOR))
    incident_id = declare(catalog)
    catalog.handle(commands.AssignRole(incident_id, Role.INCIDENT_COMMANDER, "bob", OPERATOR))
    catalog.handle(commands.AssignRole(incident_id, Role.TECHNICAL_LEAD, "alice", OPERATOR))
    base = f"/incidents/{incident_id}"
    waiting = web.post(base + "/actions/flag-off/run", {}, headers=HTMX)
    assert "Awaiting approval #1 flag-off" in text_of(waiting.text)
    assert target.requests == []
    refused = web.post(base + "/runs/1/approve", {}, headers=HTMX)
    assert refused.status_code == 403
    assert (
        "approving the action flag-off on INC-1 needs the Incident Commander (Bob Chen)"
        in text_of(refused.text)
    )
    assert target.requests == []
