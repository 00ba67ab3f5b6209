"""The SQL unit of work: one connection, one transaction, every repository on it."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, RootTransaction, text
from sqlalchemy.exc import DBAPIError

from tocsin.adapters.account_repositories import (
    SqlAlchemyApiTokenRepository,
    SqlAlchemyUserRepository,
    SqlAlchemyWebSessionRepository,
)
from tocsin.adapters.alert_repositories import (
    SqlAlchemyAlertGroupRepository,
    SqlAlchemyAlertRepository,
    SqlAlchemySilenceRepository,
)
from tocsin.adapters.catalog_repositories import (
    SqlAlchemyPersonRepository,
    SqlAlchemyServiceRepository,
    SqlAlchemyTeamRepository,
)
from tocsin.adapters.communication_repositories import SqlAlchemyCommunicationRepository
from tocsin.adapters.database import Database
from tocsin.adapters.inbox import SqlAlchemyAlertInbox
from tocsin.adapters.incident_repository import SqlAlchemyIncidentRepository
from tocsin.adapters.integration_repositories import (
    SqlAlchemyChangeEventRepository,
    SqlAlchemyHeartbeatRepository,
    SqlAlchemyIntegrationRepository,
)
from tocsin.adapters.live import CHANNEL, PAGING, PAGING_CHANNEL, ChangeHub
from tocsin.adapters.paging_repositories import (
    SqlAlchemyAckLinkRepository,
    SqlAlchemyDeliveryRepository,
    SqlAlchemyDirectory,
    SqlAlchemyEscalationRepository,
    SqlAlchemyScheduleRepository,
)
from tocsin.adapters.recent_deliveries import RecentDeliveries
from tocsin.adapters.runbook_repositories import (
    SqlAlchemyActionRepository,
    SqlAlchemyRunbookRepository,
)
from tocsin.adapters.timeline_repository import SqlAlchemyTimelineRepository
from tocsin.adapters.workflow_repository import SqlAlchemyWorkflowRepository
from tocsin.domain.errors import ConcurrencyConflict
from tocsin.domain.events import Event
from tocsin.services.ports import Clock

# Every notification of a transaction in one round trip: (channel, payload) pairs.
NOTIFY_ALL = text(
    "SELECT pg_notify(channel, payload) "
    "FROM unnest(CAST(:channels AS text[]), CAST(:payloads AS text[])) AS n(channel, payload)"
)


class SqlAlchemyUnitOfWork:
    """Nothing reaches the database until `commit`; leaving without it rolls everything back."""

    incidents: SqlAlchemyIncidentRepository
    timeline: SqlAlchemyTimelineRepository
    people: SqlAlchemyPersonRepository
    teams: SqlAlchemyTeamRepository
    services: SqlAlchemyServiceRepository
    users: SqlAlchemyUserRepository
    tokens: SqlAlchemyApiTokenRepository
    sessions: SqlAlchemyWebSessionRepository
    integrations: SqlAlchemyIntegrationRepository
    alerts: SqlAlchemyAlertRepository
    alert_groups: SqlAlchemyAlertGroupRepository
    silences: SqlAlchemySilenceRepository
    changes: SqlAlchemyChangeEventRepository
    inbox: SqlAlchemyAlertInbox
    heartbeats: SqlAlchemyHeartbeatRepository
    schedules: SqlAlchemyScheduleRepository
    escalations: SqlAlchemyEscalationRepository
    deliveries: SqlAlchemyDeliveryRepository
    directory: SqlAlchemyDirectory
    ack_links: SqlAlchemyAckLinkRepository
    workflows: SqlAlchemyWorkflowRepository
    communications: SqlAlchemyCommunicationRepository
    runbooks: SqlAlchemyRunbookRepository
    actions: SqlAlchemyActionRepository

    def __init__(
        self,
        database: Database,
        clock: Clock,
        hub: ChangeHub,
        recent: RecentDeliveries | None = None,
    ) -> None:
        self._database = database
        self._recent = recent
        self._clock = clock
        self._hub = hub
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self._database.write_lock.__enter__()
        conn = None
        try:
            conn = self._database.writer.connect()
            self._conn, self._tx = conn, conn.begin()
        except BaseException:
            if conn is not None:
                conn.close()
            self._database.write_lock.__exit__(None, None, None)
            raise
        self.incidents = SqlAlchemyIncidentRepository(conn)
        self.timeline = SqlAlchemyTimelineRepository(conn)
        self.people = SqlAlchemyPersonRepository(conn)
        self.teams = SqlAlchemyTeamRepository(conn)
        self.services = SqlAlchemyServiceRepository(conn)
        self.users = SqlAlchemyUserRepository(conn)
        self.tokens = SqlAlchemyApiTokenRepository(conn)
        self.sessions = SqlAlchemyWebSessionRepository(conn)
        self.integrations = SqlAlchemyIntegrationRepository(conn)
        self.alerts = SqlAlchemyAlertRepository(conn)
        self.alert_groups = SqlAlchemyAlertGroupRepository(conn)
        self.silences = SqlAlchemySilenceRepository(conn)
        self.changes = SqlAlchemyChangeEventRepository(conn)
        self.inbox = SqlAlchemyAlertInbox(conn, self._recent)
        self.heartbeats = SqlAlchemyHeartbeatRepository(conn)
        self.schedules = SqlAlchemyScheduleRepository(conn)
        self.escalations = SqlAlchemyEscalationRepository(conn)
        self.deliveries = SqlAlchemyDeliveryRepository(conn)
        self.directory = SqlAlchemyDirectory(conn)
        self.ack_links = SqlAlchemyAckLinkRepository(conn)
        self.workflows = SqlAlchemyWorkflowRepository(conn)
        self.communications = SqlAlchemyCommunicationRepository(conn)
        self.runbooks = SqlAlchemyRunbookRepository(conn, self._clock.now)
        self.actions = SqlAlchemyActionRepository(conn, self._clock.now)
        self._changed: set[int] = set()
        self._announced: set[int] = set()
        self._paging = False
        return self

    def __exit__(self, *args: object) -> None:
        assert self._conn is not None
        assert self._tx is not None
        try:
            if self._tx.is_active:
                self._tx.rollback()
            self._conn.close()
        finally:
            self._conn = self._tx = None
            self._database.write_lock.__exit__(None, None, None)
        error = args[1] if len(args) > 1 else None
        if isinstance(error, DBAPIError) and _sqlstate(error) in RETRYABLE_SQLSTATES:
            # PostgreSQL gave up one of two transactions waiting on each other: run it again.
            raise ConcurrencyConflict("the database chose this change to retry") from error

    def collect_new_events(self) -> Iterator[Event]:
        for incident in list(self.incidents.seen()):
            while incident.events:
                self._changed.add(incident.id)
                yield incident.events.pop(0)

    def announce(self, incident_id: int) -> None:
        self._announced.add(incident_id)

    def wake_paging(self) -> None:
        self._paging = True

    def commit(self) -> None:
        assert self._conn is not None
        assert self._tx is not None
        self.alerts.flush()
        self.incidents.flush(self._clock.now(), self._changed)
        self.timeline.flush()
        self.people.flush()
        self.teams.flush()
        self.services.flush()
        self.tokens.flush()
        self.workflows.flush()
        self.communications.flush()
        self.escalations.flush()
        self.deliveries.flush()
        self.alert_groups.flush()
        if self._conn.dialect.name == "postgresql" and (self._announced or self._paging):
            # Delivered to every listening server process when, and only if, this commits; one
            # round trip for all, as a batch of claims or records touches many incidents.
            notes = [(CHANNEL, str(incident_id)) for incident_id in sorted(self._announced)]
            if self._paging:
                notes.append((PAGING_CHANNEL, ""))
            channels, payloads = zip(*notes, strict=True)
            self._conn.execute(NOTIFY_ALL, {"channels": list(channels), "payloads": list(payloads)})
        self._tx.commit()
        for incident_id in self._announced:
            self._hub.publish(incident_id)
        if self._paging:
            self._hub.publish(PAGING)
        self._paging = False
        self._announced.clear()
        self._changed.clear()

    def rollback(self) -> None:
        assert self._tx is not None
        self._tx.rollback()


RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)
