"""On-call schedules as documents: the YAML (or JSON) form, checked and read into a `Schedule`.

The form:

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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tocsin.domain.errors import InvalidInput
from tocsin.domain.rotations import (
    Layer,
    Rotation,
    RotationVersion,
    ShiftKind,
    WeeklyWindow,
    zone_named,
)
from tocsin.domain.schedules import Override, OverrideKind, Schedule

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
