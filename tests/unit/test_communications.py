"""The update contract's rules, its policy section, and its use cases through the bus with fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import START, FakeClock, FakePasswordHasher, FakeUnitOfWork, _Store
from tocsin.domain import commands as c
from tocsin.domain.actors import Actor
from tocsin.domain.communications import PromiseOutcome, UpdatePromise
from tocsin.domain.errors import InvalidInput, PermissionDenied
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.policy import PolicyError, load_default_policy
from tocsin.policy.loader import default_policy_text, load_policy
from tocsin.services.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from tocsin.services.messagebus import MessageBus

POLICY = load_default_policy()
DANA = Actor("Dana")
CATALOG = c.ImportCatalog(
    people=(
        c.PersonSpec("alice", "Alice", "alice@example.com"),
        c.PersonSpec("sam", "Sam", "sam@example.com", contact_methods=(("sms", "+15550100"),)),
    ),
)


# ----- the promise --------------------------------------------------------------------------
def promise() -> UpdatePromise:
    return UpdatePromise.make(1, 1, START + timedelta(minutes=30), timedelta(minutes=10))


def test_a_promise_reminds_then_falls_overdue_once() -> None:
    p = promise()
    assert p.next_check_at == START + timedelta(minutes=20)
    assert not p.needs_reminder(START + timedelta(minutes=19))
    assert p.needs_reminder(START + timedelta(minutes=20))
    p.reminded(START + timedelta(minutes=20))
    assert not p.needs_reminder(START + timedelta(minutes=21))
    assert p.next_check_at == START + timedelta(minutes=30)
    assert not p.falls_overdue(START + timedelta(minutes=29))
    assert p.falls_overdue(START + timedelta(minutes=30))
    assert not p.falls_overdue(START + timedelta(minutes=31)), "recorded once"
    assert p.next_check_at is None and p.is_open


@pytest.mark.parametrize(
    ("minutes", "overdue", "outcome"),
    [(30, False, PromiseOutcome.KEPT), (31, False, PromiseOutcome.MISSED),
     (29, True, PromiseOutcome.MISSED)],
)  # fmt: skip
def test_the_next_update_keeps_a_promise_only_in_time(
    minutes: int, overdue: bool, outcome: PromiseOutcome
) -> None:
    p = promise()
    if overdue:
        p.overdue_at = START
    assert p.fulfil(START + timedelta(minutes=minutes)) is outcome
    assert not p.is_open and p.next_check_at is None


def test_resolution_ends_a_promise_unless_it_was_already_missed() -> None:
    assert promise().end(START + timedelta(minutes=10)) is PromiseOutcome.ENDED
    late = promise()
    late.falls_overdue(START + timedelta(minutes=30))
    assert late.end(START + timedelta(minutes=40)) is PromiseOutcome.MISSED


# ----- the policy ---------------------------------------------------------------------------
def test_the_default_policy_has_the_spec_cadence_and_declaration_audiences() -> None:
    comms = POLICY.communications
    assert comms.cadence == {
        Severity.P1: timedelta(minutes=30),
        Severity.P2: timedelta(minutes=60),
        Severity.P3: None,
        Severity.P4: None,
    }
    assert comms.remind_before == timedelta(minutes=10)
    assert [a.value for a in comms.on_declaration[Severity.P1]] == ["internal", "executive"]
    assert [a.value for a in comms.on_declaration[Severity.P2]] == ["internal"]
    assert comms.on_declaration[Severity.P3] == comms.on_declaration[Severity.P4] == []
    assert all(not a.destinations for a in comms.audiences.values()), "nothing sent unconfigured"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("P2: 60m", "P2: hourly", "communications.cadence.P2: expected a duration"),
        ("remind_before: 10m", "remind_before: 30m", "must be shorter than every cadence"),
        ("    executive:\n      destinations: []", "    executive:\n      destinations: [exec]",
         "communications.audiences.executive.destinations: 'exec': not defined in "
         "paging.destinations"),
        ("    P3: []\n    P4: []", "    P3: []", "communications.on_declaration: must define P4"),
        ("    customer:\n", "    board:\n", "communications.audiences.board"),
        ("P2: [internal]", "P2: [investors]", "communications.on_declaration.P2[0]: Input should be 'internal'"),
    ],
)  # fmt: skip
def test_policy_problems_name_the_key(old: str, new: str, message: str) -> None:
    text = default_policy_text()
    assert old in text
    with pytest.raises(PolicyError) as err:
        load_policy(text.replace(old, new))
    assert message in str(err.value)


def test_a_pagerduty_destination_cannot_take_updates() -> None:
    text = default_policy_text().replace(
        "    internal:\n      destinations: []", "    internal:\n      destinations: [pagerduty]"
    )
    text += (
        "\npaging:\n  destinations:\n"
        "    pagerduty: {pagerduty: '${PD_KEY}'}\n"
        "    slack-incidents: {apprise: 'json://localhost/'}\n"
        "    slack-team: {apprise: 'json://localhost/'}\n"
        "    jira: {webhook: 'http://localhost/'}\n"
    )
    with pytest.raises(PolicyError, match="pagerduty is a PagerDuty destination"):
        load_policy(text)


# ----- the use cases with fakes -------------------------------------------------------------
class Harness:
    def __init__(self) -> None:
        self.store = _Store()
        self.clock = FakeClock()
        self.bus = MessageBus(
            lambda: FakeUnitOfWork(self.store),
            self.clock,
            FakePasswordHasher(),
            POLICY,
            COMMAND_HANDLERS,
            EVENT_HANDLERS,
        )
        self.bus.handle(CATALOG)

    def declare(self, severity: Severity) -> int:
        return int(self.bus.handle(c.DeclareIncident("Ledger drift", severity, DANA)))

    def entries(self, incident_id: int) -> list[str]:
        found = sorted((s, e.body) for (i, s), e in self.store.entries.items() if i == incident_id)
        return [body for _, body in found]


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_declaring_owes_the_initial_report_and_the_worker_sends_it(h: Harness) -> None:
    p1, p3 = h.declare(Severity.P1), h.declare(Severity.P3)
    [report] = h.store.scheduled_updates.values()
    assert report.incident_id == p1 and [a.value for a in report.audiences] == [
        "internal",
        "executive",
    ]
    assert h.store.stakeholder_updates == {}, "declaring does not wait on the report"
    assert h.bus.handle(c.RunUpdateReminders()) == 1
    [update] = h.store.stakeholder_updates.values()
    assert update.incident_id == p1 and update.next_update_at == START + timedelta(minutes=30)
    assert h.bus.handle(c.RunUpdateReminders()) == 0, "sent once"
    assert not any("Initial Incident Report" in e for e in h.entries(p3))


def test_a_scribe_is_refused_and_nothing_is_written(h: Harness) -> None:
    number = h.declare(Severity.P2)
    h.bus.handle(c.AssignRole(number, Role.INCIDENT_COMMANDER, "alice", DANA))
    h.bus.handle(c.AssignRole(number, Role.SCRIBE, "sam", DANA))
    before = h.entries(number)
    sam = Actor("Sam", user_id=7, person_id=h.store.people["sam"].id)
    with pytest.raises(PermissionDenied, match=r"Incident Commander \(Alice\) or Communications"):
        h.bus.handle(c.SendUpdate(number, "status", ("internal",), sam, summary="x"))
    assert h.store.stakeholder_updates == {} and h.entries(number) == before
    h.bus.handle(c.AssignRole(number, Role.COMMUNICATIONS_LEAD, "sam", DANA))
    h.bus.handle(c.SendUpdate(number, "status", ("internal",), sam, summary="x"))
    assert len(h.store.stakeholder_updates) == 1


@pytest.mark.parametrize(
    ("template", "audiences", "field"),
    [("weekly", ("internal",), "template"), ("status", ("board",), "audiences"),
     ("status", (), "audiences")],
)  # fmt: skip
def test_bad_input_names_the_field_and_writes_nothing(
    h: Harness, template: str, audiences: tuple[str, ...], field: str
) -> None:
    number = h.declare(Severity.P2)
    h.bus.handle(c.RunUpdateReminders())
    updates, promises = dict(h.store.stakeholder_updates), dict(h.store.update_promises)
    before = h.entries(number)
    with pytest.raises(InvalidInput) as err:
        h.bus.handle(c.SendUpdate(number, template, audiences, DANA))
    assert err.value.field == field
    assert h.store.stakeholder_updates == updates and h.store.update_promises == promises
    assert h.entries(number) == before


def test_reminded_once_at_remind_at_and_recorded_overdue_once(h: Harness) -> None:
    number = h.declare(Severity.P2)
    h.bus.handle(c.AssignRole(number, Role.COMMUNICATIONS_LEAD, "sam", DANA))
    h.bus.handle(c.RunUpdateReminders())
    h.clock.advance(minutes=49)
    assert h.bus.handle(c.RunUpdateReminders()) == 0
    h.clock.advance(minutes=1)
    assert h.bus.handle(c.RunUpdateReminders()) == 1
    [reminder] = [d for d in h.store.deliveries.values() if d.person_id is not None]
    assert (reminder.method, reminder.address) == ("sms", "+15550100")
    assert reminder.body.startswith("Update for INC-1 due at 01:30 UTC.")
    h.clock.advance(minutes=9)
    assert h.bus.handle(c.RunUpdateReminders()) == 0
    h.clock.advance(minutes=1)
    assert h.bus.handle(c.RunUpdateReminders()) == 1
    h.clock.advance(hours=5)
    assert h.bus.handle(c.RunUpdateReminders()) == 0
    assert len(h.store.deliveries) == 1, "one reminder, nothing else"
    overdue = [e for e in h.entries(number) if e.startswith("Stakeholder update overdue")]
    assert overdue == ["Stakeholder update overdue: the next update was promised by 01:30 UTC"]


def test_resolving_closes_the_open_promise_as_no_longer_needed(h: Harness) -> None:
    number = h.declare(Severity.P1)
    h.bus.handle(c.RunUpdateReminders())
    h.clock.advance(minutes=5)
    h.bus.handle(c.ChangeStatus(number, Status.RESOLVED, DANA))
    [made] = h.store.update_promises.values()
    assert made.outcome is PromiseOutcome.ENDED
    h.clock.advance(hours=2)
    assert h.bus.handle(c.RunUpdateReminders()) == 0
