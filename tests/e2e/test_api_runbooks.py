"""Runbooks, actions and recovery checks over the REST API, against a real HTTP target."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.e2e.target import _Target, target_server
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actors import Actor
from tocsin.domain.errors import AlreadyExists
from tocsin.entrypoints.app import create_app
from tocsin.services.demo import load_demo

PROBLEM = "application/problem+json"
SECRET = "s3cr3t-rollback-token-42"

CHECKOUT = """---
title: Checkout is down
services: [checkout]
alerts: [CheckoutErrorRate]
actions:
  - name: rollback
    title: Roll back checkout
    method: POST
    url: {url}/ok
    headers: {{X-Api-Key: "${{TOCSIN_SECRET_ROLLBACK_TOKEN}}"}}
    body: '{{"incident": "{{{{ reference }}}}", "severity": "{{{{ severity }}}}"}}'
---
# Checkout is down

- [ ] Look at the error rate dashboard
- [ ] Roll back the last deploy {{action: rollback}}
- [ ] Tell support
"""


def declare(api: TestClient, **fields: Any) -> str:
    body = {"title": "Checkout returns 502", "severity": "P2", **fields}
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


def timeline(api: TestClient, ref: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/incidents/{ref}/timeline")
    assert response.status_code == 200
    return list(response.json())


def assert_problem(response: Any, status: int, field: str | None, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert fragment in body["detail"], body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


def import_docs(api: TestClient, *docs: tuple[str, str], **extra: Any) -> Any:
    documents = [{"name": name, "text": text} for name, text in docs]
    return api.post("/api/v1/runbooks/import", json={"documents": documents, **extra})


@pytest.fixture
def target() -> Iterator[_Target]:
    with target_server() as server:
        yield server


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TOCSIN_SECRET_ROLLBACK_TOKEN", SECRET)
    return SECRET


def client_for(core: Tocsin, username: str, person: str) -> TestClient:
    """A responder linked to a catalog person, so incident roles apply to them."""
    with contextlib.suppress(AlreadyExists):
        core.handle(
            commands.CreateUser(
                username, "correct horse battery", OrgRole.RESPONDER, username.title(), person
            )
        )
    token = make_token(core, Scope.WRITE, username, OrgRole.RESPONDER)
    return TestClient(create_app(core), headers={"Authorization": f"Bearer {token}"})


def test_import_is_idempotent_and_an_edit_is_an_update(api: TestClient, target: _Target) -> None:
    doc = ("checkout-down.md", CHECKOUT.format(url=target.url))
    first = import_docs(api, doc, builtin=True)
    assert first.status_code == 200, first.text
    assert first.json()["runbooks"]["created"] == ["checkout-down", "data-loss", "security-breach"]
    assert first.json()["actions"]["created"] == ["rollback"]

    again = import_docs(api, doc, builtin=True).json()
    assert again["runbooks"] == {
        "created": [],
        "updated": [],
        "unchanged": ["checkout-down", "data-loss", "security-breach"],
    }
    assert again["actions"]["unchanged"] == ["rollback"]

    edited = (doc[0], doc[1].replace("- [ ] Tell support", "- [ ] Tell support and sales"))
    preview = import_docs(api, edited, dry_run=True).json()
    assert preview["runbooks"]["updated"] == ["checkout-down"] and preview["dry_run"]
    assert "Tell support and sales" not in api.get("/api/v1/runbooks/checkout-down").text
    assert import_docs(api, edited).json()["runbooks"]["updated"] == ["checkout-down"]

    books = api.get("/api/v1/runbooks").json()
    assert [b["slug"] for b in books].count("checkout-down") == 1 and len(books) == 3
    one = api.get("/api/v1/runbooks/checkout-down").json()
    assert one["updated_at"].startswith("2026-03-29T00:30")  # the fake clock's time
    assert [s["text"] for s in one["steps"]] == [
        "Look at the error rate dashboard",
        "Roll back the last deploy",
        "Tell support and sales",
    ]
    assert one["steps"][1]["action"] == "rollback"
    breach = api.get("/api/v1/runbooks/security-breach").json()
    assert breach["private"] is True
    assert "Revoke compromised credentials" in breach["steps"][1]["text"]
    data_loss = api.get("/api/v1/runbooks/data-loss").json()
    assert data_loss["private"] is False
    assert [s["text"].split(" (")[0].split(":")[0] for s in data_loss["steps"]][:4] == [
        "Stop all write operations to the affected data stores",
        "Activate the data recovery team",
        "Assess backup availability",
        "Notify legal and compliance",
    ]


def test_a_bad_file_names_its_field_and_nothing_is_written(api: TestClient) -> None:
    good = ("good.md", "---\ntitle: Good\n---\n- [ ] step\n")
    bad = (
        "bad.md",
        "---\ntitle: Bad\nactions:\n  - name: x\n    method: FETCH\n    url: http://x\n---\n- [ ] step\n",
    )
    refused = import_docs(api, good, bad)
    assert_problem(
        refused, 422, "actions.method", "bad.md: action 'x': method 'FETCH' is not one of"
    )
    no_front = import_docs(api, ("plain.md", "# just text\n"))
    assert_problem(
        no_front, 422, "front_matter", "plain.md: a runbook starts with YAML front matter"
    )
    unknown_key = import_docs(api, ("typo.md", "---\ntitle: T\nservice: [x]\n---\nbody\n"))
    assert_problem(unknown_key, 422, "front_matter", "line 3: service: unknown key")
    assert api.get("/api/v1/runbooks").json() == []
    assert api.get("/api/v1/actions").json() == []


def test_suggested_attached_and_steps_ticked_on_the_timeline(
    api: TestClient, target: _Target, clock: FakeClock
) -> None:
    import_docs(api, ("checkout-down.md", CHECKOUT.format(url=target.url)), builtin=True)
    ref = declare(api, services=["checkout"])
    found = api.get(f"/api/v1/incidents/{ref}/runbooks").json()
    assert found["suggested"] == [
        {"slug": "checkout-down", "title": "Checkout is down", "reasons": ["checkout"]}
    ]
    assert found["clearance"] == {
        "firing": [],
        "firing_count": 0,
        "resolved_count": 0,
        "total": 0,
        "clear": True,
    }
    attached = api.post(f"/api/v1/incidents/{ref}/runbooks", json={"runbook": "checkout-down"})
    assert attached.status_code == 201, attached.text
    assert attached.json()["done"] == 0 and len(attached.json()["steps"]) == 3
    again = api.post(f"/api/v1/incidents/{ref}/runbooks", json={"runbook": "checkout-down"})
    assert_problem(again, 409, "runbook", "already attached")

    clock.advance(minutes=3)
    ticked = api.post(f"/api/v1/incidents/{ref}/runbooks/checkout-down/steps/1", json={})
    assert ticked.status_code == 200, ticked.text
    step = ticked.json()["steps"][0]
    assert step["done"] and step["done_by"] == "Admin"
    assert step["done_at"].startswith(clock.now().isoformat()[:19])
    twice = api.post(f"/api/v1/incidents/{ref}/runbooks/checkout-down/steps/1", json={})
    assert_problem(twice, 409, "step", "already checked")
    missing = api.post(f"/api/v1/incidents/{ref}/runbooks/checkout-down/steps/9", json={})
    assert_problem(missing, 404, "step", "steps 1 to 3, not 9")
    bodies = [e["body"] for e in timeline(api, ref)]
    assert "Runbook attached: Checkout is down (3 steps)" in bodies
    assert "Step done (Checkout is down, step 1): Look at the error rate dashboard" in bodies
    after = api.get(f"/api/v1/incidents/{ref}/runbooks").json()
    assert after["suggested"] == [] and after["attached"][0]["done"] == 1


def test_actions_run_against_a_real_server_and_never_show_the_secret(
    api: TestClient, target: _Target, secret: str
) -> None:
    import_docs(api, ("checkout-down.md", CHECKOUT.format(url=target.url)))
    for name, path, timeout in (("broken", "/fail", 5), ("sluggish", "/slow/3", 0.5)):
        saved = api.put(
            f"/api/v1/actions/{name}",
            json={"name": name, "method": "POST", "url": target.url + path, "timeout": timeout},
        )
        assert saved.status_code == 201, saved.text
    ref = declare(api, services=["checkout"])

    ok = api.post(f"/api/v1/incidents/{ref}/actions/rollback/runs")
    assert ok.status_code == 201, ok.text
    run = ok.json()
    assert run["state"] == "succeeded" and run["status_code"] == 200
    assert run["duration_ms"] >= 0 and '"ok": true' in run["excerpt"]
    assert "[redacted]" in run["excerpt"]  # the echoed header, with the value taken out
    sent = target.requests[-1]
    assert sent["headers"]["X-Api-Key"] == secret  # type: ignore[index]
    assert sent["body"] == f'{{"incident": "{ref}", "severity": "P2"}}'

    failed = api.post(f"/api/v1/incidents/{ref}/actions/broken/runs").json()
    assert failed["state"] == "failed" and failed["status_code"] == 500

    started = time.monotonic()
    slow = api.post(f"/api/v1/incidents/{ref}/actions/sluggish/runs").json()
    assert time.monotonic() - started < 2.5
    assert slow["state"] == "timed_out" and slow["status_code"] is None
    assert "no answer within 0.5 s" in slow["error"]

    bodies = [e["body"] for e in timeline(api, ref)]
    assert any(b.startswith("Action rollback succeeded: HTTP 200 in ") for b in bodies)
    assert any(b.startswith("Action broken failed: HTTP 500 in ") for b in bodies)
    assert "Action sluggish timed out after 0.5 s" in bodies
    for path in (
        f"/api/v1/incidents/{ref}/timeline",
        f"/api/v1/incidents/{ref}/runs",
        "/api/v1/actions",
        "/api/v1/runbooks/checkout-down",
    ):
        answer = api.get(path)
        assert answer.status_code == 200 and secret not in answer.text, path
    shown = next(a for a in api.get("/api/v1/actions").json() if a["name"] == "rollback")
    assert shown["headers"] == {"X-Api-Key": "${TOCSIN_SECRET_ROLLBACK_TOKEN}"}


def test_a_missing_secret_is_a_clear_failure(
    api: TestClient, target: _Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOCSIN_SECRET_ROLLBACK_TOKEN", raising=False)
    import_docs(api, ("checkout-down.md", CHECKOUT.format(url=target.url)))
    ref = declare(api)
    run = api.post(f"/api/v1/incidents/{ref}/actions/rollback/runs").json()
    assert run["state"] == "failed"
    assert run["error"] == "the environment variable TOCSIN_SECRET_ROLLBACK_TOKEN is not set"
    assert target.requests == []


def test_approval_needs_the_commander_and_running_needs_tl_or_ic(
    catalog: Tocsin, target: _Target
) -> None:
    admin = TestClient(
        create_app(catalog), headers={"Authorization": f"Bearer {make_token(catalog, Scope.WRITE)}"}
    )
    saved = admin.put(
        "/api/v1/actions/scale-out",
        json={
            "name": "scale-out",
            "url": target.url + "/accepted",
            "requires_approval": True,
            "expect_status": 202,
        },
    )
    assert saved.status_code == 201, saved.text
    ref = declare(admin)
    for role, person in (
        ("incident_commander", "alice"),
        ("technical_lead", "bob"),
        ("scribe", "carol"),
    ):
        assigned = admin.post(
            f"/api/v1/incidents/{ref}/roles", json={"role": role, "person": person}
        )
        assert assigned.status_code == 200, assigned.text
    ic, tl, scribe = (client_for(catalog, u, u) for u in ("alice", "bob", "carol"))

    refused = scribe.post(f"/api/v1/incidents/{ref}/actions/scale-out/runs")
    assert_problem(
        refused,
        403,
        "role",
        "running the action scale-out on "
        + ref
        + " needs the Incident Commander (Alice Martin) or Technical Lead (Bob Chen)",
    )

    waiting = tl.post(f"/api/v1/incidents/{ref}/actions/scale-out/runs")
    assert waiting.status_code == 201, waiting.text
    run = waiting.json()
    assert run["state"] == "awaiting_approval" and target.requests == []

    not_ic = tl.post(f"/api/v1/incidents/{ref}/runs/{run['id']}/approve")
    assert_problem(
        not_ic,
        403,
        "role",
        "approving the action scale-out on " + ref + " needs the Incident Commander (Alice Martin)",
    )
    assert target.requests == []

    approved = ic.post(f"/api/v1/incidents/{ref}/runs/{run['id']}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "succeeded" and approved.json()["status_code"] == 202
    assert approved.json()["approved_by"] == "Alice"
    assert len(target.requests) == 1
    twice = ic.post(f"/api/v1/incidents/{ref}/runs/{run['id']}/approve")
    assert_problem(twice, 409, "run", "is succeeded, not awaiting approval")
    assert len(target.requests) == 1

    kinds = [(e["kind"], e["author"]) for e in timeline(admin, ref)][-3:]
    assert kinds == [
        ("action_requested", "Bob"),
        ("action_approved", "Alice"),
        ("action_result", "Alice"),
    ]


def test_checks_pass_repeatedly_or_fail_on_latency(api: TestClient, target: _Target) -> None:
    ref = declare(api)
    passed = api.post(
        f"/api/v1/incidents/{ref}/checks",
        json={
            "url": target.url + "/ok",
            "expect_body": '"ok": true',
            "repeat": 3,
            "interval": 0.05,
            "max_latency_ms": 2000,
        },
    )
    assert passed.status_code == 201, passed.text
    assert passed.json()["state"] == "succeeded"
    assert (passed.json()["passes"], passed.json()["repeat"]) == (3, 3)
    assert len(target.requests) == 3

    slow = api.post(
        f"/api/v1/incidents/{ref}/checks",
        json={"url": target.url + "/slow/0.3", "repeat": 3, "interval": 0, "max_latency_ms": 100},
    )
    assert slow.json()["state"] == "failed" and slow.json()["attempts"] == 1
    assert "over the 100 ms bound" in slow.json()["error"]

    wrong = api.post(f"/api/v1/incidents/{ref}/checks", json={"url": target.url + "/fail"})
    assert wrong.json()["error"] == "HTTP 500, expected 200"

    bad = api.post(f"/api/v1/incidents/{ref}/checks", json={"url": "ftp://x", "repeat": 2})
    assert_problem(bad, 422, "url", "url must start with http:// or https://")
    too_many = api.post(f"/api/v1/incidents/{ref}/checks", json={"url": target.url, "repeat": 50})
    assert_problem(too_many, 422, "repeat", "less than or equal to 10")

    bodies = [e["body"] for e in timeline(api, ref) if e["kind"] == "check_result"]
    assert bodies[0] == f"Recovery check passed 3/3: GET {target.url}/ok → 200"
    assert bodies[1].startswith("Recovery check failed on attempt 1 of 3 (0 passed)")
    assert len(bodies) == 3


def test_a_run_whose_worker_died_reads_outcome_unknown(
    api: TestClient, catalog: Tocsin, target: _Target, clock: FakeClock
) -> None:
    api.put("/api/v1/actions/flag", json={"name": "flag", "url": target.url + "/ok", "timeout": 10})
    ref = declare(api)
    incident_id = int(ref.removeprefix("INC-"))
    admin = commands.RequestActionRun(incident_id, "flag", actor=Actor("Operator"))
    run_id = catalog.handle(admin)
    catalog.handle(commands.StartActionRun(incident_id, run_id))  # and then the process died
    assert api.get(f"/api/v1/incidents/{ref}/runs/{run_id}").json()["state"] == "running"
    clock.advance(seconds=16)
    assert api.get(f"/api/v1/incidents/{ref}/runs/{run_id}").json()["state"] == "outcome_unknown"


def test_the_demo_has_the_playbooks_and_shows_alert_clearance(
    tocsin: Tocsin, clock: FakeClock
) -> None:
    load_demo(tocsin.handle_as_of, clock.now())
    token = make_token(tocsin, Scope.READ)
    with TestClient(create_app(tocsin), headers={"Authorization": f"Bearer {token}"}) as api:
        slugs = [r["slug"] for r in api.get("/api/v1/runbooks").json()]
        assert {"data-loss", "security-breach", "card-authorisation-timeouts"} <= set(slugs)
        open_ref = api.get("/api/v1/incidents?status=open").json()["items"][0]["reference"]
        clearance = api.get(f"/api/v1/incidents/{open_ref}/clearance").json()
        assert clearance["firing_count"] == 2 and clearance["clear"] is False
        assert {a["title"] for a in clearance["firing"]} == {
            a["title"] for a in api.get(f"/api/v1/alerts?incident={open_ref}").json()["items"]
        }
        found = api.get(f"/api/v1/incidents/{open_ref}/runbooks").json()
        assert found["suggested"][0]["slug"] == "card-authorisation-timeouts"
        assert "CardAuthorisationTimeouts" in found["suggested"][0]["reasons"]
        assert api.get("/api/v1/incidents/INC-99/clearance").status_code == 404
