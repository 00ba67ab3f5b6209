"""The workflow and task graph over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import CATALOG, make_tocsin, make_token
from tests.e2e.test_api_incidents import assert_problem, declare, timeline
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.entrypoints.app import create_app
from tocsin.policy import load_policy
from tocsin.policy.loader import default_policy_text

PASSWORD = "correct horse battery"


def by_key(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for t in board["tasks"] + board["workstreams"]}


def test_a_declared_incident_runs_the_standard_workflow(api: TestClient) -> None:
    ref = declare(api, severity="P1")["reference"]
    workflow = api.get(f"/api/v1/incidents/{ref}/workflow").json()
    assert workflow["workflow"] == "standard"
    assert workflow["stage"]["name"] == "Detection & Assessment"
    assert [s["key"] for s in workflow["stages"]] == [
        "detection", "triage", "containment", "root_cause", "recovery", "review",
    ]  # fmt: skip
    assert workflow["stage"]["checklist"][0] == {
        "number": 1, "item": "Alert validation and deduplication", "done": False, "by": None,
        "at": None,
    }  # fmt: skip
    board = api.get(f"/api/v1/incidents/{ref}/tasks").json()
    assert [(t["key"], t["estimate"]) for t in board["tasks"]] == [
        ("initial_assessment", "5m"), ("war_room_setup", "10m"), ("containment_actions", "15m"),
        ("root_cause_analysis", "30m"), ("resolution_implementation", "45m"),
        ("post_incident_review", "1h 00m"),
    ]  # fmt: skip
    assert [(w["workstream"], w["team"]) for w in board["workstreams"]] == [
        ("Security Team", "security"), ("Data Team", "data"), ("Communications Team", ""),
    ]  # fmt: skip
    assert by_key(board)["war_room_setup"]["blocked_by"] == ["initial_assessment"]
    assert board["critical_path"][-1] == "resolution_implementation"
    assert board["critical_remaining"] == "1h 45m"


@pytest.fixture
def war_room(catalog: Tocsin) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], str]]:
    """INC with Alice as IC, Bob as Technical Lead and Carol as Scribe, each with a token."""
    headers = {}
    for handle, name in (("alice", "Alice Martin"), ("bob", "Bob Chen"), ("carol", "Carol Diaz")):
        catalog.handle(commands.CreateUser(handle, PASSWORD, OrgRole.RESPONDER, name, handle))
        headers[handle] = {"Authorization": f"Bearer {make_token(catalog, Scope.WRITE, handle)}"}
    with TestClient(create_app(catalog), headers=headers["alice"]) as client:
        ref = declare(client, severity="P2")["reference"]
        for role, person in (("tl", "bob"), ("scribe", "carol"), ("ic", "alice")):
            client.post(f"/api/v1/incidents/{ref}/roles", json={"role": role, "person": person})
        yield client, headers, ref


def test_tasks_follow_roles_dependencies_and_the_ics_override(
    war_room: tuple[TestClient, dict[str, dict[str, str]], str], clock: FakeClock
) -> None:
    client, as_, ref = war_room
    tasks = f"/api/v1/incidents/{ref}/tasks"
    refused = client.post(f"{tasks}/initial_assessment/start", headers=as_["carol"])
    assert_problem(refused, 403, "role", "starting initial_assessment on")
    assert "Technical Lead (Bob Chen)" in refused.json()["detail"]
    started = client.post(f"{tasks}/initial_assessment/start", headers=as_["bob"])
    assert by_key(started.json())["initial_assessment"]["status"] == "in_progress"

    blocked = client.post(f"{tasks}/containment_actions/start", headers=as_["bob"])
    assert_problem(blocked, 409, "task", "containment_actions waits for war_room_setup (pending)")
    forced = client.post(
        f"{tasks}/containment_actions/start", headers=as_["bob"], json={"override": True}
    )
    assert_problem(forced, 403, "role", "needs the Incident Commander (Alice Martin)")
    before = len(timeline(client, ref))
    client.post(
        f"{tasks}/containment_actions/start", headers=as_["alice"], json={"override": True}
    ).raise_for_status()
    override = timeline(client, ref)[before:]
    assert [(e["kind"], e["author"]) for e in override] == [("task", "Alice Martin")]
    assert "override: started before war_room_setup finished" in override[0]["body"]

    clock.advance(minutes=6)
    board = client.get(tasks).json()
    assert (by_key(board)["initial_assessment"]["overdue"], by_key(board)["initial_assessment"]["overdue_by"]) == (True, "1m")  # fmt: skip
    assert by_key(board)["containment_actions"]["overdue"] is False
    assert board["critical_path"][0] == "initial_assessment"

    # The owner may finish their own task; owners are people of the catalog.
    client.patch(f"{tasks}/data", json={"owner": "carol"}).raise_for_status()
    assert_problem(client.patch(f"{tasks}/data", json={"owner": "zed"}), 404, "owner", "'zed'")
    client.post(f"{tasks}/data/start").raise_for_status()
    done = client.post(f"{tasks}/data/complete", headers=as_["carol"]).json()
    assert (by_key(done)["data"]["status"], by_key(done)["data"]["owner_handle"]) == ("done", "carol")  # fmt: skip
    assert_problem(client.post(f"{tasks}/coffee/start"), 404, "task", "no task 'coffee'")
    skip = client.post(f"{tasks}/security/skip", json={"reason": "x"})
    assert_problem(skip, 404, "task", "no task 'security'")  # a P1 workstream, not on a P2


def test_checklists_and_stages_show_who_did_what(
    war_room: tuple[TestClient, dict[str, dict[str, str]], str], clock: FakeClock
) -> None:
    client, as_, ref = war_room
    checklist = f"/api/v1/incidents/{ref}/workflow/checklist"
    denied = client.post(checklist, headers=as_["carol"], json={"item": "1"})
    assert_problem(denied, 403, "role", "ticking the Detection & Assessment checklist")
    clock.advance(minutes=1)
    ticked = client.post(checklist, headers=as_["bob"], json={"item": "impact scope assessment"})
    item = ticked.json()["stage"]["checklist"][2]
    assert (item["item"], item["done"], item["by"]) == ("Impact scope assessment", True, "Bob Chen")
    assert item["at"].startswith(clock.now().isoformat()[:19])
    assert_problem(client.post(checklist, json={"item": "nap"}), 422, "item", "no checklist item")
    assert_problem(client.post(checklist, json={"item": "3"}), 409, "item", "already ticked")
    review = client.post(checklist, headers=as_["carol"], json={"item": "1", "stage": "review"})
    assert review.json()["stages"][5]["ticked"] == 1

    stage = f"/api/v1/incidents/{ref}/workflow/stage"
    assert_problem(client.post(stage, headers=as_["bob"], json={"stage": "next"}), 403, "role", "")
    assert_problem(client.post(stage, json={"stage": "lunch"}), 422, "stage", "stages: detection")
    moved = client.post(stage, json={"stage": "next"}).json()
    assert (moved["stage"]["key"], moved["stages"][0]["state"]) == ("triage", "done")
    assert [e["body"] for e in timeline(client, ref)[-3:]] == [
        "Ticked in Detection & Assessment: Impact scope assessment",
        "Ticked in Post-Incident Review: Timeline reconstruction",
        "Stage: Detection & Assessment → Triage & War Room Setup (1 of 5 Detection & Assessment "
        "items ticked)",
    ]


CUSTOM = """
  database:
    stages:
      - {key: stabilise, name: Stabilise the database, role: technical_lead, checklist: [Stop writes, Fail over]}
      - {key: verify, name: Verify the data, role: scribe, checklist: [Compare checksums]}
    tasks:
      - {key: failover, content: Fail over to the replica, priority: critical, role: tl, estimate: 10m}
      - {key: checksums, content: Compare checksums, role: tl, estimate: 20m, depends_on: [failover]}
