"""Commands of the paging engine."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.domain.actors import Actor
from tocsin.domain.commands.base import Command


@dataclass(frozen=True)
class AcknowledgeIncident(Command):
    incident_id: int
    actor: Actor


@dataclass(frozen=True)
class AcknowledgeByLink(Command):
    """The one-click link of a page: no login, the token is the proof."""

    token: str


@dataclass(frozen=True)
class RunEscalations(Command):
    """Fire every escalation step that is due; returns how many escalations moved."""

    limit: int = 100


@dataclass(frozen=True)
class ClaimDeliveries(Command):
    """Take due deliveries under a lease; the caller sends them and records each outcome."""

    limit: int = 50
    lease_seconds: float = 60.0


@dataclass(frozen=True)
class DeliveryOutcome:
    """How sending one claimed delivery went."""

    delivery_id: int
    fence: int
    error: str = ""  # empty when sent
    permanent: bool = False  # the next contact method is tried instead of retrying


@dataclass(frozen=True)
class RecordDeliveries(Command):
    """Record sends that finished, in one transaction; returns each delivery's new status
    (None where the worker's claim had gone stale)."""

    outcomes: tuple[DeliveryOutcome, ...]
