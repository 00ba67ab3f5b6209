"""Domain events: facts recorded by aggregates, handled after the change inside its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status


@dataclass(frozen=True)
class Event:
    """Base class; every incident event names its incident."""

    incident_id: int


@dataclass(frozen=True)
class IncidentDeclared(Event):
    severity: Severity
    title: str
    customer_facing: bool
    workflow: str | None = None  # as named at declaration; None for the policy's default


@dataclass(frozen=True)
class IncidentStatusChanged(Event):
    previous: Status
    current: Status


@dataclass(frozen=True)
class IncidentSeverityChanged(Event):
    previous: Severity
    current: Severity
    reason: str


@dataclass(frozen=True)
class IncidentRoleAssigned(Event):
    role: Role
    person_id: int
    previous_person_id: int | None


@dataclass(frozen=True)
class IncidentRoleRelieved(Event):
    role: Role
    person_id: int


@dataclass(frozen=True)
class IncidentTimestampSet(Event):
    milestone: Milestone


@dataclass(frozen=True)
class IncidentDetailsUpdated(Event):
    fields: tuple[str, ...]


@dataclass(frozen=True)
class TimelineEntryAdded(Event):
    seq: int


@dataclass(frozen=True)
class KeyMomentChanged(Event):
    seq: int
    key_moment: bool


@dataclass(frozen=True)
class IncidentVisibilityChanged(Event):
    private: bool


@dataclass(frozen=True)
class WarRoomMessagePosted(Event):
    """A message in the war room; open pages refresh, chat tools get a mirror of it."""

    author: str
    body: str
    posted_at: datetime
    via: str | None
