"""Commands for integrations, alerts, silences and changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tocsin.domain.actors import Actor
from tocsin.domain.alerts import AlertSignal, Link
from tocsin.domain.commands.base import Command
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.matchers import Matcher


@dataclass(frozen=True)
class CreateIntegration(Command):
    name: str
    kind: IntegrationKind
    actor: Actor
    service: str | None = None
    secret: str | None = field(default=None, repr=False)
    # generic: the validated field mapping; heartbeat: {"interval_seconds", "severity"}
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RetryInboxItem(Command):
    """Put a set-aside delivery back in line, e.g. after fixing what made it fail."""

    item_id: int


@dataclass(frozen=True)
class PingHeartbeat(Command):
    integration_id: int


@dataclass(frozen=True)
class CheckHeartbeats(Command):
    """Fire an alert for every heartbeat whose interval passed without a ping."""


@dataclass(frozen=True)
class ReleaseSilencedAlerts(Command):
    """Alerts still firing when their silence ends declare (or join) their incident now."""

    limit: int = 500


@dataclass(frozen=True)
class RotateIntegrationKey(Command):
    name: str
    actor: Actor


@dataclass(frozen=True)
class ReceiveAlerts(Command):
    """Everything one sender's request carried, applied in one transaction."""

    integration_id: int
    signals: tuple[AlertSignal, ...]


@dataclass(frozen=True)
class ProcessInbox(Command):
    """Apply accepted deliveries in arrival order; `quarantine` sets failed ones aside first."""

    limit: int = 200
    quarantine: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class RecordChange(Command):
    """A deploy or configuration change reported by CI/CD or a change integration."""

    integration_id: int
    summary: str
    occurred_at: datetime | None = None
    service: str | None = None  # the integration's service when not given
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class CreateSilence(Command):
    matchers: tuple[Matcher, ...]
    ends_at: datetime
    comment: str
    actor: Actor
    starts_at: datetime | None = None  # now


@dataclass(frozen=True)
class ExpireSilence(Command):
    silence_id: int
    actor: Actor
