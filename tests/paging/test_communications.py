"""The "next update by" contract on a real database with a fake clock, as the worker runs it.

Updates, reminders and missed promises are driven by the paging worker's cycle; every test ends
by running more cycles and asserting that nothing unexpected was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.paging.pager import Pager, run_updates_for, with_destinations
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.entrypoints import paging as paging_loops
from tocsin.entrypoints.paging import page_cycle
from tocsin.policy import Policy, load_default_policy

MONDAY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
ME = Actor("Dana")
CATALOG = commands.ImportCatalog(
    people=(
        commands.PersonSpec(
            "cora", "Cora", "cora@example.com", contact_methods=(("sms", "+4915100000002"),)
        ),
        commands.PersonSpec("ian", "Ian", "ian@example.com"),
    ),
    services=(commands.ServiceSpec("ledger", "Ledger"),),  # no team: escalation pages nobody
)


class WarRoom(Pager):
    """The paging harness with this file's catalog, its ledger incidents and update sending."""

    def __init__(self, url: str, policy: Policy) -> None:
        super().__init__(url, policy, CATALOG)

    def declare(self, severity: Severity, service: str = "ledger", **extra: object) -> int:
        made = self.core.handle(
            commands.DeclareIncident("Ledger drift", severity, ME, services=(service,))
        )
        return int(made)

    def cycle(self, times: int = 2) -> None:
        """Two worker cycles by default: reminders and reports are queued after a cycle's pages
        go out, so what they queue is sent by the next (the worker runs it at once)."""
        super().cycle(times)

    def send(self, incident_id: int, summary: str = "Rolled back", **extra: object) -> None:
        self.core.handle(
            commands.SendUpdate(
                incident_id,
                "status",
                ("internal",),
                ME,
                summary=summary,
                **extra,  # type: ignore[arg-type]
            )
        )


@pytest.fixture
def room(db_url: str) -> Iterator[WarRoom]:
    """On a new SQLite file, and again on PostgreSQL."""
    made = WarRoom(db_url, load_default_policy())
    yield made
    made.core.close()


@pytest.fixture
def wired(db_url: str) -> Iterator[WarRoom]:
    """With update destinations configured for the internal and executive audiences."""
    made = WarRoom(db_url, with_destinations())
    yield made
    made.core.close()


def test_a_p1_declaration_sends_the_initial_report_to_internal_and_executive(
    wired: WarRoom,
) -> None:
    incident = wired.declare(Severity.P1)
    wired.cycle()
    wired.expect("internal-chat:destination", "exec-chat:destination")  # each destination once
    first, second = wired.receiver.sent
    assert first.body == second.body and first.subject == second.subject
    assert first.subject == "[P1] INC-1 Initial Incident Report: Ledger drift"
    assert first.body.splitlines()[:4] == [
        "**INCIDENT DECLARED - P1**",
        "Time: 2026-11-23 14:00 UTC",
        "Services Affected: ledger",
        "Impact: being assessed",
    ]
    assert "Status Page: status.company.com" in first.body
    assert "Incident Commander: unassigned" in first.body
    assert (
        "Initial Incident Report sent to internal (#incidents-status), executive "
        "(#exec-incidents). Next update by 14:30 UTC." in wired.timeline(incident)
    )
    comms = wired.core.communications.for_incident(incident)
    assert [u.template for u in comms.updates] == ["initial"]
    assert comms.promise is not None and comms.promise.due_at == MONDAY + timedelta(minutes=30)
    wired.send(incident)  # the next update in time keeps the promise; nobody was reminded
    wired.cycle()
    wired.expect("internal-chat:destination")
    wired.send(incident, "Fixed")
    wired.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    wired.cycle()
    wired.expect("internal-chat:destination")
    wired.expect_nothing_more()
    lines = wired.timeline(incident)
    assert sum(line.startswith("Initial Incident Report") for line in lines) == 1
    comms = wired.core.communications.for_incident(incident)
    assert (comms.compliance.kept, comms.compliance.missed) == (2, 0)


def test_a_p2_declaration_tells_internal_only_and_a_p3_nobody(wired: WarRoom) -> None:
    p2 = wired.declare(Severity.P2)
    p3 = wired.declare(Severity.P3)
    wired.cycle()
    wired.expect("internal-chat:destination")
    assert wired.receiver.sent[0].incident_id == p2
    assert wired.core.communications.for_incident(p3).updates == []
    wired.core.handle(commands.ChangeStatus(p2, Status.RESOLVED, ME))
    wired.expect_nothing_more()


