"""Escalation state and the delivery outbox: what the paging engine keeps in rows, never in memory.

An `Escalation` walks one incident through its severity's escalation path. When its next step is
due lives in `next_step_at`, so a restarted worker simply finds what is due. A `Delivery` is one
message to one destination, written in the transaction that decided to send it and claimed by a
worker under a lease; its idempotency key lets a receiver drop the copy a retry may cause.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from tocsin.domain.errors import InvalidInput, NoChange
from tocsin.domain.severities import Severity


class EscalationState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    EXHAUSTED = "exhausted"  # every step of every round has fired; nothing more is due


@dataclass
class Escalation:
    """Where one incident stands in its escalation path."""

    incident_id: int
    severity: Severity
    started_at: datetime  # offsets of the current round count from here
    next_step_at: datetime | None
    step: int = 0  # index of the next step to fire
    round: int = 0  # 0 for the first pass; each repeat adds one
    state: EscalationState = EscalationState.ACTIVE
    paged: set[int] = field(default_factory=set)  # people paged in this round
    id: int | None = None
    version: int = 0

    @classmethod
    def start(cls, incident_id: int, severity: Severity, now: datetime) -> Escalation:
        return cls(incident_id, severity, started_at=now, next_step_at=now)

    @property
    def is_active(self) -> bool:
        return self.state is EscalationState.ACTIVE

    def is_due(self, now: datetime) -> bool:
        return self.is_active and self.next_step_at is not None and self.next_step_at <= now

    def fired(self, next_step_at: datetime | None) -> None:
        """The current step has fired; the next one is due at `next_step_at`."""
        self.step += 1
        self.next_step_at = next_step_at

    def repeat(self, now: datetime) -> None:
        """Start the path again: everyone is paged anew, offsets count from now."""
        self.round += 1
        self.step = 0
        self.started_at = now
        self.next_step_at = now
        self.paged.clear()

    def exhaust(self) -> None:
        self.state = EscalationState.EXHAUSTED
        self.next_step_at = None

    def switch(self, severity: Severity, now: datetime) -> None:
        """Follow another severity's path from its start; people already paged are not paged
        again, and the steps whose time has come fire at once."""
        self.severity = severity
        self.step = 0
        if self.state is EscalationState.EXHAUSTED:
            self.state = EscalationState.ACTIVE
        if self.is_active:
            self.next_step_at = now

    def reopen(self, severity: Severity, now: datetime) -> None:
        """The incident is open again: a new round of the severity's path starts now."""
        self.severity = severity
        self.state = EscalationState.ACTIVE
        self.repeat(now)

    def stop(self, state: EscalationState) -> None:
        self.state = state
        self.next_step_at = None


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; its lease says until when
    SENT = "sent"
    DEAD = "dead"  # given up: shown on the incident and the deliveries page
    CANCELLED = "cancelled"  # no longer needed: acknowledged or resolved before it was due


class DeliveryFailure(StrEnum):
    TRANSIENT = "transient"  # retried with backoff
    PERMANENT = "permanent"  # the next contact method is tried instead


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(minutes=5)

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """Exponential backoff after failed attempt number `attempt` (1-based), with jitter so
        that many deliveries failing together do not retry together."""
        ceiling = min(self.max_delay, self.first_delay * (1 << min(max(attempt - 1, 0), 20)))
        spread = rng.uniform(0.5, 1.0) if rng else random.uniform(0.5, 1.0)
        return ceiling * spread


@dataclass
class Delivery:
    """One message to one destination; an outbox row."""

    incident_id: int
    channel: str  # the policy's channel name (email, sms, slack-incidents, …)
    method: str  # how it is sent: a contact kind, or `destination` for a policy destination
    address: str  # a contact address, or the destination's name (secrets stay in the policy)
    subject: str
    body: str
    idempotency_key: str
    due_at: datetime
    created_at: datetime
    person_id: int | None = None
    step: int | None = None
    round: int = 0
    event: str = "trigger"  # for destinations: trigger, acknowledge or resolve
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    fence: int = 0  # raised at every claim: a worker whose claim went stale cannot record
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    id: int | None = None
    # Minted at each claim, sent in the page and kept only as a hash: never stored in this row.
    ack_token: str = field(default="", compare=False)

    @classmethod
    def to_channel(
        cls,
        incident_id: int,
        channel: str,
        subject: str,
        body: str,
        now: datetime,
        *,
        event: str,
        key: tuple[object, ...],
    ) -> Delivery:
        """A message to a policy destination (chat, webhook, PagerDuty), due at once; `key`
        names what it is about, so the same message decided twice is one row."""
        return cls(
            incident_id=incident_id,
            channel=channel,
            method="destination",
            address=channel,
            subject=subject,
            body=body,
            idempotency_key=idempotency_key(incident_id, *key, channel),
            due_at=now,
            created_at=now,
            event=event,
        )

    def failed(
        self, failure: DeliveryFailure, error: str, now: datetime, retry: RetryPolicy
    ) -> bool:
        """Record a failed attempt; True when it will be retried, False when it is dead."""
        self.last_error = error[:2_000]
        self.lease_until = None
        if failure is DeliveryFailure.TRANSIENT and self.attempts < retry.attempts:
            self.status = DeliveryStatus.PENDING
            self.due_at = now + retry.delay(self.attempts)
            return True
        self.status = DeliveryStatus.DEAD
        return False

    def sent(self, now: datetime) -> None:
        self.status = DeliveryStatus.SENT
        self.sent_at = now
        self.lease_until = None
        self.last_error = ""


class SendFailed(Exception):
    """A sender could not deliver; `permanent` when trying again later cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Throttle:
    """At most `limit` pages by one kind to one person within any `per`: more wait, never drop."""

    limit: int
    per: timedelta

    def slot(self, taken: list[datetime], wanted: datetime) -> datetime:
        """The earliest time at or after `wanted` with room, given the times already taken."""
        candidate = wanted
        ordered = sorted(taken)
        while True:
            window = [t for t in ordered if candidate - self.per < t <= candidate]
            if len(window) < self.limit:
                return candidate
            candidate = window[len(window) - self.limit] + self.per


ACK_LINK_LIFETIME = timedelta(hours=24)


@dataclass
class AckLink:
    """A page's one-click acknowledgement: works once, until it expires, for one incident."""

    token_hash: str
    incident_id: int
    person_id: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    @classmethod
    def mint(cls, incident_id: int, person_id: int | None, now: datetime) -> tuple[str, AckLink]:
        """A fresh secret token and the link that only its hash opens."""
        token = secrets.token_urlsafe(24)
        link = cls(hash_token(token), incident_id, person_id, now, now + ACK_LINK_LIFETIME)
        return token, link

    def use(self, now: datetime) -> None:
        if self.used_at is not None:
            raise NoChange("this acknowledgement link was already used")
        if now >= self.expires_at:
            raise InvalidInput("this acknowledgement link has expired; acknowledge in Tocsin")
        self.used_at = now


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idempotency_key(*parts: object) -> str:
    """The same page decided twice gets the same key, so the second is refused by the outbox."""
    text = "|".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:40]
