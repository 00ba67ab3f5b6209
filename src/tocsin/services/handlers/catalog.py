"""Catalog use cases: create, replace and import people, teams and services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.domain import catalog as cat
from tocsin.domain import commands
from tocsin.domain.errors import AlreadyExists, DomainError, InvalidInput, NotFound
from tocsin.domain.schedule_documents import parse_schedule
from tocsin.policy.durations import parse_duration
from tocsin.services.messagebus import Context
from tocsin.services.ports import UnitOfWork

Outcome = Literal["created", "updated", "unchanged"]


def save_person(cmd: commands.SavePerson, ctx: Context) -> Outcome:
    return _save_person(ctx.uow, cmd.spec, cmd.create_only)


def save_team(cmd: commands.SaveTeam, ctx: Context) -> Outcome:
    return _save_team(ctx.uow, cmd.spec, cmd.create_only)


def save_service(cmd: commands.SaveService, ctx: Context) -> Outcome:
    return _save_service(ctx.uow, cmd.spec, cmd.create_only)


def import_catalog(cmd: commands.ImportCatalog, ctx: Context) -> dict[str, dict[str, int]]:
    """Upsert everything in one transaction; returns counts per kind and outcome."""
    report: dict[str, dict[str, int]] = {}
    _check_unique("people", [p.handle for p in cmd.people])
    _check_unique("teams", [t.slug for t in cmd.teams])
    _check_unique("services", [s.slug for s in cmd.services])
    for spec in cmd.people:
        with _located("people", spec.handle):
            _count(report, "people", _save_person(ctx.uow, spec, create_only=False))
    for i, document in enumerate(cmd.schedules):
        with _located("schedules", str(document.get("slug", i))):
            _count(report, "schedules", _save_schedule(ctx.uow, document))
    for team in cmd.teams:
        with _located("teams", team.slug):
            _count(report, "teams", _save_team(ctx.uow, team, create_only=False))
    # Services may depend on services defined later in the file: create them all first.
    created = set()
    for service in cmd.services:
        with _located("services", service.slug):
            slug = cat.clean_slug(service.slug, "slug")
            if ctx.uow.services.find(slug) is None:
                bare = commands.ServiceSpec(slug=slug, name=service.name)
                _save_service(ctx.uow, bare, create_only=True)
                created.add(slug)
    for service in cmd.services:
        with _located("services", service.slug):
            outcome = _save_service(ctx.uow, service, create_only=False)
            slug = cat.clean_slug(service.slug, "slug")
            _count(report, "services", "created" if slug in created else outcome)
    return report


def _save_person(uow: UnitOfWork, spec: commands.PersonSpec, create_only: bool) -> Outcome:
    person = cat.Person(
        handle=cat.clean_slug(spec.handle, "handle"),
        name=cat.clean_name(spec.name),
        email=cat.clean_email(spec.email),
        time_zone=_clean_zone(spec.time_zone),
        title=cat.normalize_title(spec.title),
        contact_methods=[
            _contact(item, f"contact_methods[{i}]") for i, item in enumerate(spec.contact_methods)
        ],
    )
    existing = uow.people.find(person.handle)
    if existing is None:
        uow.people.add(person)
        return "created"
    if create_only:
        raise AlreadyExists(
            f"a person with handle {person.handle!r} already exists", field="handle"
        )
    return "updated" if cat.apply_changes(existing, _fields(person)) else "unchanged"


def _save_team(uow: UnitOfWork, spec: commands.TeamSpec, create_only: bool) -> Outcome:
    slug = cat.clean_slug(spec.slug, "slug")
    members: list[cat.Membership] = []  # in file order, without repeats
    for i, (handle, role) in enumerate(spec.members):
        person = uow.people.find(handle.strip().lower())
        if person is None or person.id is None:
            raise NotFound(f"no person with handle {handle!r}", field=f"members[{i}].person")
        team_role = cat.normalize_title(role, f"members[{i}].role") or "member"
        membership = cat.Membership(person.id, team_role)
        if membership not in members:
            members.append(membership)
    schedule = None
    if spec.schedule:
        schedule = cat.clean_slug(spec.schedule, "schedule")
        if uow.schedules.find(schedule) is None:
            raise NotFound(f"no on-call schedule {schedule!r}", field="schedule")
    team = cat.Team(
        slug=slug,
        name=cat.clean_name(spec.name),
        description=cat.clean_description(spec.description),
        members=members,
        schedule=schedule,
    )
    existing = uow.teams.find(slug)
    if existing is None:
        uow.teams.add(team)
        return "created"
    if create_only:
        raise AlreadyExists(f"a team named {slug!r} already exists", field="slug")
    return "updated" if cat.apply_changes(existing, _fields(team)) else "unchanged"


def _contact(item: tuple[str, ...], field_name: str) -> cat.ContactMethod:
    kind, address, *rest = item
    after = timedelta(0)
    if rest and rest[0]:
        try:
            after = parse_duration(rest[0])
        except ValueError as exc:
            raise InvalidInput(f"{field_name}.after: {exc}", field=f"{field_name}.after") from None
    return cat.ContactMethod.parse(kind, address, field_name, after)


def _save_schedule(uow: UnitOfWork, document: dict[str, Any]) -> Outcome:
    schedule = parse_schedule(document)
    existing = uow.schedules.document(schedule.slug)
    if existing == document:
        return "unchanged"
    uow.schedules.save(schedule.slug, schedule.name, document)
    return "created" if existing is None else "updated"


def _save_service(uow: UnitOfWork, spec: commands.ServiceSpec, create_only: bool) -> Outcome:
    slug = cat.clean_slug(spec.slug, "slug")
    team_id = None
    if spec.team:
        team = uow.teams.find(spec.team.strip().lower())
        if team is None:
            raise NotFound(f"no team named {spec.team!r}", field="team")
        team_id = team.id
    dependency_ids: list[int] = []
    for i, dep_slug in enumerate(spec.depends_on):
        dep = uow.services.find(dep_slug.strip().lower())
        if dep is None or dep.id is None:
            raise NotFound(f"no service named {dep_slug!r}", field=f"depends_on[{i}]")
        if dep.slug == slug:
            raise InvalidInput(f"{slug!r} cannot depend on itself", field=f"depends_on[{i}]")
        if dep.id not in dependency_ids:
            dependency_ids.append(dep.id)
    service = cat.Service(
        slug=slug,
        name=cat.clean_name(spec.name),
        description=cat.clean_description(spec.description),
        team_id=team_id,
        tier=cat.clean_tier(spec.tier),
        dependency_ids=dependency_ids,
        runbook_urls=[cat.clean_url(u, f"runbooks[{i}]") for i, u in enumerate(spec.runbooks)],
    )
    existing = uow.services.find(slug)
    if existing is None:
        uow.services.add(service)
        return "created"
    if create_only:
        raise AlreadyExists(f"a service named {slug!r} already exists", field="slug")
    return "updated" if cat.apply_changes(existing, _fields(service)) else "unchanged"


def _fields(entity: cat.Person | cat.Team | cat.Service) -> dict[str, Any]:
    """Everything but the identity, for comparing a validated entity with the stored one."""
    return {f.name: getattr(entity, f.name) for f in fields(entity) if f.name not in _IDENTITY}


_IDENTITY = ("id", "handle", "slug")


def _clean_zone(raw: str) -> str:
    name = raw.strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {raw!r}; use an IANA name such as Europe/Berlin", field="time_zone"
        ) from None
    return name


def _check_unique(kind: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        norm = key.strip().lower()
        if norm in seen:
            raise InvalidInput(f"{kind}: {key!r} appears twice in the file", field=kind)
        seen.add(norm)


def _count(report: dict[str, dict[str, int]], kind: str, outcome: Outcome) -> None:
    counts = report.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})
    counts[outcome] += 1


@contextmanager
def _located(kind: str, key: str) -> Iterator[None]:
    """Prefix errors raised while importing one item with where it is: `services[checkout].team`."""
    try:
        yield
    except DomainError as exc:
        prefix = f"{kind}[{key}]"
        exc.field = f"{prefix}.{exc.field}" if exc.field else prefix
        exc.detail = f"{exc.field}: {exc.detail}"
        exc.args = (exc.detail,)
        raise
