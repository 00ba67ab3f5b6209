"""Alert, silence and integration pages over HTTP, fed by real Alertmanager webhooks."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.conftest import make_token, wait_for
from tests.e2e.test_hooks import AM_PAYLOAD
from tests.e2e.test_web_pages import HTMX, Browser, browser_for, create_user, next_event, text_of
from tests.fakes import FakeClock
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.matchers import parse_matchers
from tocsin.domain.severities import Severity
from tocsin.entrypoints.app import create_app
from tocsin.services.demo import load_demo
from tocsin.views.alerts import AlertFilter

# Webhooks answer once a delivery is durable and wait this long for it to be applied; the tests
# read the pages right after, so they wait long enough never to see a delivery still queued.
PATIENT = {"intake_wait_seconds": 30.0}


@pytest.fixture
def responder(catalog: Tocsin) -> Iterator[Browser]:
    """Alice, a responder, signed in on a database with the test catalog."""
    catalog.settings = catalog.settings.model_copy(update=PATIENT)
    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    with browser_for(catalog, "alice") as browser:
        yield browser


@pytest.fixture
def admin(catalog: Tocsin) -> Iterator[Browser]:
    """Ada, an admin, signed in on a database with the test catalog."""
    catalog.settings = catalog.settings.model_copy(update=PATIENT)
    create_user(catalog, "ada", OrgRole.ADMIN, "Ada Admin")
    with browser_for(catalog, "ada") as browser:
        yield browser


def prometheus(core: Tocsin, name: str = "prom") -> str:
    """An Alertmanager integration; its key."""
    made = core.handle(commands.CreateIntegration(name, IntegrationKind.ALERTMANAGER, Actor("Ops")))
    return str(made.key)


def am_alert(
    alertname: str,
    service: str,
    *,
    severity: str = "warning",
    instance: str = "host-1",
    status: str = "firing",
    annotations: dict[str, str] | None = None,
    generator: str = "",
) -> dict[str, Any]:
    """One alert as Alertmanager writes it in a webhook notification."""
    return {
        "status": status,
        "labels": {
            "alertname": alertname,
            "service": service,
            "severity": severity,
            "instance": instance,
        },
        "annotations": annotations or {"summary": f"{alertname} on {service}"},
        "startsAt": "2026-03-29T00:20:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": generator,
    }


def notify(browser: Browser, key: str, *alerts: dict[str, Any]) -> Response:
    """Post a notification to the webhook as Alertmanager would (no session needed)."""
    payload: dict[str, Any] = copy.deepcopy(AM_PAYLOAD)
    if alerts:
        payload = {"version": "4", "status": "firing", "receiver": "tocsin", "alerts": list(alerts)}
    response = browser.client.post(f"/hooks/alertmanager/{key}", json=payload)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted", "applied before the answer"
    return response


def cards(page: str) -> list[str]:
    """The alert list's rows, top to bottom, as a person reads each."""
    return [
        text_of(c) for c in re.findall(r'<li class="incident-card alert-card.*?</li>', page, re.S)
    ]


def integration_count(core: Tocsin) -> int:
    return len(core.alerts.integrations())


