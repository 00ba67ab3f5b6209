"""The paging engine against the spec's escalation matrix, on a real database with a fake clock.

In the style of GoAlert's smoke tests: time is moved instead of slept, every page is caught by a
fake receiver, and each test ends by running more cycles and asserting nothing else was sent.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.paging.pager import CATALOG, ME, MONDAY, Pager, with_paging
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.errors import NotFound
from tocsin.domain.paging import SendFailed
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.entrypoints import paging as worker
from tocsin.policy.loader import default_policy_text, load_policy
from tocsin.policy.paging import BusinessHours
from tocsin.views.paging import DueWork


def test_p1_walks_the_matrix_on_time(pager: Pager) -> None:
    incident = pager.declare(Severity.P1)
    pager.cycle()
    pager.expect("alice:sms", "alice:email", "bob:email", "erin:email")
    pager.at(minutes=14, seconds=59)
    pager.expect()
    pager.at(minutes=15)
    pager.expect("dave:email", "vera:email")
    pager.at(minutes=30)
    pager.expect("carol:email")  # the CEO only when customers are affected
    pager.expect_nothing_more()
    lines = pager.timeline(incident)
    assert any("CEO (if customer impact): skipped" in line for line in lines)
    paging = [line for line in lines if "update" not in line.lower()]  # not the update contract
    assert paging[-1] == "Every escalation step has fired; nobody acknowledged"


def test_the_worker_sees_what_is_due_before_taking_any_lock(pager: Pager) -> None:
    """Each cycle first reads whether steps, pages or reports are due, and runs only those."""
    paging = pager.core.paging
    assert paging.due_now(pager.clock.now()) == DueWork(False, False, False)
    assert (paging.next_due(), paging.next_update_due()) == (None, None), "it sleeps its poll"
    pager.declare(Severity.P1)
    # The first step fired as the incident was declared: its pages and the report are due.
    assert paging.due_now(pager.clock.now()) == DueWork(False, True, True)
    assert (paging.next_due(), paging.next_update_due()) == (MONDAY, MONDAY)
    pager.cycle()
    pager.expect("alice:sms", "alice:email", "bob:email", "erin:email")
    assert paging.due_now(pager.clock.now()) == DueWork(False, False, False)
    later = MONDAY + timedelta(minutes=15)
    assert paging.next_due() == later, "the next step, waited for to the second"
    assert paging.due_now(later).steps
    pager.at(minutes=15)
    pager.expect("dave:email", "vera:email")
    pager.at(minutes=30)
    pager.expect("carol:email")
    pager.expect_nothing_more()


def test_the_ceo_is_paged_when_customers_are_affected(pager: Pager) -> None:
    pager.declare(Severity.P1, customer_facing=True)
    pager.at(minutes=30)  # the worker was away: the overdue steps fire in one go
    pager.expect(
        "alice:sms", "alice:email", "bob:email", "erin:email", "dave:email", "vera:email",
        "carol:email", "chen:email",
    )  # fmt: skip
    pager.expect_nothing_more()


def test_acknowledging_stops_the_steps_still_to_come(pager: Pager) -> None:
    incident = pager.declare(Severity.P1)
    pager.cycle()
    pager.expect("alice:sms", "alice:email", "bob:email", "erin:email")
    pager.clock.advance(minutes=5)
    pager.core.handle(commands.AcknowledgeIncident(incident, Actor("Alice")))
    pager.expect_nothing_more(hours=24)
    assert "Acknowledged by Alice; paging stops" in pager.timeline(incident)


def test_resolving_stops_everything(pager: Pager) -> None:
    incident = pager.declare(Severity.P2)
    pager.cycle()
    pager.expect("alice:email", "bob:email")
    pager.clock.advance(minutes=10)
    pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    pager.expect_nothing_more(hours=24)


def test_a_step_with_nobody_falls_through_at_once(pager: Pager) -> None:
    incident = pager.declare(Severity.P3, service="search")  # search has no on-call engineer
    pager.cycle()
    pager.expect("paul:phone")  # the 2-hour team-lead step, now, by paul's only method
    assert any("nobody to page; falling through" in line for line in pager.timeline(incident))
    pager.expect_nothing_more()


def test_raising_severity_follows_the_new_path_without_paging_twice(pager: Pager) -> None:
    incident = pager.declare(Severity.P3)
    pager.cycle()
    pager.expect("alice:email")
    pager.at(minutes=5)
    pager.core.handle(commands.ReclassifyIncident(incident, Severity.P1, "checkout down", ME))
    pager.cycle()
    pager.expect("bob:email", "erin:email")  # alice was already paged
    pager.at(minutes=15)
    pager.expect("dave:email", "vera:email")
    pager.at(minutes=30)
    pager.expect("carol:email")
    pager.expect_nothing_more()


def test_lowering_severity_cancels_nothing_already_sent(pager: Pager) -> None:
    incident = pager.declare(Severity.P2)
    pager.cycle()
    pager.expect("alice:email", "bob:email")
    pager.core.handle(commands.ReclassifyIncident(incident, Severity.P3, "only slow", ME))
    pager.at(hours=2)
    pager.expect()  # P3's 2-hour step is the team lead, who was already paged
    pager.expect_nothing_more()


def test_next_business_day_skips_the_weekend_and_a_holiday(db_url: str) -> None:
    hours = BusinessHours(time_zone="America/New_York", holidays="US")
    pager = Pager(db_url, with_paging(business_hours=hours.model_dump()))
    try:
        christmas_eve = datetime(2026, 12, 24, 23, 0, tzinfo=UTC)  # Thursday, 18:00 in New York
        pager.clock.set(christmas_eve)
        incident = pager.declare(Severity.P4)
        pager.core.handle(commands.AssignRole(incident, Role.TECHNICAL_LEAD, "bob", ME))
        pager.cycle()
        pager.expect()
        pager.clock.set(datetime(2026, 12, 28, 13, 59, tzinfo=UTC))  # Monday 08:59 New York
        pager.cycle()
        pager.expect()  # Friday was Christmas Day, then the weekend
        pager.clock.set(datetime(2026, 12, 28, 14, 0, tzinfo=UTC))
        pager.cycle()
        pager.expect("bob:email")
        pager.expect_nothing_more(hours=72)
    finally:
        pager.core.close()


def test_nobody_acknowledging_repeats_the_path(db_url: str) -> None:
    pager = Pager(db_url, with_paging(repeat=1, repeat_after="10m"))
    try:
        incident = pager.declare(Severity.P3)
        pager.cycle()
        pager.expect("alice:email")
        pager.at(hours=2)
        pager.expect("bob:email")
        pager.at(hours=2, minutes=9)
        pager.expect()
        pager.at(hours=2, minutes=10)
        pager.expect("alice:email")  # round two pages everyone again
        pager.at(hours=4, minutes=10)
        pager.expect("bob:email")
        pager.expect_nothing_more(hours=24)
        assert any("starts again (repeat 1 of 1)" in line for line in pager.timeline(incident))
    finally:
        pager.core.close()


def test_a_failing_channel_is_retried_with_backoff(pager: Pager) -> None:
    pager.receiver.fail(
        "alice@pager.example.com", *[SendFailed("503 from relay", permanent=False)] * 2
    )
    incident = pager.declare(Severity.P1)
    pager.cycle()
    pager.expect("alice:sms", "bob:email", "erin:email")  # alice's email failed once
    pager.clock.advance(seconds=4)
    pager.cycle()
    pager.expect()  # not before its backoff
    pager.clock.advance(seconds=6)
    pager.cycle()
    pager.clock.advance(seconds=20)
    pager.cycle()
    pager.expect("alice:email")  # the third attempt got through
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()


def test_a_permanent_failure_falls_back_to_the_next_contact_method(pager: Pager) -> None:
    pager.receiver.fail("alice@pager.example.com", SendFailed("mailbox gone", permanent=True))
    incident = pager.declare(Severity.P3)  # P3 pages by email: alice's sms is her fallback
    pager.cycle(2)
    pager.expect("alice:sms")
    assert (
        "Giving up on email to alice@pager.example.com after 1 attempt(s): mailbox gone; "
        "trying sms to +4915112345678" in pager.timeline(incident)
    )
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()


def test_the_profile_email_is_the_last_resort(pager: Pager) -> None:
    pager.receiver.fail("+15550100200", SendFailed("number unreachable", permanent=True))
    incident = pager.declare(Severity.P1, service="search")
    pager.cycle(2)
    pager.expect("paul:email")  # his phone failed for good: his profile email is the fallback
    assert (
        "Giving up on phone to +15550100200 after 1 attempt(s): number unreachable; "
        "trying email to paul@example.com" in pager.timeline(incident)
    )
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()


def test_later_contact_methods_wait_and_an_early_ack_spares_them(pager: Pager) -> None:
    incident = pager.declare(Severity.P1, service="ledger")
    pager.cycle()
    pager.expect("nina:email")
    pager.at(minutes=1, seconds=59)
    pager.expect()
    pager.at(minutes=2)
    pager.expect("nina:sms")
    pager.clock.advance(minutes=1)
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()  # no phone call at 5 minutes, no director at 15
    assert "Paged Nina (on-call engineer) by email now; sms after 2m; phone after 5m" in (
        pager.timeline(incident)
    )


def test_a_throttle_delays_pages_and_drops_none(db_url: str) -> None:
    document = yaml.safe_load(default_policy_text())
    document["escalation_paths"]["P1"] = {"immediate": ["on-call engineer"]}
    document["paging"] = {"throttles": {"sms": {"max": 2, "per": "10m"}}}
    pager = Pager(db_url, load_policy(yaml.safe_dump(document)))
    try:
        incidents = [pager.declare(Severity.P1) for _ in range(4)]
        pager.cycle()
        pager.expect("alice:sms", "alice:sms", "alice:email", "alice:email", "alice:email",
                     "alice:email")  # fmt: skip
        pager.at(minutes=9, seconds=59)
        pager.expect()
        pager.at(minutes=10)
        pager.expect("alice:sms", "alice:sms")
        assert any("delayed to 14:10:00 UTC by the sms throttle" in line
                   for line in pager.timeline(incidents[3]))  # fmt: skip
        pager.expect_nothing_more()
    finally:
        pager.core.close()


@pytest.mark.parametrize("acked_after_step", [1, 2, 3])
def test_acknowledging_after_any_step_stops_the_rest(pager: Pager, acked_after_step: int) -> None:
    steps = [
        (0, ("alice:sms", "alice:email", "bob:email", "erin:email")),
        (15, ("dave:email", "vera:email")),
        (30, ("carol:email",)),
    ]
    incident = pager.declare(Severity.P1)
    for minutes, pages in steps[:acked_after_step]:
        pager.at(minutes=minutes)
        pager.expect(*pages)
    pager.clock.advance(minutes=1)
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more(hours=24)


ROTA = {
    "slug": "payments-rota",
    "name": "Payments on call",
    "time_zone": "Europe/Berlin",
    "layers": [
        {
            "name": "Primary",
            "rotation": {
                "type": "daily",
                "participants": ["alice", "bob"],
                "start": "2026-03-27T09:00",  # alice Friday, bob Saturday, alice Sunday, …
            },
        }
    ],
    "overrides": [
        {"start": "2026-03-30T09:00", "end": "2026-03-30T12:00", "person": "erin",
         "replaces": "bob"},
    ],
}  # fmt: skip


def test_the_schedule_decides_who_is_paged_across_dst_and_overrides(db_url: str) -> None:
    """Hand-offs stay at 09:00 Berlin time when the clocks go forward on 29 March."""
    document = yaml.safe_load(default_policy_text())
    document["escalation_paths"]["P3"] = {"immediate": ["on-call engineer"]}
    pager = Pager(db_url, load_policy(yaml.safe_dump(document)))
    try:
        team = next(t for t in CATALOG.teams if t.slug == "payments")
        pager.core.handle(
            commands.ImportCatalog(
                schedules=(ROTA,), teams=(replace(team, schedule="payments-rota"),)
            )
        )

        def page_at(when: datetime) -> None:
            pager.clock.set(when)
            incident = pager.declare(Severity.P3)
            pager.cycle()
            pager.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))

        page_at(datetime(2026, 3, 28, 7, 59, tzinfo=UTC))  # Sat 08:59 CET: still Friday's alice
        pager.expect("alice:email")
        page_at(datetime(2026, 3, 28, 8, 0, tzinfo=UTC))  # Sat 09:00 CET: bob
        pager.expect("bob:email")
        page_at(datetime(2026, 3, 29, 6, 59, tzinfo=UTC))  # Sun 08:59 CEST: still bob
        pager.expect("bob:email")
        page_at(datetime(2026, 3, 29, 7, 0, tzinfo=UTC))  # Sun 09:00 CEST: alice
        pager.expect("alice:email")
        page_at(datetime(2026, 3, 30, 7, 30, tzinfo=UTC))  # Mon 09:30 CEST: erin stands in
        pager.expect("erin:email")
        pager.expect_nothing_more()
    finally:
        pager.core.close()


def test_a_failing_update_reminder_never_keeps_pages_from_going_out(
    pager: Pager, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cmd: commands.RunUpdateReminders, ctx: object) -> int:
        raise RuntimeError("a reminder row this version cannot read")

    monkeypatch.setitem(pager.core.bus._command_handlers, commands.RunUpdateReminders, broken)
    pager.declare(Severity.P3)
    pager.cycle()
    pager.expect("alice:email")  # P3 pages by email only
    pager.at(hours=2)
    pager.expect("bob:email")
    pager.expect_nothing_more()


def test_sends_are_recorded_together_and_one_unrecordable_holds_up_none(
    pager: Pager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker records finished sends in one transaction; if that fails, each is recorded
    alone, so one outcome that cannot be recorded delays the others by no retry."""
    monkeypatch.setattr(worker, "RECORD_RETRY_SECONDS", 0.01)
    monkeypatch.setattr(worker, "_record_deadline", lambda tocsin: time.monotonic() + 0.2)
    incident = pager.declare(Severity.P2)  # alice and bob, by email
    claimed = pager.core.handle(commands.ClaimDeliveries(10, 60))
    assert len(claimed) == 2
    sent = [commands.DeliveryOutcome(d.id or 0, d.fence) for d in claimed]
    unknown = commands.DeliveryOutcome(987654, 1)

    async def record_all() -> list[BaseException | None]:
        recorder = worker.Recorder(pager.core)
        running = asyncio.create_task(recorder.run())
        try:
            return await asyncio.gather(
                *(recorder.record(o) for o in (*sent, unknown)), return_exceptions=True
            )
        finally:
            running.cancel()

    results = asyncio.run(record_all())
    assert results[:2] == [None, None]
    assert isinstance(results[2], NotFound)
    shown = pager.core.paging.for_incident(incident).deliveries
    assert sorted(d.status for d in shown) == ["sent", "sent"]
    pager.cycle(2)
    pager.expect()  # recorded as sent, so not sent again
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))
    pager.expect_nothing_more()


