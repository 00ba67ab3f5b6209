"""Typed, validated policy; each class mirrors one section of the YAML file."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from jinja2 import Environment, StrictUndefined, TemplateError, TemplateSyntaxError
from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    field_serializer,
    field_validator,
    model_validator,
)

from tocsin.domain.errors import InvalidInput
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.workflows import DEFAULT_WORKFLOW, WorkflowPlan
from tocsin.policy.alerting import AlertPolicy
from tocsin.policy.communications import CommunicationsPolicy
from tocsin.policy.durations import Offset, parse_offset
from tocsin.policy.paging import CONTACT_CHANNELS, PagingPolicy
from tocsin.policy.sections import Duration, Section
from tocsin.policy.workflows import Workflow, check_workflows

_CONDITION = re.compile(r"^(?P<target>[^()]+?)\s*\(if (?P<condition>[^()]+)\)$")
CONDITIONS = ("customer impact",)
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
SEVERITIES = tuple(s.value for s in Severity)

# Templates are rendered from plain data, never from live objects, so a sandbox is unnecessary;
# StrictUndefined turns a misspelt variable into an error instead of an empty string.
TEMPLATE_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class SeverityLevel(Section):
    name: str = Field(min_length=1)
    impact: str = Field(min_length=1)
    response_time: Duration
    examples: list[str] = Field(default_factory=list)


class RoleDefinition(Section):
    name: str = Field(min_length=1)
    responsibility: str = Field(min_length=1)
    authority: str = Field(min_length=1)


class Target(Section):
    """An escalation target, e.g. `CEO (if customer impact)`; resolved by the paging engine."""

    name: str
    condition: str | None = None

    @classmethod
    def parse(cls, raw: object) -> Target:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"expected a target name such as 'on-call engineer', got {raw!r}")
        text = " ".join(raw.split())
        match = _CONDITION.match(text)
        if match is None:
            if "(" in text or ")" in text:
                raise ValueError(
                    f"{raw!r}: a condition is written 'NAME (if CONDITION)', "
                    f"with CONDITION one of: {', '.join(CONDITIONS)}"
                )
            return cls(name=text)
        condition = match.group("condition").strip().lower()
        if condition not in CONDITIONS:
            raise ValueError(
                f"{raw!r}: unknown condition {condition!r}; "
                f"expected one of: {', '.join(CONDITIONS)}"
            )
        return cls(name=match.group("target").strip(), condition=condition)

    def __str__(self) -> str:
        return f"{self.name} (if {self.condition})" if self.condition else self.name


class EscalationStep(Section):
    offset: Offset
    targets: list[Target]

    @field_serializer("offset")
    def _offset_as_written(self, offset: Offset) -> str:
        return str(offset)

    @field_serializer("targets")
    def _targets_as_written(self, targets: list[Target]) -> list[str]:
        return [str(t) for t in targets]


def _escalation_path(raw: object) -> list[EscalationStep]:
    if not isinstance(raw, dict):
        raise ValueError("expected a mapping of offsets (immediate, 15_minutes, …) to target lists")
    steps = []
    seen: dict[Offset, object] = {}
    for key, targets in raw.items():
        try:
            offset = parse_offset(key)
            if offset in seen:
                raise ValueError(f"the same offset as {seen[offset]!r}")
            if not isinstance(targets, list) or not targets:
                raise ValueError("expected a non-empty list of targets")
            parsed = [Target.parse(t) for t in targets]
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None
        seen[offset] = key
        steps.append(EscalationStep(offset=offset, targets=parsed))
    steps.sort(key=lambda s: (s.offset.next_business_day, s.offset.delay))
    return steps


EscalationPath = Annotated[list[EscalationStep], BeforeValidator(_escalation_path)]


class WarRoomChannels(Section):
    voice: str = Field(min_length=1)
    chat: str = Field(min_length=1)
    video: str = Field(min_length=1)
    # paging.destinations (apprise or webhook) that get a copy of every war-room message
    mirror: list[str] = Field(default_factory=list)

    def incident_in_chat(self, channel: str) -> int | None:
        """The incident number a chat channel name stands for, by the chat pattern."""
        pattern = re.escape(self.chat.lstrip("#")).replace(re.escape("[ID]"), r"(\d+)")
        found = re.fullmatch(pattern, channel.strip().lstrip("#"))
        return int(found.group(1)) if found else None

    @field_validator("voice", "chat", "video")
    @classmethod
    def _has_id(cls, value: str) -> str:
        if "[ID]" not in value:
            raise ValueError(f"{value!r} must contain [ID], replaced by the incident number")
        return value


class UpdateChannels(Section):
    internal: str = Field(min_length=1)
    customer: str = Field(min_length=1)
    executive: str = Field(min_length=1)


class Channels(Section):
    war_room: WarRoomChannels
    updates: UpdateChannels


# Every variable the update templates are rendered with (see policy/updates.py), as samples.
SAMPLE_UPDATE: dict[str, Any] = {
    "incident": {
        "reference": "INC-1",
        "severity": "P1",
        "title": "Checkout down",
        "status": "investigating",
        "services": ["checkout"],
        "user_impact": "Nobody can pay",
        "customer_impact": "Orders fail",
        "incident_commander": "Alice",
        "war_room_url": "https://tocsin.example/incidents/1",
        "status_page_url": "status.example.com",
    },
    "now": "2026-11-26 03:00 UTC",
    "summary": "Rolling back",
    "next_update": "03:30 UTC",
    "actions": ["Rolling back cart v42"],
}


class Templates(Section):
    incident_declared: str
    incident_update: str

    @field_validator("incident_declared", "incident_update")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            template = TEMPLATE_ENV.from_string(value)
        except TemplateSyntaxError as exc:
            raise ValueError(f"template line {exc.lineno}: {exc.message}") from None
        # A misspelt variable only fails when rendered: find out now, not in the middle of a P1.
        try:
            template.render(SAMPLE_UPDATE)
        except TemplateError as exc:
            raise ValueError(f"the template does not render: {exc}") from None
        return value


def _require_all_severities(value: dict[str, Any], section: str) -> None:
    missing = [s for s in SEVERITIES if s not in value]
    if missing:
        raise ValueError(f"{section} must define {', '.join(missing)}")


class Policy(Section):
    """The whole policy. Severity-keyed sections must name exactly P1 to P4."""

    version: int = 1
    severities: dict[Severity, SeverityLevel]
    roles: dict[Role, RoleDefinition]
    escalation_paths: dict[Severity, EscalationPath]
    notification_channels: dict[Severity, list[str]]
    channels: Channels
    templates: Templates
    alerts: AlertPolicy = AlertPolicy()
    paging: PagingPolicy = PagingPolicy()
    # name → workflow; `standard` unless an incident names another (policy/workflows.py)
    workflows: dict[str, Workflow] = Field(default_factory=dict)
    _plans: dict[str, tuple[Workflow, WorkflowPlan]] = PrivateAttr(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != 1:
            raise ValueError("this Tocsin reads policy version 1")
        return value

    @field_validator("notification_channels")
    @classmethod
    def _channel_names(cls, value: dict[Severity, list[str]]) -> dict[Severity, list[str]]:
        for severity, names in value.items():
            if not names:
                raise ValueError(f"{severity}: expected at least one channel")
            for name in names:
                if not _CHANNEL.match(name):
                    raise ValueError(
                        f"{severity}: channel {name!r} must be lowercase letters, digits, '-', "
                        "'_' or '.'"
                    )
        return value

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        for section in ("severities", "escalation_paths", "notification_channels"):
            _require_all_severities(getattr(self, section), section)
        for severity, names in self.notification_channels.items():
            unknown = [
                n for n in names if n not in CONTACT_CHANNELS and n not in self.paging.destinations
            ]
            if unknown and self.paging.destinations:
                raise ValueError(
                    f"notification_channels.{severity}: {', '.join(unknown)} "
                    "have no entry in paging.destinations"
                )
        for name in self.channels.war_room.mirror:
            destination = self.paging.destinations.get(name)
            if destination is None:
                raise ValueError(
                    f"channels.war_room.mirror: {name!r} has no entry in paging.destinations"
                )
            if destination.pagerduty is not None:
                raise ValueError(
                    f"channels.war_room.mirror: {name!r} is a PagerDuty destination; "
                    "messages go to chat tools (apprise or webhook destinations)"
                )
        missing_roles = [r.value for r in Role if r not in self.roles]
        if missing_roles:
            raise ValueError(f"roles must define {', '.join(missing_roles)}")
        return self

    def channels_without_destination(self) -> list[str]:
        """Channel names that are neither a contact kind nor in paging.destinations."""
        names = {n for listed in self.notification_channels.values() for n in listed}
        known = CONTACT_CHANNELS | set(self.paging.destinations)
        return sorted(names - known)

    def response_time(self, severity: Severity) -> timedelta:
        return self.severities[severity].response_time

    def war_room(self, incident_id: int) -> dict[str, str]:
        """The bridge, chat and video names for one incident."""
        ref = str(incident_id)
        rooms = self.channels.war_room
        return {
            "voice": rooms.voice.replace("[ID]", ref),
            "chat": rooms.chat.replace("[ID]", ref),
            "video": rooms.video.replace("[ID]", ref),
        }

    # ----- workflows ----------------------------------------------------------------------------
    @field_validator("workflows")
    @classmethod
    def _workflow_names(cls, value: dict[str, Workflow]) -> dict[str, Workflow]:
        check_workflows(value)
        return value

    def workflow_plan(self, name: str | None) -> WorkflowPlan | None:
        """The named workflow (`standard` when None); None when the policy defines none."""
        wanted = (name or DEFAULT_WORKFLOW).strip().lower()
        if not self.workflows and wanted == DEFAULT_WORKFLOW:
            return None
        if wanted not in self.workflows:
            known = ", ".join(self.workflows) or "none (the policy defines no workflows)"
            raise InvalidInput(f"unknown workflow {name!r}; known: {known}", field="workflow")
        workflow = self.workflows[wanted]
        cached = self._plans.get(wanted)
        if cached is None or cached[0] is not workflow:  # built once: every declaration asks
            cached = self._plans[wanted] = (workflow, workflow.plan(wanted))
        return cached[1]

    # ----- communications (issue 5: stakeholder updates) -------------------------------------
    communications: CommunicationsPolicy = CommunicationsPolicy()

    @model_validator(mode="after")
    def _communication_destinations(self) -> Policy:
        unknown = self.communications.unknown_destinations(set(self.paging.destinations))
        if unknown:
            raise ValueError(
                f"{'; '.join(unknown)}: not defined in paging.destinations "
                f"(defined: {', '.join(sorted(self.paging.destinations)) or 'none'})"
            )
        pagerduty = [
            name
            for name in self.communications.destinations(tuple(self.communications.audiences))
            if self.paging.destinations[name].pagerduty
        ]
        if pagerduty:
            raise ValueError(
                f"communications.audiences: {', '.join(pagerduty)} is a PagerDuty destination, "
                "which takes incidents, not stakeholder updates; use a chat or webhook destination"
            )
        return self
