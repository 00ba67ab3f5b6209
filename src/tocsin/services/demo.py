"""A small demo organisation: services, teams, people, one open and two resolved incidents.

The open incident was declared by an Alertmanager alert that came in through the `prometheus`
integration and was joined by a second one; a deploy to its service shortly before came in
through `deploys` and is listed as a suspect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tocsin.domain import commands as c
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import AlertSignal, Link, SignalAction
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.runbookfile import builtin_runbooks, parse_runbook
from tocsin.services.demo_catalog import CARD_TIMEOUTS_RUNBOOK, PEOPLE, SERVICES, TEAMS

RunAt = Callable[[c.Command, datetime], Any]


def load_demo(run_at: RunAt, now: datetime) -> None:
    """Send the demo through the bus as if each step happened at its own time."""
    run_at(c.ImportCatalog(PEOPLE, TEAMS, SERVICES), now - timedelta(days=30))
    admin = Actor("Heidi Larsen")
    prometheus = run_at(
        c.CreateIntegration("prometheus", IntegrationKind.ALERTMANAGER, admin),
        now - timedelta(days=30),
    )
    deploys = run_at(
        c.CreateIntegration("deploys", IntegrationKind.CHANGE, admin), now - timedelta(days=30)
    )
    _resolved_search_incident(run_at, now - timedelta(days=9))
    _resolved_outage(run_at, now - timedelta(days=3))
    _open_payments_incident(run_at, now - timedelta(minutes=25), prometheus.id, deploys.id)
    _private_security_incident(run_at, now - timedelta(hours=2))
    # The built-in emergency playbooks (data loss, security breach), and one for the open incident.
    playbooks = tuple(parse_runbook(text, name) for name, text in builtin_runbooks())
    run_at(c.ImportRunbooks((*playbooks, CARD_TIMEOUTS_RUNBOOK), admin), now - timedelta(days=30))


def _private_security_incident(run_at: RunAt, t0: datetime) -> None:
    """Seen only by its participants and admins: a security breach under investigation."""
    heidi, carol = Actor("Heidi Larsen"), Actor("Carol Diaz")
    number = run_at(
        c.DeclareIncident(
            title="Suspicious sign-ins on staff admin accounts",
            severity=Severity.P2,
            actor=heidi,
            summary="Sign-ins from an unknown network to two admin accounts overnight.",
            services=("auth",),
            detection_source=DetectionSource.EMPLOYEE,
            private=True,
        ),
        t0,
    )
    steps: list[tuple[int, c.Command]] = [
        (1, c.AssignRole(number, Role.INCIDENT_COMMANDER, "heidi", heidi)),
        (2, c.InviteParticipant(number, "carol", heidi)),
        (3, c.PostMessage(number, "Both accounts' sessions revoked; passwords reset.", heidi)),
        (6, c.PostMessage(number, "Pulling the auth logs for the last 72 hours.", carol)),
    ]
    for minutes, command in steps:
        run_at(command, t0 + timedelta(minutes=minutes))


def _resolved_search_incident(run_at: RunAt, t0: datetime) -> None:
    heidi, bob = Actor("Heidi Larsen"), Actor("Bob Chen")
    number = run_at(
        c.DeclareIncident(
            title="Search results slow for all users",
            severity=Severity.P3,
            actor=heidi,
            summary="p95 search latency above 4s after the index rebuild.",
            services=("search",),
            user_impact="Search takes several seconds; browsing works.",
            detection_source=DetectionSource.ALERT,
            detected_at=t0 - timedelta(minutes=6),
            impact_started_at=t0 - timedelta(minutes=11),
        ),
        t0,
    )
    steps: list[tuple[int, c.Command]] = [
        (2, c.AssignRole(number, Role.INCIDENT_COMMANDER, "heidi", heidi)),
        (
            9,
            c.AddTimelineEntry(
                number,
                EntryKind.OBSERVATION,
                "Index rebuild left replicas cold; cache hit rate 12%.",
                heidi,
            ),
        ),
        (14, c.ChangeStatus(number, Status.IDENTIFIED, heidi, "Cold replicas after rebuild")),
        (
            16,
            c.AddTimelineEntry(
                number, EntryKind.ACTION, "Warming replicas with the top 10k queries.", bob
            ),
        ),
        (41, c.ChangeStatus(number, Status.MONITORING, heidi, "p95 back under 400ms")),
        (101, c.ChangeStatus(number, Status.RESOLVED, heidi)),
        (2 * 24 * 60, c.ChangeStatus(number, Status.CLOSED, heidi, "Post-incident review done")),
    ]
    for minutes, command in steps:
        run_at(command, t0 + timedelta(minutes=minutes))


def _resolved_outage(run_at: RunAt, t0: datetime) -> None:
    carol, heidi, bob = Actor("Carol Diaz"), Actor("Heidi Larsen"), Actor("Bob Chen")
    number = run_at(
        c.DeclareIncident(
            title="Website down: 502 errors at the edge",
            severity=Severity.P2,
            actor=heidi,
            summary="All pages return 502 from the load balancer.",
            services=("web", "checkout"),
            user_impact="Nobody can load the site or check out.",
            business_impact="Orders stopped completely.",
            customer_facing=True,
            detection_source=DetectionSource.ALERT,
            detected_at=t0 - timedelta(minutes=3),
            impact_started_at=t0 - timedelta(minutes=5),
        ),
        t0,
    )
    steps: list[tuple[int, c.Command]] = [
        (1, c.ReclassifyIncident(number, Severity.P1, "Complete outage, every region", carol)),
        (2, c.AssignRole(number, Role.INCIDENT_COMMANDER, "carol", carol)),
        (2, c.AssignRole(number, Role.TECHNICAL_LEAD, "heidi", carol)),
        (3, c.AssignRole(number, Role.COMMUNICATIONS_LEAD, "bob", carol)),
        (
            5,
            c.AddTimelineEntry(
                number,
                EntryKind.OBSERVATION,
                "Edge config deploy at 14:02 matches the start of the 502s.",
                heidi,
            ),
        ),
        (
            6,
            c.AddTimelineEntry(
                number,
                EntryKind.DECISION,
                "Roll back the edge config before digging further.",
                carol,
            ),
        ),
        (
            7,
            c.AddTimelineEntry(
                number,
                EntryKind.COMMUNICATION,
                "Status page updated: investigating site outage.",
                bob,
            ),
        ),
        (8, c.ChangeStatus(number, Status.IDENTIFIED, carol, "Bad edge config deploy")),
        (
            12,
            c.AddTimelineEntry(
                number, EntryKind.ACTION, "Rollback of edge config complete.", heidi
            ),
        ),
        (13, c.ChangeStatus(number, Status.MONITORING, carol, "Error rate back to baseline")),
        (43, c.ChangeStatus(number, Status.RESOLVED, carol)),
    ]
    for minutes, command in steps:
        run_at(command, t0 + timedelta(minutes=minutes))
    run_at(c.MarkKeyMoment(number, 6, True, carol), t0 + timedelta(minutes=50))
    run_at(c.MarkKeyMoment(number, 7, True, carol), t0 + timedelta(minutes=50))


def _alertmanager_signal(
    fingerprint: str, labels: dict[str, str], annotations: dict[str, str], starts_at: datetime
) -> AlertSignal:
    """A firing alert as the Alertmanager webhook brings it, with the sender's own object."""
    source = "http://prometheus.example.com:9090/graph?g0.expr=" + labels["alertname"]
    starts = starts_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    raw = {
        "status": "firing",
        "labels": labels,
        "annotations": annotations,
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": source,
        "fingerprint": fingerprint,
    }
    links = [Link(source, "Source")]
    if "runbook_url" in annotations:
        links.append(Link(annotations["runbook_url"], "Runbook"))
    return AlertSignal(
        dedup_key=fingerprint,
        action=SignalAction.TRIGGER,
        title=annotations["summary"],
        description=annotations.get("description", ""),
        labels=labels,
        annotations=annotations,
        links=tuple(links),
        source=labels.get("instance", ""),
        group_key='{}:{service="payments"}',
        started_at=starts_at,
        raw=raw,
    )


