"""Request and response bodies of the REST API (XCreate, XUpdate, XRead)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tocsin.domain import commands
from tocsin.domain.accounts import Scope
from tocsin.domain.errors import InvalidInput
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind


def parsed(parse: Callable[[str], Any]) -> BeforeValidator:
    """Use the domain's own parser, so the API accepts and words things as the CLI does."""

    def validate(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse(value)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None

    return BeforeValidator(validate)


SeverityIn = Annotated[Severity, parsed(Severity.parse)]
StatusIn = Annotated[Status, parsed(Status.parse)]
RoleIn = Annotated[Role, parsed(Role.parse)]
DetectionSourceIn = Annotated[DetectionSource, parsed(DetectionSource.parse)]
EntryKindIn = Annotated[EntryKind, parsed(EntryKind.parse_manual)]
Slug = Annotated[str, Field(min_length=1, max_length=63)]
Text = Annotated[str, Field(max_length=10_000)]


class Input(BaseModel):
    """Inputs refuse unknown fields: a misspelt field silently ignored is a lost update."""

    model_config = ConfigDict(extra="forbid")


# ----- incidents ------------------------------------------------------------------------------
class IncidentCreate(Input):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    severity: SeverityIn
    summary: Text = ""
    services: list[Slug] = Field(default_factory=list)
    user_impact: Text = ""
    business_impact: Text = ""
    customer_facing: bool = False
    detection_source: DetectionSourceIn = DetectionSource.EMPLOYEE
    detected_at: AwareDatetime | None = None
    impact_started_at: AwareDatetime | None = None
    private: bool = Field(False, description="visible only to participants and admins")
    workflow: Annotated[str, Field(min_length=1, max_length=63)] = Field(
        "standard", description="a workflow of the policy; unknown names are refused"
    )


class VisibilitySet(Input):
    private: bool


class IncidentUpdate(Input):
    """Descriptive fields; status, severity, roles and timestamps have their own endpoints."""

    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    summary: Text | None = None
    services: list[Slug] | None = None
    user_impact: Text | None = None
    business_impact: Text | None = None
    customer_facing: bool | None = None
    detection_source: DetectionSourceIn | None = None


class StatusChange(Input):
    status: StatusIn
    note: Text = ""


class SeverityChange(Input):
    severity: SeverityIn
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]


class RoleAssign(Input):
    role: RoleIn
    person: Slug


class TimestampSet(Input):
    value: AwareDatetime


class TimelineEntryCreate(Input):
    kind: EntryKindIn
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    occurred_at: AwareDatetime | None = None
    corrects: int | None = Field(None, ge=1, description="seq of the entry this one corrects")


class TimelineEntryUpdate(Input):
    """Only the key-moment flag can change: entries are append-only."""

    key_moment: bool

    @model_validator(mode="before")
    @classmethod
    def _append_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and set(data) - {"key_moment"}:
            raise ValueError(
                "timeline entries are append-only: only key_moment can change; "
                "to fix an entry, post a new one with `corrects` set to its seq"
            )
        return data


class ServiceLabelRead(BaseModel):
    slug: str
    name: str


class RoleRead(BaseModel):
    role: str
    label: str
    person: str
    name: str
    assigned_at: datetime
    assigned_by: str


class TimestampRead(BaseModel):
    value: datetime | None
    source: str | None = Field(None, description="system, person or alert")
    set_by: str | None = None
    recorded_at: datetime | None = None


class SeverityInfo(BaseModel):
    level: str
    name: str
    response_time: str


class IncidentRead(BaseModel):
    id: int
    reference: str
    title: str
    summary: str
    severity: SeverityInfo
    status: str
    allowed_transitions: list[str]
    services: list[ServiceLabelRead]
    user_impact: str
    business_impact: str
    customer_facing: bool
    detection_source: str
    roles: list[RoleRead]
    timestamps: dict[str, TimestampRead]
    war_room: dict[str, str]
    created_by: str
    version: int
    updated_at: datetime
    url: str
    private: bool
    needs_incident_commander: bool = Field(
        description="an open P1/P2 with nobody in command; the first responder is offered it"
    )


class IncidentSummaryRead(BaseModel):
    id: int
    reference: str
    title: str
    severity: str
    status: str
    customer_facing: bool
    declared_at: datetime
    resolved_at: datetime | None
    services: list[ServiceLabelRead]
    incident_commander: str | None
    private: bool
    needs_incident_commander: bool


