"""People, teams and services in SQL; changes to loaded entities are written back on flush."""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, Table, bindparam, delete, insert, select, update

from tocsin.adapters import orm
from tocsin.domain.catalog import ContactKind, ContactMethod, Membership, Person, Service, Team

# Lookups the applier and the paging engine run for every incident, built once.
PERSON_BY_HANDLE = select(orm.people).where(orm.people.c.handle == bindparam("handle"))
PEOPLE_BY_ID = select(orm.people).where(orm.people.c.id.in_(bindparam("ids", expanding=True)))


def _service_lookup(match: Callable[[Any, str], Any]) -> tuple[Select[Any], Select[Any]]:
    """Services by slug, and their dependencies by service id."""
    deps = orm.service_dependencies
    return (
        select(orm.services).where(match(orm.services.c.slug, "slugs")),
        select(deps.c.service_id, deps.c.depends_on_id)
        .where(match(deps.c.service_id, "ids"))
        .order_by(deps.c.service_id, deps.c.position),
    )


# One service by a plain parameter: an expanding IN list is rendered anew on every execution,
# which made a single lookup a third slower.
FIND_ONE = _service_lookup(lambda column, name: column == bindparam(name))
FIND_MANY = _service_lookup(lambda column, name: column.in_(bindparam(name, expanding=True)))

T = TypeVar("T", Person, Team, Service)


class _Tracked(Generic[T]):
    """Identity map keyed by slug with a snapshot of each entity as loaded."""

    table: Table
    key_column: str

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._entities: dict[str, tuple[T, T]] = {}
        self._absent: set[str] = set()  # looked up in this transaction and not found

    def _remember(self, key: str, entity: T) -> T:
        self._entities[key] = (entity, copy.deepcopy(entity))
        self._absent.discard(key)
        return entity

    def _cached(self, key: str) -> T | None:
        found = self._entities.get(key)
        return found[0] if found else None

    def add(self, entity: T) -> None:
        row = self._row(entity)
        entity.id = self._conn.execute(
            insert(self.table).values(**row).returning(self.table.c.id)
        ).scalar_one()
        self._write_children(entity)
        self._remember(getattr(entity, self.key_column), entity)

    def flush(self) -> None:
        for entity, snapshot in self._entities.values():
            if entity != snapshot:
                self._conn.execute(
                    update(self.table)
                    .where(self.table.c.id == entity.id)
                    .values(**self._row(entity))
                )
                self._write_children(entity, replace=True)
        self._entities.clear()

    def _row(self, entity: T) -> dict[str, Any]:
        raise NotImplementedError

    def _write_children(self, entity: T, replace: bool = False) -> None:
        return None


class SqlAlchemyPersonRepository(_Tracked[Person]):
    table = orm.people
    key_column = "handle"

    def find(self, handle: str) -> Person | None:
        cached = self._cached(handle)
        if cached is not None:
            return cached
        row = self._conn.execute(PERSON_BY_HANDLE, {"handle": handle}).mappings().first()
        return None if row is None else self._remember(handle, person_from_row(row))

    def get_many(self, ids: list[int]) -> dict[int, Person]:
        rows = self._conn.execute(PEOPLE_BY_ID, {"ids": list(ids)}).mappings()
        return {row["id"]: person_from_row(row) for row in rows}

    def _row(self, entity: Person) -> dict[str, Any]:
        return {
            "handle": entity.handle,
            "name": entity.name,
            "email": entity.email,
            "time_zone": entity.time_zone,
            "title": entity.title,
            "contact_methods": [
                {
                    "kind": c.kind.value,
                    "address": c.address,
                    "after_seconds": int(c.after.total_seconds()),
                }
                for c in entity.contact_methods
            ],
        }


