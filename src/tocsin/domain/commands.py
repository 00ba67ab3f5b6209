"""Commands: requests to change something, parsed from any entrypoint and sent to the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actions import HttpOutcome
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import AlertSignal, Link
from tocsin.domain.incidents import DetectionSource
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.matchers import Matcher
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind


@dataclass(frozen=True)
class Command:
    """Base class of every command."""


# ----- incidents ------------------------------------------------------------------------------
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


# ----- catalog --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonSpec:
    handle: str
    name: str
    email: str
    time_zone: str = "UTC"
    title: str = ""
    # (kind, address) or (kind, address, delay such as "2m")
    contact_methods: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class TeamSpec:
    slug: str
    name: str
    description: str = ""
    members: tuple[tuple[str, str], ...] = ()  # (person handle, team role)
    schedule: str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    description: str = ""
    team: str | None = None
    tier: int = 2
    depends_on: tuple[str, ...] = ()
    runbooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavePerson(Command):
    """Create a person, or replace an existing one's fields when `create_only` is false."""

    spec: PersonSpec
    create_only: bool = True


@dataclass(frozen=True)
class SaveTeam(Command):
    spec: TeamSpec
    create_only: bool = True


@dataclass(frozen=True)
class SaveService(Command):
    spec: ServiceSpec
    create_only: bool = True


