"""On-call schedules as plain data: who is on call, until when, and the shifts over a span."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.catalog import ON_CALL_ROLE
from tocsin.domain.errors import InvalidInput, NotFound
from tocsin.domain.rotations import Shift, utc_instant
from tocsin.domain.schedule_documents import parse_schedule
from tocsin.domain.schedules import OverrideKind, Schedule

DEFAULT_SPAN = timedelta(days=14)
MAX_SPAN = timedelta(days=366)
# How far ahead the end of a current shift is looked for, in growing steps.
LOOKAHEAD = (timedelta(days=2), timedelta(days=16), timedelta(days=120), timedelta(days=400))


@dataclass(frozen=True)
class PersonRef:
    """A handle named in a schedule; `name` is the handle when the catalog has no such person."""

    handle: str
    name: str
    email: str | None


@dataclass(frozen=True)
class OnCallView:
    """Someone on call at an instant, what put them there, and when their shift ends."""

    handle: str
    name: str
    email: str | None
    schedule: str | None  # None: a team member with the on-call team role, no schedule
    schedule_name: str | None
    team: str | None
    until: datetime | None  # None: no schedule, or the shift runs past the look-ahead


@dataclass(frozen=True)
class ShiftView:
    handle: str
    name: str
    starts_at: datetime
    ends_at: datetime
    override: bool  # an override of this person's overlaps the shift


@dataclass(frozen=True)
class OverrideView:
    kind: str
    handle: str
    name: str
    replaces: str | None
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class ScheduleSummaryView:
    slug: str
    name: str
    time_zone: str
    teams: list[str]
    on_call: list[OnCallView]
    updated_at: datetime


@dataclass(frozen=True)
class ScheduleView(ScheduleSummaryView):
    start: datetime
    end: datetime
    shifts: list[ShiftView]
    overrides: list[OverrideView]
    people: list[PersonRef]  # everyone the schedule names, by name


@dataclass(frozen=True)
class PersonShiftView:
    schedule: str
    schedule_name: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class _Stored:
    schedule: Schedule
    updated_at: datetime


class ScheduleViews:
    """Schedules are stored as documents; every answer here is computed from them on read."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def list(self, at: datetime) -> list[ScheduleSummaryView]:
        """Every schedule, by name, with who is on call at `at`."""
        at = utc_instant(at, "at")
        with self._db.reader.connect() as conn:
            stored = _load(conn)
            teams = _teams_using(conn, [s.schedule.slug for s in stored])
            people = _people(conn, _on_call_handles(stored, at))
        return [
            ScheduleSummaryView(
                slug=s.schedule.slug,
                name=s.schedule.name,
                time_zone=s.schedule.time_zone,
                teams=teams.get(s.schedule.slug, []),
                on_call=_on_call(s.schedule, at, people),
                updated_at=s.updated_at,
            )
            for s in stored
        ]

    def schedule(self, slug: str, start: datetime, end: datetime | None = None) -> ScheduleView:
        """One schedule with its shifts and overrides in [start, end); `end` defaults to 14 days."""
        start, end = _span(start, end)
        with self._db.reader.connect() as conn:
            found = _load(conn, slug)
            if not found:
                raise NotFound(f"no on-call schedule {slug!r}", field="slug")
            schedule, updated_at = found[0].schedule, found[0].updated_at
            named = _named_in(schedule)
            people = _people(conn, named)
            teams = _teams_using(conn, [schedule.slug]).get(schedule.slug, [])
        shifts = schedule.shifts(start, end)
        return ScheduleView(
            slug=schedule.slug,
            name=schedule.name,
            time_zone=schedule.time_zone,
            teams=teams,
            on_call=_on_call(schedule, start, people),
            updated_at=updated_at,
            start=start,
            end=end,
            shifts=[_shift_view(schedule, s, people) for s in shifts],
            overrides=[
                OverrideView(
                    kind=o.kind.value,
                    handle=o.person,
                    name=_person(people, o.person).name,
                    replaces=o.replaces,
                    starts_at=o.starts_at,
                    ends_at=o.ends_at,
                )
                for o in sorted(schedule.overrides, key=lambda o: (o.starts_at, o.person))
                if o.starts_at < end and start < o.ends_at
            ],
            people=sorted(
                (_person(people, h) for h in named), key=lambda p: (p.name.lower(), p.handle)
            ),
        )

    def time_zone(self, slug: str) -> str:
        """The zone a schedule's people read its times in."""
        with self._db.reader.connect() as conn:
            found = _load(conn, slug)
        if not found:
            raise NotFound(f"no on-call schedule {slug!r}", field="slug")
        return found[0].schedule.time_zone

    def who(
        self, at: datetime, service: str | None = None, schedule: str | None = None
    ) -> builtins.list[OnCallView]:
        """Who is on call at `at`: for a service (as paging finds them), a schedule, or all."""
        at = utc_instant(at, "at")
        if service is not None and schedule is not None:
            raise InvalidInput("ask for a service or a schedule, not both", field="schedule")
        with self._db.reader.connect() as conn:
            if service is not None:
                return _for_service(conn, service, at)
            stored = _load(conn, schedule)
            if schedule is not None and not stored:
                raise NotFound(f"no on-call schedule {schedule!r}", field="schedule")
            people = _people(conn, _on_call_handles(stored, at))
        return [person for s in stored for person in _on_call(s.schedule, at, people)]

    def person_shifts(
        self, handle: str, start: datetime, end: datetime
    ) -> builtins.list[PersonShiftView]:
        """One person's shifts in [start, end) across every schedule, by start."""
        start, end = _span(start, end)
        with self._db.reader.connect() as conn:
            stored = _load(conn)
        found = [
            PersonShiftView(s.schedule.slug, s.schedule.name, shift.starts_at, shift.ends_at)
            for s in stored
            if handle in _named_in(s.schedule)
            for shift in s.schedule.shifts(start, end)
            if shift.person == handle
        ]
        return sorted(found, key=lambda s: (s.starts_at, s.schedule))


