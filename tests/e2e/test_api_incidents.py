"""The incident lifecycle over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.entrypoints.app import create_app

PROBLEM = "application/problem+json"


def declare(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"title": "Checkout down", "severity": "P2", "services": ["checkout"], **fields}
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def timeline(api: TestClient, ref: str) -> list[dict[str, Any]]:
    """The incident's timeline without the paging engine's entries: declaring fires the first
    escalation step at once, and these tests are about what people do (tests/paging covers
    paging)."""
    data: list[dict[str, Any]] = api.get(f"/api/v1/incidents/{ref}/timeline").json()
    return [e for e in data if e["author"] != "Tocsin paging"]


def assert_problem(response: Any, status: int, field: str | None, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert fragment in body["detail"], body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


def test_full_lifecycle(api: TestClient, clock: FakeClock) -> None:
    created = declare(
        api, summary="502s everywhere", customer_facing=True, detection_source="customer"
    )
    ref = created["reference"]
    assert created["status"] == "investigating"
    assert created["severity"] == {"level": "P2", "name": "High", "response_time": "30m"}
    assert created["allowed_transitions"] == ["identified", "monitoring", "resolved"]
    assert created["war_room"]["chat"] == f"#incident-{created['id']}"
    assert created["timestamps"]["declared_at"]["source"] == "system"

    clock.advance(minutes=2)
    assert (
        api.post(
            f"/api/v1/incidents/{ref}/severity", json={"severity": "p1", "reason": "all regions"}
        ).json()["severity"]["level"]
        == "P1"
    )
    api.post(
        f"/api/v1/incidents/{ref}/roles", json={"role": "ic", "person": "alice"}
    ).raise_for_status()
    handed = api.post(
        f"/api/v1/incidents/{ref}/roles", json={"role": "incident_commander", "person": "bob"}
    )
    assert [(r["role"], r["person"]) for r in handed.json()["roles"]] == [
        ("incident_commander", "bob")
    ]
    api.post(
        f"/api/v1/incidents/{ref}/status", json={"status": "identified", "note": "bad deploy"}
    ).raise_for_status()
    clock.advance(minutes=5)
    api.post(f"/api/v1/incidents/{ref}/status", json={"status": "monitoring"}).raise_for_status()
    clock.advance(minutes=20)
    resolved = api.post(f"/api/v1/incidents/{ref}/status", json={"status": "resolved"}).json()
    assert (
        resolved["timestamps"]["mitigated_at"]["value"]
        < resolved["timestamps"]["resolved_at"]["value"]
    )
    closed = api.post(f"/api/v1/incidents/{ref}/status", json={"status": "closed"}).json()
    assert closed["status"] == "closed"
    reopened = api.post(
        f"/api/v1/incidents/{ref}/status", json={"status": "investigating", "note": "back"}
    )
    assert reopened.json()["timestamps"]["resolved_at"]["value"] is None

    bodies = [e["body"] for e in timeline(api, ref)]
    overridden = "Admin override by Admin: changing the status to"
    assert bodies == [
        "Declared P2 incident: Checkout down (checkout)",
        "Severity raised from P2 to P1: all regions",
        "Alice Martin is now Incident Commander",
        # The caller is an admin holding no role: each decision is an override, on the record.
        "Admin override by Admin: assigning the Incident Commander role needs the "
        "Incident Commander (Alice Martin)",
        "Incident Commander handed over from Alice Martin to Bob Chen",
        f"{overridden} Identified needs the Incident Commander (Bob Chen)",
        "Status changed: Investigating → Identified — bad deploy",
        f"{overridden} Monitoring needs the Incident Commander (Bob Chen)",
        "Status changed: Identified → Monitoring",
        f"{overridden} Resolved needs the Incident Commander (Bob Chen)",
        "Status changed: Monitoring → Resolved",
        f"{overridden} Closed needs the Incident Commander (Bob Chen)",
        "Status changed: Resolved → Closed",
        f"{overridden} Investigating needs the Incident Commander (Bob Chen)",
        bodies[-1],
    ]
    assert bodies[-1].startswith("Reopened: Closed → Investigating (resolved_at was ")
    assert {e["author"] for e in timeline(api, ref)} == {"Admin"}


def test_invalid_transition_is_a_problem_naming_allowed_ones_and_writes_nothing(
    api: TestClient,
) -> None:
    ref = declare(api)["reference"]
    response = api.post(f"/api/v1/incidents/{ref}/status", json={"status": "closed"})
    assert_problem(
        response, 409, "status", "allowed from Investigating: Identified, Monitoring, Resolved"
    )
    assert response.json()["type"] == "urn:tocsin:problem:invalid-transition"
    assert len(timeline(api, ref)) == 1


def test_timeline_entries_corrections_and_key_moments(api: TestClient, clock: FakeClock) -> None:
    ref = declare(api)["reference"]
    first = api.post(
        f"/api/v1/incidents/{ref}/timeline", json={"kind": "observation", "body": "errors at 40%"}
    )
    assert first.status_code == 201
    seq = first.json()["seq"]
    fix = api.post(
        f"/api/v1/incidents/{ref}/timeline",
        json={"kind": "observation", "body": "errors at 4%", "corrects": seq},
    )
    assert fix.json()["corrects"] == seq
    flagged = api.patch(f"/api/v1/incidents/{ref}/timeline/{seq}", json={"key_moment": True})
    assert flagged.json()["key_moment"] is True
    entries = timeline(api, ref)
    assert entries[1]["body"] == "errors at 40%", "the original text is kept"
    assert entries[1]["corrected_by"] == [fix.json()["seq"]]
    assert [
        e["seq"] for e in api.get(f"/api/v1/incidents/{ref}/timeline?key_moments=true").json()
    ] == [seq]

    rewrite = api.patch(f"/api/v1/incidents/{ref}/timeline/{seq}", json={"body": "new text"})
    assert_problem(rewrite, 422, None, "append-only")
    system = api.post(
        f"/api/v1/incidents/{ref}/timeline", json={"kind": "status_changed", "body": "fake"}
    )
    assert_problem(
        system, 422, "kind", "expected one of observation, action, decision, communication"
    )
    missing = api.post(
        f"/api/v1/incidents/{ref}/timeline", json={"kind": "action", "body": "x", "corrects": 99}
    )
    assert_problem(missing, 404, "seq", "no entry #99")
    assert len(timeline(api, ref)) == 3


def test_timestamps_with_provenance_and_chronology(api: TestClient, clock: FakeClock) -> None:
    ref = declare(api)["reference"]
    clock.advance(minutes=10)
    ack = (clock.now()).isoformat()
    body = api.put(
        f"/api/v1/incidents/{ref}/timestamps/acknowledged_at", json={"value": ack}
    ).json()
    assert body["timestamps"]["acknowledged_at"]["source"] == "person"
    assert body["timestamps"]["acknowledged_at"]["set_by"] == "Admin"
    late = api.put(f"/api/v1/incidents/{ref}/timestamps/detected", json={"value": ack})
    assert_problem(late, 422, "detected_at", "detected_at (")
    assert "must not be later than declared_at" in late.json()["detail"]
    naive = api.put(
        f"/api/v1/incidents/{ref}/timestamps/detected_at", json={"value": "2026-03-29T00:00:00"}
    )
    assert_problem(naive, 422, "value", "timezone")
    unknown = api.put(f"/api/v1/incidents/{ref}/timestamps/fixed_at", json={"value": ack})
    assert_problem(unknown, 422, "name", "unknown timestamp 'fixed_at'")


def test_update_details_and_services(api: TestClient) -> None:
    ref = declare(api)["reference"]
    updated = api.patch(
        f"/api/v1/incidents/{ref}",
        json={
            "services": ["checkout", "payments"],
            "user_impact": "cannot pay",
            "customer_facing": True,
        },
    )
    assert [s["slug"] for s in updated.json()["services"]] == ["checkout", "payments"]
    assert timeline(api, ref)[-1]["body"] == (
        "Updated user impact: (empty) → 'cannot pay'; customer facing: no → yes; "
        "services: checkout → checkout, payments"
    )
    assert_problem(
        api.patch(f"/api/v1/incidents/{ref}", json={"services": ["nope"]}),
        404,
        "services",
        "no service named 'nope'",
    )
    assert_problem(
        api.patch(f"/api/v1/incidents/{ref}", json={"status": "closed"}),
        422,
        "status",
        "Extra inputs",
    )
    assert_problem(
        api.patch(f"/api/v1/incidents/{ref}", json={"customer_facing": True}),
        409,
        None,
        "nothing differs",
    )


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"severity": "P2"}, "title", "Field required"),
        ({"title": "", "severity": "P2"}, "title", "at least 1 character"),
        ({"title": "x", "severity": "P7"}, "severity", "expected one of P1, P2, P3, P4"),
        (
            {"title": "x", "severity": "P2", "services": ["nope"]},
            "services",
            "no service named 'nope'",
        ),
        (
            {"title": "x", "severity": "P2", "detection_source": "psychic"},
            "detection_source",
            "unknown detection source",
        ),
        ({"title": "x", "severity": "P2", "detected_at": "yesterday"}, "detected_at", "datetime"),
        (
            {"title": "x", "severity": "P2", "colour": "red"},
            "colour",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_bad_declarations_change_nothing(
    api: TestClient, body: dict[str, Any], field: str, fragment: str
) -> None:
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code in (404, 422)
    assert_problem(response, response.status_code, field, fragment)
    assert api.get("/api/v1/incidents").json()["items"] == []


def test_malformed_json_is_refused(api: TestClient) -> None:
    response = api.post(
        "/api/v1/incidents", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, None, "JSON")


def test_list_filters_and_cursor_pages(api: TestClient, clock: FakeClock) -> None:
    refs = []
    for i, (severity, service) in enumerate(
        [("P1", "checkout"), ("P3", "search"), ("P2", "payments"), ("P3", "search")]
    ):
        clock.advance(minutes=1)
        refs.append(
            declare(api, title=f"Thing {i} broke", severity=severity, services=[service])[
                "reference"
            ]
        )
    api.post(f"/api/v1/incidents/{refs[0]}/status", json={"status": "resolved"}).raise_for_status()

    def listed(query: str) -> list[str]:
        response = api.get(f"/api/v1/incidents?{query}")
        assert response.status_code == 200, response.text
        return [i["reference"] for i in response.json()["items"]]

    assert listed("") == refs[::-1]
    assert listed("status=open") == refs[:0:-1]
    assert listed("status=resolved,closed") == [refs[0]]
    assert listed("severity=P3&severity=p1") == [refs[3], refs[1], refs[0]]
    assert listed("service=search") == [refs[3], refs[1]]
    assert listed("q=thing%202") == [refs[2]]
    since = api.get(f"/api/v1/incidents/{refs[2]}").json()["timestamps"]["declared_at"]["value"]
    assert listed(f"since={since.replace('+', '%2B')}") == [refs[3], refs[2]]
    page = api.get("/api/v1/incidents?limit=3").json()
    assert len(page["items"]) == 3
    rest = api.get(f"/api/v1/incidents?limit=3&cursor={page['next_cursor']}").json()
    assert [i["reference"] for i in rest["items"]] == [refs[0]]
    assert rest["next_cursor"] is None
    assert_problem(
        api.get("/api/v1/incidents?status=fixed"), 422, "status", "unknown status 'fixed'"
    )
    assert_problem(
        api.get("/api/v1/incidents?cursor=garbage"), 422, "cursor", "not one returned by this API"
    )
    assert_problem(
        api.get("/api/v1/incidents?limit=1000"), 422, "limit", "less than or equal to 200"
    )


def test_unknown_incident_and_bad_reference(api: TestClient) -> None:
    assert_problem(api.get("/api/v1/incidents/INC-404"), 404, "incident", "no incident INC-404")
    assert_problem(
        api.get("/api/v1/incidents/banana"), 404, "incident", "not an incident reference"
    )
    assert_problem(api.get("/api/v1/nothing-here"), 404, None, "Not Found")


def test_tokens_scopes_and_roles(catalog: Tocsin) -> None:
    app = create_app(catalog)
    admin = make_token(catalog, Scope.ADMIN)
    reader = make_token(catalog, Scope.READ)
    viewer = make_token(catalog, Scope.READ, username="val", role=OrgRole.VIEWER)
    with TestClient(app) as client:
        assert_problem(client.get("/api/v1/incidents"), 401, None, "Authorization: Bearer")
        assert client.get("/api/v1/incidents").headers["www-authenticate"] == "Bearer"
        bad = client.get("/api/v1/incidents", headers={"Authorization": "Bearer tsn_wrong"})
        assert_problem(bad, 401, None, "unknown or revoked")
        ro = {"Authorization": f"Bearer {reader}"}
        assert client.get("/api/v1/incidents", headers=ro).status_code == 200
        denied = client.post("/api/v1/incidents", headers=ro, json={"title": "x", "severity": "P1"})
        assert_problem(denied, 403, None, "this token has read scope; this action needs write")
        assert client.get("/api/v1/incidents", headers=ro).json()["items"] == []
        assert (
            client.get(
                "/api/v1/incidents", headers={"Authorization": f"Bearer {viewer}"}
            ).status_code
            == 200
        )

        adm = {"Authorization": f"Bearer {admin}"}
        made = client.post(
            "/api/v1/tokens", headers=adm, json={"name": "bot", "scope": "write"}
        ).json()
        assert made["token"].startswith("tsn_")
        listed = client.get("/api/v1/tokens", headers=adm).json()
        assert all("token" not in t for t in listed)
        assert made["token"] not in str(listed)
        assert (
            client.post(
                "/api/v1/tokens", headers=ro, json={"name": "x", "scope": "read"}
            ).status_code
            == 403
        )
        refused = client.post(
            "/api/v1/tokens", headers=adm, json={"name": "v", "scope": "write", "username": "val"}
        )
        assert_problem(refused, 403, "scope", "at most read scope")
        assert client.delete(f"/api/v1/tokens/{made['id']}", headers=adm).status_code == 204
        revoked = client.get(
            "/api/v1/incidents", headers={"Authorization": f"Bearer {made['token']}"}
        )
        assert_problem(revoked, 401, None, "unknown or revoked")


def test_health_readiness_policy_and_openapi(api: TestClient) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    policy = api.get("/api/v1/policy").json()
    assert policy["severities"]["P1"] == {
        "name": "Critical",
        "impact": "Complete service outage",
        "response_time": "15m",
        "examples": ["Site down", "Data loss"],
    }
    assert policy["escalation_paths"]["P1"][2] == {
        "offset": "30m",
        "targets": ["CTO", "CEO (if customer impact)"],
    }
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/{ref}",
        "/api/v1/incidents/{ref}/timeline",
        "/api/v1/incidents/{ref}/status",
        "/api/v1/incidents/{ref}/severity",
        "/api/v1/incidents/{ref}/roles",
        "/api/v1/services",
        "/api/v1/teams",
        "/api/v1/people",
    ):
        assert path in paths, path
