"""The policy's `communications` section: update cadence, reminders, audiences, declaration.

`cadence` says, per severity, how soon each update promises the next (none: no promise);
`remind_before` when the Communications Lead is reminded; `audiences` where each audience hears
updates (names from paging.destinations; none by default, so nothing leaves an unconfigured
Tocsin); `on_declaration` which audiences get the Initial Incident Report on declaration.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator, model_validator

from tocsin.domain.communications import Audience
from tocsin.domain.severities import Severity
from tocsin.policy.durations import EXPECTED, format_duration, parse_duration
from tocsin.policy.sections import Duration, Section

NO_CADENCE = ("none", "off", "never")


def _cadence(raw: object) -> timedelta | None:
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in NO_CADENCE):
        return None
    try:
        value = parse_duration(raw)
    except ValueError:
        raise ValueError(f"expected {EXPECTED.split(', or')[0]}, or none; got {raw!r}") from None
    if value <= timedelta(0):
        raise ValueError("a cadence must be longer than 0; write none for no promise")
    return value


Cadence = Annotated[
    timedelta | None,
    BeforeValidator(_cadence),
    PlainSerializer(lambda v: format_duration(v) if v else "none", when_used="json"),
]


class AudienceChannels(Section):
    """Where one audience hears updates: destinations named in paging.destinations."""

    destinations: list[str] = Field(default_factory=list)


def _default_cadence() -> dict[Severity, timedelta | None]:
    return {
        Severity.P1: timedelta(minutes=30),
        Severity.P2: timedelta(minutes=60),
        Severity.P3: None,
        Severity.P4: None,
    }


def _default_on_declaration() -> dict[Severity, list[Audience]]:
    return {
        Severity.P1: [Audience.INTERNAL, Audience.EXECUTIVE],
        Severity.P2: [Audience.INTERNAL],
        Severity.P3: [],
        Severity.P4: [],
    }


class CommunicationsPolicy(Section):
    cadence: dict[Severity, Cadence] = Field(default_factory=_default_cadence)
    remind_before: Duration = timedelta(minutes=10)
    audiences: dict[Audience, AudienceChannels] = Field(
        default_factory=lambda: {a: AudienceChannels() for a in Audience}
    )
    on_declaration: dict[Severity, list[Audience]] = Field(default_factory=_default_on_declaration)

    @field_validator("cadence", "on_declaration")
    @classmethod
    def _every_severity(cls, value: dict[Severity, Any]) -> dict[Severity, Any]:
        missing = [s.value for s in Severity if s not in value]
        if missing:
            raise ValueError(f"must define {', '.join(missing)}")
        return value

    @field_validator("audiences")
    @classmethod
    def _every_audience(
        cls, value: dict[Audience, AudienceChannels]
    ) -> dict[Audience, AudienceChannels]:
        return {a: value.get(a, AudienceChannels()) for a in Audience}

    @model_validator(mode="after")
    def _reminder_before_due(self) -> CommunicationsPolicy:
        short = [
            f"{s.value} ({format_duration(c)})"
            for s, c in self.cadence.items()
            if c is not None and c <= self.remind_before
        ]
        if short:
            raise ValueError(
                f"remind_before ({format_duration(self.remind_before)}) must be shorter than "
                f"every cadence; not shorter than {', '.join(short)}"
            )
        return self

    def cadence_for(self, severity: Severity) -> timedelta | None:
        return self.cadence.get(severity)

    def destinations(self, audiences: tuple[Audience, ...]) -> list[str]:
        """The destinations the audiences hear on, each once, in the order configured."""
        names = [n for a in audiences for n in self.audiences[a].destinations]
        return list(dict.fromkeys(names))

    def unknown_destinations(self, known: set[str]) -> list[str]:
        """`audiences.X.destinations` entries that paging.destinations does not define."""
        return [
            f"communications.audiences.{audience.value}.destinations: {name!r}"
            for audience, channels in self.audiences.items()
            for name in channels.destinations
            if name not in known
        ]
