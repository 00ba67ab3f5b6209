"""Stakeholder updates and the "next update by" contract each one makes for the next.

An update of an open incident whose severity has a cadence promises the next update by
`sent_at + cadence`. The promise is a row with timestamps, so the worker finds what is due: the
Communications Lead is reminded at `remind_at`, and at `due_at` an unkept promise is recorded
missed. The next update keeps the promise if it comes in time; resolving the incident ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tocsin.domain.errors import InvalidInput

MAX_ACTIONS = 20
ACTION_MAX = 500
SUMMARY_MAX = 2_000


class Audience(StrEnum):
    """Who an update is for; the policy says on which channels each hears it."""

    INTERNAL = "internal"
    EXECUTIVE = "executive"
    CUSTOMER = "customer"

    @classmethod
    def parse(cls, raw: str) -> Audience:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise InvalidInput(
                f"unknown audience {raw!r}; expected one of {names}", field="audiences"
            ) from None


def parse_audiences(raw: list[str] | tuple[str, ...]) -> tuple[Audience, ...]:
    """At least one audience, each known, in the order first given."""
    parsed = tuple(dict.fromkeys(Audience.parse(a) for a in raw if a.strip()))
    if not parsed:
        raise InvalidInput(
            "choose at least one audience: internal, executive or customer", field="audiences"
        )
    return parsed


class UpdateTemplate(StrEnum):
    """The policy's two message templates."""

    INITIAL = "initial"  # templates.incident_declared: the Initial Incident Report
    STATUS = "status"  # templates.incident_update: a Status Update

    @property
    def label(self) -> str:
        return "Initial Incident Report" if self is UpdateTemplate.INITIAL else "Status Update"

    @classmethod
    def parse(cls, raw: str) -> UpdateTemplate:
        text = raw.strip().lower().replace("-", "_").replace(" ", "_")
        found = _TEMPLATE_NAMES.get(text)
        if found is None:
            raise InvalidInput(
                f"unknown template {raw!r}; expected initial (Initial Incident Report) "
                "or status (Status Update)",
                field="template",
            )
        return found


_TEMPLATE_NAMES = {
    "initial": UpdateTemplate.INITIAL,
    "initial_incident_report": UpdateTemplate.INITIAL,
    "incident_declared": UpdateTemplate.INITIAL,
    "status": UpdateTemplate.STATUS,
    "status_update": UpdateTemplate.STATUS,
    "incident_update": UpdateTemplate.STATUS,
}


def clean_summary(summary: str) -> str:
    text = " ".join(summary.split())
    if len(text) > SUMMARY_MAX:
        raise InvalidInput(
            f"summary is {len(text)} characters; the limit is {SUMMARY_MAX}", field="summary"
        )
    return text


def clean_actions(actions: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The "current actions" lines: blank lines dropped, each bounded."""
    lines = tuple(" ".join(a.split()) for a in actions if a.strip())
    if len(lines) > MAX_ACTIONS:
        raise InvalidInput(f"{len(lines)} actions; the limit is {MAX_ACTIONS}", field="actions")
    for line in lines:
        if len(line) > ACTION_MAX:
            raise InvalidInput(
                f"an action is {len(line)} characters; the limit is {ACTION_MAX}", field="actions"
            )
    return lines


@dataclass(frozen=True)
class UpdateFacts:
    """What the templates say about the incident, as plain text."""

    reference: str
    severity: str
    title: str
    status: str
    services: tuple[str, ...]
    user_impact: str
    customer_impact: str
    incident_commander: str
    war_room_url: str
    status_page_url: str


@dataclass
class StakeholderUpdate:
    """One update as it was sent: the same text on every channel of every audience."""

    incident_id: int
    template: UpdateTemplate
    audiences: tuple[Audience, ...]
    subject: str
    body: str
    summary: str
    author: str
    sent_at: datetime
    next_update_at: datetime | None
    author_user_id: int | None = None
    id: int | None = None


@dataclass
class ScheduledUpdate:
    """An update Tocsin sends by itself when due: the Initial Incident Report on declaration."""

    incident_id: int
    template: UpdateTemplate
    audiences: tuple[Audience, ...]
    due_at: datetime
    done_at: datetime | None = None
    id: int | None = None


class PromiseOutcome(StrEnum):
    KEPT = "kept"  # the next update came before it was due
    MISSED = "missed"  # it came late, or the incident ended while it was overdue
    ENDED = "ended"  # the incident resolved before it was due: no longer needed


@dataclass
class UpdatePromise:
    """ "Next update by `due_at`": made by one update, closed by the next or by resolution."""

    incident_id: int
    update_id: int
    due_at: datetime
    remind_at: datetime
    reminded_at: datetime | None = None
    overdue_at: datetime | None = None  # when it was recorded missed; red until an update
    outcome: PromiseOutcome | None = None
    closed_at: datetime | None = None
    id: int | None = None

    @classmethod
    def make(
        cls, incident_id: int, update_id: int, due_at: datetime, remind_before: timedelta
    ) -> UpdatePromise:
        return cls(incident_id, update_id, due_at, remind_at=due_at - remind_before)

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    @property
    def next_check_at(self) -> datetime | None:
        """When the worker next has something to do with it: remind, then record it missed."""
        if not self.is_open:
            return None
        if self.reminded_at is None:
            return min(self.remind_at, self.due_at)
        if self.overdue_at is None:
            return self.due_at
        return None

    def needs_reminder(self, now: datetime) -> bool:
        return self.is_open and self.reminded_at is None and self.remind_at <= now

    def reminded(self, now: datetime) -> None:
        self.reminded_at = now

    def falls_overdue(self, now: datetime) -> bool:
        """True once, when it is due and still unkept: the caller records it missed."""
        if self.is_open and self.overdue_at is None and self.due_at <= now:
            self.overdue_at = now
            return True
        return False

    def fulfil(self, now: datetime) -> PromiseOutcome:
        """A new update was sent: kept if in time, missed otherwise."""
        in_time = self.overdue_at is None and now <= self.due_at
        self._close(PromiseOutcome.KEPT if in_time else PromiseOutcome.MISSED, now)
        assert self.outcome is not None
        return self.outcome

    def end(self, now: datetime) -> PromiseOutcome:
        """The incident resolved: the promise is no longer needed (or stays missed)."""
        missed = self.overdue_at is not None or now > self.due_at
        self._close(PromiseOutcome.MISSED if missed else PromiseOutcome.ENDED, now)
        assert self.outcome is not None
        return self.outcome

    def _close(self, outcome: PromiseOutcome, now: datetime) -> None:
        self.outcome = outcome
        self.closed_at = now


def clock_time(value: datetime) -> str:
    """How times read in messages: `14:30 UTC`."""
    return value.astimezone(UTC).strftime("%H:%M UTC")


def stamp_time(value: datetime) -> str:
    """The update's own time: `2026-11-23 14:30 UTC`."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Draft:
    """An update as it would be sent now: the text, and when it promises the next one."""

    template: UpdateTemplate
    audiences: tuple[Audience, ...]
    summary: str
    subject: str
    body: str
    next_update_at: datetime | None
