"""Commands that change incidents and their war rooms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tocsin.domain.actors import Actor
from tocsin.domain.commands.base import Command
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind


@dataclass(frozen=True)
class DeclareIncident(Command):
    title: str
    severity: Severity
    actor: Actor
    summary: str = ""
    services: tuple[str, ...] = ()
    user_impact: str = ""
    business_impact: str = ""
    customer_facing: bool = False
    detection_source: DetectionSource = DetectionSource.EMPLOYEE
    detected_at: datetime | None = None
    impact_started_at: datetime | None = None
    private: bool = False
    workflow: str | None = None  # the policy's `standard` unless named


@dataclass(frozen=True)
class ChangeStatus(Command):
    incident_id: int
    status: Status
    actor: Actor
    note: str = ""


@dataclass(frozen=True)
class ReclassifyIncident(Command):
    incident_id: int
    severity: Severity
    reason: str
    actor: Actor


@dataclass(frozen=True)
class AssignRole(Command):
    incident_id: int
    role: Role
    person: str
    actor: Actor


@dataclass(frozen=True)
class RelieveRole(Command):
    incident_id: int
    role: Role
    actor: Actor
    person: str | None = None


@dataclass(frozen=True)
class SetTimestamp(Command):
    incident_id: int
    milestone: Milestone
    value: datetime
    actor: Actor


@dataclass(frozen=True)
class UpdateIncident(Command):
    incident_id: int
    actor: Actor
    title: str | None = None
    summary: str | None = None
    user_impact: str | None = None
    business_impact: str | None = None
    customer_facing: bool | None = None
    detection_source: DetectionSource | None = None
    services: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AddTimelineEntry(Command):
    incident_id: int
    kind: EntryKind
    body: str
    actor: Actor
    occurred_at: datetime | None = None
    corrects_seq: int | None = None


@dataclass(frozen=True)
class MarkKeyMoment(Command):
    incident_id: int
    seq: int
    key_moment: bool
    actor: Actor


@dataclass(frozen=True)
class SetIncidentPrivacy(Command):
    incident_id: int
    private: bool
    actor: Actor


@dataclass(frozen=True)
class InviteParticipant(Command):
    incident_id: int
    person: str
    actor: Actor


@dataclass(frozen=True)
class PostMessage(Command):
    incident_id: int
    body: str
    actor: Actor
    via: str | None = None  # the chat integration it came through
