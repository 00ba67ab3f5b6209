"""Paging stops for good when an incident is acknowledged or resolved, even for pages already on
their way, and starts again when the incident is reopened; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from sqlalchemy import select

from tests.paging.pager import ME, Pager, run_updates_for, with_destinations, with_paging
from tocsin.adapters import orm
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.entrypoints import paging as paging_loops
from tocsin.services.handlers import communications

PD = {"destinations": {"pagerduty": {"webhook": "http://127.0.0.1:9/pd"}}}


def statuses(pager: Pager, incident: int) -> dict[str, str]:
    with pager.core.database.reader.connect() as conn:
        d, p = orm.deliveries, orm.people
        rows = conn.execute(
            select(p.c.handle, d.c.address, d.c.method, d.c.status)
            .outerjoin(p, p.c.id == d.c.person_id)
            .where(d.c.incident_id == incident)
        )
        return {f"{r.handle or r.address}:{r.method}": r.status for r in rows}


@pytest.mark.parametrize("stop", ["acknowledge", "resolve"])
@pytest.mark.parametrize("permanent", [False, True])
def test_a_page_failing_after_paging_stopped_is_neither_retried_nor_replaced(
    pager: Pager, stop: str, permanent: bool
) -> None:
    """The sender reports a failure only after the incident was acknowledged or resolved: the
    page is not tried again, no fallback method is tried, and its lease running out sends
    nothing either."""
    incident = pager.declare(Severity.P3)  # alice by email; her sms would be the fallback
    claimed = pager.core.handle(commands.ClaimDeliveries(10, 60))
    assert [(d.address, d.status) for d in claimed] == [("alice@pager.example.com", "sending")]
    if stop == "acknowledge":
        pager.core.handle(commands.AcknowledgeIncident(incident, Actor("Alice")))
    else:
        pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    failed = commands.DeliveryOutcome(
        claimed[0].id or 0, claimed[0].fence, "421 try later", permanent
    )
    assert pager.core.handle(commands.RecordDeliveries((failed,))) == [None]
    assert statuses(pager, incident) == {"alice:email": "cancelled"}
    pager.expect_nothing_more(hours=24)
    assert not any("Giving up" in line for line in pager.timeline(incident))


def test_a_page_whose_sender_died_is_not_sent_after_the_acknowledgement(pager: Pager) -> None:
    incident = pager.declare(Severity.P2)  # alice and bob by email
    assert len(pager.core.handle(commands.ClaimDeliveries(10, 60))) == 2  # then the worker dies
    pager.clock.advance(seconds=10)
    pager.core.handle(commands.AcknowledgeIncident(incident, Actor("Alice")))
    pager.clock.advance(minutes=2)  # well past the lease, which would have sent them again
    pager.cycle(2)
    pager.expect_nothing_more(hours=24)
    assert set(statuses(pager, incident).values()) == {"cancelled"}


def test_a_reopened_incident_pages_again_and_can_be_acknowledged_again(db_url: str) -> None:
    pager = Pager(db_url, with_paging(**PD))
    try:
        incident = pager.declare(Severity.P2)
        pager.cycle()
        pager.expect("alice:email", "bob:email", "pagerduty:destination")
        pager.at(minutes=5)
        pager.core.handle(commands.AcknowledgeIncident(incident, Actor("Alice")))
        pager.at(minutes=10)
        pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
        pager.cycle()
        pager.expect("pagerduty:destination", "pagerduty:destination")  # acknowledged, resolved
        pager.at(minutes=40)
        pager.core.handle(commands.ChangeStatus(incident, Status.INVESTIGATING, ME))
        pager.cycle()
        # Everyone on the path again, and PagerDuty gets a new trigger for its incident.
        pager.expect("alice:email", "bob:email", "pagerduty:destination")
        reopened = next(line for line in pager.timeline(incident) if line.startswith("Reopened"))
        assert "acknowledged_at was 2026-11-23T14:05:00Z" in reopened
        pager.at(minutes=50)
        pager.core.handle(commands.AcknowledgeIncident(incident, Actor("Bob")))
        pager.cycle()
        pager.expect("pagerduty:destination")  # this round's acknowledgement is news too
        pager.at(hours=1)
        pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
        pager.cycle()
        pager.expect("pagerduty:destination")  # and so is the second resolution
        pager.expect_nothing_more(hours=24)
        sent = [d.event for d in pager.receiver.sent if d.method == "destination"]
        assert sent == ["trigger", "acknowledge", "resolve"] * 2
    finally:
        pager.core.close()


def test_reopening_follows_the_severity_set_while_it_was_resolved(pager: Pager) -> None:
    incident = pager.declare(Severity.P3)
    pager.cycle()
    pager.expect("alice:email")
    pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    pager.core.handle(commands.ReclassifyIncident(incident, Severity.P1, "worse than we saw", ME))
    pager.at(minutes=1)
    pager.expect()  # resolved: nobody is paged for the new severity yet
    pager.core.handle(commands.ChangeStatus(incident, Status.INVESTIGATING, ME))
    pager.cycle()
    pager.expect("alice:sms", "alice:email", "bob:email", "erin:email")  # P1's first step
    pager.at(minutes=16)
    pager.expect("dave:email", "vera:email")  # its 15-minute step counts from the reopening
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more(hours=24)


def test_a_last_step_with_nobody_still_waits_for_the_repeat(db_url: str) -> None:
    """P3 on ledger: nina is on call, the team has no lead for the 2-hour step. Each new round
    waits `repeat_after` from that empty last step, instead of paging nina again at once."""
    pager = Pager(db_url, with_paging(repeat=2, repeat_after="30m"))
    try:
        incident = pager.declare(Severity.P3, service="ledger")
        pager.cycle()
        pager.expect("nina:email")
        pager.at(hours=2)
        pager.expect()  # nobody leads the team
        pager.at(hours=2, minutes=29)
        pager.expect()
        pager.at(hours=2, minutes=30)
        pager.expect("nina:email")  # repeat 1
        pager.at(hours=4, minutes=30)
        pager.expect()
        pager.at(hours=5)
        pager.expect("nina:email")  # repeat 2, the last
        pager.expect_nothing_more(hours=24)
        assert pager.timeline(incident)[-1] == (
            "Every escalation step has fired; nobody acknowledged"
        )
    finally:
        pager.core.close()


def test_a_failing_stakeholder_report_is_retried_with_a_growing_pause(
    pager: Pager, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def broken(cmd: commands.RunUpdateReminders, ctx: object) -> int:
        calls.append(1)
        raise RuntimeError("a report row this version cannot read")

    monkeypatch.setitem(pager.core.bus._command_handlers, commands.RunUpdateReminders, broken)
    monkeypatch.setattr(paging_loops, "POLL_SECONDS", 0.1)
    incident = pager.declare(Severity.P1)  # owes an initial report at once
    pager.cycle()
    pager.expect("alice:sms", "alice:email", "bob:email", "erin:email")
    assert pager.core.paging.due_now(pager.clock.now()).updates
    caplog.set_level(logging.ERROR, logger="tocsin.entrypoints.paging")
    asyncio.run(run_updates_for(pager.core, 1.2))
    # Tries at 0, 0.1, 0.3, 0.7 s; without the pause it tried every 50 ms (some 24 times).
    assert 3 <= len(calls) <= 5, calls
    assert "trying again in" in caplog.text
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()


def test_engine_and_acknowledgement_never_wait_on_each_other(pg_pager: Pager) -> None:
    """An acknowledgement holds the incident while the engine fires its escalation's step: the
    engine passes over it instead of locking the escalation and then waiting for the incident
    (that order deadlocked against the acknowledgement's, which locks the incident first)."""
    pager = pg_pager
    incident = pager.declare(Severity.P1)
    pager.cycle()
    pager.expect("alice:sms", "alice:email", "bob:email", "erin:email")
    pager.clock.advance(minutes=15)  # the second step is due
    holding, release = threading.Event(), threading.Event()
    acked: list[BaseException | None] = []

    def acknowledge_slowly() -> None:
        def hold(cmd: commands.AcknowledgeIncident, ctx: object) -> None:
            ctx.uow.incidents.get(cmd.incident_id).acknowledge(cmd.actor, ctx.clock.now())  # type: ignore[attr-defined]
            holding.set()
            release.wait(10)

        handlers = pager.core.bus._command_handlers
        try:
            original = handlers[commands.AcknowledgeIncident]
            handlers[commands.AcknowledgeIncident] = hold
            try:
                pager.core.handle(commands.AcknowledgeIncident(incident, ME))
            finally:
                handlers[commands.AcknowledgeIncident] = original
            acked.append(None)
        except BaseException as exc:  # reported to the test below
            acked.append(exc)

    acker = threading.Thread(target=acknowledge_slowly)
    acker.start()
    assert holding.wait(10)
    moved = pager.core.handle(commands.RunEscalations(50))  # must not block on the incident
    release.set()
    acker.join(10)
    assert acked == [None]
    assert moved == 0
    pager.cycle(2)
    pager.expect_nothing_more(hours=24)  # acknowledged before its second step fired


def test_a_deadlock_reported_by_the_database_is_retried(pg_pager: Pager) -> None:
    """The unit of work turns PostgreSQL's deadlock and serialization errors into a conflict
    the message bus runs again, as it does a version check that failed."""
    pager = pg_pager
    runs: list[int] = []

    def deadlocking(cmd: commands.RunEscalations, ctx: object) -> int:
        runs.append(1)
        if len(runs) == 1:
            conn = ctx.uow.escalations._conn  # type: ignore[attr-defined]
            conn.exec_driver_sql(
                "DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$"
            )
        return 7

    handlers = pager.core.bus._command_handlers
    original = handlers[commands.RunEscalations]
    handlers[commands.RunEscalations] = deadlocking
    try:
        assert pager.core.handle(commands.RunEscalations(50)) == 7
    finally:
        handlers[commands.RunEscalations] = original
    assert len(runs) == 2


def test_a_page_whose_every_sender_vanished_is_given_up_for_the_next_method(pager: Pager) -> None:
    """Each worker that claimed alice's email died before saying how sending went (say the
    send crashes the process): after as many attempts as retries allow, it is given up and her
    sms is tried, instead of the email being claimed again forever."""
    incident = pager.declare(Severity.P3)  # alice by email; her sms is the fallback
    attempts = pager.core.policy.paging.retry.attempts
    for _ in range(attempts):
        claimed = pager.core.handle(commands.ClaimDeliveries(10, 60))
        assert [d.address for d in claimed] == ["alice@pager.example.com"]
        pager.clock.advance(seconds=61)  # the worker is gone and its lease runs out
    assert pager.core.handle(commands.ClaimDeliveries(10, 60)) == []  # given up
    pager.cycle()
    pager.expect("alice:sms")
    assert (
        f"Giving up on email to alice@pager.example.com after {attempts + 1} attempt(s): "
        f"no worker reported how sending went, {attempts} time(s); trying sms to +4915112345678"
    ) in pager.timeline(incident)
    assert statuses(pager, incident) == {"alice:email": "dead", "alice:sms": "sent"}
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()


def test_one_incident_whose_report_fails_holds_up_no_other_incidents_reports(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Its updates are set aside for a while; the other incidents' reports go out at once."""
    pager = Pager(db_url, with_destinations())
    try:
        broken = pager.declare(Severity.P1)  # declared first: its report is due first
        fine = pager.declare(Severity.P1)
        render = communications._draft

        def failing(ctx: object, incident: Any, *args: Any) -> Any:
            if incident.id == broken:
                raise ValueError("a template this version cannot render")
            return render(ctx, incident, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(communications, "_draft", failing)
        pager.cycle(2)  # pages first: reports wait while pages are due
        pager.expect(*["alice:sms", "alice:email", "bob:email", "erin:email"] * 2)

        def reports(incident: int) -> list[str]:
            return [u.template for u in pager.core.communications.for_incident(incident).updates]

        caplog.set_level(logging.ERROR, logger="tocsin.entrypoints.paging")
        asyncio.run(run_updates_for(pager.core, 10, until=lambda: bool(reports(fine))))
        assert reports(fine) == ["initial"]
        assert reports(broken) == []
        assert f"stakeholder updates of INC-{broken} failed; set aside for 600 s" in caplog.text
        assert "a template this version cannot render" in caplog.text
    finally:
        pager.core.close()


def test_a_destination_never_told_of_the_incident_hears_nothing_of_its_end(db_url: str) -> None:
    """Resolved before the worker sent PagerDuty its trigger: the trigger is cancelled, and no
    resolve follows it, as PagerDuty would only drop it."""
    pager = Pager(db_url, with_paging(**PD))
    try:
        incident = pager.declare(Severity.P2)
        pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
        pager.expect_nothing_more(hours=24)
        assert statuses(pager, incident) == {
            "alice:email": "cancelled", "bob:email": "cancelled",
            "pagerduty:destination": "cancelled",
        }  # fmt: skip
    finally:
        pager.core.close()