@dataclass(frozen=True)
class ImportCatalog(Command):
    """Upsert a whole catalog in one transaction; importing the same file twice changes nothing."""

    people: tuple[PersonSpec, ...] = ()
    teams: tuple[TeamSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    schedules: tuple[dict[str, Any], ...] = ()  # on-call schedule documents (domain.schedules)


# ----- accounts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateUser(Command):
    username: str
    password: str = field(repr=False)
    org_role: OrgRole = OrgRole.RESPONDER
    display_name: str = ""
    person: str | None = None


@dataclass(frozen=True)
class LinkUser(Command):
    """Say which catalog person a user is (None unlinks): incident roles belong to people."""

    username: str
    person: str | None


@dataclass(frozen=True)
class CreateApiToken(Command):
    username: str
    name: str
    scope: Scope


@dataclass(frozen=True)
class RevokeApiToken(Command):
    token_id: int


@dataclass(frozen=True)
class LogIn(Command):
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class LogOut(Command):
    session_secret: str = field(repr=False)


# ----- alerts ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateIntegration(Command):
    name: str
    kind: IntegrationKind
    actor: Actor
    service: str | None = None
    secret: str | None = field(default=None, repr=False)
    # generic: the validated field mapping; heartbeat: {"interval_seconds", "severity"}
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryInboxItem(Command):
    """Put a set-aside delivery back in line, e.g. after fixing what made it fail."""

    item_id: int


@dataclass(frozen=True)
class PingHeartbeat(Command):
    integration_id: int


@dataclass(frozen=True)
class CheckHeartbeats(Command):
    """Fire an alert for every heartbeat whose interval passed without a ping."""


@dataclass(frozen=True)
class RotateIntegrationKey(Command):
    name: str
    actor: Actor


@dataclass(frozen=True)
class ReceiveAlerts(Command):
    """Everything one sender's request carried, applied in one transaction."""

    integration_id: int
    signals: tuple[AlertSignal, ...]


@dataclass(frozen=True)
class ProcessInbox(Command):
    """Apply accepted deliveries in arrival order; `quarantine` sets failed ones aside first."""

    limit: int = 200
    quarantine: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class RecordChange(Command):
    """A deploy or configuration change reported by CI/CD or a change integration."""

    integration_id: int
    summary: str
    occurred_at: datetime | None = None
    service: str | None = None  # the integration's service when not given
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class CreateSilence(Command):
    matchers: tuple[Matcher, ...]
    ends_at: datetime
    comment: str
    actor: Actor
    starts_at: datetime | None = None  # now


@dataclass(frozen=True)
class ExpireSilence(Command):
    silence_id: int
    actor: Actor


# ----- paging ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AcknowledgeIncident(Command):
    incident_id: int
    actor: Actor


@dataclass(frozen=True)
class AcknowledgeByLink(Command):
    """The one-click link of a page: no login, the token is the proof."""

    token: str


@dataclass(frozen=True)
class RunEscalations(Command):
    """Fire every escalation step that is due; returns how many escalations moved."""

    limit: int = 100


@dataclass(frozen=True)
class ClaimDeliveries(Command):
    """Take due deliveries under a lease; the caller sends them and records each outcome."""

    limit: int = 50
    lease_seconds: float = 60.0


@dataclass(frozen=True)
class RecordDelivery(Command):
    delivery_id: int
    fence: int
    error: str = ""  # empty when sent
    permanent: bool = False  # the next contact method is tried instead of retrying


# ----- workflow: stages, checklists, tasks ---------------------------------------------------
@dataclass(frozen=True)
class MoveStage(Command):
    """Go to `target`: next, back, or a stage key."""

    incident_id: int
    target: str
    actor: Actor


@dataclass(frozen=True)
class TickChecklistItem(Command):
    """Tick (or untick) an item, by its text or number, in a stage (the current one if None)."""

    incident_id: int
    item: str
    actor: Actor
    done: bool = True
    stage: str | None = None


@dataclass(frozen=True)
class StartTask(Command):
    incident_id: int
    key: str
    actor: Actor
    override: bool = False  # start before the dependencies are done (Incident Commander)


@dataclass(frozen=True)
class CompleteTask(Command):
    incident_id: int
    key: str
    actor: Actor


@dataclass(frozen=True)
class SkipTask(Command):
    incident_id: int
    key: str
    reason: str
    actor: Actor


@dataclass(frozen=True)
class AssignTask(Command):
    """Give a task an owner (a person handle), or none."""

    incident_id: int
    key: str
    owner: str | None
    actor: Actor


# ----- communications (issue 5: stakeholder updates) ------------------------------------------
@dataclass(frozen=True)
class ComposeUpdate(Command):
    """Render an update without sending it (the preview); returns the text and next-update time."""

    incident_id: int
    template: str
    audiences: tuple[str, ...]
    summary: str = ""
    actions: tuple[str, ...] = ()
    actor: Actor | None = None  # who previews: a private incident exists only for participants


@dataclass(frozen=True)
class SendUpdate(Command):
    """Send an update to its audiences; `body`, when given, is the previewed text as edited."""

    incident_id: int
    template: str
    audiences: tuple[str, ...]
    actor: Actor
    summary: str = ""
    actions: tuple[str, ...] = ()
    body: str | None = None


@dataclass(frozen=True)
class RunUpdateReminders(Command):
    """Remind of updates falling due and record missed ones; returns how many promises moved."""

    limit: int = 100


# ----- runbooks, actions and recovery checks --------------------------------------------------
@dataclass(frozen=True)
class ActionSpec:
    """An action definition as a runbook's front matter, the API or the CLI give it."""

    name: str
    method: str
    url: str
    title: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    timeout: float = 10.0
    requires_approval: bool = False
    expect_status: int | None = None


@dataclass(frozen=True)
class RunbookSpec:
    slug: str
    title: str
    body: str
    services: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    private: bool = False
    actions: tuple[ActionSpec, ...] | None = ()  # None keeps the runbook's actions as they are
    source: str = ""


@dataclass(frozen=True)
class ImportRunbooks(Command):
    """Create or update runbooks (and their actions); the same content twice changes nothing."""

    runbooks: tuple[RunbookSpec, ...]
    actor: Actor
    dry_run: bool = False


@dataclass(frozen=True)
class SaveAction(Command):
    action: ActionSpec
    actor: Actor


@dataclass(frozen=True)
class AttachRunbook(Command):
    incident_id: int
    slug: str
    actor: Actor


@dataclass(frozen=True)
class TickRunbookStep(Command):
    incident_id: int
    slug: str
    step: int
    done: bool
    actor: Actor


@dataclass(frozen=True)
class RequestActionRun(Command):
    """Returns the run's id; it is ready to start unless it waits for approval."""

    incident_id: int
    action: str
    actor: Actor


@dataclass(frozen=True)
class ApproveActionRun(Command):
    incident_id: int
    run_id: int
    actor: Actor


@dataclass(frozen=True)
class StartActionRun(Command):
    """Mark a ready run as running and return the HTTP call to make outside the transaction."""

    incident_id: int
    run_id: int


@dataclass(frozen=True)
class RecordActionRun(Command):
    incident_id: int
    run_id: int
    outcome: HttpOutcome
    actor: Actor


@dataclass(frozen=True)
class StartCheck(Command):
    """Returns (run id, HTTP call) of a new recovery check."""

    incident_id: int
    url: str
    actor: Actor
    expect_status: int = 200
    expect_body: str = ""
    max_latency_ms: int | None = None
    repeat: int = 1
    interval: float = 2.0
    timeout: float = 10.0


@dataclass(frozen=True)
class RecordCheckAttempt(Command):
    """Returns True while more attempts of the check are due."""

    incident_id: int
    run_id: int
    outcome: HttpOutcome
    actor: Actor
