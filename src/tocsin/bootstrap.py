"""The composition root: the one place where adapters meet services."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import make_url

from tocsin.adapters.action_runner import HttpxActionRunner
from tocsin.adapters.clock import FrozenClock, SystemClock
from tocsin.adapters.database import Database, connect
from tocsin.adapters.inbox import InboxWriter
from tocsin.adapters.live import INBOX, PAGING, ChangeHub, listen_postgres, watch_sqlite_commits
from tocsin.adapters.migrations import current_revision, head_revision, upgrade
from tocsin.adapters.notifiers import Notifier, SmtpSettings
from tocsin.adapters.passwords import Argon2PasswordHasher
from tocsin.adapters.recent_deliveries import MAX_SIGNALS, RecentDeliveries
from tocsin.adapters.unit_of_work import SqlAlchemyUnitOfWork
from tocsin.config import Settings, load_settings
from tocsin.domain.commands import Command, RotateIntegrationKey
from tocsin.policy import Policy, load_default_policy, load_policy_file
from tocsin.services.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from tocsin.services.messagebus import MessageBus
from tocsin.services.ports import Clock, PasswordHasher
from tocsin.services.war_room_ports import ActionRunner
from tocsin.views.accounts import AccountViews
from tocsin.views.alerts import AlertViews
from tocsin.views.catalog import CatalogViews
from tocsin.views.changes import ChangeViews
from tocsin.views.communications import CommunicationViews
from tocsin.views.incidents import IncidentViews
from tocsin.views.paging import PagingViews
from tocsin.views.runbooks import RunbookViews
from tocsin.views.schedules import ScheduleViews
from tocsin.views.war_room import WarRoomViews
from tocsin.views.workflows import WorkflowViews


@dataclass
class Tocsin:
    """Everything an entrypoint needs: the bus for changes, views for reads, and settings."""

    settings: Settings
    policy: Policy
    database: Database
    clock: Clock
    hub: ChangeHub
    bus: MessageBus
    incidents: IncidentViews
    catalog: CatalogViews
    accounts: AccountViews
    alerts: AlertViews
    changes: ChangeViews
    paging: PagingViews
    schedules: ScheduleViews
    war_room: WarRoomViews
    inbox: InboxWriter
    notifier: Notifier
    _hasher: PasswordHasher
    _recent: RecentDeliveries  # what `inbox` stored, kept decoded for this process's applier
    workflows: WorkflowViews
    communications: CommunicationViews  # issue 5: stakeholder updates
    # runbooks, actions and recovery checks
    runbooks: RunbookViews
    action_runner: ActionRunner

    def handle(self, command: Command) -> Any:
        result = self.bus.handle(command)
        if isinstance(command, RotateIntegrationKey):
            self.alerts.forget_keys()
        return result

    def handle_as_of(self, command: Command, at: datetime) -> Any:
        """Run a command as if it happened at `at` (used to load the demo's history)."""
        return self._bus(FrozenClock(at)).handle(command)

    def migrate(self) -> None:
        upgrade(self.database)

    def schema_is_current(self) -> bool:
        return current_revision(self.database) == head_revision(self.database)

    async def relay_changes(self, *, queues_from_peers: bool = False) -> None:
        """Until cancelled, pass other processes' changes to this process's live views.

        Only PostgreSQL carries them (LISTEN/NOTIFY); on SQLite live views poll instead, and
        with `queues_from_peers` (a worker beside a server) commits to the file wake the
        inbox and paging queues.
        """
        if self.database.dialect == "postgresql":
            dsn = self.database.url.replace("postgresql+psycopg://", "postgresql://", 1)
            await listen_postgres(dsn, self.hub)
        elif queues_from_peers and (path := make_url(self.database.url).database):
            await watch_sqlite_commits(path, self.hub)

    def watch_paging(self) -> AbstractContextManager[asyncio.Event]:
        """An event set when escalation or delivery work is queued, here or elsewhere."""
        return self.hub.subscribe(PAGING)

    def watch_inbox(self) -> AbstractContextManager[asyncio.Event]:
        """An event set when deliveries are committed to the inbox, here or in another process."""
        return self.hub.subscribe(INBOX)

    def close(self) -> None:
        self.inbox.close()
        self.database.dispose()

    def _bus(self, clock: Clock) -> MessageBus:
        return _make_bus(
            self.database,
            clock,
            self._hasher,
            self.policy,
            self.hub,
            self._recent,
            self.settings.public_url(),
        )


def load_configured_policy(settings: Settings) -> Policy:
    return load_policy_file(settings.policy) if settings.policy else load_default_policy()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    policy: Policy | None = None,
    action_runner: ActionRunner | None = None,
) -> Tocsin:
    """Wire real adapters; tests pass a fake clock or a cheaper hasher."""
    settings = settings or load_settings()
    clock = clock or SystemClock()
    hasher = hasher or Argon2PasswordHasher()
    policy = policy or load_configured_policy(settings)
    database = connect(settings.database_url)
    hub = ChangeHub()
    recent = RecentDeliveries(
        ids_reused=database.dialect == "sqlite",
        # Nothing is kept where this process does not apply what it stores.
        max_signals=MAX_SIGNALS if settings.intake_embedded else 0,
    )
    return Tocsin(
        settings=settings,
        policy=policy,
        database=database,
        clock=clock,
        hub=hub,
        bus=_make_bus(database, clock, hasher, policy, hub, recent, settings.public_url()),
        incidents=IncidentViews(database),
        catalog=CatalogViews(database),
        accounts=AccountViews(database),
        alerts=AlertViews(database),
        changes=ChangeViews(database),
        paging=PagingViews(database),
        schedules=ScheduleViews(database),
        war_room=WarRoomViews(database),
        inbox=InboxWriter(database, clock, on_commit=lambda: hub.publish(INBOX), recent=recent),
        notifier=Notifier(
            policy.paging,
            SmtpSettings(settings.smtp_host, settings.smtp_port, settings.smtp_from),
            settings.public_url(),
        ),
        _hasher=hasher,
        _recent=recent,
        workflows=WorkflowViews(database),
        communications=CommunicationViews(database),
        runbooks=RunbookViews(database),
        action_runner=action_runner or HttpxActionRunner(),
    )


def _make_bus(
    database: Database,
    clock: Clock,
    hasher: PasswordHasher,
    policy: Policy,
    hub: ChangeHub,
    recent: RecentDeliveries,
    public_url: str = "",
) -> MessageBus:
    def uow_factory() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(database, clock, hub, recent)

    return MessageBus(
        uow_factory,
        clock,
        hasher,
        policy,
        COMMAND_HANDLERS,
        EVENT_HANDLERS,
        public_url=public_url,
    )