def test_an_outcome_that_keeps_failing_holds_up_no_later_one(
    pager: Pager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one outcome keeps failing to record (and keeps trying, up to half the lease),
    outcomes of sends that finish later are recorded at once."""
    monkeypatch.setattr(worker, "RECORD_RETRY_SECONDS", 0.05)
    monkeypatch.setattr(worker, "_record_deadline", lambda tocsin: time.monotonic() + 3)
    incident = pager.declare(Severity.P2)  # alice and bob, by email
    stuck, later = pager.core.handle(commands.ClaimDeliveries(10, 60))
    handlers = pager.core.bus._command_handlers
    record = handlers[commands.RecordDeliveries]

    def refusing(cmd: commands.RecordDeliveries, ctx: object) -> object:
        if any(o.delivery_id == stuck.id for o in cmd.outcomes):
            raise RuntimeError("the database refuses this row for now")
        return record(cmd, ctx)  # type: ignore[arg-type]

    monkeypatch.setitem(handlers, commands.RecordDeliveries, refusing)

    async def record_both() -> tuple[float, BaseException | None]:
        recorder = worker.Recorder(pager.core)
        running = asyncio.create_task(recorder.run())
        try:
            first = asyncio.create_task(
                recorder.record(commands.DeliveryOutcome(stuck.id or 0, stuck.fence))
            )
            await asyncio.sleep(0.2)  # it is retrying by now
            started = time.monotonic()
            await recorder.record(commands.DeliveryOutcome(later.id or 0, later.fence))
            took = time.monotonic() - started
            failed = await asyncio.gather(first, return_exceptions=True)
            return took, failed[0]
        finally:
            running.cancel()

    took, failed = asyncio.run(record_both())
    assert took < 1.0, f"waited {took:.2f} s behind the failing outcome"
    assert isinstance(failed, RuntimeError)
    assert {d.id: d.status for d in pager.core.paging.for_incident(incident).deliveries} == {
        stuck.id: "sending",
        later.id: "sent",
    }
    monkeypatch.setitem(handlers, commands.RecordDeliveries, record)
    pager.core.handle(commands.AcknowledgeIncident(incident, ME))  # the stuck one is not resent
    pager.expect_nothing_more()