def test_the_communications_lead_is_reminded_once_and_a_missed_promise_is_recorded_once(
    room: WarRoom,
) -> None:
    incident = room.declare(Severity.P1)
    room.core.handle(commands.AssignRole(incident, Role.COMMUNICATIONS_LEAD, "cora", ME))
    room.cycle()  # the initial report: no destination configured, so nothing is sent
    room.expect()
    room.at(minutes=19, seconds=59)
    room.expect()
    room.at(minutes=20)  # P1 cadence 30m, reminded 10m before
    room.expect("cora:sms")
    assert room.receiver.sent[-1].body.startswith("Update for INC-1 due at 14:30 UTC.")
    room.at(minutes=25)
    room.expect()
    promise = room.core.communications.for_incident(incident).promise
    assert promise is not None and promise.state(room.clock.now()) == "due-soon"
    room.at(minutes=30)
    room.expect()  # the reminder is not repeated
    room.cycle(3)
    overdue = "Stakeholder update overdue: the next update was promised by 14:30 UTC"
    assert room.timeline(incident).count(overdue) == 1
    comms = room.core.communications.for_incident(incident)
    assert comms.promise is not None and comms.promise.state(room.clock.now()) == "overdue"
    assert (comms.compliance.kept, comms.compliance.missed) == (0, 1)
    assert "Reminded Cora (Communications Lead) by sms: update for INC-1 due at 14:30 UTC" in (
        room.timeline(incident)
    )

    room.at(minutes=40)
    room.send(incident)  # late: the promise stays missed; the next is due at 15:10
    comms = room.core.communications.for_incident(incident)
    assert comms.promise is not None and comms.promise.due_at == MONDAY + timedelta(minutes=70)
    assert comms.updates[0].next_update_at == MONDAY + timedelta(minutes=70)
    assert [u.promise for u in comms.updates] == ["open", "missed"]
    room.at(minutes=55)
    room.send(incident, "Recovering")  # in time: kept
    comms = room.core.communications.for_incident(incident)
    assert (comms.compliance.kept, comms.compliance.missed) == (1, 1)
    assert comms.compliance.rate == 0.5
    room.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    room.expect_nothing_more()
    assert room.timeline(incident).count(overdue) == 1


def test_without_a_communications_lead_the_commander_is_reminded_on_the_p2_cadence(
    room: WarRoom,
) -> None:
    incident = room.declare(Severity.P2)
    room.core.handle(commands.AssignRole(incident, Role.INCIDENT_COMMANDER, "ian", ME))
    room.cycle()
    room.at(minutes=49, seconds=59)
    room.expect()
    room.at(minutes=50)  # P2 cadence 60m
    room.expect("ian:email")
    room.send(incident)
    comms = room.core.communications.for_incident(incident)
    assert (comms.compliance.kept, comms.compliance.missed) == (1, 0)
    room.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    room.expect_nothing_more()


def test_resolving_ends_the_contract(room: WarRoom) -> None:
    incident = room.declare(Severity.P1)
    room.core.handle(commands.AssignRole(incident, Role.COMMUNICATIONS_LEAD, "cora", ME))
    room.cycle()
    room.at(minutes=10)
    room.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    room.expect_nothing_more(hours=24)  # no reminder, no missed promise
    comms = room.core.communications.for_incident(incident)
    assert comms.promise is None
    assert (comms.compliance.kept, comms.compliance.missed) == (0, 0)
    assert not any("overdue" in line for line in room.timeline(incident))
    room.send(incident, "Root cause found")  # an update after resolution promises nothing
    update = room.core.communications.for_incident(incident).updates[0]
    assert update.next_update_at is None and "Next Update: none: the incident is resolved" in (
        update.body
    )
    room.expect_nothing_more()


def test_a_p3_update_promises_nothing(room: WarRoom) -> None:
    incident = room.declare(Severity.P3)
    room.cycle()
    room.send(incident)
    comms = room.core.communications.for_incident(incident)
    assert comms.promise is None and comms.updates[0].next_update_at is None
    assert "Status Update sent to internal (#incidents-status): Rolled back. " in (
        " ".join(room.timeline(incident)) + " "
    )
    room.expect_nothing_more(hours=24)


def test_an_update_queued_just_before_resolution_still_goes_out(wired: WarRoom) -> None:
    incident = wired.declare(Severity.P3)
    wired.send(incident, "Fixed by the rollback")
    wired.core.handle(commands.ChangeStatus(incident, Status.RESOLVED, ME))
    wired.cycle()
    wired.expect("internal-chat:destination")
    assert "Summary: Fixed by the rollback" in wired.receiver.sent[0].body
    wired.expect_nothing_more()


def test_reports_wait_while_pages_are_due_but_not_for_long(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storm of new incidents pages people before it tells stakeholders: the report loop
    holds back while pages are due, for UPDATE_DEFER_SECONDS at most."""
    pager = Pager(db_url, with_destinations())
    try:
        first = pager.declare(Severity.P1)  # pages alice's team at once, owes a first report

        def reports(incident: int) -> list[str]:
            return [u.template for u in pager.core.communications.for_incident(incident).updates]

        monkeypatch.setattr(paging_loops, "UPDATE_DEFER_SECONDS", 30.0)
        asyncio.run(run_updates_for(pager.core, 0.5))
        assert reports(first) == []  # its pages are due and nobody has sent them
        monkeypatch.setattr(paging_loops, "UPDATE_DEFER_SECONDS", 0.3)
        asyncio.run(run_updates_for(pager.core, 10, until=lambda: bool(reports(first))))
        assert reports(first) == ["initial"]  # waited long enough: out, pages or not

        monkeypatch.setattr(paging_loops, "UPDATE_DEFER_SECONDS", 30.0)
        second = pager.declare(Severity.P1)
        asyncio.run(page_cycle(pager.core))  # both incidents' pages go out
        asyncio.run(run_updates_for(pager.core, 10, until=lambda: bool(reports(second))))
        assert reports(second) == ["initial"]  # nothing to wait for: well before 30 s
        pager.cycle(2)
        pages = ("alice:sms", "alice:email", "bob:email", "erin:email")
        reports_sent = ("internal-chat:destination", "exec-chat:destination")
        pager.expect(*pages, *pages, *reports_sent, *reports_sent)
        for incident in (first, second):
            pager.core.handle(commands.AcknowledgeIncident(incident, ME))
        pager.expect_nothing_more()
    finally:
        pager.core.close()
