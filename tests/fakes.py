"""Fakes at the I/O seams: a clock moved by hand, a cheap password hasher, an in-memory UoW."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.domain.accounts import ApiToken, User, WebSession
from tocsin.domain.action_runs import ActionRun
from tocsin.domain.actions import Action, HttpCall, HttpOutcome
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import Alert, AlertStatus, InboxItem
from tocsin.domain.catalog import Person, Service, Team
from tocsin.domain.changes import ChangeEvent
from tocsin.domain.communications import ScheduledUpdate, StakeholderUpdate, UpdatePromise
from tocsin.domain.errors import NotFound
from tocsin.domain.events import Event
from tocsin.domain.incidents import Incident, reference
from tocsin.domain.integrations import Heartbeat, Integration
from tocsin.domain.paging import AckLink, Delivery, DeliveryStatus, Escalation, SendFailed
from tocsin.domain.runbooks import AttachedRunbook, Runbook
from tocsin.domain.schedule_documents import parse_schedule
from tocsin.domain.schedules import Schedule
from tocsin.domain.silences import Silence
from tocsin.domain.timeline import TimelineEntry
from tocsin.domain.war_room import Message
from tocsin.domain.workflows import IncidentWorkflow

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
        self.integrations: dict[int, Integration] = {}
        self.alerts: dict[int, Alert] = {}
        self.alert_groups: dict[str, int | None] = {}
        self.silences: dict[int, Silence] = {}
        self.changes: list[ChangeEvent] = []
        self.inbox: dict[int, InboxItem] = {}
        self.set_aside: dict[int, str] = {}
        self.heartbeats: dict[int, Heartbeat] = {}
        self.schedules: dict[str, dict[str, Any]] = {}
        self.escalations: dict[int, Escalation] = {}
        self.deliveries: dict[int, Delivery] = {}
        self.ack_links: dict[str, AckLink] = {}
        self.messages: list[Message] = []
        self.stakeholder_updates: dict[int, StakeholderUpdate] = {}
        self.update_promises: dict[int, UpdatePromise] = {}
        self.scheduled_updates: dict[int, ScheduledUpdate] = {}
        self.next_id = 0
        self.next_entity_id = 0
        self.workflows: dict[int, IncidentWorkflow] = {}
        self.runbook_data = _RunbookData()  # runbooks, actions and their runs


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

    def find_many(self, keys: Collection[str]) -> dict[str, Any]:
        return {key: found for key in keys if (found := self.find(key)) is not None}

    def save(self, entity: Any) -> None:
        self.loaded[self._key(entity)] = entity

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

    def reserve_ids(self, count: int) -> None:
        return None  # numbering in memory costs nothing

    def next_id(self) -> int:
        self.uow.store.next_id += 1
        return self.uow.store.next_id

    def add(self, incident: Incident) -> None:
        self.loaded[incident.id] = incident

    def get(self, incident_id: int, actor: Actor | None = None) -> Incident:
        incident = self._get(incident_id)
        if actor is not None:
            incident.check_visible(actor)
        return incident

    def _get(self, incident_id: int) -> Incident:
        if incident_id not in self.loaded:
            if incident_id not in self.uow.store.incidents:
                raise NotFound(f"no incident {reference(incident_id)}", field="incident")
            self.loaded[incident_id] = copy.deepcopy(self.uow.store.incidents[incident_id])
        return self.loaded[incident_id]

    def load(self, incident_ids: list[int]) -> None:
        for incident_id in incident_ids:
            if incident_id in self.uow.store.incidents:
                self._get(incident_id)

    def open_on_services(self, slugs: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for incident_id, incident in sorted(self.uow.store.incidents.items()):
            if incident.status.is_open and not incident.private:
                found.update({s.slug: incident_id for s in incident.services if s.slug in slugs})
        return found

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


class _Integrations:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, integration: Integration) -> None:
        integration.id = len(self.store.integrations) + 1
        self.store.integrations[integration.id] = integration

    def find(self, name: str) -> Integration | None:
        return next((i for i in self.store.integrations.values() if i.name == name), None)

    def get(self, integration_id: int) -> Integration:
        if integration_id not in self.store.integrations:
            raise NotFound(f"no integration {integration_id}", field="integration")
        return self.store.integrations[integration_id]

    def save(self, integration: Integration) -> None:
        self.store.integrations[integration.id or 0] = integration


class _Alerts:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def newest(self, integration_id: int, dedup_keys: Collection[str]) -> dict[str, Alert]:
        found: dict[str, Alert] = {}
        for alert in sorted(self.store.alerts.values(), key=lambda a: a.id or 0):
            if alert.integration_id == integration_id and alert.dedup_key in dedup_keys:
                found[alert.dedup_key] = alert
        return found

    def add(self, alert: Alert) -> None:
        alert.id = len(self.store.alerts) + 1
        self.store.alerts[alert.id] = alert

    def save(self, alert: Alert) -> None:
        self.store.alerts[alert.id or 0] = alert

    def silence_over(self, now: datetime, limit: int) -> list[Alert]:
        over = {
            i
            for i, s in self.store.silences.items()
            if s.ends_at <= now or (s.expired_at is not None and s.expired_at <= now)
        }
        found = [
            a
            for _, a in sorted(self.store.alerts.items())
            if a.silenced_by in over
            and a.status is AlertStatus.FIRING
            and a.incident_id is None
            and a.declares
        ]
        return found[:limit]

    def open_counts(self, incident_ids: Collection[int]) -> dict[int, int]:
        counts = Counter(
            a.incident_id
            for a in self.store.alerts.values()
            if a.incident_id in incident_ids and a.is_open
        )
        return {i: n for i, n in counts.items() if i is not None}


class _AlertGroups:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def lock(self, key: str, now: datetime) -> int | None:
        return self.store.alert_groups.setdefault(key, None)

    def lock_many(self, keys: list[str], now: datetime) -> dict[str, int | None]:
        return {key: self.lock(key, now) for key in keys}

    def point(self, key: str, incident_id: int, now: datetime) -> None:
        self.store.alert_groups[key] = incident_id

    def declared_among(self, incident_ids: Collection[int]) -> set[int]:
        return set(incident_ids) & {i for i in self.store.alert_groups.values() if i is not None}


class _Silences:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, silence: Silence) -> None:
        silence.id = len(self.store.silences) + 1
        self.store.silences[silence.id] = silence

    def get(self, silence_id: int) -> Silence:
        if silence_id not in self.store.silences:
            raise NotFound(f"no silence {silence_id}", field="silence")
        return self.store.silences[silence_id]

    def active(self, now: datetime) -> list[Silence]:
        return [s for s in self.store.silences.values() if s.is_active(now)]

    def save(self, silence: Silence) -> None:
        self.store.silences[silence.id or 0] = silence


class _Changes:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, change: ChangeEvent) -> None:
        change.id = len(self.store.changes) + 1
        self.store.changes.append(change)


class _Heartbeats:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, heartbeat: Heartbeat) -> None:
        self.store.heartbeats[heartbeat.integration_id] = heartbeat

    def get(self, integration_id: int) -> Heartbeat:
        if integration_id not in self.store.heartbeats:
            raise NotFound(f"integration {integration_id} has no heartbeat", field="key")
        return self.store.heartbeats[integration_id]

    def missed(self, now: datetime) -> list[Heartbeat]:
        return [h for h in self.store.heartbeats.values() if h.is_missed(now)]

    def save(self, heartbeat: Heartbeat) -> None:
        self.store.heartbeats[heartbeat.integration_id] = heartbeat


class _Inbox:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def claim(self) -> bool:
        return True

    def pending(self, limit: int, now: datetime) -> list[InboxItem]:
        waiting = [i for k, i in sorted(self.store.inbox.items()) if k not in self.store.set_aside]
        return waiting[:limit]

    def remove(self, ids: list[int]) -> None:
        for item_id in ids:
            self.store.inbox.pop(item_id, None)

    def set_aside(self, item_id: int, error: str, now: datetime) -> None:
        self.store.set_aside[item_id] = error

    def retry(self, item_id: int) -> bool:
        return self.store.set_aside.pop(item_id, None) is not None


class _Schedules:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def find(self, slug: str) -> Schedule | None:
        document = self.store.schedules.get(slug)
        return None if document is None else parse_schedule(document)

    def document(self, slug: str) -> dict[str, Any] | None:
        return self.store.schedules.get(slug)

    def save(self, slug: str, name: str, document: dict[str, Any]) -> None:
        self.store.schedules[slug] = document


class _Escalations:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, escalation: Escalation) -> None:
        escalation.id = len(self.store.escalations) + 1
        self.store.escalations[escalation.incident_id] = escalation

    def for_incident(self, incident_id: int) -> Escalation | None:
        return self.store.escalations.get(incident_id)

    def claim_due(self, now: datetime, limit: int) -> list[Escalation]:
        return [e for e in self.store.escalations.values() if e.is_due(now)][:limit]

    def save(self, escalation: Escalation) -> None:
        self.store.escalations[escalation.incident_id] = escalation


class _Deliveries:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def queue(self, delivery: Delivery) -> None:
        self.add(delivery)

    def add(self, delivery: Delivery) -> bool:
        keys = {d.idempotency_key for d in self.store.deliveries.values()}
        if delivery.idempotency_key in keys:
            return False
        delivery.id = len(self.store.deliveries) + 1
        self.store.deliveries[delivery.id] = delivery
        return True

    def due_times(self, person_id: int, method: str, since: datetime) -> list[datetime]:
        return [
            d.due_at
            for d in self.store.deliveries.values()
            if d.person_id == person_id
            and d.method == method
            and d.due_at > since
            and d.status is not DeliveryStatus.CANCELLED
        ]

    def announced(self, incident_id: int) -> list[str]:
        return sorted(
            {
                d.channel
                for d in self.store.deliveries.values()
                if d.incident_id == incident_id
                and d.method == "destination"
                and d.event == "trigger"
                and (d.status is not DeliveryStatus.CANCELLED or d.attempts > 0)
            }
        )

    def cancel_unsent(self, incident_id: int, people_only: bool) -> int:
        return self._cancel(
            lambda d: (
                d.incident_id == incident_id
                and (not people_only or d.person_id is not None)
                and d.event != "update"
            )  # a stakeholder update still goes out
        )

    def cancel_to_channels(self, incident_id: int) -> int:
        return self._cancel(lambda d: d.incident_id == incident_id and d.person_id is None)

    def _cancel(self, mine: Callable[[Delivery], bool]) -> int:
        unsent = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
        cancelled = 0
        for d in self.store.deliveries.values():
            if mine(d) and d.status in unsent:
                d.status = DeliveryStatus.CANCELLED
                cancelled += 1
        return cancelled

    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[Delivery]:
        due = [
            d
            for d in self.store.deliveries.values()
            if (d.status is DeliveryStatus.PENDING and d.due_at <= now)
            or (d.status is DeliveryStatus.SENDING and d.lease_until and d.lease_until <= now)
        ][:limit]
        for d in due:
            d.status, d.fence, d.attempts = DeliveryStatus.SENDING, d.fence + 1, d.attempts + 1
            d.lease_until = now + lease
        return [copy.copy(d) for d in due]

    def get_many(self, delivery_ids: list[int]) -> dict[int, Delivery]:
        found = self.store.deliveries
        return {i: copy.copy(found[i]) for i in delivery_ids if i in found}

    def record(self, delivery: Delivery) -> None:
        stored = self.store.deliveries[delivery.id or 0]
        if stored.fence == delivery.fence and stored.status is DeliveryStatus.SENDING:
            self.store.deliveries[delivery.id or 0] = delivery


class _AckLinks:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add_all(self, links: list[AckLink]) -> None:
        for link in links:
            self.store.ack_links[link.token_hash] = link

    def get(self, token_hash: str) -> AckLink | None:
        return self.store.ack_links.get(token_hash)

    def save(self, link: AckLink) -> None:
        self.store.ack_links[link.token_hash] = link


class _Directory:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def team(self, team_id: int) -> Team | None:
        return next((t for t in self.store.teams.values() if t.id == team_id), None)

    def people_titled(self, title: str) -> list[Person]:
        return [p for p in self.store.people.values() if p.title.lower() == title.lower()]


class _Workflows:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add(self, workflow: IncidentWorkflow) -> None:
        self.store.workflows[workflow.incident_id] = copy.deepcopy(workflow)

    def find(self, incident_id: int) -> IncidentWorkflow | None:
        found = self.store.workflows.get(incident_id)
        return copy.deepcopy(found) if found else None

    def get(self, incident_id: int) -> IncidentWorkflow:
        found = self.find(incident_id)
        if found is None:
            raise NotFound(f"{reference(incident_id)} has no workflow", field="incident")
        return found

    def save(self, workflow: IncidentWorkflow) -> None:
        self.store.workflows[workflow.incident_id] = copy.deepcopy(workflow)


class _Communications:
    def __init__(self, store: _Store) -> None:
        self.store = store

    def add_update(self, update: StakeholderUpdate) -> None:
        update.id = len(self.store.stakeholder_updates) + 1
        self.store.stakeholder_updates[update.id] = update

    def load_promises(self, incident_ids: list[int]) -> None:
        return None  # nothing to gain in memory

    def open_promise(self, incident_id: int) -> UpdatePromise | None:
        found = [
            p for p in self.store.update_promises.values()
            if p.incident_id == incident_id and p.is_open
        ]  # fmt: skip
        return copy.copy(found[-1]) if found else None

    def add_promise(self, promise: UpdatePromise) -> None:
        promise.id = len(self.store.update_promises) + 1
        self.store.update_promises[promise.id] = copy.copy(promise)

    def save_promise(self, promise: UpdatePromise) -> None:
        self.store.update_promises[promise.id or 0] = copy.copy(promise)

    def due(self, now: datetime, limit: int, skip: tuple[int, ...] = ()) -> list[int]:
        due = sorted(
            [
                (p.next_check_at, p.incident_id)
                for p in self.store.update_promises.values()
                if p.next_check_at is not None and p.next_check_at <= now
            ]
            + [
                (s.due_at, s.incident_id)
                for s in self.store.scheduled_updates.values()
                if s.done_at is None and s.due_at <= now
            ]
        )
        return [i for i in dict.fromkeys(i for _, i in due) if i not in skip][:limit]

    def schedule(self, scheduled: ScheduledUpdate) -> None:
        scheduled.id = len(self.store.scheduled_updates) + 1
        self.store.scheduled_updates[scheduled.id] = copy.copy(scheduled)

    def scheduled_due(self, incident_ids: list[int], now: datetime) -> list[ScheduledUpdate]:
        return [
            copy.copy(s)
            for s in self.store.scheduled_updates.values()
            if s.incident_id in incident_ids and s.done_at is None and s.due_at <= now
        ]

    def done(self, scheduled: ScheduledUpdate) -> None:
        self.store.scheduled_updates[scheduled.id or 0] = copy.copy(scheduled)


WRITTEN_AT_ONCE: tuple[str, ...] = (
    "integrations", "alerts", "alert_groups", "silences", "changes", "inbox", "set_aside",
    "heartbeats", "schedules", "escalations", "deliveries", "ack_links",
    "stakeholder_updates", "update_promises", "scheduled_updates",
)  # fmt: skip
WRITTEN_AT_ONCE += ("workflows",)


class FakeUnitOfWork:
    """Incidents are copied on load and written back on commit, as the SQL one does.

    Tokens, sessions, integrations, alerts and silences are written at once: handler tests
    only look at them after success.
    """

    def __init__(self, store: _Store | None = None) -> None:
        self.store = store or _Store()
        self.committed = 0
        self.announced: list[int] = []

    def __enter__(self) -> FakeUnitOfWork:
        self._snapshot = {
            name: copy.deepcopy(getattr(self.store, name)) for name in WRITTEN_AT_ONCE
        }
        self._committed = False
        self.incidents = _Incidents(self)
        self.timeline = _Timeline(self)
        self.people = _Repo(self.store, self.store.people)
        self.teams = _Repo(self.store, self.store.teams)
        self.services = _Repo(self.store, self.store.services)
        self.users = _Repo(self.store, self.store.users)
        self.tokens = _Tokens(self.store)
        self.sessions = _Sessions(self.store)
        self.integrations = _Integrations(self.store)
        self.alerts = _Alerts(self.store)
        self.alert_groups = _AlertGroups(self.store)
        self.silences = _Silences(self.store)
        self.changes = _Changes(self.store)
        self.inbox = _Inbox(self.store)
        self.heartbeats = _Heartbeats(self.store)
        self.schedules = _Schedules(self.store)
        self.escalations = _Escalations(self.store)
        self.deliveries = _Deliveries(self.store)
        self.directory = _Directory(self.store)
        self.ack_links = _AckLinks(self.store)
        self.workflows = _Workflows(self.store)
        self.communications = _Communications(self.store)
        self.runbooks = _Runbooks(self.store.runbook_data)
        self.actions = _Actions(self.store.runbook_data)
        self.paging_woken = False
        self._pending: list[int] = []
        return self

    def __exit__(self, *args: object) -> None:
        if not self._committed:  # what was written at once goes, as a rollback would take it
            for name, value in self._snapshot.items():
                setattr(self.store, name, value)

    def collect_new_events(self) -> Iterator[Event]:
        for incident in list(self.incidents.seen()):
            while incident.events:
                yield incident.events.pop(0)

    def announce(self, incident_id: int) -> None:
        self._pending.append(incident_id)

    def wake_paging(self) -> None:
        self.paging_woken = True

    def commit(self) -> None:
        self._committed = True
        for incident in self.incidents.seen():
            for entry in incident.new_entries:
                self.store.entries[(entry.incident_id, entry.seq)] = entry
            incident.new_entries.clear()
            self.store.messages.extend(incident.new_messages)
            incident.new_messages.clear()
            incident.new_participants.clear()
            self.store.incidents[incident.id] = copy.deepcopy(incident)
        for repo in (self.people, self.teams, self.services, self.users):
            repo.commit()
        self.runbooks.commit()
        self.actions.commit()
        self.committed += 1
        self.announced.extend(self._pending)

    def rollback(self) -> None:
        return None


class FakeNotifier:
    """Records every delivery handed to it; `fail` scripts failures per address."""

    def __init__(self) -> None:
        self.sent: list[Delivery] = []
        self.failures: dict[str, list[SendFailed]] = {}

    def fail(self, address: str, *errors: SendFailed) -> None:
        self.failures.setdefault(address, []).extend(errors)

    async def aclose(self) -> None:
        return None

    async def send(self, delivery: Delivery) -> None:
        waiting = self.failures.get(delivery.address)
        if waiting:
            raise waiting.pop(0)
        self.sent.append(delivery)


# ----- runbooks, actions and recovery checks ----------------------------------------------------
class _RunbookData:
    def __init__(self) -> None:
        self.runbooks: dict[str, Runbook] = {}
        self.attached: dict[tuple[int, str], AttachedRunbook] = {}
        self.actions: dict[str, Action] = {}
        self.runs: dict[int, ActionRun] = {}
        self.next_id = 0


class _Runbooks:
    """Copies on load, written back on commit, like the SQL repository's transaction."""

    def __init__(self, data: _RunbookData) -> None:
        self.data = data
        self.runbooks: dict[str, Runbook] = {}
        self.attached_: dict[tuple[int, str], AttachedRunbook] = {}

    def find(self, slug: str) -> Runbook | None:
        found = self.runbooks.get(slug) or self.data.runbooks.get(slug)
        return copy.deepcopy(found)

    def save(self, runbook: Runbook) -> None:
        if runbook.id is None:
            self.data.next_id += 1
            runbook.id = self.data.next_id
        self.runbooks[runbook.slug] = copy.deepcopy(runbook)

    def attached(self, incident_id: int, slug: str) -> AttachedRunbook | None:
        key = (incident_id, slug)
        return copy.deepcopy(self.attached_.get(key) or self.data.attached.get(key))

    def attach(self, attached: AttachedRunbook) -> None:
        self.data.next_id += 1
        attached.id = self.data.next_id
        self.save_attached(attached)

    def save_attached(self, attached: AttachedRunbook) -> None:
        self.attached_[(attached.incident_id, attached.slug)] = copy.deepcopy(attached)

    def commit(self) -> None:
        self.data.runbooks.update(self.runbooks)
        self.data.attached.update(self.attached_)