class IncidentPage(BaseModel):
    items: list[IncidentSummaryRead]
    next_cursor: str | None = Field(None, description="pass as ?cursor= for the next page")


class TimelineEntryRead(BaseModel):
    seq: int
    kind: str
    body: str
    author: str
    occurred_at: datetime
    recorded_at: datetime
    corrects: int | None
    corrected_by: list[int]
    key_moment: bool
    key_moment_by: str | None
    key_moment_at: datetime | None
    data: dict[str, Any]


# ----- catalog --------------------------------------------------------------------------------
class ContactMethodIO(Input):
    kind: str
    address: str
    after: str | None = Field(
        None, description="Delay after a step pages the person, e.g. 2m (default: at once)"
    )


class PersonCreate(Input):
    """Also an entry of the catalog file's `people` list."""

    handle: Slug
    name: str
    email: str
    time_zone: str = "UTC"
    title: str = ""
    contact_methods: list[ContactMethodIO] = Field(default_factory=list)

    def spec(self) -> commands.PersonSpec:
        return commands.PersonSpec(
            handle=self.handle,
            name=self.name,
            email=self.email,
            time_zone=self.time_zone,
            title=self.title,
            contact_methods=tuple((c.kind, c.address, c.after or "") for c in self.contact_methods),
        )


class PersonUpdate(Input):
    name: str | None = None
    email: str | None = None
    time_zone: str | None = None
    title: str | None = None
    contact_methods: list[ContactMethodIO] | None = None


class PersonRead(BaseModel):
    handle: str
    name: str
    email: str
    time_zone: str
    title: str
    contact_methods: list[ContactMethodIO]


class MemberIO(Input):
    person: Slug
    role: str = "member"


class MemberRead(BaseModel):
    person: str
    name: str
    role: str


class TeamCreate(Input):
    """Also an entry of the catalog file's `teams` list."""

    slug: Slug
    name: str
    description: str = ""
    members: list[MemberIO] = Field(default_factory=list)
    schedule: Slug | None = None

    def spec(self) -> commands.TeamSpec:
        return commands.TeamSpec(
            slug=self.slug,
            name=self.name,
            description=self.description,
            members=tuple((m.person, m.role) for m in self.members),
            schedule=self.schedule,
        )


class TeamUpdate(Input):
    name: str | None = None
    description: str | None = None
    members: list[MemberIO] | None = None


class TeamRead(BaseModel):
    slug: str
    name: str
    description: str
    members: list[MemberRead]
    services: list[str]


class ServiceCreate(Input):
    """Also an entry of the catalog file's `services` list."""

    slug: Slug
    name: str
    description: str = ""
    team: Slug | None = None
    tier: int = 2
    depends_on: list[Slug] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)

    def spec(self) -> commands.ServiceSpec:
        return commands.ServiceSpec(
            slug=self.slug,
            name=self.name,
            description=self.description,
            team=self.team,
            tier=self.tier,
            depends_on=tuple(self.depends_on),
            runbooks=tuple(self.runbooks),
        )


class ServiceUpdate(Input):
    name: str | None = None
    description: str | None = None
    team: Slug | None = None
    tier: int | None = None
    depends_on: list[Slug] | None = None
    runbooks: list[str] | None = None


class ServiceRead(BaseModel):
    slug: str
    name: str
    description: str
    team: str | None
    tier: int
    depends_on: list[str]
    runbooks: list[str]
    open_incidents: int


class ImportReport(BaseModel):
    people: dict[str, int] = Field(default_factory=dict)
    teams: dict[str, int] = Field(default_factory=dict)
    services: dict[str, int] = Field(default_factory=dict)


# ----- accounts -------------------------------------------------------------------------------
class TokenCreate(Input):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    scope: Annotated[Scope, parsed(Scope.parse)]
    username: str | None = Field(None, description="owner; defaults to the caller")


class TokenCreated(BaseModel):
    id: int
    token: str = Field(description="shown once; store it now")
    scope: str
    username: str


class TokenRead(BaseModel):
    id: int
    name: str
    scope: str
    prefix: str
    username: str
    created_at: datetime
    revoked_at: datetime | None


class Problem(BaseModel):
    """RFC 9457 problem details, with the offending fields listed."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)