class SqlAlchemyTeamRepository(_Tracked[Team]):
    table = orm.teams
    key_column = "slug"

    def find(self, slug: str) -> Team | None:
        cached = self._cached(slug)
        if cached is not None:
            return cached
        row = (
            self._conn.execute(select(orm.teams).where(orm.teams.c.slug == slug)).mappings().first()
        )
        if row is None:
            return None
        members = self._conn.execute(
            select(orm.team_members.c.person_id, orm.team_members.c.role)
            .where(orm.team_members.c.team_id == row["id"])
            .order_by(orm.team_members.c.position)
        ).all()
        team = Team(
            slug=row["slug"],
            name=row["name"],
            description=row["description"],
            members=[Membership(m.person_id, m.role) for m in members],
            schedule=row["schedule"],
            id=row["id"],
        )
        return self._remember(slug, team)

    def _row(self, entity: Team) -> dict[str, Any]:
        return {
            "slug": entity.slug,
            "name": entity.name,
            "description": entity.description,
            "schedule": entity.schedule,
        }

    def _write_children(self, entity: Team, replace: bool = False) -> None:
        table = orm.team_members
        if replace:
            self._conn.execute(delete(table).where(table.c.team_id == entity.id))
        if entity.members:
            self._conn.execute(
                insert(table),
                [
                    {"team_id": entity.id, "person_id": m.person_id, "role": m.role, "position": i}
                    for i, m in enumerate(entity.members)
                ],
            )


class SqlAlchemyServiceRepository(_Tracked[Service]):
    table = orm.services
    key_column = "slug"

    def find(self, slug: str) -> Service | None:
        """Remembered for the transaction, also when there is none: every alert of a batch
        names its service, often one not in the catalog."""
        cached = self._cached(slug)
        if cached is not None or slug in self._absent:
            return cached
        return self.find_many((slug,)).get(slug)

    def find_many(self, slugs: Collection[str]) -> dict[str, Service]:
        wanted = [s for s in slugs if self._cached(s) is None and s not in self._absent]
        if wanted:
            one = len(wanted) == 1
            by_slug, dependencies = FIND_ONE if one else FIND_MANY
            params = {"slugs": wanted[0] if one else wanted}
            rows = self._conn.execute(by_slug, params).mappings().all()
            deps: dict[int, list[int]] = {row["id"]: [] for row in rows}
            if deps:
                ids = rows[0]["id"] if one else list(deps)
                for service_id, depends_on in self._conn.execute(dependencies, {"ids": ids}):
                    deps[service_id].append(depends_on)
            for row in rows:
                self._remember(row["slug"], _service(row, deps[row["id"]]))
            self._absent.update(set(wanted) - {row["slug"] for row in rows})
        return {s: found for s in slugs if (found := self._cached(s)) is not None}

    def _row(self, entity: Service) -> dict[str, Any]:
        return {
            "slug": entity.slug,
            "name": entity.name,
            "description": entity.description,
            "team_id": entity.team_id,
            "tier": entity.tier,
            "runbook_urls": entity.runbook_urls,
        }

    def _write_children(self, entity: Service, replace: bool = False) -> None:
        table = orm.service_dependencies
        if replace:
            self._conn.execute(delete(table).where(table.c.service_id == entity.id))
        if entity.dependency_ids:
            self._conn.execute(
                insert(table),
                [
                    {"service_id": entity.id, "depends_on_id": dep, "position": i}
                    for i, dep in enumerate(entity.dependency_ids)
                ],
            )


def _service(row: Any, dependency_ids: list[int]) -> Service:
    return Service(
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        team_id=row["team_id"],
        tier=row["tier"],
        dependency_ids=dependency_ids,
        runbook_urls=list(row["runbook_urls"]),
        id=row["id"],
    )


def person_from_row(row: Any) -> Person:
    return Person(
        handle=row["handle"],
        name=row["name"],
        email=row["email"],
        time_zone=row["time_zone"],
        title=row["title"],
        contact_methods=[
            ContactMethod(
                ContactKind(c["kind"]),
                c["address"],
                timedelta(seconds=c.get("after_seconds", 0)),
            )
            for c in row["contact_methods"]
        ],
        id=row["id"],
    )
