"""Commands for runbooks, actions and recovery checks."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.domain.actions import HttpOutcome
from tocsin.domain.actors import Actor
from tocsin.domain.commands.base import Command


@dataclass(frozen=True)
class ActionSpec:
    """An action definition as a runbook's front matter, the API or the CLI give it."""

    name: str
    method: str
    url: str
    title: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    timeout: float = 10.0
    requires_approval: bool = False
    expect_status: int | None = None


@dataclass(frozen=True)
class RunbookSpec:
    slug: str
    title: str
    body: str
    services: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    private: bool = False
    actions: tuple[ActionSpec, ...] | None = ()  # None keeps the runbook's actions as they are
    source: str = ""


@dataclass(frozen=True)
class ImportRunbooks(Command):
    """Create or update runbooks (and their actions); the same content twice changes nothing."""

    runbooks: tuple[RunbookSpec, ...]
    actor: Actor
    dry_run: bool = False


@dataclass(frozen=True)
class SaveAction(Command):
    action: ActionSpec
    actor: Actor


@dataclass(frozen=True)
class AttachRunbook(Command):
    incident_id: int
    slug: str
    actor: Actor


@dataclass(frozen=True)
class TickRunbookStep(Command):
    incident_id: int
    slug: str
    step: int
    done: bool
    actor: Actor


@dataclass(frozen=True)
class RequestActionRun(Command):
    """Returns the run's id; it is ready to start unless it waits for approval."""

    incident_id: int
    action: str
    actor: Actor


@dataclass(frozen=True)
class ApproveActionRun(Command):
    incident_id: int
    run_id: int
    actor: Actor


@dataclass(frozen=True)
class StartActionRun(Command):
    """Mark a ready run as running and return the HTTP call to make outside the transaction."""

    incident_id: int
    run_id: int


@dataclass(frozen=True)
class RecordActionRun(Command):
    incident_id: int
    run_id: int
    outcome: HttpOutcome
    actor: Actor


@dataclass(frozen=True)
class StartCheck(Command):
    """Returns (run id, HTTP call) of a new recovery check."""

    incident_id: int
    url: str
    actor: Actor
    expect_status: int = 200
    expect_body: str = ""
    max_latency_ms: int | None = None
    repeat: int = 1
    interval: float = 2.0
    timeout: float = 10.0


@dataclass(frozen=True)
class RecordCheckAttempt(Command):
    """Returns True while more attempts of the check are due."""

    incident_id: int
    run_id: int
    outcome: HttpOutcome
    actor: Actor
