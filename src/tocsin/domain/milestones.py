"""Lifecycle timestamps of an incident, where each came from, and the order they must keep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tocsin.domain.errors import ChronologyViolation, InvalidInput


class Milestone(StrEnum):
    """Named moments in an incident's life; the stored field is `<value>_at`."""

    IMPACT_STARTED = "impact_started"
    DETECTED = "detected"
    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def field(self) -> str:
        return f"{self.value}_at"

    @classmethod
    def parse(cls, raw: str) -> Milestone:
        """Accept `detected` or `detected_at`."""
        name = raw.strip().lower().removesuffix("_at")
        try:
            return cls(name)
        except ValueError:
            names = ", ".join(m.field for m in cls)
            raise InvalidInput(
                f"unknown timestamp {raw!r}; expected one of {names}", field="name"
            ) from None


class Source(StrEnum):
    """Where a timestamp came from, so metrics can say how much to trust it."""

    SYSTEM = "system"  # set by Tocsin when the event happened
    PERSON = "person"  # entered or corrected by someone
    ALERT = "alert"  # taken from a monitoring payload


@dataclass(frozen=True)
class Stamp:
    """A timestamp value with its provenance: source, who set it, and when it was recorded."""

    value: datetime
    source: Source
    set_by: str
    recorded_at: datetime


# Pairs (earlier, later) that must hold whenever both are set.
ORDER: tuple[tuple[Milestone, Milestone], ...] = (
    (Milestone.IMPACT_STARTED, Milestone.DETECTED),
    (Milestone.DETECTED, Milestone.DECLARED),
    (Milestone.DECLARED, Milestone.ACKNOWLEDGED),
    (Milestone.DETECTED, Milestone.MITIGATED),
    (Milestone.MITIGATED, Milestone.RESOLVED),
    (Milestone.DECLARED, Milestone.RESOLVED),
    (Milestone.RESOLVED, Milestone.CLOSED),
)

# Clocks drift; a timestamp a little ahead of ours is not an error worth refusing.
FUTURE_TOLERANCE = timedelta(minutes=5)


def require_aware(value: datetime, field: str) -> datetime:
    """Refuse naive datetimes: a time without a zone is ambiguous across the team."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{field} must include a time zone offset (e.g. 2026-01-31T14:05:00Z)", field=field
        )
    return value


def check_chronology(stamps: dict[Milestone, Stamp], now: datetime) -> None:
    """Raise naming both timestamps when any ordered pair is violated or one is in the future."""
    for milestone, stamp in stamps.items():
        if stamp.value > now + FUTURE_TOLERANCE:
            raise ChronologyViolation(
                f"{milestone.field} ({_fmt(stamp.value)}) is in the future (now {_fmt(now)})",
                field=milestone.field,
            )
    for earlier, later in ORDER:
        a, b = stamps.get(earlier), stamps.get(later)
        if a is not None and b is not None and a.value > b.value:
            raise ChronologyViolation(
                f"{earlier.field} ({_fmt(a.value)}) must not be later than "
                f"{later.field} ({_fmt(b.value)})",
                field=earlier.field,
            )


def _fmt(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")
