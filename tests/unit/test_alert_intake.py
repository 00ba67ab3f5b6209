"""Alert intake through the bus with fakes: dedup, routing, grouping, silences, settling."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.fakes import FakeClock, FakePasswordHasher, FakeUnitOfWork, _Store
from tocsin.domain import commands as c
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import AlertSignal, AlertStatus, InboxItem, SignalAction
from tocsin.domain.catalog import Service
from tocsin.domain.errors import AlreadyExists, InboxItemFailed, InvalidInput, NotFound
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.matchers import parse_matchers
from tocsin.domain.milestones import Milestone, Source
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.policy import Policy, load_default_policy
from tocsin.services.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from tocsin.services.messagebus import MessageBus

PAGING_KINDS = {EntryKind.ESCALATION, EntryKind.PAGED}
ALICE = Actor("Alice", 1, person_id=1)


class Intake:
    def __init__(self, policy: Policy | None = None) -> None:
        self.store = _Store()
        self.clock = FakeClock()
        self.bus = MessageBus(
            lambda: FakeUnitOfWork(self.store),
            self.clock,
            FakePasswordHasher(),
            policy or load_default_policy(),
            COMMAND_HANDLERS,
            EVENT_HANDLERS,
        )
        self.store.services["checkout"] = Service("checkout", "Checkout", tier=2, id=1)
        self.store.services["payments"] = Service("payments", "Payments", tier=1, id=2)

    def integration(self, kind: IntegrationKind, service: str | None = None) -> int:
        made = self.bus.handle(c.CreateIntegration(f"{kind.value}-x", kind, ALICE, service))
        return int(made.id)

    def send(self, integration_id: int, *signals: AlertSignal) -> object:
        return self.bus.handle(c.ReceiveAlerts(integration_id, signals))

    def kinds(self, incident_id: int) -> list[EntryKind]:
        """The incident's timeline without the paging engine's entries (its first step fires
        as the incident is declared; tests/paging covers those)."""
        entries = sorted(
            (seq, e.kind)
            for (i, seq), e in self.store.entries.items()
            if i == incident_id and e.kind not in PAGING_KINDS
        )
        return [kind for _, kind in entries]


def firing(key: str = "fp1", **labels: str) -> AlertSignal:
    labels = {"alertname": "HighLatency", "service": "checkout", "severity": "warning", **labels}
    return AlertSignal(
        dedup_key=key,
        action=SignalAction.TRIGGER,
        labels=labels,
        annotations={"summary": "p99 latency above 2s"},
        started_at=START_AT,
    )


START_AT = FakeClock().now() - timedelta(minutes=3)


@pytest.fixture
def h() -> Intake:
    return Intake()


def test_a_firing_alert_declares_a_classified_incident_timed_by_the_alert(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    result = h.send(am, firing())
    (incident,) = h.store.incidents.values()
    assert (incident.title, incident.severity, incident.status) == (
        "p99 latency above 2s",
        Severity.P3,
        Status.INVESTIGATING,
    )
    assert [s.slug for s in incident.services] == ["checkout"]
    assert incident.detection_source is DetectionSource.ALERT
    detected = incident.stamps[Milestone.DETECTED]
    assert (detected.value, detected.source) == (START_AT, Source.ALERT)
    assert incident.stamps[Milestone.DECLARED].value == h.clock.now()
    assert h.kinds(incident.id) == [EntryKind.DECLARED, EntryKind.ALERT_FIRED]
    assert result.incidents == {incident.id}  # type: ignore[attr-defined]


def test_redelivery_only_counts_and_a_resolve_keeps_the_text(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    h.send(am, firing())
    h.clock.advance(seconds=30)
    h.send(am, firing())
    (alert,) = h.store.alerts.values()
    assert (alert.received_count, alert.last_received_at) == (2, h.clock.now())
    (incident,) = h.store.incidents.values()
    assert h.kinds(incident.id) == [EntryKind.DECLARED, EntryKind.ALERT_FIRED]

    resolve = replace(firing(), action=SignalAction.RESOLVE, annotations={}, ended_at=h.clock.now())
    h.send(am, resolve)
    assert alert.status is AlertStatus.RESOLVED
    assert alert.annotations == {"summary": "p99 latency above 2s"}
    assert alert.title == "p99 latency above 2s"
    incident = h.store.incidents[incident.id]
    assert incident.status is Status.MONITORING, "all alerts resolved: monitoring, not closed"
    assert h.kinds(incident.id)[-2:] == [EntryKind.ALERT_RESOLVED, EntryKind.STATUS_CHANGED]

    h.send(am, resolve)  # Alertmanager repeats the resolved notification
    h.send(am, firing())  # and an HA peer's late copy of the firing one
    assert len(h.store.alerts) == 1
    assert alert.status is AlertStatus.RESOLVED
    assert len(h.store.incidents) == 1


def test_alerts_of_one_service_join_its_open_incident_and_raise_its_severity(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    h.send(am, firing("a"), firing("b", instance="web-2"))
    h.send(am, firing("c", alertname="ErrorRate", severity="critical"))
    (incident,) = h.store.incidents.values()
    assert incident.severity is Severity.P1
    assert h.kinds(incident.id).count(EntryKind.ALERT_FIRED) == 3
    assert EntryKind.SEVERITY_CHANGED in h.kinds(incident.id)

    for key in ("a", "b"):
        h.send(am, replace(firing(key), action=SignalAction.RESOLVE))
    assert h.store.incidents[incident.id].status is Status.INVESTIGATING, "c still fires"
    h.send(am, replace(firing("c"), action=SignalAction.RESOLVE))
    assert h.store.incidents[incident.id].status is Status.MONITORING

    h.clock.advance(minutes=5)
    h.send(am, replace(firing("a"), started_at=h.clock.now()))
    assert len(h.store.incidents) == 1, "a monitoring incident is still open: the alert joins it"
    assert h.store.incidents[incident.id].status is Status.INVESTIGATING, "the fix did not hold"
    bodies = [e.body for (i, _), e in sorted(h.store.entries.items()) if i == incident.id]
    assert any("fired while monitoring" in b for b in bodies[-3:]), bodies[-3:]


def test_a_new_firing_after_the_incident_resolved_opens_a_new_incident(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    h.send(am, firing())
    h.send(am, replace(firing(), action=SignalAction.RESOLVE))
    (first,) = h.store.incidents.values()
    h.bus.handle(c.ChangeStatus(first.id, Status.RESOLVED, ALICE))
    h.clock.advance(minutes=10)
    h.send(am, replace(firing(), started_at=h.clock.now()))
    assert len(h.store.incidents) == 2
    assert len(h.store.alerts) == 2, "after resolve, a new firing is a new alert"


def test_reopen_window_reopens_a_recently_resolved_incident() -> None:
    policy = load_default_policy()
    alerts = policy.alerts.model_copy(update={"reopen_window": timedelta(minutes=30)})
    h = Intake(policy.model_copy(update={"alerts": alerts}))
    am = h.integration(IntegrationKind.ALERTMANAGER)
    h.send(am, firing())
    h.send(am, replace(firing(), action=SignalAction.RESOLVE))
    (incident,) = h.store.incidents.values()
    h.bus.handle(c.ChangeStatus(incident.id, Status.RESOLVED, ALICE))
    h.clock.advance(minutes=10)
    h.send(am, replace(firing(), started_at=h.clock.now()))
    assert len(h.store.incidents) == 1
    assert h.store.incidents[incident.id].status is Status.INVESTIGATING


def test_tier_one_services_raise_severity_and_rules_route(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    h.send(am, firing(service="payments", severity="info"))
    (incident,) = h.store.incidents.values()
    assert incident.severity is Severity.P2, "tier 1 floor"

    h.send(am, firing("wd", alertname="Watchdog", service="", severity="none"))
    watchdog = next(a for a in h.store.alerts.values() if a.dedup_key == "wd")
    assert (watchdog.declares, watchdog.rule, watchdog.incident_id) == (False, "watchdog", None)
    assert len(h.store.incidents) == 1


def test_silenced_alerts_are_recorded_and_declare_once_the_silence_ends(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    silence = h.bus.handle(
        c.CreateSilence(
            parse_matchers(['service="checkout"']),
            h.clock.now() + timedelta(hours=1),
            "deploying checkout",
            ALICE,
        )
    )
    h.send(am, firing())
    (alert,) = h.store.alerts.values()
    assert (alert.silenced_by, alert.incident_id) == (silence.id, None)
    assert h.store.incidents == {}

    h.bus.handle(c.ExpireSilence(silence.id, ALICE))
    h.clock.advance(minutes=1)
    h.send(am, firing())  # Alertmanager re-sends firing groups
    assert alert.silenced_by is None
    assert alert.incident_id is not None
    assert h.kinds(alert.incident_id).count(EntryKind.ALERT_FIRED) == 1


def test_alerts_still_firing_when_their_silence_ends_declare_without_being_sent_again(
    h: Intake,
) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    window = h.bus.handle(
        c.CreateSilence(parse_matchers(['service="checkout"']), h.clock.now() + timedelta(hours=1),
                        "database migration", ALICE)
    )  # fmt: skip
    longer = h.bus.handle(
        c.CreateSilence(parse_matchers(['alertname="DiskFull"']),
                        h.clock.now() + timedelta(hours=3), "new disks on order", ALICE)
    )  # fmt: skip
    h.send(am, firing("a"), firing("b"), firing("c", alertname="DiskFull"))
    h.send(am, replace(firing("b"), action=SignalAction.RESOLVE))
    assert h.bus.handle(c.ReleaseSilencedAlerts()) == [], "both silences still on"

    h.clock.advance(hours=1, minutes=1)
    released = h.bus.handle(c.ReleaseSilencedAlerts())
    by_key = {a.dedup_key: a for a in h.store.alerts.values()}
    assert released == [by_key["a"].id], "b resolved meanwhile; c is muted by the other silence"
    (incident,) = h.store.incidents.values()
    assert by_key["a"].incident_id == incident.id and by_key["a"].silenced_by is None
    assert h.kinds(incident.id).count(EntryKind.ALERT_FIRED) == 1
    assert incident.stamp(Milestone.DETECTED) == by_key["a"].started_at, "when it started"
    assert (by_key["b"].incident_id, by_key["c"].incident_id) == (None, None)
    assert by_key["c"].silenced_by == longer.id != window.id
    assert h.bus.handle(c.ReleaseSilencedAlerts()) == [], "once only"

    h.clock.advance(hours=2)
    assert h.bus.handle(c.ReleaseSilencedAlerts()) == [by_key["c"].id]
    assert by_key["c"].incident_id == incident.id, "same service: it joins"
    assert len(h.store.incidents) == 1


def test_pagerduty_semantics(h: Intake) -> None:
    pd = h.integration(IntegrationKind.PAGERDUTY, service="checkout")
    trigger = AlertSignal(
        "db-1/disk", SignalAction.TRIGGER, title="Disk full", source_severity="error"
    )
    ack = AlertSignal("db-1/disk", SignalAction.ACKNOWLEDGE)
    resolve = AlertSignal("db-1/disk", SignalAction.RESOLVE)
    unknown = h.send(pd, AlertSignal("nobody", SignalAction.RESOLVE))
    assert unknown.dropped == 1 and h.store.alerts == {}  # type: ignore[attr-defined]

    h.send(pd, trigger)
    (incident,) = h.store.incidents.values()
    assert (incident.severity, [s.slug for s in incident.services]) == (Severity.P2, ["checkout"])
    detected = incident.stamps[Milestone.DETECTED]
    assert (detected.value, detected.source) == (h.clock.now(), Source.SYSTEM), (
        "no payload.timestamp: detected when Tocsin heard of it, not by the alert's word"
    )
    h.send(pd, ack)
    h.send(pd, resolve)
    assert h.kinds(incident.id)[-3:] == [
        EntryKind.ALERT_ACKNOWLEDGED,
        EntryKind.ALERT_RESOLVED,
        EntryKind.STATUS_CHANGED,
    ]
    h.send(pd, trigger)
    assert len(h.store.alerts) == 2, "a trigger after resolve opens a new alert"


def test_integration_names_services_and_secrets_are_checked(h: Intake) -> None:
    h.integration(IntegrationKind.ALERTMANAGER)
    with pytest.raises(AlreadyExists):
        h.integration(IntegrationKind.ALERTMANAGER)
    with pytest.raises(NotFound):
        h.bus.handle(c.CreateIntegration("pd", IntegrationKind.PAGERDUTY, ALICE, "nope"))
    with pytest.raises(InvalidInput):
        h.bus.handle(c.CreateIntegration("pd", IntegrationKind.PAGERDUTY, ALICE, secret="s"))
    rotated = h.bus.handle(c.RotateIntegrationKey("alertmanager-x", ALICE))
    assert rotated.key_rotated_at == h.clock.now() and len(rotated.key) == 32


def test_the_inbox_is_applied_in_arrival_order_and_a_bad_delivery_is_set_aside(h: Intake) -> None:
    am = h.integration(IntegrationKind.ALERTMANAGER)
    resolve = replace(firing(), action=SignalAction.RESOLVE)
    h.store.inbox = {
        1: InboxItem(1, am, h.clock.now(), (firing(),)),
        2: InboxItem(2, am, h.clock.now(), (resolve,)),
        3: InboxItem(3, 999, h.clock.now(), (firing("x"),)),  # its integration is gone
        4: InboxItem(4, am, h.clock.now(), (firing("b", instance="web-2"),)),
    }
    with pytest.raises(InboxItemFailed) as failed:
        h.bus.handle(c.ProcessInbox(limit=10))
    assert failed.value.item_id == 3
    results = h.bus.handle(c.ProcessInbox(limit=10, quarantine=((3, failed.value.detail),)))
    assert list(results) == [1, 2, 4]
    assert (results[1].opened, results[2].resolved, results[4].opened) == (1, 1, 1)
    assert list(h.store.inbox) == [3] and "no integration 999" in h.store.set_aside[3]
    first = next(a for a in h.store.alerts.values() if a.dedup_key == "fp1")
    assert first.status is AlertStatus.RESOLVED, "resolve applied after the firing it follows"
    assert h.bus.handle(c.ProcessInbox(limit=10)) == {}
    h.bus.handle(c.RetryInboxItem(3))  # back in line: applied (and failing) again
    with pytest.raises(InboxItemFailed):
        h.bus.handle(c.ProcessInbox(limit=10))
    with pytest.raises(NotFound, match="no set-aside delivery 4"):
        h.bus.handle(c.RetryInboxItem(4))


def test_a_missed_heartbeat_fires_one_alert_and_the_next_ping_resolves_it(h: Intake) -> None:
    made = h.bus.handle(
        c.CreateIntegration(
            "nightly-backup",
            IntegrationKind.HEARTBEAT,
            ALICE,
            service="payments",
            config={"interval_seconds": 300, "severity": "critical"},
        )
    )
    h.clock.advance(minutes=4)
    assert h.bus.handle(c.CheckHeartbeats()) == []
    h.bus.handle(c.PingHeartbeat(made.id))  # in time: the next one is due 5 minutes from now
    h.clock.advance(minutes=4, seconds=59)
    assert h.bus.handle(c.CheckHeartbeats()) == []
    h.clock.advance(seconds=1)
    assert h.bus.handle(c.CheckHeartbeats()) == [made.id]
    assert h.bus.handle(c.CheckHeartbeats()) == [], (
        "one alert per missed heartbeat, not one per check"
    )
    (alert,) = h.store.alerts.values()
    assert alert.title.startswith("No heartbeat from nightly-backup since ")
    (incident,) = h.store.incidents.values()
    assert (incident.severity, [s.slug for s in incident.services]) == (Severity.P1, ["payments"])

    h.clock.advance(minutes=1)
    assert h.bus.handle(c.PingHeartbeat(made.id)) is True
    assert alert.status is AlertStatus.RESOLVED
    assert h.store.incidents[incident.id].status is Status.MONITORING
    assert h.bus.handle(c.PingHeartbeat(made.id)) is False


def test_a_heartbeat_needs_a_sensible_interval(h: Intake) -> None:
    with pytest.raises(InvalidInput, match="at least 10 seconds"):
        h.bus.handle(
            c.CreateIntegration(
                "hb", IntegrationKind.HEARTBEAT, ALICE, config={"interval_seconds": 1}
            )
        )
    assert h.store.integrations == {}


def test_alerts_join_an_open_incident_declared_by_hand_on_their_service(h: Intake) -> None:
    declared = h.bus.handle(
        c.DeclareIncident("Checkout slow", Severity.P3, ALICE, services=("checkout",))
    )
    am = h.integration(IntegrationKind.ALERTMANAGER)
    h.send(am, firing("a", severity="critical"))
    (incident,) = h.store.incidents.values()
    assert incident.id == declared, "no second incident for the same service"
    assert incident.severity is Severity.P1, "the alert raised it"
    assert EntryKind.ALERT_FIRED in h.kinds(incident.id)
    (alert,) = h.store.alerts.values()
    assert alert.incident_id == incident.id

    h.send(am, replace(firing("a"), action=SignalAction.RESOLVE))
    assert h.store.incidents[incident.id].status is Status.INVESTIGATING, (
        "not the alerts' own incident: people decide when it is mitigated"
    )
    h.bus.handle(c.ChangeStatus(incident.id, Status.RESOLVED, ALICE))
    h.send(am, firing("b"))
    assert len(h.store.incidents) == 2, "a resolved incident is not joined: a new one opens"


def test_alerts_do_not_join_a_private_incident_on_their_service(h: Intake) -> None:
    private = h.bus.handle(
        c.DeclareIncident("Card data exposure", Severity.P1, ALICE, services=("checkout",),
                          private=True)
    )  # fmt: skip
    h.send(h.integration(IntegrationKind.ALERTMANAGER), firing())
    (alert,) = h.store.alerts.values()
    assert alert.incident_id not in (None, private), "its responders could not see it there"


def test_alerts_applied_late_keep_the_times_their_deliveries_arrived(h: Intake) -> None:
    """In a storm deliveries wait in the inbox; what they report happened when they arrived."""
    am = h.integration(IntegrationKind.ALERTMANAGER)
    pd = h.integration(IntegrationKind.PAGERDUTY, service="payments")
    arrived = h.clock.now()
    trigger = AlertSignal("db-1/disk", SignalAction.TRIGGER, title="Disk full")
    h.store.inbox.update({
        1: InboxItem(1, am, arrived, (replace(firing(), started_at=None),)),
        2: InboxItem(2, pd, arrived, (trigger,)),
        3: InboxItem(3, pd, arrived + timedelta(seconds=5),
                     (AlertSignal("db-1/disk", SignalAction.ACKNOWLEDGE),)),
    })  # fmt: skip
    h.clock.advance(seconds=20)
    h.bus.handle(c.ProcessInbox(limit=10))
    fired, disk = sorted(h.store.alerts.values(), key=lambda a: a.id or 0)
    assert (fired.first_received_at, fired.last_received_at) == (arrived, arrived)
    assert disk.acknowledged_at == arrived + timedelta(seconds=5)
    incident = h.store.incidents[fired.incident_id or 0]
    assert incident.stamp(Milestone.DETECTED) == arrived, "when the alert was first heard of"
    assert incident.stamp(Milestone.DECLARED) == h.clock.now(), "when Tocsin declared it"
    acked = [e for (i, _), e in h.store.entries.items() if e.kind is EntryKind.ALERT_ACKNOWLEDGED]
    assert [e.occurred_at for e in acked] == [arrived + timedelta(seconds=5)]
