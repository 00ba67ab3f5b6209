"""Integrations: named, keyed front doors through which monitoring tools send alerts and changes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tocsin.domain.catalog import clean_slug
from tocsin.domain.errors import InvalidInput

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


class IntegrationKind(StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    PAGERDUTY = "pagerduty"
    GENERIC = "generic"
    HEARTBEAT = "heartbeat"
    CHANGE = "change"
    CHAT = "chat"  # war-room messages from a chat tool's outgoing webhook

    @classmethod
    def parse(cls, raw: str) -> IntegrationKind:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            names = ", ".join(k.value for k in cls)
            raise InvalidInput(
                f"unknown integration kind {raw!r}; expected one of {names}", field="kind"
            ) from None

    @property
    def sends_alerts(self) -> bool:
        return self not in (IntegrationKind.CHANGE, IntegrationKind.CHAT)


@dataclass
class Integration:
    """`key` authenticates the sender: it is part of the URL, or PagerDuty's routing key."""

    id: int | None
    name: str
    kind: IntegrationKind
    key: str
    created_at: datetime
    created_by: str
    service: str | None = None  # slug of the service its alerts belong to unless routed elsewhere
    secret: str | None = None  # Grafana's HMAC signing secret
    config: dict[str, Any] = field(default_factory=dict)
    key_rotated_at: datetime | None = None

    def rotate_key(self, new_key: str, now: datetime) -> None:
        self.key = check_key(new_key)
        self.key_rotated_at = now


def clean_integration_name(raw: str) -> str:
    return clean_slug(raw, "name")


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidInput(
            "an integration key is 16 to 128 letters, digits, '-' or '_'", field="key"
        )
    return key


MIN_HEARTBEAT = timedelta(seconds=10)


@dataclass
class Heartbeat:
    """A dead man's switch: the sender pings within every interval, or an alert fires."""

    integration_id: int
    interval: timedelta
    due_at: datetime
    last_ping_at: datetime | None = None
    firing: bool = False

    @classmethod
    def start(cls, integration_id: int, interval: timedelta, now: datetime) -> Heartbeat:
        if interval < MIN_HEARTBEAT:
            raise InvalidInput(
                f"a heartbeat interval is at least {int(MIN_HEARTBEAT.total_seconds())} seconds",
                field="interval",
            )
        return cls(integration_id, interval, now + interval)

    def ping(self, now: datetime) -> bool:
        """Record a ping; True when it ends a missed-heartbeat alert."""
        was_firing = self.firing
        self.last_ping_at = now
        self.due_at = now + self.interval
        self.firing = False
        return was_firing

    def is_missed(self, now: datetime) -> bool:
        return not self.firing and now >= self.due_at

    def miss(self) -> None:
        self.firing = True
