"""People, teams, services and catalog import over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

CATALOG_YAML = """
people:
  - handle: dave
    name: Dave Okafor
    email: dave@example.com
    time_zone: Europe/Berlin
    title: Director of Engineering
    contact_methods:
      - {kind: sms, address: "+4915112345678"}
teams:
  - slug: platform
    name: Platform
    members:
      - {person: dave, role: engineering manager}
services:
  - slug: web
    name: Web
    team: platform
    tier: 1
    depends_on: [edge]
  - slug: edge
    name: Edge
    team: platform
"""


def test_people_crud(api: TestClient) -> None:
    created = api.post(
        "/api/v1/people",
        json={
            "handle": "Erin",
            "name": "Erin Walsh",
            "email": "erin@example.com",
            "title": "VP_Engineering",
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/people/erin"
    assert created.json()["title"] == "vp engineering"
    patched = api.patch("/api/v1/people/erin", json={"time_zone": "America/New_York"})
    assert patched.json()["time_zone"] == "America/New_York"
    assert patched.json()["name"] == "Erin Walsh"
    assert (
        api.post(
            "/api/v1/people", json={"handle": "erin", "name": "E", "email": "e@example.com"}
        ).status_code
        == 409
    )
    bad = api.patch("/api/v1/people/erin", json={"time_zone": "Nowhere/Land"})
    assert bad.status_code == 422 and "unknown time zone" in bad.json()["detail"]
    assert api.get("/api/v1/people/erin").json()["time_zone"] == "America/New_York"
    assert api.get("/api/v1/people/nobody").status_code == 404


def test_teams_and_services(api: TestClient) -> None:
    team = api.post(
        "/api/v1/teams",
        json={"slug": "sre", "name": "SRE", "members": [{"person": "alice", "role": "team lead"}]},
    )
    assert team.json()["members"] == [
        {"person": "alice", "name": "Alice Martin", "role": "team lead"}
    ]
    svc = api.post(
        "/api/v1/services",
        json={
            "slug": "db",
            "name": "Database",
            "team": "sre",
            "tier": 1,
            "runbooks": ["https://runbooks.example.com/db"],
        },
    )
    assert svc.status_code == 201, svc.text
    moved = api.patch("/api/v1/services/checkout", json={"depends_on": ["payments", "db"]})
    assert moved.json()["depends_on"] == ["payments", "db"]
    assert api.get("/api/v1/teams/sre").json()["services"] == ["db"]
    bad = api.post("/api/v1/services", json={"slug": "x", "name": "X", "runbooks": ["not a url"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "runbooks[0]"
    open_count = api.get("/api/v1/services/checkout").json()["open_incidents"]
    api.post(
        "/api/v1/incidents", json={"title": "t", "severity": "P3", "services": ["checkout"]}
    ).raise_for_status()
    assert api.get("/api/v1/services/checkout").json()["open_incidents"] == open_count + 1


def test_import_is_idempotent_and_reports_problems_with_lines(api: TestClient) -> None:
    first = api.post(
        "/api/v1/catalog/import", content=CATALOG_YAML, headers={"content-type": "application/yaml"}
    )
    assert first.json() == {
        "people": {"created": 1, "updated": 0, "unchanged": 0},
        "teams": {"created": 1, "updated": 0, "unchanged": 0},
        "services": {"created": 2, "updated": 0, "unchanged": 0},
    }
    again = api.post("/api/v1/catalog/import", content=CATALOG_YAML)
    assert again.json()["services"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert api.get("/api/v1/services/web").json()["depends_on"] == ["edge"]

    broken = CATALOG_YAML.replace("    tier: 1\n", "    tier: one\n    colour: red\n")
    response = api.post("/api/v1/catalog/import", content=broken)
    assert response.status_code == 422
    detail = response.json()["detail"]
    lines = broken.splitlines()
    tier_line = lines.index("    tier: one") + 1
    assert f"line {tier_line}: services[0].tier: Input should be a valid integer" in detail
    assert f"line {tier_line + 1}: services[0].colour: unknown key" in detail
    unknown_team = CATALOG_YAML.replace("team: platform\n    tier: 1", "team: ghosts\n    tier: 1")
    response = api.post("/api/v1/catalog/import", content=unknown_team)
    assert (
        response.status_code == 404
        and "services[web].team: no team named 'ghosts'" in response.json()["detail"]
    )


def test_contact_methods_can_wait_before_paging(api: TestClient) -> None:
    methods = [
        {"kind": "push", "address": "erin-phone"},
        {"kind": "sms", "address": "+4915112345678", "after": "2m"},
        {"kind": "phone", "address": "+4915112345678", "after": "5_minutes"},
    ]
    body = {"handle": "erin", "name": "Erin", "email": "erin@example.com"}
    created = api.post("/api/v1/people", json={**body, "contact_methods": methods})
    assert created.status_code == 201, created.text
    assert [m["after"] for m in created.json()["contact_methods"]] == [None, "2m", "5m"]
    late = [{"kind": "sms", "address": "+4915112345678", "after": "2 days"}]
    bad = api.patch("/api/v1/people/erin", json={"contact_methods": late})
    assert bad.status_code == 422
    assert "contact_methods[0].after" in bad.text
    assert api.get("/api/v1/people/erin").json()["contact_methods"][1]["after"] == "2m"