def _open_payments_incident(
    run_at: RunAt, t0: datetime, alerts_from: int, changes_from: int
) -> None:
    """Declared by an Alertmanager alert; a second alert joins it; a deploy came just before."""
    alice, bob = Actor("Alice Martin"), Actor("Bob Chen")
    run_at(
        c.RecordChange(
            changes_from,
            "Deploy payments-api 2.14.0: retry budget for card authorisations",
            occurred_at=t0 - timedelta(minutes=12),
            service="payments",
            source="github-actions",
            links=(Link("https://ci.example.com/payments-api/runs/4127", "CI run"),),
        ),
        t0 - timedelta(minutes=12),
    )
    timeouts = _alertmanager_signal(
        "8f1c2e6a9b3d4f70",
        {
            "alertname": "CardAuthorisationTimeouts",
            "service": "payments",
            "severity": "error",
            "acquirer": "eu",
            "job": "payments-api",
            "instance": "payments-api-2:9102",
        },
        {
            "summary": "Card authorisations timing out at the EU acquirer",
            "description": "22% of card authorisations to the EU acquirer timed out "
            "in the last 5 minutes (threshold 5%).",
            "runbook_url": "https://runbooks.example.com/payments",
        },
        t0 - timedelta(minutes=4),
    )
    intake = run_at(c.ReceiveAlerts(alerts_from, (timeouts,)), t0)
    number = min(intake.incidents)
    run_at(
        c.UpdateIncident(
            number,
            alice,
            title="Card payments failing for some customers",
            summary="About 20% of card authorisations time out at the payment provider.",
            services=("payments", "checkout"),
            user_impact="Some customers cannot pay by card; wallets work.",
            business_impact="Roughly a fifth of orders fail.",
            customer_facing=True,
        ),
        t0 + timedelta(minutes=1),
    )
    latency = _alertmanager_signal(
        "2b7d90c4e15a6f38",
        {
            "alertname": "AcquirerLatencyHigh",
            "service": "payments",
            "severity": "warning",
            "acquirer": "eu",
            "job": "payments-api",
            "instance": "payments-api-1:9102",
        },
        {
            "summary": "EU acquirer p99 latency above 8s",
            "description": "p99 authorisation latency at the EU acquirer is 9.4s (threshold 8s).",
        },
        t0 + timedelta(minutes=1),
    )
    run_at(c.ReceiveAlerts(alerts_from, (latency,)), t0 + timedelta(minutes=3))
    steps: list[tuple[int, c.Command]] = [
        (1, c.AssignRole(number, Role.INCIDENT_COMMANDER, "alice", alice)),
        (2, c.AssignRole(number, Role.TECHNICAL_LEAD, "bob", alice)),
        (
            6,
            c.AddTimelineEntry(
                number,
                EntryKind.OBSERVATION,
                "Timeouts only on the EU acquirer; US is healthy.",
                bob,
            ),
        ),
        (4, c.PostMessage(number, "On it. Looking at the acquirer dashboards.", bob)),
        (5, c.PostMessage(number, "Thanks. Anything deployed in the last hour?", alice)),
        (7, c.PostMessage(number, "payments-api 2.14.0 changed the retry budget.", bob)),
        (8, c.PostMessage(number, "US traffic is fine with the same build; it's EU only.", bob)),
        (11, c.ChangeStatus(number, Status.IDENTIFIED, alice, "EU acquirer degraded")),
        (
            15,
            c.AddTimelineEntry(
                number, EntryKind.ACTION, "Asked the provider for an ETA; ticket 88213.", alice
            ),
        ),
        (
            20,
            c.AddTimelineEntry(
                number,
                EntryKind.DECISION,
                "Route EU card traffic to the US acquirer if no ETA in 15 min.",
                alice,
            ),
        ),
        # The workflow under way: assessment done, the war room up, containment started.
        (2, c.TickChecklistItem(number, "1", alice)),
        (2, c.TickChecklistItem(number, "2", alice)),
        (3, c.CompleteTask(number, "initial_assessment", alice)),
        (9, c.CompleteTask(number, "war_room_setup", alice)),
        (12, c.MoveStage(number, "containment", alice)),
        (12, c.StartTask(number, "containment_actions", bob)),
        (13, c.AssignRole(number, Role.COMMUNICATIONS_LEAD, "carol", alice)),
        (
            14,
            c.SendUpdate(
                number,
                "status",
                ("internal",),
                Actor("Carol Diaz"),
                summary="Card payments through the EU acquirer time out; wallets work.",
                actions=("Asked the provider for an ETA", "Preparing to route EU cards via US"),
            ),
        ),
    ]
    for minutes, command in sorted(steps, key=lambda step: step[0]):
        run_at(command, t0 + timedelta(minutes=minutes))