def test_signed_out_browsers_are_sent_to_sign_in(catalog: Tocsin) -> None:
    with TestClient(create_app(catalog)) as client:
        for path in ("/alerts?status=firing", "/alerts/1", "/silences", "/integrations"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=%2F"), path
        posted = client.post("/silences", data={"matchers": 'a="b"'}, follow_redirects=False)
        assert posted.status_code == 303 and posted.headers["location"].startswith("/login")
    assert catalog.alerts.silences() == []


# ----- the alert list ---------------------------------------------------------------------------
def test_the_alert_list_shows_the_newest_first_with_what_a_responder_needs(
    admin: Browser, clock: FakeClock
) -> None:
    key = prometheus(admin.core)
    notify(admin, key)  # AM_PAYLOAD: web-1 firing (declares INC-1), web-2 already resolved
    admin.core.handle(
        commands.CreateSilence(
            parse_matchers(['service="search"']),
            clock.now().replace(hour=3),
            "reindex",
            Actor("Ops"),
        )
    )
    clock.advance(minutes=5)
    notify(admin, key, am_alert("DiskFull", "search", instance="db-1"))
    clock.advance(minutes=5)
    notify(admin, key)  # Alertmanager repeats the group: counted, not listed again

    rows = cards(admin.client.get("/alerts").text)
    assert len(rows) == 3
    assert rows[0].startswith("P3 Firing Silenced sent as warning DiskFull on search")
    assert cards(admin.client.get("/alerts?status=silenced").text) == rows[:1]
    assert 'value="silenced" selected' in admin.client.get("/alerts?status=silenced").text
    token = make_token(admin.core, Scope.READ)
    listed = admin.client.get(
        "/api/v1/alerts?status=silenced", headers={"Authorization": f"Bearer {token}"}
    ).json()["items"]
    assert [a["title"] for a in listed] == ["DiskFull on search"]
    assert "Service search · no incident (silenced) · via prom" in rows[0]
    assert "First 2026-03-29 00:35 UTC · received 1 time" in rows[0]
    assert rows[1].startswith("P1 Resolved sent as critical p99 latency above 2s")
    assert "no incident" in rows[1]
    assert rows[2].startswith("P1 Firing sent as critical p99 latency above 2s")
    assert "Service checkout · INC-1 · via prom" in rows[2]
    assert "First 2026-03-29 00:30 UTC · last 2026-03-29 00:40 UTC · received 2 times" in rows[2]
    page = admin.client.get("/alerts").text
    assert '<a href="/incidents/1" class="incident-link">INC-1</a>' in page
    assert '<a href="/alerts" aria-current="page">Alerts</a>' in page


def test_the_alert_list_filters_and_pages(admin: Browser, clock: FakeClock) -> None:
    key = prometheus(admin.core)
    other = prometheus(admin.core, "grafana-ish")
    notify(admin, key)
    notify(admin, other, am_alert("DiskFull", "search"))

    def titles(query: str) -> list[str]:
        return [row.split(" via ")[0] for row in cards(admin.client.get(f"/alerts?{query}").text)]

    assert len(titles("")) == 3
    firing = titles("status=firing")
    assert len(firing) == 2 and all("Firing" in t for t in firing)
    assert [("Resolved" in t) for t in titles("status=resolved")] == [True]
    assert len(titles("status=open")) == 2
    other_only = titles("integration=grafana-ish")
    assert len(other_only) == 1 and "DiskFull" in other_only[0]
    checkout = titles("service=checkout")
    assert len(checkout) == 2 and all("p99 latency" in t for t in checkout)
    both = titles("service=checkout&status=firing&integration=prom")
    assert len(both) == 1 and both[0].startswith("P1 Firing")
    assert titles("integration=nope") == []
    assert len(titles("incident=INC-1")) == 1
    assert "No alerts match these filters" in admin.read("/alerts?service=web")
    bad = admin.client.get("/alerts?status=burning")
    assert bad.status_code == 422
    assert "unknown alert status 'burning'" in text_of(bad.text)
    assert "resolved or silenced" in text_of(bad.text)

    # 30 more in one notification: 25 on the first page, the rest behind "Older alerts".
    clock.advance(minutes=1)
    notify(admin, key, *(am_alert(f"Batch{n:02d}", "search", instance=f"h{n}") for n in range(30)))
    first = admin.client.get("/alerts?service=search")
    assert len(cards(first.text)) == 25
    assert "Batch29 on search" in text_of(first.text)
    older = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*>Older alerts', first.text)
    assert older, "no 'Older alerts' link on a full page"
    second = admin.client.get("/alerts" + older.group(1).replace("&amp;", "&"))
    rest = cards(second.text)
    assert len(rest) == 6  # Batch04 … Batch00 and the DiskFull alert
    assert "Batch00 on search" in rest[-2] and "DiskFull" in rest[-1]
    assert "Older alerts" not in second.text
    assert "Newest" in second.text
    assert admin.client.get("/alerts?cursor=nonsense").status_code == 422


# ----- one alert --------------------------------------------------------------------------------
def test_the_alert_page_shows_every_field_and_the_raw_payload_escaped(admin: Browser) -> None:
    key = prometheus(admin.core)
    hostile = am_alert(
        "Injected",
        "checkout",
        severity="critical",
        annotations={
            "summary": "<script>alert('summary')</script> checkout errors",
            "description": "Error rate 12% <b>not bold</b>",
            "runbook_url": "https://runbooks.example.com/checkout?a=1&b=2",
        },
        generator="javascript:alert(document.cookie)",
    )
    notify(admin, key, hostile)
    response = admin.client.get("/alerts/1")
    assert response.status_code == 200
    page, shown = response.text, text_of(response.text)
    for expected in (
        "Alert 1 · via prom (alertmanager)",
        "P1 Firing sent as critical",
        "Error rate 12% <b>not bold</b>",
        "Incident INC-1",
        "Service checkout",
        "Routed by the default routing (no rule matched)",
        "Action Declare or join an incident",
        "Silenced no",
        "Started 2026-03-29 00:20 UTC",
        "Received 1 time",
        "Source host-1",
        "alertname = Injected",
        "instance = host-1",
        "description Error rate 12% <b>not bold</b>",
    ):
        assert expected in shown, expected
    assert "<script>alert(" not in page and "<b>not bold</b>" not in page
    assert "&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;" in page
    raw = re.search(r'<pre class="json raw-payload">(.*?)</pre>', page, re.S)
    assert raw, "no raw payload on the page"
    assert "&#34;generatorURL&#34;: &#34;javascript:alert(document.cookie)&#34;" in raw.group(1)
    assert "&#34;alertname&#34;: &#34;Injected&#34;,\n" in raw.group(1), "indented JSON"
    assert (
        '<a href="https://runbooks.example.com/checkout?a=1&amp;b=2" rel="noopener noreferrer">'
        "Runbook</a>" in page
    )
    assert 'href="javascript:' not in page
    assert "Source: javascript:alert(document.cookie) (not a web address, so not linked)" in shown
    assert '<a href="/incidents/1">INC-1</a>' in page

    missing = admin.client.get("/alerts/999")
    assert missing.status_code == 404 and "no alert 999" in text_of(missing.text)
    assert admin.client.get("/alerts/abc").status_code == 404
    assert admin.client.get("/alerts/99999999999999").status_code == 404


def test_the_alert_page_names_the_rule_and_the_silence(admin: Browser, clock: FakeClock) -> None:
    key = prometheus(admin.core)
    silence = admin.core.handle(
        commands.CreateSilence(
            parse_matchers(['alertname="DiskFull"']),
            clock.now().replace(hour=2),
            "disk swap tonight",
            Actor("Ops"),
        )
    )
    notify(admin, key, am_alert("Watchdog", "search"), am_alert("DiskFull", "search"))
    by_name = {a.labels["alertname"]: a for a in admin.core.alerts.list(AlertFilter()).items}
    watchdog, disk = by_name["Watchdog"], by_name["DiskFull"]
    shown = admin.read(f"/alerts/{watchdog.id}")
    assert "Routed by rule watchdog" in shown
    assert "Action Alert only (never declares)" in shown
    assert "Incident none: routed as alert only" in shown
    muted = admin.client.get(f"/alerts/{disk.id}").text
    assert f'<a href="/silences#silence-{silence.id}">silence #{silence.id}</a>' in muted
    assert "Active" in text_of(muted) and "disk swap tonight" in text_of(muted)
    assert "Incident none: the alert was silenced" in text_of(muted)


# ----- integrations -----------------------------------------------------------------------------
def test_admins_create_integrations_and_see_what_to_configure(admin: Browser) -> None:
    assert 'href="/integrations"' in admin.client.get("/alerts").text
    created = admin.post(
        "/integrations",
        {"name": "Prom-Prod", "kind": "alertmanager", "service": "checkout", "secret": ""},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/integrations?created=prom-prod#integration-prom-prod"
    page = admin.client.get(created.headers["location"]).text
    shown = text_of(page)
    assert "Created prom-prod . Configure the sender with the address below." in shown
    assert "prom-prod alertmanager" in shown
    assert "Service checkout" in shown and "Signed No" in shown
    made = admin.core.alerts.integration("prom-prod")
    base = admin.core.settings.public_url()
    url = f"{base}/hooks/alertmanager/{made.key}"
    assert url in shown
    # The URL on the page is the one Alertmanager must post to: it works.
    response = admin.client.post(urlsplit(url).path, json=AM_PAYLOAD)
    assert response.status_code == 200 and response.json()["incidents"] == ["INC-1"]

    admin.post("/integrations", {"name": "pd", "kind": "pagerduty"})
    admin.post("/integrations", {"name": "graf", "kind": "grafana", "secret": "hmac-s3cret"})
    shown = admin.read("/integrations")
    pd = admin.core.alerts.integration("pd")
    assert f"Events API URL to configure in the sender {base}/v2/enqueue" in shown
    assert f"Routing key (the sender's integration key) {pd.key}" in shown
    assert f"/hooks/pagerduty/{pd.key}" not in shown
    assert "graf grafana" in shown and "Signed Yes (HMAC secret set)" in shown
    assert "hmac-s3cret" not in admin.client.get("/integrations").text


def test_a_refused_integration_keeps_what_was_typed_and_changes_nothing(admin: Browser) -> None:
    prometheus(admin.core, "prom")
    before = integration_count(admin.core)
    duplicate = admin.post(
        "/integrations", {"name": "prom", "kind": "pagerduty", "service": "payments"}
    )
    assert duplicate.status_code == 409
    shown = text_of(duplicate.text)
    assert "Already exists: an integration named 'prom' exists Nothing was changed." in shown
    assert 'id="integration-name" name="name"' in duplicate.text
    assert re.search(r'name="name"[^>]*value="prom"', duplicate.text)
    assert '<option value="pagerduty" selected>' in duplicate.text
    assert '<option value="payments" selected>' in duplicate.text

    unknown = admin.post("/integrations", {"name": "new-one", "kind": "alertmanager",
                                           "service": "billing"})  # fmt: skip
    assert unknown.status_code == 404
    assert "no service named 'billing'" in text_of(unknown.text)
    assert re.search(r'name="name"[^>]*value="new-one"', unknown.text)

    signed = admin.post(
        "/integrations", {"name": "new-one", "kind": "alertmanager", "secret": "typed-secret"}
    )
    assert signed.status_code == 422
    assert "only Grafana integrations sign their requests" in text_of(signed.text)
    assert "typed-secret" not in signed.text, "a secret is never echoed back"
    assert 'class="integration-form show-secret"' in signed.text, "the refused field is shown"

    short = admin.post("/integrations", {"name": "g", "kind": "grafana", "secret": "abc"})
    assert short.status_code == 422
    assert "a signing secret is 8 to 255 characters long" in text_of(short.text)
    bad_name = admin.post("/integrations", {"name": "no spaces please", "kind": "grafana"})
    assert bad_name.status_code == 422 and "must be 1-63 lowercase letters" in text_of(
        bad_name.text
    )
    no_kind = admin.post("/integrations", {"name": "x", "kind": ""})
    assert no_kind.status_code == 422 and "choose a kind of integration" in text_of(no_kind.text)
    assert integration_count(admin.core) == before


def test_rotating_a_key_retires_the_old_url(admin: Browser) -> None:
    old = prometheus(admin.core, "prom")
    page = admin.client.get("/integrations").text
    assert "Rotate key…" in page
    assert re.search(
        r'<form method="post" action="/integrations/prom/rotate-key">\s*'
        r'<input type="hidden" name="csrf_token" value="[^"]+">',
        page,
    ), "the rotate form sits behind its confirmation and carries the CSRF token"
    assert admin.client.post(f"/hooks/alertmanager/{old}", json=AM_PAYLOAD).status_code == 200
    rotated = admin.post("/integrations/prom/rotate-key", follow_redirects=False)
    assert rotated.status_code == 303
    shown = admin.read(rotated.headers["location"])
    new = admin.core.alerts.integration("prom").key
    assert new != old
    assert "The key of prom was rotated: the old one no longer works." in shown
    assert f"/hooks/alertmanager/{new}" in shown and old not in shown
    assert admin.client.post(f"/hooks/alertmanager/{old}", json=AM_PAYLOAD).status_code == 404
    assert admin.client.post(f"/hooks/alertmanager/{new}", json=AM_PAYLOAD).status_code == 200

    missing = admin.post("/integrations/nope/rotate-key")
    assert missing.status_code == 404
    assert "no integration named 'nope'" in text_of(missing.text)


def test_integrations_need_an_admin_and_the_session_token(admin: Browser, catalog: Tocsin) -> None:
    key = prometheus(catalog, "prom")
    no_token = admin.client.post("/integrations", data={"name": "forged", "kind": "alertmanager"})
    assert no_token.status_code == 403
    assert "security token" in text_of(no_token.text)
    forged_rotate = admin.client.post(
        "/integrations/prom/rotate-key", data={"csrf_token": admin.csrf[:-2] + "xx"}
    )
    assert forged_rotate.status_code == 403
    assert integration_count(catalog) == 1
    assert catalog.alerts.integration("prom").key == key

    create_user(catalog, "alice", OrgRole.RESPONDER, "Alice Martin")
    create_user(catalog, "vic", OrgRole.VIEWER, "Vic Viewer")
    for username, role in (("alice", "responder"), ("vic", "viewer")):
        with browser_for(catalog, username) as other:
            assert 'href="/integrations"' not in other.client.get("/alerts").text
            page = other.client.get("/integrations")
            assert page.status_code == 403
            shown = text_of(page.text)
            assert "Admins only" in shown
            assert f"a {role}: only admins can see and manage integrations" in shown
            assert key not in page.text
            refused = other.post("/integrations", {"name": "sneaky", "kind": "alertmanager"})
            assert refused.status_code == 403
            assert other.post("/integrations/prom/rotate-key").status_code == 403
    assert integration_count(catalog) == 1
    assert catalog.alerts.integration("prom").key == key


# ----- silences ---------------------------------------------------------------------------------
def test_responders_create_and_expire_silences(responder: Browser, clock: FakeClock) -> None:
    key = prometheus(responder.core)
    created = responder.post(
        "/silences",
        {
            "matchers": 'service="search"\r\n\r\nalertname=~"Disk.*"\r\n',
            "duration": "2h",
            "comment": "reindexing search tonight",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/silences#silence-1"
    shown = responder.read("/silences")
    assert (
        'Active #1 service="search" alertname=~"Disk.*" reindexing search tonight '
        "Since 2026-03-29 00:30 UTC · ends 2026-03-29 02:30 UTC · by Alice Martin Expire now"
        in shown
    )
    notify(responder, key, am_alert("DiskFull", "search"), am_alert("DiskSlow", "checkout"))
    listed = cards(responder.client.get("/alerts").text)
    assert sum("Silenced" in row for row in listed) == 1
    assert any("DiskFull" in row and "Silenced" in row for row in listed)

    later = responder.post(
        "/silences",
        {
            "matchers": 'service="payments"',
            "starts_at": "2026-03-29T03:00",
            "ends_at": "2026-03-29T04:00",
            "comment": "provider maintenance",
        },
    )
    assert later.status_code == 200  # followed the redirect back to the list
    assert 'Pending #2 service="payments" provider maintenance Starts 2026-03-29 03:00 UTC' in (
        text_of(later.text)
    )

    clock.advance(minutes=10)
    expired = responder.post("/silences/1/expire", follow_redirects=False)
    assert expired.status_code == 303
    responder.post("/silences/2/expire")
    shown = responder.read("/silences")
    active_part, ended_part = shown.split("Ended in the last 7 days")
    assert "No silences are active or pending" in active_part
    assert "Expired #1" in ended_part and "Expired #2" in ended_part
    assert "Ran 2026-03-29 00:30 UTC to 2026-03-29 00:40 UTC (ended early)" in ended_part
    again = responder.post("/silences/1/expire")
    assert again.status_code == 422
    assert "silence 1 has already ended" in text_of(again.text)
    assert responder.post("/silences/77/expire").status_code == 404


def test_a_refused_silence_keeps_what_was_typed_and_adds_nothing(responder: Browser) -> None:
    typed: dict[str, object] = {
        "matchers": 'service="search"\nenv=~"(prod"',
        "duration": "90m",
        "comment": "deploy",
    }
    bad_regex = responder.post("/silences", typed)
    assert bad_regex.status_code == 422
    shown = text_of(bad_regex.text)
    assert 'matcher env=~"(prod": bad regular expression' in shown
    assert "Nothing was changed." in shown
    assert '>service="search"\nenv=~"(prod"</textarea>' in bad_regex.text.replace("&#34;", '"')
    assert re.search(r'name="duration"[^>]*value="90m"', bad_regex.text)

    cases: list[tuple[dict[str, object], str]] = [
        ({"matchers": "service checkout", "duration": "1h", "comment": "x"},
         "cannot read matcher 'service checkout'"),
        ({"matchers": 'service="a"', "duration": "1h", "ends_at": "2026-03-29T05:00",
          "comment": "x"}, "give a duration or an end time, not both"),
        ({"matchers": 'service="a"', "comment": "x"}, "give a duration such as 2h, or an end time"),
        ({"matchers": 'service="a"', "duration": "soon", "comment": "x"}, "duration: expected a"),
        ({"matchers": 'service="a"', "duration": "99999999999d", "comment": "x"}, "too long"),
        ({"matchers": 'service="a"', "ends_at": "2026-03-28T10:00", "comment": "x"},
         "ends_at is already in the past"),
        ({"matchers": 'service="a"', "duration": "1h", "comment": "   "},
         "say why alerts are silenced"),
        ({"matchers": "\n\n", "duration": "1h", "comment": "x"},
         "a silence needs at least one matcher"),
    ]  # fmt: skip
    for fields, message in cases:
        refused = responder.post("/silences", fields)
        assert refused.status_code == 422, (fields, refused.text)
        assert message in text_of(refused.text), message
    assert responder.core.alerts.silences() == []
    assert "No silences are active or pending" in responder.read("/silences")


def test_viewers_read_silences_but_cannot_change_them(catalog: Tocsin, clock: FakeClock) -> None:
    catalog.handle(
        commands.CreateSilence(
            parse_matchers(['service="search"']),
            clock.now().replace(hour=2),
            "reindex",
            Actor("Op"),
        )
    )
    create_user(catalog, "vic", OrgRole.VIEWER, "Vic Viewer")
    with browser_for(catalog, "vic") as viewer:
        page = viewer.client.get("/silences").text
        assert "reindex" in text_of(page)
        assert "New silence" not in page and "Expire now" not in page
        assert '<a href="/silences" aria-current="page">Silences</a>' in page
        refused = viewer.post("/silences", {"matchers": 'service="x"', "duration": "1h",
                                            "comment": "sneaky"})  # fmt: skip
        assert refused.status_code == 403
        assert "you can read incidents but not change them" in text_of(refused.text)
        assert viewer.post("/silences/1/expire").status_code == 403
    assert [s.comment for s in catalog.alerts.silences()] == ["reindex"]
    assert catalog.alerts.silence(1).expired_at is None


def test_an_alert_page_offers_a_silence_filled_in(responder: Browser) -> None:
    key = prometheus(responder.core)
    notify(responder, key, am_alert("DiskFull", "search"))
    page = responder.client.get("/alerts/1").text
    link = re.search(r'href="(/silences\?[^"]+)"[^>]*>Silence alerts like this', page)
    assert link, "no silence link on a firing alert"
    form = responder.client.get(link.group(1).replace("&amp;", "&")).text
    assert 'alertname="DiskFull"\nservice="search"</textarea>' in form.replace("&#34;", '"')


# ----- the incident page ------------------------------------------------------------------------
def test_the_incident_page_shows_its_alerts_and_recent_changes(admin: Browser) -> None:
    core = admin.core
    deploys = core.handle(commands.CreateIntegration("ci", IntegrationKind.CHANGE, Actor("Ops")))
    change = admin.client.post(
        f"/hooks/change/{deploys.key}",
        json={
            "summary": "checkout 4.2.0 deployed",
            "service": "checkout",
            "timestamp": "2026-03-29T00:10:00Z",
            "links": [{"href": "https://ci.example.com/run/9", "text": "CI run"}],
        },
    )
    assert change.status_code == 202, change.text
    notify(admin, prometheus(core))
    page = admin.client.get("/incidents/1").text
    assert 'hx-get="/incidents/1/panels/alerts"' in page
    alerts_panel = admin.client.get("/incidents/1/panels/alerts")
    assert alerts_panel.status_code == 200
    shown = text_of(alerts_panel.text)
    assert shown.startswith("Alerts P1 Firing p99 latency above 2s checkout · prom · first 00:30")
    assert '<a href="/alerts/1" class="mini-title">p99 latency above 2s</a>' in alerts_panel.text
    assert "Resolved" not in shown, "the alert that never fired did not join the incident"
    changes_panel = admin.client.get("/incidents/1/panels/changes", headers=HTMX)
    shown = text_of(changes_panel.text)
    assert "checkout 4.2.0 deployed 2026-03-29 00:10 UTC · checkout · via ci" in shown
    assert (
        '<a href="https://ci.example.com/run/9" rel="noopener noreferrer">CI run</a>'
        in changes_panel.text
    )
    assert "Alerts" in text_of(page) and "checkout 4.2.0 deployed" in text_of(page)

    quiet: int = core.handle(commands.DeclareIncident("Search slow", Severity.P3, Actor("Pager")))
    shown = admin.read(f"/incidents/{quiet}")
    assert "No alerts are linked to this incident." in shown
    assert "No deploys or changes were recorded for its services" in shown


def test_an_alert_joining_the_incident_refreshes_its_open_page(
    responder: Browser, clock: FakeClock
) -> None:
    key = prometheus(responder.core)
    notify(responder, key)
    page = responder.client.get("/incidents/1").text
    assert re.search(
        r'id="panel-alerts" hx-get="/incidents/1/panels/alerts" hx-trigger="sse:changed', page
    )
    shown = responder.core.incidents.version(1)
    with responder.client.stream("GET", f"/incidents/1/events?since={shown}") as stream:
        clock.advance(minutes=2)
        notify(responder, key, am_alert("CheckoutErrors", "checkout", severity="critical"))
        assert next_event(stream.iter_lines())["event"] == "changed"
    panel = text_of(responder.client.get("/incidents/1/panels/alerts", headers=HTMX).text)
    assert panel.startswith("Alerts P1 Firing CheckoutErrors on checkout")
    assert "p99 latency above 2s" in panel


def test_the_demo_has_alerts_on_its_open_incident(tocsin: Tocsin, clock: FakeClock) -> None:
    load_demo(tocsin.handle_as_of, clock.now())
    create_user(tocsin, "ada", OrgRole.ADMIN, "Ada Admin")
    with browser_for(tocsin, "ada") as admin:
        rows = cards(admin.client.get("/alerts").text)
        assert len(rows) == 2
        assert all("Service payments · INC-3 · via prometheus" in row for row in rows)
        assert rows[0].startswith("P2 Firing sent as warning EU acquirer p99 latency above 8s")
        assert rows[1].startswith("P2 Firing sent as error Card authorisations timing out")
        incident = admin.read("/incidents/3")
        assert "Card payments failing for some customers" in incident
        assert "Identified" in incident and "Detected by Alert" in incident
        assert "EU acquirer p99 latency above 8s" in incident
        assert "Deploy payments-api 2.14.0" in incident
        integrations = admin.read("/integrations")
        assert "prometheus alertmanager" in integrations and "deploys change" in integrations


def test_heartbeats_and_generic_integrations_from_the_form(admin: Browser) -> None:
    bad = admin.post("/integrations", {"name": "cron", "kind": "heartbeat", "interval": "often"})
    assert bad.status_code == 422 and "interval" in text_of(bad.text)
    assert re.search(r'name="interval"[^>]*value="often"', bad.text), "the typed value stays"
    made = admin.post("/integrations", {"name": "cron", "kind": "heartbeat", "interval": "5m"})
    assert made.status_code == 200 and "Created cron" in text_of(made.text)
    assert "/hooks/heartbeat/" in made.text

    mapping = 'alerts: checks\ntitle: "{{ host }} {{ check }}"\ndedup_key: id\n'
    nagios = admin.post("/integrations", {"name": "nagios", "kind": "generic", "mapping": mapping})
    assert "Created nagios" in text_of(nagios.text)
    broken = admin.post(
        "/integrations", {"name": "other", "kind": "generic", "mapping": "title: 'foo['"}
    )
    assert broken.status_code == 422 and "neither valid JMESPath nor Jinja" in text_of(broken.text)
    assert "title: &#39;foo[&#39;" in broken.text, "the typed mapping stays"
    assert integration_count(admin.core) == 2


def test_a_delivery_that_cannot_be_applied_is_shown_and_can_be_applied_again(
    responder: Browser,
) -> None:
    core = responder.core
    key = prometheus(core)
    integration_id = core.alerts.integration_by_key(key).id  # type: ignore[union-attr]
    with core.database.writer.begin() as conn:  # as a newer Tocsin might have written it
        conn.execute(
            orm.alert_inbox.insert().values(
                integration_id=integration_id,
                received_at=core.clock.now(),
                signals=[{"dedup_key": "x", "action": "explode"}],
            )
        )
    assert responder.client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD).status_code == 200
    page = responder.read("/alerts")
    assert "1 accepted delivery could not be applied" in page
    assert "#1 from prom" in page
    assert "unreadable delivery: ValueError: 'explode' is not a valid SignalAction" in page
    assert "p99 latency above 2s" in page, "the delivery behind it was applied"
    token = make_token(core, Scope.WRITE, "ops")
    with TestClient(responder.client.app, headers={"Authorization": f"Bearer {token}"}) as api:
        [listed] = api.get("/api/v1/inbox/set-aside").json()
        assert (listed["id"], listed["integration"], listed["alerts"]) == (1, "prom", 1)
        assert api.post("/api/v1/inbox/77/retry").status_code == 404
    again = responder.post("/alerts/inbox/1/retry", follow_redirects=False)
    assert again.status_code == 303
    wait_for("it to be set aside again", lambda: bool(core.alerts.set_aside()))
    assert responder.post("/alerts/inbox/99/retry").status_code == 404
