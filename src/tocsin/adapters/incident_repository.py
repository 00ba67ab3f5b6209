"""Incidents and their timeline in SQL: load for change, write back with a version check."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Connection,
    Integer,
    Select,
    Table,
    any_,
    bindparam,
    delete,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from tocsin.adapters import orm
from tocsin.adapters.bulk import insert_many
from tocsin.adapters.ids import IdBlock
from tocsin.adapters.incident_rows import entry_row, incident_from_row, incident_row
from tocsin.domain.actors import Actor
from tocsin.domain.errors import ConcurrencyConflict, NotFound
from tocsin.domain.incident_details import ServiceRef
from tocsin.domain.incidents import Incident, reference
from tocsin.domain.roles import Role, RoleAssignment
from tocsin.domain.statuses import OPEN_STATUSES
from tocsin.domain.war_room import JoinReason, Participant

# Built once: building statements anew for every incident loaded or changed cost more than
# running them. The update's SET clause comes from the parameters' keys.
_ID: BindParameter[int] = bindparam("incident_id")
_IDS: BindParameter[list[int]] = bindparam("incident_ids", expanding=True)
_ID_ARRAY: BindParameter[Any] = bindparam("incident_ids", type_=ARRAY(Integer))


def _loading(match: Callable[[Any], Any]) -> tuple[Select[Any], CompoundSelect[Any]]:
    """The incident rows (locked, in id order), and in one more statement their roles (by
    when assigned), services (in order) and participants, told apart by `part`."""
    services, roles, people = orm.incident_services, orm.incident_roles, orm.incident_participants
    nothing = null()
    parts = union_all(
        # First: the result takes its column types (the timestamps') from this branch.
        select(
            literal_column("'r'").label("part"),
            roles.c.incident_id,
            roles.c.person_id.label("number"),
            roles.c.role.label("name"),
            roles.c.person_name.label("label"),
            type_coerce(nothing, Integer).label("position"),
            roles.c.assigned_at.label("at"),
            roles.c.assigned_by.label("by"),
        ).where(match(roles.c.incident_id)),
        select(
            literal_column("'s'"),
            services.c.incident_id,
            orm.services.c.id,
            orm.services.c.slug,
            nothing,
            services.c.position,
            nothing,
            nothing,
        )
        .join(services, services.c.service_id == orm.services.c.id)
        .where(match(services.c.incident_id)),
        select(
            literal_column("'p'"),
            people.c.incident_id,
            people.c.person_id,
            people.c.reason,
            nothing,
            nothing,
            people.c.added_at,
            people.c.added_by,
        ).where(match(people.c.incident_id)),
    ).order_by("part", "position", "at")
    return (
        select(orm.incidents)
        .where(match(orm.incidents.c.id))
        .order_by(orm.incidents.c.id)
        .with_for_update(),
        parts,
    )


# One incident by a plain parameter: an expanding IN list is rendered anew on every execution,
# which made loading one incident half as slow again. PostgreSQL takes many as one array
# parameter: an IN list of a thousand placeholders was text the driver parsed on every pass.
LOAD_ONE = _loading(lambda column: column == _ID)
LOAD_MANY = _loading(lambda column: column.in_(_IDS))
LOAD_MANY_POSTGRES = _loading(lambda column: column == any_(_ID_ARRAY))
OPEN_VALUES = sorted(status.value for status in OPEN_STATUSES)
DELETE_SERVICES = delete(orm.incident_services).where(orm.incident_services.c.incident_id == _ID)
DELETE_ROLES = delete(orm.incident_roles).where(orm.incident_roles.c.incident_id == _ID)
UPDATE_IF_UNCHANGED = update(orm.incidents).where(
    orm.incidents.c.id == bindparam("known_id"),
    orm.incidents.c.version == bindparam("known_version"),
)


class SqlAlchemyIncidentRepository:
    """Tracks every incident it hands out; `flush` writes them back inside the transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._loaded: dict[int, tuple[Incident, int, list[Any], list[Any]]] = {}
        self._new: dict[int, Incident] = {}
        # One at a time unless drawn ahead: incident numbers are shown, so gaps are avoided.
        self._ids = IdBlock(conn, orm.incidents, per_fetch=1)

    def reserve_ids(self, count: int) -> None:
        """Draw the ids of `count` incidents about to be declared, in one round trip. Any left
        unused when the transaction ends are gaps in the numbering, as after a rollback."""
        self._ids.reserve(count)

    def next_id(self) -> int:
        return self._ids.next()

    def add(self, incident: Incident) -> None:
        self._new[incident.id] = incident

    def get(self, incident_id: int, actor: Actor | None = None) -> Incident:
        """The incident, locked for change; with `actor`, NotFound unless they may see it."""
        incident = self._get(incident_id)
        if actor is not None:
            incident.check_visible(actor)
        return incident

    def _get(self, incident_id: int) -> Incident:
        if incident_id in self._new:
            return self._new[incident_id]
        if incident_id not in self._loaded:
            self.load([incident_id])
        if incident_id not in self._loaded:
            raise NotFound(f"no incident {reference(incident_id)}", field="incident")
        return self._loaded[incident_id][0]

    def load(self, incident_ids: list[int]) -> None:
        """Load and lock these incidents in two statements, however many there are; `get`
        then hands them out. Ids of incidents that do not exist are passed over."""
        wanted = sorted({i for i in incident_ids if i not in self._new and i not in self._loaded})
        if not wanted:
            return
        many = len(wanted) > 1
        if not many:
            incidents, parts = LOAD_ONE
        else:
            incidents, parts = LOAD_MANY_POSTGRES if self._postgres else LOAD_MANY
        params = {"incident_ids": wanted} if many else {"incident_id": wanted[0]}
        # Writers to one incident queue here instead of racing to the version check in flush.
        rows = self._conn.execute(incidents, params).mappings().all()
        if not rows:
            return
        services: dict[int, list[ServiceRef]] = {}
        roles: dict[int, list[RoleAssignment]] = {}
        participants: dict[int, dict[int, Participant]] = {}
        for r in self._conn.execute(parts, params):
            if r.part == "r":
                roles.setdefault(r.incident_id, []).append(
                    RoleAssignment(Role(r.name), r.number, r.label, r.at, r.by)
                )
            elif r.part == "s":
                services.setdefault(r.incident_id, []).append(ServiceRef(r.number, r.name))
            else:
                participants.setdefault(r.incident_id, {})[r.number] = Participant(
                    r.number, JoinReason(r.name), r.at, r.by
                )
        for row in rows:
            found = row["id"]
            incident = incident_from_row(
                row, services.get(found, []), roles.get(found, []), participants.get(found, {})
            )
            self._loaded[found] = (
                incident,
                incident.version,
                list(incident.services),
                list(incident.roles),
            )

    def open_on_services(self, slugs: Collection[str]) -> dict[str, int]:
        if not slugs:
            return {}
        i, listed, s = orm.incidents, orm.incident_services, orm.services
        query = (
            select(s.c.slug, func.max(i.c.id))
            .select_from(listed.join(i, i.c.id == listed.c.incident_id))
            .join(s, s.c.id == listed.c.service_id)
            .where(
                s.c.slug.in_(sorted(slugs)),
                i.c.status.in_(OPEN_VALUES),
                i.c.private.is_(False),  # alerts joining would be hidden from responders
            )
            .group_by(s.c.slug)
        )
        return {slug: int(found) for slug, found in self._conn.execute(query)}

    def seen(self) -> Iterator[Incident]:
        yield from self._new.values()
        for incident, *_ in self._loaded.values():
            yield incident

    def flush(self, now: datetime, changed: set[int]) -> None:
        """Insert new incidents and update `changed` ones; refuse if changed meanwhile.

        Every domain method that changes an incident records an event, so the unit of work
        knows which loaded incidents changed from the events it collected. Rows for the same
        table go in one statement for all incidents: a batch of alerts declares many at once.
        """
        rows: dict[Table, list[dict[str, Any]]] = {}
        for incident in self._new.values():
            incident.version = 1
            rows.setdefault(orm.incidents, []).append(
                {"id": incident.id, **incident_row(incident, now)}
            )
            self._collect(rows, incident, services=True, roles=True)
        self._new.clear()
        updated: list[Incident] = []
        updates: list[dict[str, Any]] = []
        for incident, version, services, roles in self._loaded.values():
            if incident.id not in changed:
                self._collect(rows, incident)  # someone paged joined without changing it
                continue
            incident.version = version + 1
            updated.append(incident)
            updates.append(
                {**incident_row(incident, now), "known_id": incident.id, "known_version": version}
            )
            new_services, new_roles = incident.services != services, incident.roles != roles
            if new_services:
                self._conn.execute(DELETE_SERVICES, {"incident_id": incident.id})
            if new_roles:
                self._conn.execute(DELETE_ROLES, {"incident_id": incident.id})
            self._collect(rows, incident, services=new_services, roles=new_roles)
        self._loaded.clear()
        # One statement for every changed incident; if any changed meanwhile, fewer rows match.
        if updates and self._conn.execute(UPDATE_IF_UNCHANGED, updates).rowcount != len(updates):
            names = ", ".join(i.reference for i in updated)
            if len(updated) == 1:
                raise ConcurrencyConflict(f"{names} was changed by someone else; try again")
            raise ConcurrencyConflict(f"one of {names} was changed by someone else; try again")
        for table, values in rows.items():  # incidents first: the others point at them
            insert_many(self._conn, table, values)

    @staticmethod
    def _collect(
        rows: dict[Table, list[dict[str, Any]]],
        incident: Incident,
        *,
        services: bool = False,
        roles: bool = False,
    ) -> None:
        """Add the rows `incident` needs written: its services and roles when asked, and its new
        timeline entries, participants and war-room messages."""
        if services:
            rows.setdefault(orm.incident_services, []).extend(
                {"incident_id": incident.id, "service_id": s.id, "position": i}
                for i, s in enumerate(incident.services)
            )
        if roles:
            rows.setdefault(orm.incident_roles, []).extend(
                {
                    "incident_id": incident.id,
                    "role": a.role.value,
                    "person_id": a.person_id,
                    "person_name": a.person_name,
                    "assigned_at": a.assigned_at,
                    "assigned_by": a.assigned_by,
                }
                for a in incident.roles
            )
        rows.setdefault(orm.timeline_entries, []).extend(entry_row(e) for e in incident.new_entries)
        incident.new_entries.clear()
        rows.setdefault(orm.incident_participants, []).extend(
            {
                "incident_id": incident.id,
                "person_id": p.person_id,
                "reason": p.reason.value,
                "added_at": p.added_at,
                "added_by": p.added_by,
            }
            for p in incident.new_participants
        )
        incident.new_participants.clear()
        rows.setdefault(orm.war_room_messages, []).extend(
            {
                "incident_id": m.incident_id,
                "author": m.author,
                "author_user_id": m.author_user_id,
                "body": m.body,
                "posted_at": m.posted_at,
                "via": m.via,
            }
            for m in incident.new_messages
        )
        incident.new_messages.clear()
