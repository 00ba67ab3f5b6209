"""On-call schedules: layered rotations plus overrides, and who is on call at any instant.

Layers are listed lowest precedence first, as PagerDuty numbers them: at each instant the last
layer with someone on call decides, and overrides then change that result: replacements first,
then removals (which leave nobody rather than falling through to a lower layer), then additions.
Editing a rotation adds a version from a given instant on, so who was on call before it never
changes. The YAML form, read by `parse_schedule`:

    slug: platform
    name: Platform on call
    time_zone: Europe/Berlin          # naive date-times are read in this zone (or the rotation's)
    layers:                           # later layers win over earlier ones
      - name: Primary
        rotation:
          type: weekly                # hourly | daily | weekly | custom
          length: 1                   # hours/days/weeks per shift; custom: 8h, 90m, 2d, 1w
          participants: [ana, ben, chloe]
          start: "2026-01-05T09:00"   # the first hand-off; its local time is the hand-off time
          time_zone: Europe/Berlin    # optional, defaults to the schedule's zone
          restrictions:               # optional: outside these local hours the layer is empty
            - {days: [mon-fri], start: "09:00", end: "17:00"}
            - {days: [fri], start: "18:00", end: "09:00"}   # an end before the start: next day
        changes:                      # optional edits, each from an instant on
          - {effective_from: "2026-03-02T09:00", rotation: {type: weekly, ...}}
    overrides:
      - {start: "2026-02-01T09:00", end: "2026-02-02T09:00", person: dan, replaces: ana}
      - {start: ..., end: ..., person: ben, kind: remove}   # kind: add | remove | replace
        # kind defaults to replace when `replaces` is given, otherwise to add

Times of day must be quoted: YAML reads an unquoted 17:00 as the number 1020.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tocsin.domain.catalog import clean_name, clean_slug
from tocsin.domain.errors import InvalidInput, NotFound
from tocsin.domain.rotations import (
    Layer,
    Rotation,
    RotationVersion,
    Shift,
    ShiftKind,
    WeeklyWindow,
    utc_instant,
    zone_named,
)


class OverrideKind(StrEnum):
    """What an override does to the layered result while it lasts."""

    ADD = "add"
    REMOVE = "remove"
    REPLACE = "replace"


@dataclass(frozen=True, kw_only=True)
class Override:
    """A temporary change: add someone, take someone off, or have someone stand in for another."""

    kind: OverrideKind
    person: str
    starts_at: datetime
    ends_at: datetime
    replaces: str | None = None

    def __post_init__(self) -> None:
        try:
            kind = OverrideKind(self.kind)
        except ValueError:
            raise InvalidInput(
                f"kind {self.kind!r} is not one of {', '.join(OverrideKind)}", field="kind"
            ) from None
        starts_at = utc_instant(self.starts_at, "starts_at")
        ends_at = utc_instant(self.ends_at, "ends_at")
        if ends_at <= starts_at:
            raise InvalidInput("ends_at must be later than starts_at", field="ends_at")
        person = clean_slug(self.person, "person")
        replaces = None if self.replaces is None else clean_slug(self.replaces, "replaces")
        if kind is OverrideKind.REPLACE and replaces in (None, person):
            raise InvalidInput("replaces must name who `person` stands in for", field="replaces")
        if kind is not OverrideKind.REPLACE and replaces is not None:
            raise InvalidInput(
                f"replaces is only for replace overrides, not {kind}", field="replaces"
            )
        for name, value in (
            ("kind", kind), ("person", person), ("replaces", replaces),
            ("starts_at", starts_at), ("ends_at", ends_at),
        ):  # fmt: skip
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Schedule:
    """Who is on call for something, at any instant: layers (last wins) plus overrides."""

    slug: str
    name: str
    time_zone: str
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()
    _starts: tuple[datetime, ...] = field(init=False, repr=False, compare=False)
    _by_start: tuple[Override, ...] = field(init=False, repr=False, compare=False)
    _longest: timedelta = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone_named(self.time_zone)
        layers, overrides = tuple(self.layers), tuple(self.overrides)
        names = [layer.name for layer in layers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise InvalidInput(
                    f"layers[{i}].name {name!r} is used twice", field=f"layers[{i}].name"
                )
        by_start = tuple(sorted(overrides, key=lambda o: o.starts_at))
        longest = max((o.ends_at - o.starts_at for o in overrides), default=timedelta(0))
        for name, value in (
            ("slug", clean_slug(self.slug, "slug")), ("name", clean_name(self.name)),
            ("layers", layers), ("overrides", overrides), ("_by_start", by_start),
            ("_starts", tuple(o.starts_at for o in by_start)), ("_longest", longest),
        ):  # fmt: skip
            object.__setattr__(self, name, value)

    def on_call(self, at: datetime) -> tuple[str, ...]:
        """The people on call at `at`, sorted; empty when no layer or override covers it."""
        at = utc_instant(at, "at")
        people: set[str] = set()
        for layer in reversed(self.layers):
            person = layer.person_at(at)
            if person is not None:
                people.add(person)
                break
        if self.overrides:
            active = self._overrides_at(at)
            for o in active:
                if o.kind is OverrideKind.REPLACE and o.replaces in people:
                    people.discard(o.replaces)
                    people.add(o.person)
            people.difference_update(o.person for o in active if o.kind is OverrideKind.REMOVE)
            people.update(o.person for o in active if o.kind is OverrideKind.ADD)
        return tuple(sorted(people))

    def _overrides_at(self, at: datetime) -> list[Override]:
        """The overrides in force at `at`, in order of their start."""
        first = bisect_left(self._starts, at - self._longest)
        last = bisect_right(self._starts, at)
        return [o for o in self._by_start[first:last] if at < o.ends_at]

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """Who is on call in [start, end), each person's unbroken time one shift, by start."""
        start, end = utc_instant(start, "start"), utc_instant(end, "end")
        if end <= start:
            raise InvalidInput("end must be later than start", field="end")
        edges = {start, end}
        for layer in self.layers:
            for shift in layer.shifts(start, end):
                edges.update((shift.starts_at, shift.ends_at))
        for o in self.overrides:
            if o.starts_at < end and start < o.ends_at:
                edges.update((max(o.starts_at, start), min(o.ends_at, end)))
        found: list[Shift] = []
        since: dict[str, datetime] = {}  # the people on call now, and from when
        ordered = sorted(edges)
        for edge in ordered[:-1]:  # nothing changes between two edges
            people = self.on_call(edge)
            found += [Shift(p, since.pop(p), edge) for p in list(since) if p not in people]
            for person in people:
                since.setdefault(person, edge)
        found += [Shift(person, at, end) for person, at in since.items()]
        return sorted(found, key=lambda s: (s.starts_at, s.person))

    def edit_rotation(self, layer: str, rotation: Rotation, effective_from: datetime) -> Schedule:
        """This schedule with layer `layer` following `rotation` from `effective_from` on."""
        if layer not in (existing.name for existing in self.layers):
            raise NotFound(f"layer {layer!r} is not in schedule {self.slug}", field="layer")
        return replace(
            self,
            layers=tuple(
                each.edited(rotation, effective_from) if each.name == layer else each
                for each in self.layers
            ),
        )


