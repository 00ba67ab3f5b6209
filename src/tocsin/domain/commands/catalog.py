"""Commands that keep the catalog: people, teams, services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tocsin.domain.commands.base import Command


@dataclass(frozen=True)
class PersonSpec:
    handle: str
    name: str
    email: str
    time_zone: str = "UTC"
    title: str = ""
    # (kind, address) or (kind, address, delay such as "2m")
    contact_methods: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class TeamSpec:
    slug: str
    name: str
    description: str = ""
    members: tuple[tuple[str, str], ...] = ()  # (person handle, team role)
    schedule: str | None = None


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    name: str
    description: str = ""
    team: str | None = None
    tier: int = 2
    depends_on: tuple[str, ...] = ()
    runbooks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavePerson(Command):
    """Create a person, or replace an existing one's fields when `create_only` is false."""

    spec: PersonSpec
    create_only: bool = True


@dataclass(frozen=True)
class SaveTeam(Command):
    spec: TeamSpec
    create_only: bool = True


@dataclass(frozen=True)
class SaveService(Command):
    spec: ServiceSpec
    create_only: bool = True


@dataclass(frozen=True)
class ImportCatalog(Command):
    """Upsert a whole catalog in one transaction; importing the same file twice changes nothing."""

    people: tuple[PersonSpec, ...] = ()
    teams: tuple[TeamSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    schedules: tuple[dict[str, Any], ...] = ()  # on-call schedule documents (domain.schedules)
