"""On-call schedules: layered rotations plus overrides, and who is on call at any instant.

Layers are listed lowest precedence first, as PagerDuty numbers them: at each instant the last
layer with someone on call decides, and overrides then change that result: replacements first,
then removals (which leave nobody rather than falling through to a lower layer), then additions.
Editing a rotation adds a version from a given instant on, so who was on call before it never
changes. The YAML form is read by `schedule_documents.parse_schedule`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from tocsin.domain.catalog import clean_name, clean_slug
from tocsin.domain.errors import InvalidInput, NotFound
from tocsin.domain.rotations import (
    Layer,
    Rotation,
    Shift,
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
