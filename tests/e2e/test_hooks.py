"""Webhooks over HTTP on SQLite and PostgreSQL: Alertmanager, Grafana, PagerDuty Events v2."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.conftest import make_token, wait_for
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import Scope
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.matchers import parse_matchers
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.entrypoints.app import create_app
from tocsin.views.alerts import AlertFilter
from tocsin.views.incident_search import IncidentFilter

ADMIN = Actor("Admin")
PROBLEM = "application/problem+json"

AM_PAYLOAD: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="HighLatency", service="checkout"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "tocsin",
    "groupLabels": {"alertname": "HighLatency", "service": "checkout"},
    "commonLabels": {"alertname": "HighLatency", "service": "checkout", "severity": "critical"},
    "commonAnnotations": {"summary": "p99 latency above 2s"},
    "externalURL": "http://127.0.0.1:9093",
    "some_future_field": {"ignored": True},
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighLatency", "service": "checkout", "severity": "critical",
                       "instance": "web-1"},
            "annotations": {"summary": "p99 latency above 2s", "runbook_url": "https://rb/lat"},
            "startsAt": "2026-03-29T00:25:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
            "fingerprint": "c3f3ffc5147e4647",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "HighLatency", "service": "checkout", "severity": "critical",
                       "instance": "web-2"},
            "annotations": {"summary": "p99 latency above 2s"},
            "startsAt": "2026-03-29T00:20:00Z",
            "endsAt": "2026-03-29T00:24:00Z",
            "generatorURL": "",
            "fingerprint": "c44d780093d1a3e2",
        },
    ],
}  # fmt: skip


def integration(core: Tocsin, kind: IntegrationKind, **kw: Any) -> str:
    made = core.handle(commands.CreateIntegration(f"{kind.value}-test", kind, ADMIN, **kw))
    return str(made.key)


@pytest.fixture
def client(catalog: Tocsin) -> Any:
    with TestClient(create_app(catalog)) as c:
        yield c


def alerts(core: Tocsin) -> list[Any]:
    return core.alerts.list(AlertFilter(), limit=200).items


def incidents(core: Tocsin) -> list[Any]:
    return core.incidents.list(IncidentFilter()).items


def test_alertmanager_group_declares_once_and_resolves(catalog: Tocsin, client: TestClient) -> None:
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    response = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["incidents"] == ["INC-1"]
    again = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD)
    assert again.json()["duplicates"] == 2
    (incident,) = incidents(catalog)
    assert (incident.severity, incident.title) == ("P1", "p99 latency above 2s")
    detail = catalog.incidents.detail(incident.id)
    detected = detail.stamp("detected_at")
    assert detected is not None
    assert detected.isoformat() == "2026-03-29T00:25:00.123456+00:00"
    web1, web2 = sorted(alerts(catalog), key=lambda a: a.labels["instance"])
    assert (web1.status, web1.received_count, web1.incident_id) == ("firing", 2, incident.id)
    assert {link["text"] for link in web1.links} == {"Source", "Runbook"}
    assert web1.raw["fingerprint"] == "c3f3ffc5147e4647"
    assert (web2.status, web2.incident_id) == ("resolved", None), "never seen firing: history"

    resolved = copy.deepcopy(AM_PAYLOAD)
    resolved["status"] = "resolved"
    resolved["alerts"][0].update(status="resolved", endsAt="2026-03-29T00:29:00Z", annotations={})
    assert client.post(f"/hooks/alertmanager/{key}", json=resolved).status_code == 200
    web1 = catalog.alerts.alert(web1.id)
    assert web1.status == "resolved"
    assert web1.title == "p99 latency above 2s" and web1.annotations["runbook_url"]
    assert catalog.incidents.detail(incident.id).status == "monitoring"


def test_alerts_join_the_open_incident_someone_declared_on_their_service(
    catalog: Tocsin, client: TestClient
) -> None:
    catalog.handle(commands.DeclareIncident("Old checkout outage", Severity.P2, ADMIN,
                                            services=("checkout",)))  # fmt: skip
    catalog.handle(commands.ChangeStatus(1, Status.RESOLVED, ADMIN))
    catalog.handle(commands.DeclareIncident("Search slow", Severity.P3, ADMIN,
                                            services=("search",)))  # fmt: skip
    catalog.handle(commands.DeclareIncident("Checkout slow", Severity.P3, ADMIN,
                                            services=("checkout",)))  # fmt: skip
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    response = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD)
    assert response.status_code == 200 and response.json()["incidents"] == ["INC-3"]
    assert len(incidents(catalog)) == 3, "joined, not declared"
    assert {a.incident_id for a in alerts(catalog) if a.status == "firing"} == {3}
    after = catalog.handle(commands.DeclareIncident("Next", Severity.P4, ADMIN))
    assert after == 4, "joining drew no incident number it did not use"

    secret = catalog.handle(commands.DeclareIncident("Card data exposure", Severity.P1, ADMIN,
                                                     services=("payments",), private=True))  # fmt: skip
    on_payments = copy.deepcopy(AM_PAYLOAD)
    for alert in on_payments["alerts"]:
        alert["labels"]["service"] = "payments"
        alert["fingerprint"] = "p" + alert["fingerprint"]
    taken = client.post(f"/hooks/alertmanager/{key}", json=on_payments).json()
    assert taken["incidents"] and taken["incidents"] != [f"INC-{secret}"], "not a private one"


def test_an_alert_outlasting_its_silence_declares_when_the_silence_ends(
    catalog: Tocsin, client: TestClient, clock: Any
) -> None:
    catalog.handle(commands.CreateSilence(parse_matchers(['service="checkout"']),
                                          clock.now() + timedelta(minutes=30), "deploy", ADMIN))  # fmt: skip
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    assert client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD).json()["incidents"] == []
    assert catalog.handle(commands.ReleaseSilencedAlerts()) == []
    clock.advance(minutes=10)
    repeated = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD).json()
    assert (repeated["duplicates"], repeated["incidents"]) == (2, []), "still muted"
    clock.advance(minutes=21)
    (released,) = catalog.handle(commands.ReleaseSilencedAlerts())
    (incident,) = incidents(catalog)
    assert incident.reference == "INC-1", "muted repeats and checks drew no incident number"
    assert catalog.alerts.alert(released).incident_id == incident.id
    assert catalog.handle(commands.ReleaseSilencedAlerts()) == []


def test_grafana_signatures(catalog: Tocsin, client: TestClient) -> None:
    key = integration(catalog, IntegrationKind.GRAFANA, secret="s3cret")
    payload = copy.deepcopy(AM_PAYLOAD)
    payload.update(version="1", orgId=1, state="alerting", title="[FIRING:1]")
    body = json.dumps(payload).encode()
    url = f"/hooks/grafana/{key}"

    def post(headers: dict[str, str]) -> Any:
        return client.post(
            url, content=body, headers={"content-type": "application/json", **headers}
        )

    unsigned = post({})
    assert unsigned.status_code == 401 and "signature" in unsigned.json()["detail"]
    assert post({"X-Grafana-Alerting-Signature": "00" * 32}).status_code == 401
    stale = str(int(time.time()) - 3600)
    stale_sig = hmac.new(b"s3cret", stale.encode() + b":" + body, hashlib.sha256).hexdigest()
    assert post({"X-Grafana-Alerting-Signature": stale_sig,
                 "X-Grafana-Alerting-Signature-Timestamp": stale}).status_code == 401  # fmt: skip
    assert alerts(catalog) == []

    plain = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert post({"X-Grafana-Alerting-Signature": plain}).status_code == 200
    now = str(int(time.time()))
    stamped = hmac.new(b"s3cret", now.encode() + b":" + body, hashlib.sha256).hexdigest()
    ok = post(
        {"X-Grafana-Alerting-Signature": stamped, "X-Grafana-Alerting-Signature-Timestamp": now}
    )
    assert ok.status_code == 200 and ok.json()["duplicates"] == 2


@pytest.mark.parametrize(
    ("mutate", "status", "fragment"),
    [
        (lambda p: "{not json", 422, "not valid JSON"),
        (lambda p: [], 422, "JSON object"),
        (lambda p: {**p, "version": "3"}, 422, "version"),
        (lambda p: {**p, "alerts": "many"}, 422, "alerts"),
        (lambda p: {**p, "alerts": [{**p["alerts"][0], "startsAt": "yesterday"}]}, 422, "startsAt"),
        (lambda p: {**p, "alerts": [{**p["alerts"][0], "labels": {}}]}, 422, "labels"),
        (lambda p: {**p, "alerts": [{**p["alerts"][0], "status": "pending"}]}, 422, "status"),
        (lambda p: {k: v for k, v in p.items() if k != "alerts"}, 422, "alerts"),
        (lambda p: {**p, "padding": "x" * 6_000_000}, 413, "limit"),
    ],
)
def test_bad_alertmanager_payloads_are_refused_and_change_nothing(
    catalog: Tocsin, client: TestClient, mutate: Any, status: int, fragment: str
) -> None:
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    catalog.alerts.integration_by_key(key)  # a known key: the express lane must refuse it too
    body = mutate(copy.deepcopy(AM_PAYLOAD))
    content = body if isinstance(body, str) else json.dumps(body)
    response = client.post(
        f"/hooks/alertmanager/{key}", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert fragment in response.text
    assert alerts(catalog) == [] and incidents(catalog) == []


def test_a_truncated_notification_is_taken_and_logged(
    catalog: Tocsin, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    response = client.post(f"/hooks/alertmanager/{key}", json={**AM_PAYLOAD, "truncatedAlerts": 7})
    assert response.status_code == 200 and response.json()["alerts"] == 2
    assert "left 7 alerts" in caplog.text and "max_alerts" in caplog.text


def test_unknown_and_misdirected_keys(catalog: Tocsin, client: TestClient) -> None:
    pd_key = integration(catalog, IntegrationKind.PAGERDUTY)
    unknown = client.post("/hooks/alertmanager/" + "0" * 32, json=AM_PAYLOAD)
    assert unknown.status_code == 404 and "key" in unknown.json()["detail"]
    wrong = client.post(f"/hooks/alertmanager/{pd_key}", json=AM_PAYLOAD)
    assert wrong.status_code == 422 and "pagerduty integration" in wrong.json()["detail"]
    assert alerts(catalog) == []


def pd_event(key: str, **overrides: Any) -> dict[str, Any]:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "db-1/disk",
        "payload": {
            "summary": "Disk 95% full on db-1",
            "source": "db-1.prod",
            "severity": "warning",
            "timestamp": "2026-03-29T00:28:00.000+0000",
            "component": "postgres",
            "class": "disk",
            "custom_details": {"used_pct": 95},
        },
        "links": [{"href": "https://grafana.example/d/db", "text": "Dashboard"}],
        **overrides,
    }


def test_pagerduty_events_v2(catalog: Tocsin, client: TestClient) -> None:
    key = integration(catalog, IntegrationKind.PAGERDUTY, service="search")
    response = client.post("/v2/enqueue", json=pd_event(key))
    assert (response.status_code, response.headers["content-type"]) == (202, "application/json")
    assert response.json() == {
        "status": "success", "message": "Event processed", "dedup_key": "db-1/disk",
    }  # fmt: skip
    (incident,) = incidents(catalog)
    assert (incident.severity, [s.slug for s in incident.services]) == ("P3", ["search"])
    generated = client.post("/v2/enqueue", json=pd_event(key, dedup_key=None)).json()["dedup_key"]
    assert len(generated) == 32 and len(alerts(catalog)) == 2

    for action in ("acknowledge", "resolve"):
        r = client.post("/v2/enqueue", json={"routing_key": key, "event_action": action,
                                             "dedup_key": "db-1/disk"})  # fmt: skip
        assert r.status_code == 202
    first = next(a for a in alerts(catalog) if a.dedup_key == "db-1/disk")
    assert first.status == "resolved" and first.acknowledged_at is not None
    assert first.labels == {"source": "db-1.prod", "severity": "warning", "component": "postgres",
                            "class": "disk"}  # fmt: skip
    dropped = client.post("/v2/enqueue", json={"routing_key": key, "event_action": "resolve",
                                               "dedup_key": "never-seen"})  # fmt: skip
    assert dropped.status_code == 202 and len(alerts(catalog)) == 2


def test_numbers_json_libraries_disagree_on_are_kept(catalog: Tocsin, client: TestClient) -> None:
    """Integers beyond 64 bits and NaN are valid to Python's json, not to every fast parser."""
    key = integration(catalog, IntegrationKind.PAGERDUTY)
    details = {"bytes_lost": 2**70, "ratio": 0.5}
    body = json.dumps(
        pd_event(key, payload={**pd_event(key)["payload"], "custom_details": details})
    )
    sent = client.post("/v2/enqueue", content=body, headers={"content-type": "application/json"})
    assert sent.status_code == 202, sent.text
    (alert,) = alerts(catalog)
    stored = catalog.alerts.alert(alert.id)
    assert stored.details == details
    assert stored.raw["payload"]["custom_details"]["bytes_lost"] == 2**70

    nan_alert = {"status": "firing", "labels": {"alertname": "Nan"}, "fingerprint": "f1",
                 "startsAt": "2026-03-29T00:20:00Z", "values": {"A": float("nan")}}  # fmt: skip
    with_nan = json.dumps({"version": "4", "status": "firing", "alerts": [nan_alert]})
    assert "NaN" in with_nan
    am = integration(catalog, IntegrationKind.ALERTMANAGER)
    response = client.post(
        f"/hooks/alertmanager/{am}", content=with_nan, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200 and response.json()["opened"] == 1, response.text
    nan = next(a for a in alerts(catalog) if a.dedup_key == "f1")
    assert catalog.alerts.alert(nan.id).details["values"] == {"A": None}  # JSON has no NaN


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"event_action": "trigger"}, "routing_key"),
        ({"routing_key": "K", "event_action": "explode", "payload": {}}, "event_action"),
        ({"routing_key": "K", "event_action": "trigger"}, "'payload' is required"),
        ({"routing_key": "K", "event_action": "resolve"}, "'dedup_key' is required"),
        ({"routing_key": "K", "event_action": "trigger",
          "payload": {"summary": "x", "source": "y", "severity": "fatal"}}, "payload.severity"),
        ({"routing_key": "K", "event_action": "trigger",
          "payload": {"summary": "", "source": "y", "severity": "info"}}, "payload.summary"),
        ({"routing_key": "nope", "event_action": "trigger",
          "payload": {"summary": "x", "source": "y", "severity": "info"}}, "routing_key"),
    ],
)  # fmt: skip
def test_invalid_pagerduty_events(
    catalog: Tocsin, client: TestClient, event: dict[str, Any], fragment: str
) -> None:
    key = integration(catalog, IntegrationKind.PAGERDUTY)
    if event.get("routing_key") == "K":
        event["routing_key"] = key
    response = client.post("/v2/enqueue", json=event)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    assert any(fragment in e for e in body["errors"]), body
    assert alerts(catalog) == []


