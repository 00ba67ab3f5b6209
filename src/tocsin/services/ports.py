"""Ports: the interfaces services need from the outside world, implemented by adapters and fakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from tocsin.domain.accounts import ApiToken, User, WebSession
from tocsin.domain.catalog import Person, Service, Team
from tocsin.domain.events import Event
from tocsin.domain.incidents import Incident
from tocsin.domain.timeline import TimelineEntry


class Clock(Protocol):
    """The only source of 'now'; always timezone-aware UTC."""

    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class IncidentRepository(Protocol):
    def next_id(self) -> int: ...

    def add(self, incident: Incident) -> None: ...

    def get(self, incident_id: int) -> Incident:
        """Load for change; raises NotFound naming the reference."""
        ...

    def seen(self) -> Iterator[Incident]: ...


class TimelineRepository(Protocol):
    def get(self, incident_id: int, seq: int) -> TimelineEntry: ...


class PersonRepository(Protocol):
    def add(self, person: Person) -> None: ...

    def find(self, handle: str) -> Person | None: ...

    def get_many(self, ids: list[int]) -> dict[int, Person]: ...


class TeamRepository(Protocol):
    def add(self, team: Team) -> None: ...

    def find(self, slug: str) -> Team | None: ...


class ServiceRepository(Protocol):
    def add(self, service: Service) -> None: ...

    def find(self, slug: str) -> Service | None: ...


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def find(self, username: str) -> User | None: ...

    def count(self) -> int: ...


class ApiTokenRepository(Protocol):
    def add(self, token: ApiToken) -> None: ...

    def get(self, token_id: int) -> ApiToken: ...


class WebSessionRepository(Protocol):
    def add(self, session: WebSession) -> None: ...

    def delete(self, token_hash: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Repositories track what they loaded; commit writes it all or nothing."""

    incidents: IncidentRepository
    timeline: TimelineRepository
    people: PersonRepository
    teams: TeamRepository
    services: ServiceRepository
    users: UserRepository
    tokens: ApiTokenRepository
    sessions: WebSessionRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *args: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def collect_new_events(self) -> Iterator[Event]: ...

    def announce(self, incident_id: int) -> None:
        """Tell live viewers, once this transaction commits, that the incident changed."""
        ...