# ----- the YAML form ----------------------------------------------------------------------------
_DURATION = re.compile(r"^(\d+)\s*(m|h|d|w)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {name[:n]: i for i, name in enumerate(_DAY_NAMES) for n in range(3, len(name) + 1)}
E = TypeVar("E", bound=StrEnum)


def parse_schedule(document: Mapping[str, Any]) -> Schedule:
    """A schedule from its YAML form (see the module docstring); errors name the field path."""
    doc = _mapping(document, "", {"slug", "name", "time_zone"}, {"layers", "overrides"})
    zone_name = _text(doc["time_zone"], "time_zone")
    zone = zone_named(zone_name)
    layers = tuple(
        _layer(raw, f"layers[{i}]", zone_name) for i, raw in enumerate(_list(doc, "layers", ""))
    )
    overrides = tuple(
        _override(raw, f"overrides[{i}]", zone) for i, raw in enumerate(_list(doc, "overrides", ""))
    )
    return Schedule(
        _text(doc["slug"], "slug"), _text(doc["name"], "name"), zone_name, layers, overrides
    )


def _layer(raw: object, path: str, zone_name: str) -> Layer:
    doc = _mapping(raw, path, {"name", "rotation"}, {"changes"})
    first = _rotation(doc["rotation"], f"{path}.rotation", zone_name)
    versions = [RotationVersion(first.starts_at, first)]
    for i, change in enumerate(_list(doc, "changes", path)):
        where = f"{path}.changes[{i}]"
        edit = _mapping(change, where, {"effective_from", "rotation"}, set())
        rotation = _rotation(edit["rotation"], f"{where}.rotation", zone_name)
        since = _when(edit["effective_from"], f"{where}.effective_from", zone_named(zone_name))
        if since <= versions[-1].effective_from:
            raise InvalidInput(
                f"{where}.effective_from must be later than the rotation's start and earlier "
                "changes",
                field=f"{where}.effective_from",
            )
        versions.append(RotationVersion(since, rotation))
    with _at(path):
        return Layer(_text(doc["name"], f"{path}.name"), tuple(versions))


def _rotation(raw: object, path: str, default_zone: str) -> Rotation:
    keys = {"length", "time_zone", "restrictions"}
    doc = _mapping(raw, path, {"type", "participants", "start"}, keys)
    zone_name = _text(doc.get("time_zone", default_zone), f"{path}.time_zone")
    zone = zone_named(zone_name, f"{path}.time_zone")
    kind = _choice(doc["type"], ShiftKind, f"{path}.type")
    length: int | timedelta = doc.get("length", 1)
    if kind is ShiftKind.CUSTOM:
        length = _duration(doc.get("length"), f"{path}.length")
    windows = tuple(
        _window(w, f"{path}.restrictions[{i}]")
        for i, w in enumerate(_list(doc, "restrictions", path))
    )
    starts_at = _when(doc["start"], f"{path}.start", zone)
    with _at(path):
        return Rotation(
            participants=tuple(_list(doc, "participants", path)), kind=kind, length=length,
            starts_at=starts_at, time_zone=zone_name, restrictions=windows,
        )  # fmt: skip


def _window(raw: object, path: str) -> WeeklyWindow:
    doc = _mapping(raw, path, {"start", "end"}, {"days"})
    days = _days(doc.get("days", ["mon-sun"]), f"{path}.days")
    with _at(path):
        return WeeklyWindow(
            days, _clock(doc["start"], f"{path}.start"), _clock(doc["end"], f"{path}.end")
        )


def _override(raw: object, path: str, zone: ZoneInfo) -> Override:
    doc = _mapping(raw, path, {"start", "end", "person"}, {"replaces", "kind"})
    default = OverrideKind.REPLACE if "replaces" in doc else OverrideKind.ADD
    kind = _choice(doc.get("kind", default), OverrideKind, f"{path}.kind")
    starts_at = _when(doc["start"], f"{path}.start", zone)
    ends_at = _when(doc["end"], f"{path}.end", zone)
    if ends_at <= starts_at:
        raise InvalidInput(f"{path}.end must be later than {path}.start", field=f"{path}.end")
    replaces = doc.get("replaces")
    with _at(path):
        return Override(
            kind=kind,
            person=_text(doc["person"], f"{path}.person"),
            starts_at=starts_at,
            ends_at=ends_at,
            replaces=None if replaces is None else _text(replaces, f"{path}.replaces"),
        )


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Name a constructor's complaint by where the value sits in the document."""
    try:
        yield
    except InvalidInput as error:
        if error.field is None or error.field.startswith(path):
            raise
        where = f"{path}.{error.field}"
        detail = error.detail.removeprefix(error.field).lstrip(": ")
        raise InvalidInput(f"{where} {detail}", field=where) from None


def _mapping(raw: object, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    where = path or "the schedule"
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be a mapping of keys to values", field=path or None)
    for key in raw:
        if key not in required | optional:
            expected = ", ".join(sorted(required | optional))
            raise InvalidInput(
                f"{_key(path, key)} is not a known key; expected {expected}", field=_key(path, key)
            )
    for key in sorted(required):
        if key not in raw:
            raise InvalidInput(f"{_key(path, key)} is required", field=_key(path, key))
    return dict(raw)


def _key(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _list(doc: dict[str, Any], key: str, path: str) -> list[Any]:
    raw = doc.get(key, [])
    if not isinstance(raw, list | tuple):
        raise InvalidInput(f"{_key(path, key)} must be a list", field=_key(path, key))
    return list(raw)


def _text(raw: object, path: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput(f"{path} must be non-empty text, not {raw!r}", field=path)
    return raw.strip()


def _choice(raw: object, kind: type[E], path: str) -> E:
    try:
        return kind(str(raw).strip().lower())
    except ValueError:
        expected = " | ".join(kind)
        raise InvalidInput(f"{path} {raw!r} is not one of {expected}", field=path) from None


def _when(raw: object, path: str, zone: ZoneInfo) -> datetime:
    """A date-time from the document, read in `zone` (fold=0) when it names no offset."""
    value = raw
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw.strip())
        except ValueError:
            value = None
    elif isinstance(raw, date) and not isinstance(raw, datetime):
        value = datetime.combine(raw, time())
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"{path} {raw!r} is not a date and time such as 2026-01-05T09:00", field=path
        )
    if value.utcoffset() is None:
        value = value.replace(tzinfo=zone, fold=0)
    return value.astimezone(UTC)


def _clock(raw: object, path: str) -> time:
    """A local time of day, "HH:MM"; "24:00" is the midnight that ends a day."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raise InvalidInput(
            f'{path} must be a quoted time of day such as "17:00", not the number {raw} '
            "(YAML reads an unquoted 17:00 as the number 1020)",
            field=path,
        )
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        value = time(0) if text == "24:00" else time.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None:
        raise InvalidInput(f"{path} {raw!r} is not a time of day such as 09:00", field=path)
    return value


def _days(raw: object, path: str) -> frozenset[int]:
    """Weekdays from names and ranges: [mon, wed], [mon-fri], fri-mon (wrapping), monday."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not items:
        raise InvalidInput(f"{path} must list weekdays such as [mon-fri] or [sat, sun]", field=path)
    days: set[int] = set()
    for i, item in enumerate(items):
        first, dash, last = str(item).strip().lower().partition("-")
        day, end = _WEEKDAYS.get(first.strip()), _WEEKDAYS.get((last if dash else first).strip())
        if day is None or end is None:
            raise InvalidInput(
                f"{path}[{i}] {item!r} is not a weekday or a range such as mon, sun or mon-fri",
                field=f"{path}[{i}]",
            )
        days.update((day + n) % 7 for n in range((end - day) % 7 + 1))
    return frozenset(days)


def _duration(raw: object, path: str) -> timedelta:
    match = _DURATION.match(raw.strip().lower()) if isinstance(raw, str) else None
    if match is None:
        given = "is required" if raw is None else f"{raw!r} is not valid"
        raise InvalidInput(f"{path} {given}: give a duration such as 8h, 90m, 2d or 1w", field=path)
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
