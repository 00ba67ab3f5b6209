"""Ports: the interfaces services need from the outside world, implemented by adapters and fakes."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from tocsin.domain.accounts import ApiToken, User, WebSession
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import Alert, InboxItem
from tocsin.domain.catalog import Person, Service, Team
from tocsin.domain.changes import ChangeEvent
from tocsin.domain.events import Event
from tocsin.domain.incidents import Incident
from tocsin.domain.integrations import Heartbeat, Integration
from tocsin.domain.paging import AckLink, Delivery, Escalation
from tocsin.domain.schedules import Schedule
from tocsin.domain.silences import Silence
from tocsin.domain.timeline import TimelineEntry
from tocsin.services.war_room_ports import (
    ActionRepository,
    CommunicationRepository,
    RunbookRepository,
    WorkflowRepository,
)


class Clock(Protocol):
    """The only source of 'now'; always timezone-aware UTC."""

    def now(self) -> datetime: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...


class IncidentRepository(Protocol):
    def reserve_ids(self, count: int) -> None:
        """Draw ahead the ids `next_id` hands out to that many incidents."""
        ...

    def next_id(self) -> int: ...

    def add(self, incident: Incident) -> None: ...

    def get(self, incident_id: int, actor: Actor | None = None) -> Incident:
        """Load for change; NotFound naming the reference, also when `actor` may not see it."""
        ...

    def load(self, incident_ids: list[int]) -> None:
        """Load several for change at once (`get` hands them out); unknown ids are passed over."""
        ...

    def open_on_services(self, slugs: Collection[str]) -> dict[str, int]:
        """The id of the newest open, not private, incident listing each of these services."""
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

    def find_many(self, slugs: Collection[str]) -> dict[str, Service]:
        """Those of `slugs` in the catalog, looked up together; `find` then has them."""
        ...


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def find(self, username: str) -> User | None: ...

    def save(self, user: User) -> None: ...

    def count(self) -> int: ...


class ApiTokenRepository(Protocol):
    def add(self, token: ApiToken) -> None: ...

    def get(self, token_id: int) -> ApiToken: ...


class WebSessionRepository(Protocol):
    def add(self, session: WebSession) -> None: ...

    def delete(self, token_hash: str) -> None: ...

    def delete_expired(self, now: datetime) -> int: ...


class IntegrationRepository(Protocol):
    def add(self, integration: Integration) -> None: ...

    def find(self, name: str) -> Integration | None: ...

    def get(self, integration_id: int) -> Integration: ...

    def save(self, integration: Integration) -> None: ...


class AlertRepository(Protocol):
    def newest(self, integration_id: int, dedup_keys: Collection[str]) -> dict[str, Alert]:
        """The newest alert of each key that has one (the open one, if open), held against
        concurrent change until commit."""
        ...

    def add(self, alert: Alert) -> None:
        """Raises ConcurrencyConflict when another delivery opened the same alert meanwhile."""
        ...

    def save(self, alert: Alert) -> None: ...

    def open_counts(self, incident_ids: Collection[int]) -> dict[int, int]:
        """Unresolved alerts of each incident that has any."""
        ...

    def silence_over(self, now: datetime, limit: int) -> list[Alert]:
        """Firing alerts that would declare but were muted by a silence now over, oldest
        first; held against concurrent change until commit (others' held ones passed over)."""
        ...


class AlertGroupRepository(Protocol):
    def lock(self, key: str, now: datetime) -> int | None:
        """The incident this group's alerts join, if any; the group is held until commit."""
        ...

    def lock_many(self, keys: list[str], now: datetime) -> dict[str, int | None]:
        """`lock` for many groups at once, in the order given."""
        ...

    def point(self, key: str, incident_id: int, now: datetime) -> None: ...

    def declared_among(self, incident_ids: Collection[int]) -> set[int]:
        """Those of the incidents that alerts declared (they belong to a group)."""
        ...


class SilenceRepository(Protocol):
    def add(self, silence: Silence) -> None: ...

    def get(self, silence_id: int) -> Silence: ...

    def active(self, now: datetime) -> list[Silence]: ...

    def save(self, silence: Silence) -> None: ...


class HeartbeatRepository(Protocol):
    def add(self, heartbeat: Heartbeat) -> None: ...

    def get(self, integration_id: int) -> Heartbeat:
        """Held against concurrent pings and checks until commit."""
        ...

    def missed(self, now: datetime) -> list[Heartbeat]:
        """Heartbeats past due and not yet alerting, held until commit."""
        ...

    def save(self, heartbeat: Heartbeat) -> None: ...


class AlertInbox(Protocol):
    def claim(self) -> bool:
        """Whether this transaction may apply the inbox (one applier at a time, cluster-wide)."""
        ...

    def pending(self, limit: int, now: datetime) -> list[InboxItem]:
        """The oldest deliveries not yet applied nor set aside (unreadable ones are set aside)."""
        ...

    def remove(self, ids: list[int]) -> None: ...

    def set_aside(self, item_id: int, error: str, now: datetime) -> None: ...

    def retry(self, item_id: int) -> bool:
        """Put a set-aside delivery back in line; False when there is no such set-aside item."""
        ...


class ChangeEventRepository(Protocol):
    def add(self, change: ChangeEvent) -> None: ...


class ScheduleRepository(Protocol):
    def find(self, slug: str) -> Schedule | None: ...

    def document(self, slug: str) -> dict[str, Any] | None:
        """The schedule as it was imported, to tell an unchanged import from an edit."""
        ...

    def save(self, slug: str, name: str, document: dict[str, Any]) -> None: ...


class EscalationRepository(Protocol):
    def add(self, escalation: Escalation) -> None: ...

    def for_incident(self, incident_id: int) -> Escalation | None:
        """The incident's escalation, held until commit."""
        ...

    def claim_due(self, now: datetime, limit: int) -> list[Escalation]:
        """Due escalations no other transaction is working on, held until commit."""
        ...

    def save(self, escalation: Escalation) -> None: ...


class DeliveryRepository(Protocol):
    def queue(self, delivery: Delivery) -> None:
        """Queue a delivery, unless one with its idempotency key already exists; written with
        the next use of the repository or at commit, so it gets no id here."""
        ...

    def add(self, delivery: Delivery) -> bool:
        """Queue a delivery now; False when one with its idempotency key already exists."""
        ...

    def due_times(self, person_id: int, method: str, since: datetime) -> list[datetime]:
        """When pages of `method` to the person are (or were) due, after `since`."""
        ...

    def announced(self, incident_id: int) -> list[str]:
        """The destinations told (or being told) about the incident: a trigger cancelled
        before any worker took it never went out, so it does not count."""
        ...

    def cancel_unsent(self, incident_id: int, people_only: bool) -> int:
        """Cancel deliveries queued or being sent (stakeholder updates go out still); how many."""
        ...

    def cancel_to_channels(self, incident_id: int) -> int:
        """Cancel unsent deliveries to channels (not to people); how many were cancelled."""
        ...

    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        """Take due deliveries (and ones whose worker's lease ran out), raising their fence."""
        ...

    def get_many(self, delivery_ids: list[int]) -> dict[int, Delivery]:
        """By id; ids of no delivery are left out."""
        ...

    def record(self, delivery: Delivery) -> None:
        """Store an outcome (with the next use of the repository, or at commit); one whose
        claim went stale (its fence moved on) changes nothing."""
        ...


class AckLinkRepository(Protocol):
    def add_all(self, links: list[AckLink]) -> None:
        """Store them all at once: every page of a claimed batch has its own."""
        ...

    def get(self, token_hash: str) -> AckLink | None:
        """The link, held until commit so it cannot be used twice at once."""
        ...

    def save(self, link: AckLink) -> None: ...


class Directory(Protocol):
    """Read-only lookups the paging engine uses to turn target names into people."""

    def team(self, team_id: int) -> Team | None: ...

    def people_titled(self, title: str) -> list[Person]: ...


class UnitOfWork(Protocol):
    """One transaction. Repositories track what they loaded; commit writes it all or nothing."""

    @property
    def incidents(self) -> IncidentRepository: ...
    @property
    def timeline(self) -> TimelineRepository: ...
    @property
    def people(self) -> PersonRepository: ...
    @property
    def teams(self) -> TeamRepository: ...
    @property
    def services(self) -> ServiceRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def tokens(self) -> ApiTokenRepository: ...
    @property
    def sessions(self) -> WebSessionRepository: ...
    @property
    def integrations(self) -> IntegrationRepository: ...
    @property
    def alerts(self) -> AlertRepository: ...
    @property
    def alert_groups(self) -> AlertGroupRepository: ...
    @property
    def silences(self) -> SilenceRepository: ...
    @property
    def changes(self) -> ChangeEventRepository: ...
    @property
    def inbox(self) -> AlertInbox: ...
    @property
    def heartbeats(self) -> HeartbeatRepository: ...
    @property
    def schedules(self) -> ScheduleRepository: ...
    @property
    def escalations(self) -> EscalationRepository: ...
    @property
    def deliveries(self) -> DeliveryRepository: ...
    @property
    def directory(self) -> Directory: ...
    @property
    def ack_links(self) -> AckLinkRepository: ...
    @property
    def workflows(self) -> WorkflowRepository: ...
    @property
    def communications(self) -> CommunicationRepository: ...
    @property
    def runbooks(self) -> RunbookRepository: ...
    @property
    def actions(self) -> ActionRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *args: object) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def collect_new_events(self) -> Iterator[Event]: ...

    def wake_paging(self) -> None:
        """After commit, wake the paging worker: escalation or delivery work was queued."""
        ...

    def announce(self, incident_id: int) -> None:
        """Tell live viewers, once this transaction commits, that the incident changed."""
        ...