def test_pagerduty_size_and_rate_limits(catalog: Tocsin) -> None:
    key = integration(catalog, IntegrationKind.PAGERDUTY)
    catalog.settings = catalog.settings.model_copy(update={"pagerduty_events_per_minute": 2})
    with TestClient(create_app(catalog)) as client:
        big = pd_event(key)
        big["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
        assert client.post("/v2/enqueue", json=big).status_code == 413
        codes = [client.post("/v2/enqueue", json=pd_event(key)).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert len(alerts(catalog)) == 1


def test_hooks_need_no_api_token_but_the_alert_api_does(
    catalog: Tocsin, client: TestClient
) -> None:
    assert client.get("/api/v1/alerts").status_code == 401
    token = make_token(catalog, Scope.READ)
    listed = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_change_events_are_suspects_of_incidents_on_their_service(
    catalog: Tocsin, client: TestClient, clock: Any
) -> None:
    pd_key = integration(catalog, IntegrationKind.PAGERDUTY, service="checkout")
    ci_key = catalog.handle(commands.CreateIntegration("ci", IntegrationKind.CHANGE, ADMIN)).key
    recent = (clock.now() - timedelta(minutes=10)).isoformat()
    old = (clock.now() - timedelta(hours=2)).isoformat()
    change: dict[str, Any] = {"routing_key": pd_key, "links": [{"href": "https://ci.example/b/42"}],
              "payload": {"summary": "Deployed checkout v1.4.2", "source": "ci",
                          "timestamp": recent, "custom_details": {"sha": "ab12cd3"}}}  # fmt: skip
    response = client.post("/v2/change/enqueue", json=change)
    assert response.status_code == 202 and response.json()["status"] == "success"
    old_change = {**change, "payload": {**change["payload"], "timestamp": old}}
    assert client.post("/v2/change/enqueue", json=old_change).status_code == 202
    hook = client.post(f"/hooks/change/{ci_key}", json={"summary": "Flag new-pricing on",
                                                         "service": "checkout", "timestamp": recent})  # fmt: skip
    assert hook.status_code == 202 and hook.json()["service"] == "checkout"
    other = client.post(
        f"/hooks/change/{ci_key}", json={"summary": "Search reindex", "service": "search"}
    )
    assert other.status_code == 202
    bad = client.post(f"/hooks/change/{ci_key}", json={"summary": "x", "service": "nope"})
    assert bad.status_code == 404
    missing = client.post(f"/hooks/change/{ci_key}", json={"service": "search"})
    assert missing.status_code == 422 and "summary" in missing.text

    assert client.post("/v2/enqueue", json=pd_event(pd_key)).status_code == 202
    token = make_token(catalog, Scope.READ)
    suspects = client.get(
        "/api/v1/incidents/INC-1/changes", headers={"Authorization": f"Bearer {token}"}
    )
    assert [c["summary"] for c in suspects.json()] == [
        "Flag new-pricing on",
        "Deployed checkout v1.4.2",
    ]
    assert suspects.json()[1]["details"] == {"sha": "ab12cd3"}
    everything = client.get("/api/v1/changes", headers={"Authorization": f"Bearer {token}"})
    assert len(everything.json()) == 4
    listed = client.get(
        "/api/v1/incidents/INC-1/alerts", headers={"Authorization": f"Bearer {token}"}
    )
    assert [a["title"] for a in listed.json()["items"]] == ["Disk 95% full on db-1"]


def test_an_answer_does_not_wait_longer_than_configured(catalog: Tocsin) -> None:
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    catalog.settings = catalog.settings.model_copy(update={"intake_wait_seconds": 0})
    with TestClient(create_app(catalog)) as client:
        response = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD)
        assert response.status_code == 200
        assert response.json() == {"status": "queued", "alerts": 2}, "durable, applied shortly"
        wait_for("the applier to catch up", lambda: len(alerts(catalog)) == 2)
    assert len(incidents(catalog)) == 1


def test_servers_that_leave_applying_to_workers_answer_once_durable(catalog: Tocsin) -> None:
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    catalog.settings = catalog.settings.model_copy(update={"intake_embedded": False})
    with TestClient(create_app(catalog)) as client:
        for _ in range(2):  # the second one by the express lane: its key is known by then
            response = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD)
            assert response.json() == {"status": "queued", "alerts": 2}
        time.sleep(0.3)
        assert alerts(catalog) == [], "this server does not apply the inbox"
    applied = catalog.handle(commands.ProcessInbox(200, ()))  # what `tocsin worker` runs
    assert [(r.opened, r.duplicates) for r in applied.values()] == [(2, 0), (0, 2)]
    assert len(alerts(catalog)) == 2 and len(incidents(catalog)) == 1
    assert [a.received_count for a in alerts(catalog)] == [2, 2]