class _Actions:
    def __init__(self, data: _RunbookData) -> None:
        self.data = data
        self.actions: dict[str, Action] = {}
        self.runs: dict[int, ActionRun] = {}

    def find(self, name: str) -> Action | None:
        return copy.deepcopy(self.actions.get(name) or self.data.actions.get(name))

    def save(self, action: Action) -> None:
        if action.id is None:
            self.data.next_id += 1
            action.id = self.data.next_id
        self.actions[action.name] = copy.deepcopy(action)

    def add_run(self, run: ActionRun) -> None:
        self.data.next_id += 1
        run.id = self.data.next_id
        self.save_run(run)

    def get_run(self, incident_id: int, run_id: int) -> ActionRun:
        run = self.runs.get(run_id) or self.data.runs.get(run_id)
        if run is None or run.incident_id != incident_id:
            raise NotFound(f"no run #{run_id} on {reference(incident_id)}", field="run")
        return copy.deepcopy(run)

    def save_run(self, run: ActionRun) -> None:
        assert run.id is not None
        self.runs[run.id] = copy.deepcopy(run)

    def commit(self) -> None:
        self.data.actions.update(self.actions)
        self.data.runs.update(self.runs)


class FakeActionRunner:
    """Answers calls from a script of outcomes; pauses move the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.calls: list[HttpCall] = []
        self.outcomes: list[HttpOutcome] = []

    def answer(self, *outcomes: HttpOutcome) -> None:
        self.outcomes.extend(outcomes)

    def execute(self, call: HttpCall) -> HttpOutcome:
        self.calls.append(call)
        outcome = self.outcomes.pop(0) if self.outcomes else HttpOutcome(200, 5, "ok")
        if self.clock is not None:
            self.clock.advance(milliseconds=outcome.duration_ms)
        return outcome

    def pause(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds=seconds)
