"""Durations as people write them in the policy: `30s`, `15m`, `2h`, `1d`, `15_minutes`, …"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_SHORT = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_LONG = re.compile(r"^(\d+)[_ ](second|minute|hour|day|week)s?$")
_UNITS = {
    "s": "seconds",
    "second": "seconds",
    "m": "minutes",
    "minute": "minutes",
    "h": "hours",
    "hour": "hours",
    "d": "days",
    "day": "days",
    "w": "weeks",
    "week": "weeks",
}
NEXT_BUSINESS_DAY = "next_business_day"
EXPECTED = (
    "a duration such as 30s, 15m, 2h, 1d, 15_minutes or 2_hours, "
    "or 'immediate' or 'next_business_day'"
)


@dataclass(frozen=True)
class Offset:
    """When an escalation step fires: a delay after declaration, or the next business day."""

    delay: timedelta
    next_business_day: bool = False

    def __str__(self) -> str:
        if self.next_business_day:
            return NEXT_BUSINESS_DAY
        if not self.delay:
            return "immediate"
        return format_duration(self.delay)


def parse_duration(raw: object) -> timedelta:
    """A plain duration; raises ValueError with the accepted forms when it is not one."""
    if isinstance(raw, timedelta):
        return raw
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ValueError(f"expected {EXPECTED}, got {raw!r}")
    text = str(raw).strip().lower()
    if text in ("immediate", "0"):
        return timedelta(0)
    match = _SHORT.match(text) or _LONG.match(text)
    if match is None:
        raise ValueError(f"expected {EXPECTED}, got {raw!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_offset(raw: object) -> Offset:
    if isinstance(raw, str) and raw.strip().lower() == NEXT_BUSINESS_DAY:
        return Offset(timedelta(0), next_business_day=True)
    return Offset(parse_duration(raw))


def format_duration(value: timedelta) -> str:
    """The shortest exact form: 90 minutes → 90m, 2 hours → 2h."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