GENERIC_MAPPING = {
    "alerts": "checks",
    "title": "{{ host }}: {{ check }} is {{ state }}",
    "dedup_key": "join('/', [host, check])",
    "severity": "level",
    "service": "tags.service",
    "resolved": "state == 'OK'",
    "links": "url",
    "started_at": "since",
}


def test_generic_webhooks_follow_their_mapping(catalog: Tocsin, client: TestClient) -> None:
    key = catalog.handle(
        commands.CreateIntegration("nagios", IntegrationKind.GENERIC, ADMIN, config=GENERIC_MAPPING)
    ).key
    body = {"checks": [
        {"host": "db-1", "check": "disk", "state": "CRITICAL", "level": "critical",
         "tags": {"service": "payments"}, "url": "https://nagios.example/db-1",
         "since": "2026-03-29T00:20:00Z"},
        {"host": "web-1", "check": "load", "state": "WARNING", "level": "warning",
         "tags": {"service": "search"}},
    ]}  # fmt: skip
    response = client.post(f"/hooks/generic/{key}", json=body)
    assert response.status_code == 200 and response.json()["opened"] == 2, response.text
    by_key = {a.dedup_key: a for a in alerts(catalog)}
    disk = catalog.alerts.alert(by_key["db-1/disk"].id)
    assert (disk.title, disk.severity, disk.service) == ("db-1: disk is CRITICAL", "P1", "payments")
    assert disk.links == [{"href": "https://nagios.example/db-1", "text": ""}]
    assert {i.severity for i in incidents(catalog)} == {"P1", "P3"}

    body["checks"][0]["state"] = "OK"
    client.post(f"/hooks/generic/{key}", json=body)
    assert catalog.alerts.alert(disk.id).status == "resolved"

    not_json = client.post(
        f"/hooks/generic/{key}", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422 and "not valid JSON" in not_json.text
    missing = client.post(f"/hooks/generic/{key}", json={"nothing": []})
    assert missing.status_code == 422 and "found no list of alerts" in missing.json()["detail"]
    assert len(alerts(catalog)) == 2


@pytest.mark.parametrize(
    ("resolved", "value", "resolves"),
    [
        ("{{ state == 'OK' }}", "CRITICAL", False),  # a template renders "False"
        ("{{ state == 'OK' }}", "OK", True),
        ("done", "false", False),  # a sender writing booleans as text
        ("done", "0", False),
        ("done", "true", True),
        ("done", False, False),
        ("done", "2026-03-29T00:29:00Z", True),  # e.g. a resolved-at time
        ("done", None, False),
    ],
)
def test_generic_resolved_condition_reads_text_as_people_mean_it(
    catalog: Tocsin, client: TestClient, resolved: str, value: Any, resolves: bool
) -> None:
    mapping = {"title": "title", "dedup_key": "id", "resolved": resolved}
    key = catalog.handle(
        commands.CreateIntegration("checks", IntegrationKind.GENERIC, ADMIN, config=mapping)
    ).key
    body = {"id": "c-1", "title": "disk full", "state": value, "done": value}
    response = client.post(f"/hooks/generic/{key}", json=body)
    assert response.status_code == 200, response.text
    (alert,) = alerts(catalog)
    assert alert.status == ("resolved" if resolves else "firing")


def test_integration_configs_are_checked_when_created(catalog: Tocsin) -> None:
    token = make_token(catalog, Scope.ADMIN)
    with TestClient(create_app(catalog), headers={"Authorization": f"Bearer {token}"}) as c:

        def create(**body: Any) -> Any:
            return c.post("/api/v1/integrations", json={"name": "x", **body})

        bad_path = create(kind="generic", config={"title": "foo[", "dedup_key": "id"})
        assert bad_path.status_code == 422 and "neither valid JMESPath nor Jinja" in bad_path.text
        no_title = create(kind="generic", config={"dedup_key": "id"})
        assert no_title.status_code == 422 and "title" in no_title.text
        unknown = create(kind="generic", config={"title": "t", "colour": "red"})
        assert unknown.status_code == 422 and "colour" in unknown.text
        assert create(kind="heartbeat", config={"interval": "soon"}).status_code == 422
        assert create(kind="alertmanager", config={"x": 1}).status_code == 422
        made = create(kind="heartbeat", service="payments", config={"interval": "5m"})
        assert made.status_code == 201, made.text
        assert made.json()["config"] == {"interval_seconds": 300, "severity": "error"}
        assert [i["name"] for i in c.get("/api/v1/integrations").json()] == ["x"]


def test_keys_rotate_and_silences_end_over_the_api(catalog: Tocsin, clock: Any) -> None:
    admin, writer = make_token(catalog, Scope.ADMIN), make_token(catalog, Scope.WRITE, "wes")
    with TestClient(create_app(catalog)) as c:
        as_admin, as_writer = (
            {"Authorization": f"Bearer {admin}"},
            {"Authorization": f"Bearer {writer}"},
        )
        made = c.post("/api/v1/integrations", headers=as_admin,
                      json={"name": "prom", "kind": "alertmanager"}).json()  # fmt: skip
        refused = c.post("/api/v1/integrations/prom/rotate-key", headers=as_writer)
        assert refused.status_code == 403, "rotating a key takes an admin token"
        rotated = c.post("/api/v1/integrations/prom/rotate-key", headers=as_admin)
        assert rotated.status_code == 200, rotated.text
        new_key = rotated.json()["key"]
        assert new_key != made["key"] and rotated.json()["key_rotated_at"] is not None
        assert rotated.json()["url"].endswith(f"/hooks/alertmanager/{new_key}")
        old = c.post(f"/hooks/alertmanager/{made['key']}", json=AM_PAYLOAD)
        assert old.status_code == 404, "the old key stops working at once"
        assert alerts(catalog) == []
        assert c.post(f"/hooks/alertmanager/{new_key}", json=AM_PAYLOAD).status_code == 200
        missing = c.post("/api/v1/integrations/nope/rotate-key", headers=as_admin)
        assert missing.status_code == 404

        ends = (clock.now() + timedelta(hours=1)).isoformat()
        silence = c.post("/api/v1/silences", headers=as_writer, json={
            "matchers": ['service="search"'], "ends_at": ends, "comment": "reindex"}).json()  # fmt: skip
        assert silence["state"] == "active"
        ended = c.delete(f"/api/v1/silences/{silence['id']}", headers=as_writer)
        assert ended.status_code == 200, ended.text
        assert (ended.json()["state"], ended.json()["expired_at"]) == (
            "expired", clock.now().isoformat().replace("+00:00", "Z"),
        )  # fmt: skip
        assert c.delete("/api/v1/silences/999", headers=as_writer).status_code == 404


def test_heartbeat_pings_and_misses(catalog: Tocsin, client: TestClient, clock: Any) -> None:
    key = catalog.handle(
        commands.CreateIntegration(
            "cron", IntegrationKind.HEARTBEAT, ADMIN, config={"interval_seconds": 60}
        )
    ).key
    assert client.get(f"/hooks/heartbeat/{key}").json() == {"status": "ok", "resolved": False}
    clock.advance(minutes=2)
    catalog.handle(commands.CheckHeartbeats())
    (alert,) = alerts(catalog)
    assert alert.status == "firing" and alert.title.startswith("No heartbeat from cron")
    assert client.post(f"/hooks/heartbeat/{key}").json() == {"status": "ok", "resolved": True}
    assert catalog.alerts.alert(alert.id).status == "resolved"
    assert client.get("/hooks/heartbeat/" + "f" * 32).status_code == 404


GRAFANA_PAYLOAD = {**AM_PAYLOAD, "version": "1", "orgId": 1}
# Per endpoint: the integration kind (and config) it takes, a body it accepts, and where the key
# goes (None: in the body, as PagerDuty's routing_key).
ENDPOINTS: dict[str, tuple[IntegrationKind, dict[str, Any], Any, str | None]] = {
    "grafana": (IntegrationKind.GRAFANA, {}, GRAFANA_PAYLOAD, "/hooks/grafana/{key}"),
    "generic": (
        IntegrationKind.GENERIC, {"title": "title", "dedup_key": "id"},
        {"id": "c-1", "title": "disk full"}, "/hooks/generic/{key}",
    ),
    "heartbeat": (
        IntegrationKind.HEARTBEAT, {"interval_seconds": 60}, {}, "/hooks/heartbeat/{key}"
    ),
    "change": (
        IntegrationKind.CHANGE, {}, {"summary": "Deployed v2", "service": "checkout"},
        "/hooks/change/{key}",
    ),
    "pagerduty change": (
        IntegrationKind.PAGERDUTY, {},
        {"payload": {"summary": "Deployed v2", "source": "ci"}}, None,
    ),
}  # fmt: skip
FAULTS = {  # fault → status per endpoint (PagerDuty's own answers for its API)
    "malformed JSON": {"grafana": 422, "generic": 422, "change": 422, "pagerduty change": 400},
    "oversized": dict.fromkeys(ENDPOINTS, 413),
    "unknown key": {**dict.fromkeys(ENDPOINTS, 404), "pagerduty change": 400},
}


@pytest.mark.parametrize(
    ("endpoint", "fault"),
    [(e, f) for f, statuses in FAULTS.items() for e in ENDPOINTS if e in statuses],
)
def test_every_endpoint_refuses_bad_deliveries_and_changes_nothing(
    catalog: Tocsin, client: TestClient, endpoint: str, fault: str
) -> None:
    kind, config, good, path = ENDPOINTS[endpoint]
    key = catalog.handle(
        commands.CreateIntegration(endpoint.replace(" ", "-"), kind, ADMIN, config=config)
    ).key
    used_key = "0" * 32 if fault == "unknown key" else key
    url = path.format(key=used_key) if path else "/v2/change/enqueue"
    body: Any = good if path else {**good, "routing_key": used_key}
    content = json.dumps(body).encode()
    if fault == "malformed JSON":
        content = content[:-1]
    elif fault == "oversized":
        content = json.dumps({**body, "padding": "x" * 6_000_000}).encode()
    response = client.post(url, content=content, headers={"content-type": "application/json"})

    assert response.status_code == FAULTS[fault][endpoint], response.text
    if path is None:
        assert response.json()["status"] == "invalid event"
    else:
        assert response.headers["content-type"] == PROBLEM
    token = make_token(catalog, Scope.READ)
    changes = client.get("/api/v1/changes", headers={"Authorization": f"Bearer {token}"})
    assert (alerts(catalog), incidents(catalog), changes.json()) == ([], [], [])
    with catalog.database.reader.connect() as conn:
        assert conn.scalar(select(orm.heartbeats.c.last_ping_at)) is None
    # The same delivery, well-formed and with the right key, is taken: the refusal was the fault's.
    well = {**good, "routing_key": key} if path is None else good
    taken = client.post(path.format(key=key) if path else url, json=well)
    assert taken.status_code in (200, 202), taken.text


def test_a_delivery_that_cannot_be_stored_gets_503_and_changes_nothing(
    catalog: Tocsin, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = integration(catalog, IntegrationKind.ALERTMANAGER)
    pd_key = integration(catalog, IntegrationKind.PAGERDUTY)

    def broken(rows: Any, received_at: Any) -> list[int]:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(catalog.inbox, "_store", broken)
    catalog.alerts.integration_by_key(pd_key)  # known keys take the express lane
    catalog.alerts.integration_by_key(key)
    answer = client.post(f"/hooks/alertmanager/{key}", json=AM_PAYLOAD)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "nothing was recorded" in answer.json()["detail"]
    event = {"routing_key": pd_key, "event_action": "trigger",
             "payload": {"summary": "x", "source": "y", "severity": "error"}}  # fmt: skip
    assert client.post("/v2/enqueue", json=event).status_code == 503
    assert alerts(catalog) == []
