"""Ports of the war room: workflows, stakeholder updates, runbooks, actions and their runner."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tocsin.domain.action_runs import ActionRun
from tocsin.domain.actions import Action, HttpCall, HttpOutcome
from tocsin.domain.communications import ScheduledUpdate, StakeholderUpdate, UpdatePromise
from tocsin.domain.runbooks import AttachedRunbook, Runbook
from tocsin.domain.workflows import IncidentWorkflow


class WorkflowRepository(Protocol):
    def add(self, workflow: IncidentWorkflow) -> None: ...

    def find(self, incident_id: int) -> IncidentWorkflow | None: ...

    def get(self, incident_id: int) -> IncidentWorkflow:
        """Raises NotFound when the incident runs no workflow."""
        ...

    def save(self, workflow: IncidentWorkflow) -> None:
        """Raises ConcurrencyConflict when it changed since it was loaded."""
        ...


class CommunicationRepository(Protocol):
    """Stakeholder updates and their "next update by" promises."""

    def add_update(self, update: StakeholderUpdate) -> None:
        """Store it and set its id."""
        ...

    def load_promises(self, incident_ids: list[int]) -> None:
        """Look up, and lock, the open promises of many incidents in one go."""
        ...

    def open_promise(self, incident_id: int) -> UpdatePromise | None:
        """The incident's unclosed promise, locked for change; None when none is open."""
        ...

    def add_promise(self, promise: UpdatePromise) -> None: ...

    def save_promise(self, promise: UpdatePromise) -> None: ...

    def due(self, now: datetime, limit: int, skip: tuple[int, ...] = ()) -> list[int]:
        """Incidents with a scheduled update, reminder or deadline at or before `now`, but for
        those in `skip`."""
        ...

    def schedule(self, scheduled: ScheduledUpdate) -> None: ...

    def scheduled_due(self, incident_ids: list[int], now: datetime) -> list[ScheduledUpdate]:
        """The incidents' scheduled updates not yet sent and due by `now`, locked."""
        ...

    def done(self, scheduled: ScheduledUpdate) -> None: ...


# ----- runbooks, actions and recovery checks ----------------------------------------------------
class RunbookRepository(Protocol):
    def find(self, slug: str) -> Runbook | None: ...

    def save(self, runbook: Runbook) -> None:
        """Insert a new runbook (setting its id) or update the one with its id."""
        ...

    def attached(self, incident_id: int, slug: str) -> AttachedRunbook | None: ...

    def attach(self, attached: AttachedRunbook) -> None: ...

    def save_attached(self, attached: AttachedRunbook) -> None: ...


class ActionRepository(Protocol):
    def find(self, name: str) -> Action | None: ...

    def save(self, action: Action) -> None: ...

    def add_run(self, run: ActionRun) -> None: ...

    def get_run(self, incident_id: int, run_id: int) -> ActionRun:
        """Raises NotFound unless the run belongs to the incident."""
        ...

    def save_run(self, run: ActionRun) -> None: ...


class ActionRunner(Protocol):
    """Makes an action's or a check's HTTP call: secrets resolved here, redacted in the outcome."""

    def execute(self, call: HttpCall) -> HttpOutcome:
        """Never raises for a network or template problem, never outlasts the call's timeout."""
        ...

    def pause(self, seconds: float) -> None:
        """Wait between the attempts of a repeated check."""
        ...
