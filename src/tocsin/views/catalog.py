"""People, teams and services as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.errors import NotFound
from tocsin.domain.statuses import OPEN_STATUSES


@dataclass(frozen=True)
class ContactView:
    kind: str
    address: str
    after_seconds: int = 0


@dataclass(frozen=True)
class PersonView:
    handle: str
    name: str
    email: str
    time_zone: str
    title: str
    contact_methods: list[ContactView]


@dataclass(frozen=True)
class MemberView:
    handle: str
    name: str
    role: str


@dataclass(frozen=True)
class TeamView:
    slug: str
    name: str
    description: str
    members: list[MemberView]
    services: list[str]


@dataclass(frozen=True)
class ServiceView:
    slug: str
    name: str
    description: str
    team: str | None
    team_name: str | None
    tier: int
    depends_on: list[str]
    runbooks: list[str]
    open_incidents: int


class CatalogViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def people(self, handle: str | None = None) -> list[PersonView]:
        query = select(orm.people).order_by(orm.people.c.name)
        if handle is not None:
            query = query.where(orm.people.c.handle == handle)
        with self._db.reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            PersonView(
                handle=r["handle"],
                name=r["name"],
                email=r["email"],
                time_zone=r["time_zone"],
                title=r["title"],
                contact_methods=[
                    ContactView(c["kind"], c["address"], c.get("after_seconds", 0))
                    for c in r["contact_methods"]
                ],
            )
            for r in rows
        ]

    def person(self, handle: str) -> PersonView:
        found = self.people(handle)
        if not found:
            raise NotFound(f"no person with handle {handle!r}", field="handle")
        return found[0]

    def teams(self, slug: str | None = None) -> list[TeamView]:
        query = select(orm.teams).order_by(orm.teams.c.name)
        if slug is not None:
            query = query.where(orm.teams.c.slug == slug)
        members, people, svc = orm.team_members, orm.people, orm.services
        with self._db.reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["id"] for r in rows]
            member_rows = conn.execute(
                select(members.c.team_id, people.c.handle, people.c.name, members.c.role)
                .join(people, people.c.id == members.c.person_id)
                .where(members.c.team_id.in_(ids))
                .order_by(members.c.team_id, members.c.position)
            ).all()
            service_rows = conn.execute(
                select(svc.c.team_id, svc.c.slug).where(svc.c.team_id.in_(ids)).order_by(svc.c.slug)
            ).all()
        by_team: dict[int, list[MemberView]] = {}
        for m in member_rows:
            by_team.setdefault(m.team_id, []).append(MemberView(m.handle, m.name, m.role))
        services: dict[int, list[str]] = {}
        for s in service_rows:
            services.setdefault(s.team_id, []).append(s.slug)
        return [
            TeamView(
                slug=r["slug"],
                name=r["name"],
                description=r["description"],
                members=by_team.get(r["id"], []),
                services=services.get(r["id"], []),
            )
            for r in rows
        ]

    def team(self, slug: str) -> TeamView:
        found = self.teams(slug)
        if not found:
            raise NotFound(f"no team named {slug!r}", field="slug")
        return found[0]

    def services(self, slug: str | None = None) -> list[ServiceView]:
        svc, teams, deps = orm.services, orm.teams, orm.service_dependencies
        links, inc = orm.incident_services, orm.incidents
        query = (
            select(svc, teams.c.slug.label("team_slug"), teams.c.name.label("team_name"))
            .outerjoin(teams, teams.c.id == svc.c.team_id)
            .order_by(svc.c.tier, svc.c.name)
        )
        if slug is not None:
            query = query.where(svc.c.slug == slug)
        dep = svc.alias("dep")
        with self._db.reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["id"] for r in rows]
            dep_rows = conn.execute(
                select(deps.c.service_id, dep.c.slug)
                .join(dep, dep.c.id == deps.c.depends_on_id)
                .where(deps.c.service_id.in_(ids))
                .order_by(deps.c.service_id, deps.c.position)
            ).all()
            open_rows = conn.execute(
                select(links.c.service_id, func.count())
                .join(inc, inc.c.id == links.c.incident_id)
                .where(
                    links.c.service_id.in_(ids),
                    inc.c.status.in_([s.value for s in OPEN_STATUSES]),
                    inc.c.private.is_(False),  # a count shown to everyone must not betray one
                )
                .group_by(links.c.service_id)
            ).all()
        depends: dict[int, list[str]] = {}
        for d in dep_rows:
            depends.setdefault(d.service_id, []).append(d.slug)
        open_counts = {r[0]: int(r[1]) for r in open_rows}
        return [
            ServiceView(
                slug=r["slug"],
                name=r["name"],
                description=r["description"],
                team=r["team_slug"],
                team_name=r["team_name"],
                tier=r["tier"],
                depends_on=depends.get(r["id"], []),
                runbooks=list(r["runbook_urls"]),
                open_incidents=open_counts.get(r["id"], 0),
            )
            for r in rows
        ]

    def service(self, slug: str) -> ServiceView:
        found = self.services(slug)
        if not found:
            raise NotFound(f"no service named {slug!r}", field="slug")
        return found[0]