def _span(start: datetime, end: datetime | None) -> tuple[datetime, datetime]:
    start = utc_instant(start, "start")
    end = start + DEFAULT_SPAN if end is None else utc_instant(end, "end")
    if end <= start:
        raise InvalidInput("end must be later than start", field="end")
    if end - start > MAX_SPAN:
        raise InvalidInput(f"end must be at most {MAX_SPAN.days} days after start", field="end")
    return start, end


def _load(conn: Connection, slug: str | None = None) -> list[_Stored]:
    s = orm.schedules
    query = select(s.c.document, s.c.updated_at).order_by(s.c.name, s.c.slug)
    if slug is not None:
        query = query.where(s.c.slug == slug)
    return [_Stored(parse_schedule(row.document), row.updated_at) for row in conn.execute(query)]


def _teams_using(conn: Connection, slugs: list[str]) -> dict[str, list[str]]:
    t = orm.teams
    rows = conn.execute(
        select(t.c.schedule, t.c.slug).where(t.c.schedule.in_(slugs)).order_by(t.c.slug)
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.schedule, []).append(row.slug)
    return found


def _people(conn: Connection, handles: Iterable[str]) -> dict[str, PersonRef]:
    p = orm.people
    rows = conn.execute(
        select(p.c.handle, p.c.name, p.c.email).where(p.c.handle.in_(sorted(set(handles))))
    )
    return {row.handle: PersonRef(row.handle, row.name, row.email) for row in rows}


def _person(people: dict[str, PersonRef], handle: str) -> PersonRef:
    return people.get(handle) or PersonRef(handle, handle, None)


def _named_in(schedule: Schedule) -> set[str]:
    """Everyone a schedule can put on call: its rotations' participants and its overrides."""
    named = {
        person
        for layer in schedule.layers
        for version in layer.versions
        for person in version.rotation.participants
    }
    for o in schedule.overrides:
        named.add(o.person)
        if o.replaces:
            named.add(o.replaces)
    return named


def _on_call_handles(stored: list[_Stored], at: datetime) -> set[str]:
    return {handle for s in stored for handle in s.schedule.on_call(at)}


def _on_call(schedule: Schedule, at: datetime, people: dict[str, PersonRef]) -> list[OnCallView]:
    handles = schedule.on_call(at)
    until = _shift_ends(schedule, at, handles)
    return [
        OnCallView(
            handle=handle,
            name=_person(people, handle).name,
            email=_person(people, handle).email,
            schedule=schedule.slug,
            schedule_name=schedule.name,
            team=None,
            until=until.get(handle),
        )
        for handle in handles
    ]


def _shift_ends(schedule: Schedule, at: datetime, handles: Iterable[str]) -> dict[str, datetime]:
    """When each of the people on call at `at` stops being on call, looking ahead in steps."""
    waiting, found = set(handles), {}
    for ahead in LOOKAHEAD:
        if not waiting:
            break
        for shift in schedule.shifts(at, at + ahead):
            if shift.person in waiting and shift.starts_at == at and shift.ends_at < at + ahead:
                found[shift.person] = shift.ends_at
                waiting.discard(shift.person)
    return found


def _shift_view(schedule: Schedule, shift: Shift, people: dict[str, PersonRef]) -> ShiftView:
    overridden = any(
        o.person == shift.person
        and o.kind is not OverrideKind.REMOVE
        and o.starts_at < shift.ends_at
        and shift.starts_at < o.ends_at
        for o in schedule.overrides
    )
    return ShiftView(
        shift.person, _person(people, shift.person).name, shift.starts_at, shift.ends_at, overridden
    )


def _for_service(conn: Connection, slug: str, at: datetime) -> list[OnCallView]:
    """As paging resolves `on-call engineer`: the team's schedule, else its on-call members."""
    svc, t = orm.services, orm.teams
    row = conn.execute(
        select(t.c.id, t.c.slug, t.c.schedule)
        .select_from(svc)
        .outerjoin(t, t.c.id == svc.c.team_id)
        .where(svc.c.slug == slug)
    ).first()
    if row is None:
        raise NotFound(f"no service {slug!r}", field="service")
    if row.id is None:
        return []
    if row.schedule is not None:
        stored = _load(conn, row.schedule)
        if not stored:
            return []
        schedule = stored[0].schedule
        people = _people(conn, schedule.on_call(at))
        return [replace(v, team=row.slug) for v in _on_call(schedule, at, people)]
    m, p = orm.team_members, orm.people
    members = conn.execute(
        select(p.c.handle, p.c.name, p.c.email)
        .join(m, m.c.person_id == p.c.id)
        .where(m.c.team_id == row.id, m.c.role == ON_CALL_ROLE)
        .order_by(m.c.position)
    )
    return [OnCallView(r.handle, r.name, r.email, None, None, row.slug, None) for r in members]
