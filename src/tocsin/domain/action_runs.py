"""Runs of actions and checks on an incident: requested, approved, running, and their outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tocsin.domain.actions import EXCERPT_CHARS, Action, CheckSpec, HttpCall, HttpOutcome
from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power
from tocsin.domain.errors import InvalidTransition
from tocsin.domain.incidents import Incident
from tocsin.domain.timeline import EntryKind

# Past its timeout plus this, a run still marked running had its worker die: outcome unknown.
GRACE = timedelta(seconds=5)


class RunState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    READY = "ready"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def finished(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.TIMED_OUT)


class RunKind(StrEnum):
    ACTION = "action"
    CHECK = "check"


@dataclass
class ActionRun:
    """One run of an action or a check on an incident, from request to result."""

    incident_id: int
    kind: RunKind
    name: str
    method: str
    url: str
    headers: dict[str, str]
    body: str
    timeout: float
    state: RunState
    requested_by: str
    requested_at: datetime
    requires_approval: bool = False
    expect_status: int | None = None
    check: CheckSpec | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    finished_at: datetime | None = None
    status_code: int | None = None
    duration_ms: int | None = None
    excerpt: str = ""
    error: str = ""
    attempts: int = 0
    passes: int = 0
    id: int | None = None

    @classmethod
    def request(cls, incident: Incident, action: Action, actor: Actor, now: datetime) -> ActionRun:
        """Ask to run an action; one that needs approval waits for the Incident Commander."""
        incident.authorize(actor, Power.TECHNICAL, f"running the action {action.name}", now)
        run = cls(
            incident_id=incident.id,
            kind=RunKind.ACTION,
            name=action.name,
            method=action.method,
            url=action.url,
            headers=dict(action.headers),
            body=action.body,
            timeout=action.timeout,
            state=RunState.AWAITING_APPROVAL if action.requires_approval else RunState.READY,
            requested_by=actor.name,
            requested_at=now,
            requires_approval=action.requires_approval,
            expect_status=action.expect_status,
        )
        waits = " — awaiting the Incident Commander's approval" if action.requires_approval else ""
        incident.log(
            EntryKind.ACTION_REQUESTED,
            f"Action requested: {action.title} ({action.method} {action.url}){waits}",
            actor,
            now,
            data={"action": action.name, "approval": action.requires_approval},
        )
        return run

    @classmethod
    def start_check(
        cls, incident: Incident, spec: CheckSpec, actor: Actor, now: datetime
    ) -> ActionRun:
        """Begin a recovery check; its attempts are recorded one by one."""
        incident.authorize(actor, Power.TECHNICAL, "running recovery checks", now)
        span = spec.repeat * (spec.timeout + spec.interval)
        return cls(
            incident_id=incident.id,
            kind=RunKind.CHECK,
            name="check",
            method="GET",
            url=spec.url,
            headers={},
            body="",
            timeout=spec.timeout,
            state=RunState.RUNNING,
            requested_by=actor.name,
            requested_at=now,
            expect_status=spec.expect_status,
            check=spec,
            started_at=now,
            deadline_at=now + timedelta(seconds=span) + GRACE,
        )

    @property
    def reference(self) -> str:
        return f"run #{self.id}"

    def shown_state(self, now: datetime) -> str:
        """The state as people should read it: a run stuck past its deadline is unknown."""
        if self.state is RunState.RUNNING and self.deadline_at and now > self.deadline_at:
            return "outcome_unknown"
        return self.state.value

    def approve(self, incident: Incident, actor: Actor, now: datetime) -> None:
        """The Incident Commander lets the action run."""
        incident.authorize(actor, Power.DECIDE, f"approving the action {self.name}", now)
        if self.state is not RunState.AWAITING_APPROVAL:
            raise InvalidTransition(
                f"{self.reference} ({self.name}) is {self.state.value.replace('_', ' ')}, "
                "not awaiting approval",
                field="run",
            )
        self.state, self.approved_by, self.approved_at = RunState.READY, actor.name, now
        incident.log(
            EntryKind.ACTION_APPROVED,
            f"Action approved: {self.name} (requested by {self.requested_by})",
            actor,
            now,
            data={"action": self.name, "run_id": self.id},
        )

    def start(self, incident: Incident, now: datetime) -> HttpCall:
        """Mark the run as running and hand back the call to make, outside any transaction."""
        if self.state is not RunState.READY:
            raise InvalidTransition(
                f"{self.reference} is {self.state.value.replace('_', ' ')}, not ready to run",
                field="run",
            )
        self.state, self.started_at = RunState.RUNNING, now
        self.deadline_at = now + timedelta(seconds=self.timeout) + GRACE
        return self.call(incident)

    def call(self, incident: Incident) -> HttpCall:
        variables = {
            "reference": incident.reference,
            "title": incident.title,
            "severity": incident.severity.value,
            "status": incident.status.value,
            "services": [s.slug for s in incident.services],
        }
        return HttpCall(
            self.method, self.url, dict(self.headers), self.body, self.timeout, variables
        )

    def record(self, incident: Incident, outcome: HttpOutcome, actor: Actor, now: datetime) -> None:
        """Keep an action's result and put it on the timeline."""
        self._require_running()
        self._keep(outcome, now)
        if outcome.timed_out:
            self.state = RunState.TIMED_OUT
            verdict = f"timed out after {self.timeout:g} s"
        elif outcome.status_code is None:
            self.state = RunState.FAILED
            verdict = f"failed: {outcome.error}"
        else:
            ok = (
                outcome.status_code == self.expect_status
                if self.expect_status is not None
                else 200 <= outcome.status_code < 300
            )
            self.state = RunState.SUCCEEDED if ok else RunState.FAILED
            word = "succeeded" if ok else "failed"
            verdict = f"{word}: HTTP {outcome.status_code} in {outcome.duration_ms} ms"
        incident.log(
            EntryKind.ACTION_RESULT,
            f"Action {self.name} {verdict}",
            actor,
            now,
            data={
                "action": self.name,
                "run_id": self.id,
                "state": self.state.value,
                "status_code": self.status_code,
                "duration_ms": self.duration_ms,
                "excerpt": self.excerpt,
            },
        )

    def record_attempt(
        self, incident: Incident, outcome: HttpOutcome, actor: Actor, now: datetime
    ) -> bool:
        """Count one attempt of a check; True while more attempts are due."""
        assert self.check is not None
        self._require_running()
        self.attempts += 1
        failure = self.check.failure(outcome)
        if failure is None:
            self.passes += 1
        # No excerpt: a check may GET any URL, so its answer's content is not handed back.
        self.status_code, self.duration_ms = outcome.status_code, outcome.duration_ms
        if failure is None and self.passes < self.check.repeat:
            return True
        self.finished_at, self.error = now, failure or ""
        self.state = RunState.SUCCEEDED if failure is None else RunState.FAILED
        target = f"GET {self.url} → {self.check.expect_status}"
        if failure is None:
            body = f"Recovery check passed {self.passes}/{self.check.repeat}: {target}"
        else:
            body = (
                f"Recovery check failed on attempt {self.attempts} of {self.check.repeat} "
                f"({self.passes} passed): {target}: {failure}"
            )
        incident.log(
            EntryKind.CHECK_RESULT,
            body,
            actor,
            now,
            data={
                "run_id": self.id,
                "url": self.url,
                "passed": failure is None,
                "passes": self.passes,
                "repeat": self.check.repeat,
            },
        )
        return False

    def _require_running(self) -> None:
        if self.state is not RunState.RUNNING:
            raise InvalidTransition(
                f"{self.reference} is {self.state.value.replace('_', ' ')}, not running",
                field="run",
            )

    def _keep(self, outcome: HttpOutcome, now: datetime) -> None:
        self.finished_at = now
        self.status_code, self.duration_ms = outcome.status_code, outcome.duration_ms
        self.excerpt = outcome.body[:EXCERPT_CHARS]
        self.error = outcome.error