"""


def test_a_custom_workflow_from_the_policy_is_used_when_named(
    db_url: str, clock: FakeClock
) -> None:
    policy = load_policy(
        default_policy_text().replace("\nworkflows:\n", "\nworkflows:" + CUSTOM, 1)
    )
    core = make_tocsin(db_url, clock, policy)
    try:
        core.handle(CATALOG)
        token = make_token(core, Scope.WRITE)
        with TestClient(create_app(core), headers={"Authorization": f"Bearer {token}"}) as api:
            unknown = api.post(
                "/api/v1/incidents", json={"title": "x", "severity": "P2", "workflow": "dbfire"}
            )
            assert_problem(unknown, 422, "workflow", "unknown workflow 'dbfire'; known: database, standard")  # fmt: skip
            assert api.get("/api/v1/incidents").json()["items"] == []
            ref = declare(api, workflow="database")["reference"]
            workflow = api.get(f"/api/v1/incidents/{ref}/workflow").json()
            assert (workflow["workflow"], workflow["stage"]["name"]) == ("database", "Stabilise the database")  # fmt: skip
            board = api.get(f"/api/v1/incidents/{ref}/tasks").json()
            assert [t["key"] for t in board["tasks"]] == ["failover", "checksums"]
            assert board["critical_path"] == ["failover", "checksums"]  # the last task is the goal
            assert [w["key"] for w in board["workstreams"]] == []
    finally:
        core.close()
