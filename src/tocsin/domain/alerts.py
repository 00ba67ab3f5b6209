"""Alerts: what monitoring reported, deduplicated per integration, and where each one was routed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tocsin.domain.severities import Severity

TITLE_MAX = 200
TEXT_MAX = 10_000


class AlertStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not AlertStatus.RESOLVED


class SignalAction(StrEnum):
    """What a sender says happened to an alert."""

    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Link:
    href: str
    text: str = ""


@dataclass(frozen=True)
class AlertSignal:
    """One alert as a sender reported it, validated and normalised at the edge.

    Empty strings and mappings mean "not said", so a resolve that carries no annotations never
    wipes the text the alert fired with.
    """

    dedup_key: str
    action: SignalAction
    title: str = ""
    description: str = ""
    source_severity: str = ""  # as the sender spelt it: critical, warning, error, …
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    source: str = ""  # the affected system as the sender names it (host, job, …)
    group_key: str = ""  # the sender's own grouping (Alertmanager groupKey)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # the sender's own object, as sent


@dataclass(frozen=True)
class Route:
    """Where an alert goes: decided by the policy's routing rules when it first fires."""

    severity: Severity
    service: str | None = None
    declare: bool = True  # open (or join) an incident; False keeps it an alert only
    rule: str | None = None  # the rule that decided, for the alert page


class Change(StrEnum):
    """What receiving a signal did to an existing alert."""

    DUPLICATE = "duplicate"  # the same again: only counted
    UPDATED = "updated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass
class Alert:
    """One alert's life from first firing to resolve; a new firing after resolve is a new Alert."""

    id: int | None
    integration_id: int
    dedup_key: str
    status: AlertStatus
    title: str
    severity: Severity
    first_received_at: datetime
    last_received_at: datetime
    description: str = ""
    source_severity: str = ""
    service: str | None = None
    declares: bool = True
    rule: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    source: str = ""
    group_key: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    acknowledged_at: datetime | None = None
    received_count: int = 1
    incident_id: int | None = None
    silenced_by: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def open(cls, integration_id: int, signal: AlertSignal, route: Route, now: datetime) -> Alert:
        """A first report. A resolve for an alert never seen firing is kept as history."""
        status = {
            SignalAction.TRIGGER: AlertStatus.FIRING,
            SignalAction.ACKNOWLEDGE: AlertStatus.ACKNOWLEDGED,
            SignalAction.RESOLVE: AlertStatus.RESOLVED,
        }[signal.action]
        alert = cls(
            id=None,
            integration_id=integration_id,
            dedup_key=signal.dedup_key,
            status=status,
            title=alert_title(signal),
            severity=route.severity,
            first_received_at=now,
            last_received_at=now,
            service=route.service,
            declares=route.declare,
            rule=route.rule,
            started_at=signal.started_at,  # None: the sender did not say (see `started`)
            acknowledged_at=now if status is AlertStatus.ACKNOWLEDGED else None,
        )
        alert._merge(signal)
        alert.raw = dict(signal.raw)
        if status is AlertStatus.RESOLVED:
            alert.ended_at = signal.ended_at or now
        return alert

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def started(self) -> datetime:
        return self.started_at or self.first_received_at

    def receive(self, signal: AlertSignal, now: datetime) -> Change:
        """Apply a later report of this alert; an unchanged redelivery is only counted."""
        self.received_count += 1
        self.last_received_at = max(self.last_received_at, now)  # a retried old delivery
        if signal.raw:
            self.raw = dict(signal.raw)
        if not self.is_open:
            return Change.DUPLICATE
        if signal.action is SignalAction.RESOLVE:
            self._merge(signal)
            self.status = AlertStatus.RESOLVED
            self.ended_at = signal.ended_at or now
            return Change.RESOLVED
        if signal.action is SignalAction.ACKNOWLEDGE:
            if self.status is AlertStatus.ACKNOWLEDGED:
                return Change.DUPLICATE
            self.status = AlertStatus.ACKNOWLEDGED
            self.acknowledged_at = now
            return Change.ACKNOWLEDGED
        before = replace(self, received_count=0, last_received_at=now)
        self._merge(signal)
        stated = _one_line(signal.title or signal.annotations.get("summary", ""))
        if stated:
            self.title = stated
        after = replace(self, received_count=0, last_received_at=now)
        return Change.DUPLICATE if before == after else Change.UPDATED

    def raise_severity(self, severity: Severity) -> bool:
        """Only ever up: a later, milder report does not calm an alert that fired critical."""
        if severity.is_more_severe_than(self.severity):
            self.severity = severity
            return True
        return False

    def _merge(self, signal: AlertSignal) -> None:
        if signal.description:
            self.description = signal.description[:TEXT_MAX]
        if signal.source_severity:
            self.source_severity = signal.source_severity
        if signal.labels:
            self.labels = dict(signal.labels)
        if signal.annotations:
            self.annotations = dict(signal.annotations)
        if signal.details:
            self.details = dict(signal.details)
        if signal.links:
            self.links = list(signal.links)
        if signal.source:
            self.source = signal.source
        if signal.group_key:
            self.group_key = signal.group_key

    def describe(self) -> str:
        where = f" on {self.service}" if self.service else ""
        return f"{self.title}{where} [{self.source_severity or self.severity}]"


def alert_title(signal: AlertSignal) -> str:
    """The sender's summary, else the alert name, else the key; one line, at most 200 chars."""
    raw = (
        signal.title
        or signal.annotations.get("summary", "")
        or signal.labels.get("alertname", "")
        or signal.dedup_key
    )
    return _one_line(raw)


def _one_line(raw: str) -> str:
    title = " ".join(raw.split())
    return title[: TITLE_MAX - 1] + "…" if len(title) > TITLE_MAX else title


@dataclass(frozen=True)
class InboxItem:
    """One accepted delivery waiting to be applied, in the order it arrived."""

    id: int
    integration_id: int
    received_at: datetime
    signals: tuple[AlertSignal, ...]


@dataclass
class IntakeResult:
    """What one delivery did, for the sender's response and for logs."""

    dedup_keys: list[str] = field(default_factory=list)
    opened: int = 0
    updated: int = 0
    duplicates: int = 0
    resolved: int = 0
    dropped: int = 0  # acknowledge/resolve for a key with no open alert (PagerDuty semantics)
    incidents: set[int] = field(default_factory=set)
