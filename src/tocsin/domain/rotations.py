"""Rotations and layers: who holds a shift at an instant, with hand-offs in the rotation's zone.

Daily and weekly shifts hand off at the same local wall-clock time every day or week, so the
shift that spans a daylight-saving change lasts 23 or 25 hours. Hourly and custom shifts are
measured in elapsed time, so an 8-hour shift is 8 real hours whatever the clocks do.

Local times that do not exist or exist twice are read as RFC 5545 (iCalendar) and PEP 495 with
fold=0 read them: a time inside a spring-forward gap takes the offset from before the gap (a
02:30 hand-off on the night Berlin jumps from 02:00 to 03:00 happens at 03:30), and a time that
a fall-back repeats means its first occurrence (02:30 CEST, not 02:30 CET).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tocsin.domain.catalog import clean_name, clean_slug
from tocsin.domain.errors import InvalidInput

ONE_DAY = timedelta(days=1)


class ShiftKind(StrEnum):
    """How long a shift is, and whether it is counted in local days or in elapsed time."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    CUSTOM = "custom"


def zone_named(name: object, field_name: str = "time_zone") -> ZoneInfo:
    """The IANA time zone called `name`; anything else is refused naming the field."""
    try:
        if not isinstance(name, str):
            raise TypeError(name)
        return ZoneInfo(name)
    except (KeyError, ValueError, TypeError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise InvalidInput(
            f"{field_name} {name!r} is not an IANA time zone such as Europe/Berlin or UTC",
            field=field_name,
        ) from None


def utc_instant(value: object, field_name: str) -> datetime:
    """An aware datetime as UTC; naive datetimes are refused, since their instant is unknown."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{field_name} must be a datetime with a time zone", field=field_name)
    return value.astimezone(UTC)


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `wall` on `day` in `zone`; gaps and repeats read as fold=0."""
    return datetime.combine(day, wall.replace(fold=0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Shift:
    """One person on call from `starts_at` until `ends_at` (exclusive)."""

    person: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class WeeklyWindow:
    """Local hours a layer is staffed, e.g. Mon-Fri 09:00-17:00, or overnight 18:00-09:00."""

    # An end at or before the start falls on the next day: 00:00-00:00 is a whole day.

    days: frozenset[int]  # the weekdays the window starts on, 0 = Monday
    start: time
    end: time

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days or not all(isinstance(d, int) and 0 <= d <= 6 for d in days):
            raise InvalidInput("days must name at least one weekday, 0 (Monday) to 6", field="days")
        object.__setattr__(self, "days", days)
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidInput(f"{name} must be a local time of day such as 09:00", field=name)
            object.__setattr__(self, name, value.replace(fold=0))

    def occurrence(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The window that starts on local `day`, as UTC instants, if it starts on that weekday."""
        if day.weekday() not in self.days:
            return None
        end_day = day + ONE_DAY if self.end <= self.start else day
        return local_instant(day, self.start, zone), local_instant(end_day, self.end, zone)

    def contains(self, at: datetime, zone: ZoneInfo) -> bool:
        """Whether the UTC instant `at` falls inside one of the window's occurrences."""
        today = at.astimezone(zone).date()
        for day in (today - ONE_DAY, today):
            span = self.occurrence(day, zone)
            if span and span[0] <= at < span[1]:
                return True
        return False

    def spans(
        self, start: datetime, end: datetime, zone: ZoneInfo
    ) -> list[tuple[datetime, datetime]]:
        """The occurrences overlapping [start, end), clipped to it."""
        found = []
        day, last = start.astimezone(zone).date() - ONE_DAY, end.astimezone(zone).date()
        while day <= last:
            span = self.occurrence(day, zone)
            if span and max(span[0], start) < min(span[1], end):
                found.append((max(span[0], start), min(span[1], end)))
            day += ONE_DAY
        return found


@dataclass(frozen=True, kw_only=True)
class Rotation:
    """Participants taking turns, in order, in shifts of one length from `starts_at` on."""

    # `starts_at` is stored as UTC; its wall-clock time in `time_zone` is the hand-off time.
    # Daily and weekly hand-offs, the first included, are that wall-clock time read with fold=0.

    participants: tuple[str, ...]
    kind: ShiftKind
    length: int | timedelta  # a count of hours/days/weeks, or a timedelta for custom shifts
    starts_at: datetime
    time_zone: str
    restrictions: tuple[WeeklyWindow, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _step: timedelta = field(init=False, repr=False, compare=False)  # elapsed kinds only
    _days: int = field(init=False, repr=False, compare=False)  # local kinds only
    _first_day: date = field(init=False, repr=False, compare=False)
    _handoff: time = field(init=False, repr=False, compare=False)
    _start: datetime = field(init=False, repr=False, compare=False)  # the first hand-off

    def __post_init__(self) -> None:
        if isinstance(self.participants, str) or not self.participants:
            raise InvalidInput(
                "participants must list at least one person, in hand-off order",
                field="participants",
            )
        people = []
        for i, person in enumerate(self.participants):
            if not isinstance(person, str):
                raise InvalidInput(
                    f"participants[{i}] must be a person's handle", field=f"participants[{i}]"
                )
            people.append(clean_slug(person, f"participants[{i}]"))
        try:
            kind = ShiftKind(self.kind)
        except ValueError:
            raise InvalidInput(
                f"kind {self.kind!r} is not one of {', '.join(ShiftKind)}", field="kind"
            ) from None
        zone = zone_named(self.time_zone)
        starts_at = utc_instant(self.starts_at, "starts_at")
        step, days = self._shift_length(kind)
        local = starts_at.astimezone(zone)
        first_day, handoff = local.date(), local.time().replace(fold=0)
        start = starts_at if step else local_instant(first_day, handoff, zone)
        windows = tuple(self.restrictions)
        if not all(isinstance(w, WeeklyWindow) for w in windows):
            raise InvalidInput("restrictions must be weekly windows", field="restrictions")
        for name, value in (
            ("participants", tuple(people)), ("kind", kind), ("starts_at", starts_at),
            ("restrictions", windows), ("_zone", zone), ("_step", step), ("_days", days),
            ("_first_day", first_day), ("_handoff", handoff), ("_start", start),
        ):  # fmt: skip
            object.__setattr__(self, name, value)

    def _shift_length(self, kind: ShiftKind) -> tuple[timedelta, int]:
        """(elapsed step, local days) for this kind; exactly one of them is non-zero."""
        if kind is ShiftKind.CUSTOM:
            if not isinstance(self.length, timedelta) or self.length < timedelta(minutes=1):
                raise InvalidInput(
                    "length of a custom shift must be a duration of at least a minute, e.g. 8h",
                    field="length",
                )
            return self.length, 0
        if isinstance(self.length, bool) or not isinstance(self.length, int) or self.length < 1:
            raise InvalidInput(
                f"length must be a whole number of {kind.value} shifts, 1 or more", field="length"
            )
        if kind is ShiftKind.HOURLY:
            return timedelta(hours=self.length), 0
        return timedelta(0), self.length * (7 if kind is ShiftKind.WEEKLY else 1)

    def handoff_at(self, turn: int) -> datetime:
        """The UTC instant shift number `turn` starts (0 is the first hand-off)."""
        if self._step:
            return self._start + turn * self._step
        return local_instant(
            self._first_day + turn * self._days * ONE_DAY, self._handoff, self._zone
        )

    def turn_at(self, at: datetime) -> int:
        """The number of the shift running at UTC instant `at` (negative before the first)."""
        if self._step:
            return (at - self._start) // self._step
        turn = (at.astimezone(self._zone).date() - self._first_day).days // self._days
        while self.handoff_at(turn) > at:
            turn -= 1
        while self.handoff_at(turn + 1) <= at:
            turn += 1
        return turn

    def staffed(self, at: datetime) -> bool:
        """Whether the restrictions, if any, let the layer have someone on call at `at`."""
        return not self.restrictions or any(w.contains(at, self._zone) for w in self.restrictions)

    def person_at(self, at: datetime) -> str | None:
        """Who holds the shift at UTC instant `at`, or None before the start or outside hours."""
        if at < self._start or not self.staffed(at):
            return None
        return self.participants[self.turn_at(at) % len(self.participants)]

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """The shifts overlapping [start, end) in UTC, clipped to it and to the restrictions."""
        start = max(start, self._start)
        if start >= end:
            return []
        turn = self.turn_at(start)
        begins, found = self.handoff_at(turn), []
        while begins < end:
            ends = self.handoff_at(turn + 1)
            person = self.participants[turn % len(self.participants)]
            found.append(Shift(person, max(begins, start), min(ends, end)))
            turn, begins = turn + 1, ends
        if not self.restrictions:
            return found
        spans = sorted(s for w in self.restrictions for s in w.spans(start, end, self._zone))
        return _within(found, _merged(spans))


@dataclass(frozen=True)
class RotationVersion:
    """A layer's rotation as it stands from `effective_from` until the next version."""

    effective_from: datetime
    rotation: Rotation

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "effective_from", utc_instant(self.effective_from, "effective_from")
        )


@dataclass(frozen=True)
class Layer:
    """One rotation, with its history of edits, stacked among a schedule's layers."""

    name: str
    versions: tuple[RotationVersion, ...]
    _froms: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name))
        versions = tuple(self.versions)
        if not versions:
            raise InvalidInput("versions must hold at least one rotation", field="versions")
        for i in range(1, len(versions)):
            if versions[i].effective_from <= versions[i - 1].effective_from:
                raise InvalidInput(
                    f"versions[{i}].effective_from must be later than the version before it",
                    field=f"versions[{i}].effective_from",
                )
        object.__setattr__(self, "versions", versions)
        object.__setattr__(self, "_froms", tuple(v.effective_from for v in versions))

    @classmethod
    def of(cls, name: str, rotation: Rotation) -> Layer:
        """A layer whose rotation has never been edited."""
        return cls(name, (RotationVersion(rotation.starts_at, rotation),))

    def person_at(self, at: datetime) -> str | None:
        """Who this layer puts on call at UTC instant `at`, by the version in force then."""
        i = bisect_right(self._froms, at) - 1
        return self.versions[i].rotation.person_at(at) if i >= 0 else None

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """This layer's shifts in [start, end), each version contributing its own span."""
        found: list[Shift] = []
        for i, version in enumerate(self.versions):
            until = self._froms[i + 1] if i + 1 < len(self._froms) else end
            found += version.rotation.shifts(max(start, version.effective_from), min(until, end))
        return found

    def edited(self, rotation: Rotation, effective_from: datetime) -> Layer:
        """This layer with `rotation` in force from `effective_from`, replacing later versions."""
        since = utc_instant(effective_from, "effective_from")
        kept = tuple(v for v in self.versions if v.effective_from < since)
        return replace(self, versions=(*kept, RotationVersion(since, rotation)))


def _merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted spans with overlapping or touching ones joined."""
    out: list[tuple[datetime, datetime]] = []
    for starts_at, ends_at in spans:
        if out and starts_at <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], ends_at))
        else:
            out.append((starts_at, ends_at))
    return out


def _within(shifts: list[Shift], spans: list[tuple[datetime, datetime]]) -> list[Shift]:
    """The parts of sorted, disjoint shifts that lie inside sorted, disjoint spans."""
    out, i, j = [], 0, 0
    while i < len(shifts) and j < len(spans):
        shift, (span_start, span_end) = shifts[i], spans[j]
        starts_at, ends_at = max(shift.starts_at, span_start), min(shift.ends_at, span_end)
        if starts_at < ends_at:
            out.append(Shift(shift.person, starts_at, ends_at))
        if shift.ends_at <= span_end:
            i += 1
        else:
            j += 1
    return out
