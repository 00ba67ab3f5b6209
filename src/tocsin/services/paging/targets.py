"""Turn escalation target names into people, at the moment a step fires.

`on-call engineer` is whoever the affected services' teams' schedules say (or, for a team with
no schedule, its members with that team role); `assigned engineer` is the incident's Technical
Lead (or, if none, its Incident Commander); `person:HANDLE`, `team:SLUG` and `schedule:SLUG` name
people directly; any other name is first a team role in the affected services' teams (`team
lead`, `engineering manager`) and otherwise an organisation title (`CTO`, `VP engineering`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tocsin.domain.catalog import ON_CALL_ROLE, Person, Team, normalize_title
from tocsin.domain.incidents import Incident
from tocsin.domain.roles import Role
from tocsin.policy.model import Target
from tocsin.services.ports import UnitOfWork

ASSIGNED = "assigned engineer"


@dataclass
class Resolved:
    """The people a step pages, each with the target that named them, and why targets were empty."""

    people: list[tuple[Person, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, person: Person, why: str) -> None:
        if all(p.id != person.id for p, _ in self.people):
            self.people.append((person, why))


def resolve(targets: list[Target], incident: Incident, uow: UnitOfWork, now: datetime) -> Resolved:
    resolved = Resolved()
    teams = _teams(incident, uow)
    for target in targets:
        if target.condition == "customer impact" and not incident.customer_facing:
            resolved.notes.append(f"{target}: skipped, the incident is not customer-facing")
            continue
        found = _people(target.name, incident, teams, uow, now)
        if not found:
            resolved.notes.append(f"{target}: nobody found")
        for person in found:
            resolved.add(person, target.name)
    return resolved


def _teams(incident: Incident, uow: UnitOfWork) -> list[Team]:
    teams: list[Team] = []
    for ref in incident.services:
        service = uow.services.find(ref.slug)
        if service is None or service.team_id is None:
            continue
        team = uow.directory.team(service.team_id)
        if team is not None and all(t.id != team.id for t in teams):
            teams.append(team)
    return teams


def _people(
    name: str, incident: Incident, teams: list[Team], uow: UnitOfWork, now: datetime
) -> list[Person]:
    kind, _, value = name.partition(":")
    if value and kind == "person":
        person = uow.people.find(value.strip().lower())
        return [person] if person else []
    if value and kind == "schedule":
        return _scheduled(value.strip().lower(), uow, now)
    if value and kind == "team":
        team = uow.teams.find(value.strip().lower())
        return _by_id(uow, [m.person_id for m in team.members]) if team else []
    title = normalize_title(name)
    if title == ON_CALL_ROLE:
        return [p for team in teams for p in _on_call(team, uow, now)]
    if title == ASSIGNED:
        holders = incident.holders(Role.TECHNICAL_LEAD) or incident.holders(Role.INCIDENT_COMMANDER)
        return _by_id(uow, [h.person_id for h in holders])
    members = [m.person_id for team in teams for m in team.members if m.role == title]
    if members:
        return _by_id(uow, members)
    return uow.directory.people_titled(title)


def _on_call(team: Team, uow: UnitOfWork, now: datetime) -> list[Person]:
    if team.schedule:
        return _scheduled(team.schedule, uow, now)
    return _by_id(uow, team.on_call_members())


def _scheduled(slug: str, uow: UnitOfWork, now: datetime) -> list[Person]:
    schedule = uow.schedules.find(slug)
    if schedule is None:
        return []
    people = [uow.people.find(handle) for handle in schedule.on_call(now)]
    return [p for p in people if p is not None]


def _by_id(uow: UnitOfWork, ids: list[int]) -> list[Person]:
    found = uow.people.get_many(ids)
    return [found[i] for i in dict.fromkeys(ids) if i in found]
