"""Stakeholder updates over HTTP, on SQLite and PostgreSQL: preview, send, list, refusals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.e2e.test_api_incidents import assert_problem, declare, timeline
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.entrypoints.app import create_app

UPDATE = {
    "template": "status",
    "audiences": ["internal", "executive"],
    "summary": "Rolled back the 00:10 deploy",
    "actions": ["Watching error rates", "Draining the queue"],
}


def updates(api: TestClient, ref: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/incidents/{ref}/updates")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_preview_edit_send_and_list(api: TestClient, clock: FakeClock) -> None:
    ref = declare(api, user_impact="Checkout fails for a third of users")["reference"]
    api.post(f"/api/v1/incidents/{ref}/roles", json={"role": "ic", "person": "alice"})
    before = timeline(api, ref)

    preview = api.post(f"/api/v1/incidents/{ref}/updates/preview", json=UPDATE)
    assert preview.status_code == 200, preview.text
    text = preview.json()["body"]
    assert text.splitlines()[:5] == [
        "**INCIDENT UPDATE - INC-1**",
        "Time: 2026-03-29 00:30 UTC",
        "Status: Investigating",
        "Summary: Rolled back the 00:10 deploy",
        "Next Update: 01:30 UTC",  # P2: every 60 minutes
    ]
    assert "- Watching error rates\n- Draining the queue" in text
    assert preview.json()["subject"] == "[P2] INC-1 Status Update: Checkout down"
    assert updates(api, ref)["updates"] == [] and timeline(api, ref) == before

    clock.advance(minutes=2)
    edited = text.replace("Draining the queue", "Queue drained")
    sent = api.post(f"/api/v1/incidents/{ref}/updates", json={**UPDATE, "body": edited})
    assert sent.status_code == 201, sent.text
    assert sent.json()["body"] == edited and sent.json()["promise"] == "open"
    listed = updates(api, ref)
    assert [u["body"] for u in listed["updates"]] == [edited]
    assert listed["updates"][0]["audiences"] == ["internal", "executive"]
    assert listed["next_update"]["due_at"] == "2026-03-29T01:32:00Z"
    assert listed["next_update"]["state"] == "on-track"
    assert listed["compliance"] == {"kept": 0, "missed": 0, "promised": 0, "rate": None}
    entry = timeline(api, ref)[-1]
    assert entry["kind"] == "stakeholder_update"
    assert entry["body"] == (
        "Status Update sent to internal (#incidents-status), executive (#exec-incidents): "
        "Rolled back the 00:10 deploy. Next update by 01:32 UTC."
    )

    clock.advance(minutes=30)
    again = api.post(f"/api/v1/incidents/{ref}/updates", json={**UPDATE, "summary": "Stable"})
    assert again.status_code == 201
    listed = updates(api, ref)
    assert [u["promise"] for u in listed["updates"]] == ["open", "kept"]
    assert listed["compliance"] == {"kept": 1, "missed": 0, "promised": 1, "rate": 1.0}


def test_bad_input_names_the_field_and_writes_nothing(api: TestClient) -> None:
    ref = declare(api)["reference"]
    before = timeline(api, ref)
    url = f"/api/v1/incidents/{ref}/updates"
    for path in (url, f"{url}/preview"):
        weekly = api.post(path, json={**UPDATE, "template": "weekly"})
        assert_problem(weekly, 422, "template", "unknown template 'weekly'")
        investors = api.post(path, json={**UPDATE, "audiences": ["internal", "investors"]})
        assert_problem(investors, 422, "audiences", "unknown audience 'investors'")
        nobody = api.post(path, json={**UPDATE, "audiences": []})
        assert_problem(nobody, 422, "audiences", "choose at least one audience")
        extra = api.post(path, json={**UPDATE, "channel": "slack"})
        assert_problem(extra, 422, "channel", "Extra inputs are not permitted")
    empty = api.post(url, json={**UPDATE, "body": "   "})
    assert_problem(empty, 422, "body", "body must not be empty")
    assert updates(api, ref)["updates"] == [] and timeline(api, ref) == before
    missing = api.post("/api/v1/incidents/INC-99/updates", json=UPDATE)
    assert_problem(missing, 404, "incident", "no incident INC-99")
    assert api.get("/api/v1/incidents/INC-99/updates").status_code == 404


def test_only_the_commander_or_communications_lead_may_send(
    api: TestClient, catalog: Tocsin
) -> None:
    ref = declare(api)["reference"]
    for role, person in (("ic", "alice"), ("scribe", "bob")):
        api.post(f"/api/v1/incidents/{ref}/roles", json={"role": role, "person": person})
    catalog.handle(
        commands.CreateUser("bob", "correct horse battery", OrgRole.RESPONDER, "Bob", "bob")
    )
    token = make_token(catalog, Scope.WRITE, "bob")
    with TestClient(create_app(catalog), headers={"Authorization": f"Bearer {token}"}) as bob:
        before = timeline(bob, ref)
        refused = bob.post(f"/api/v1/incidents/{ref}/updates", json=UPDATE)
        assert_problem(
            refused,
            403,
            "role",
            "sending a stakeholder update on INC-1 needs the Incident Commander (Alice Martin) "
            "or Communications Lead; you hold Scribe on it",
        )
        assert updates(bob, ref)["updates"] == [] and timeline(bob, ref) == before
        api.post(f"/api/v1/incidents/{ref}/roles", json={"role": "cl", "person": "bob"})
        sent = bob.post(f"/api/v1/incidents/{ref}/updates", json=UPDATE)
        assert sent.status_code == 201, sent.text
        assert sent.json()["author"] == "Bob"
