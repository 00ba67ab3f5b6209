"""Fakes at the I/O seams: a clock moved by hand, a cheap password hasher, an in-memory UoW."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.domain.accounts import ApiToken, User, WebSession
from tocsin.domain.catalog import Person, Service, Team
from tocsin.domain.errors import NotFound
from tocsin.domain.events import Event
from tocsin.domain.incidents import Incident, reference
from tocsin.domain.timeline import TimelineEntry

START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe/Berlin springs forward


class FakeClock:
    """Time stands still until a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class FakePasswordHasher:
    """Reversible and instant; argon2 is exercised by its own integration test."""

    def hash(self, password: str) -> str:
        return "fake$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "fake$" + password


class _Store:
    """What a fake database holds; shared by every FakeUnitOfWork made from it."""

    def __init__(self) -> None:
        self.incidents: dict[int, Incident] = {}
        self.entries: dict[tuple[int, int], TimelineEntry] = {}
        self.people: dict[str, Person] = {}
        self.teams: dict[str, Team] = {}
        self.services: dict[str, Service] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[int, ApiToken] = {}
        self.sessions: dict[str, WebSession] = {}
        self.next_id = 0
        self.next_entity_id = 0


class _Repo:
    """Entities keyed by handle, slug or username; copies on load, written back on commit."""

    def __init__(self, store: _Store, items: dict[str, Any]) -> None:
        self.store, self.items = store, items
        self.loaded: dict[str, Any] = {}

    @staticmethod
    def _key(entity: Any) -> str:
        return str(
            getattr(entity, "handle", None) or getattr(entity, "slug", None) or entity.username
        )

    def add(self, entity: Any) -> None:
        self.store.next_entity_id += 1
        entity.id = self.store.next_entity_id
        self.loaded[self._key(entity)] = entity

    def find(self, key: str) -> Any:
        if key not in self.loaded and key in self.items:
            self.loaded[key] = copy.deepcopy(self.items[key])
        return self.loaded.get(key)

    def get_many(self, ids: list[int]) -> dict[int, Any]:
        return {e.id: e for e in self.items.values() if e.id in ids}

    def count(self) -> int:
        return len(self.items)

    def commit(self) -> None:
        self.items.update(self.loaded)


class _Incidents:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.loaded: dict[int, Incident] = {}

    def next_id(self) -> int:
        self.uow.store.next_id += 1
        return self.uow.store.next_id

    def add(self, incident: Incident) -> None:
        self.loaded[incident.id] = incident

    def get(self, incident_id: int) -> Incident:
        if incident_id not in self.loaded:
            if incident_id not in self.uow.store.incidents:
                raise NotFound(f"no incident {reference(incident_id)}", field="incident")
            self.loaded[incident_id] = copy.deepcopy(self.uow.store.incidents[incident_id])
        return self.loaded[incident_id]

    def seen(self) -> Iterator[Incident]:
        yield from self.loaded.values()


class _Timeline:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def get(self, incident_id: int, seq: int) -> TimelineEntry:
        entry = self.uow.store.entries.get((incident_id, seq))
        if entry is None:
            raise NotFound(f"no entry #{seq}", field="seq")
        return entry


class _Tokens:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, token: ApiToken) -> None:
        token.id = len(self.store.tokens) + 1
        self.store.tokens[token.id] = token

    def get(self, token_id: int) -> ApiToken:
        if token_id not in self.store.tokens:
            raise NotFound(f"no API token with id {token_id}", field="token_id")
        return self.store.tokens[token_id]


class _Sessions:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, session: WebSession) -> None:
        self.store.sessions[session.token_hash] = session

    def delete(self, token_hash: str) -> None:
        self.store.sessions.pop(token_hash, None)

    def delete_expired(self, now: datetime) -> int:
        expired = [k for k, s in self.store.sessions.items() if s.expires_at <= now]
        for key in expired:
            del self.store.sessions[key]
        return len(expired)


class FakeUnitOfWork:
    """Incidents are copied on load and written back on commit, as the SQL one does.

    Tokens and sessions are written at once: handler tests only look at them after success.
    """

    def __init__(self, store: _Store | None = None) -> None:
        self.store = store or _Store()
        self.committed = 0
        self.announced: list[int] = []

    def __enter__(self) -> FakeUnitOfWork:
        self.incidents = _Incidents(self)
        self.timeline = _Timeline(self)
        self.people = _Repo(self.store, self.store.people)
        self.teams = _Repo(self.store, self.store.teams)
        self.services = _Repo(self.store, self.store.services)
        self.users = _Repo(self.store, self.store.users)
        self.tokens = _Tokens(self.store)
        self.sessions = _Sessions(self.store)
        self._pending: list[int] = []
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def collect_new_events(self) -> Iterator[Event]:
        for incident in list(self.incidents.seen()):
            while incident.events:
                yield incident.events.pop(0)

    def announce(self, incident_id: int) -> None:
        self._pending.append(incident_id)

    def commit(self) -> None:
        for incident in self.incidents.seen():
            for entry in incident.new_entries:
                self.store.entries[(entry.incident_id, entry.seq)] = entry
            incident.new_entries.clear()
            self.store.incidents[incident.id] = copy.deepcopy(incident)
        for repo in (self.people, self.teams, self.services, self.users):
            repo.commit()
        self.committed += 1
        self.announced.extend(self._pending)

    def rollback(self) -> None:
        return None
