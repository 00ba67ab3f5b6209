"""Change events: deploys and config changes, kept per service to explain what broke."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tocsin.domain.alerts import Link
from tocsin.domain.errors import InvalidInput

SUMMARY_MAX = 1024
# How far before an incident's start its services' changes are shown as suspects.
CORRELATION_WINDOW = timedelta(hours=1)


@dataclass
class ChangeEvent:
    id: int | None
    integration_id: int
    summary: str
    occurred_at: datetime
    received_at: datetime
    service: str | None = None
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)

    @classmethod
    def record(
        cls,
        integration_id: int,
        summary: str,
        now: datetime,
        *,
        occurred_at: datetime | None = None,
        service: str | None = None,
        source: str = "",
        details: dict[str, Any] | None = None,
        links: list[Link] | None = None,
    ) -> ChangeEvent:
        text = " ".join(summary.split())
        if not text:
            raise InvalidInput("summary must not be empty", field="summary")
        if len(text) > SUMMARY_MAX:
            raise InvalidInput(f"summary is longer than {SUMMARY_MAX} characters", field="summary")
        return cls(
            id=None,
            integration_id=integration_id,
            summary=text,
            occurred_at=min(occurred_at or now, now),  # a sender's clock ahead of ours is no future
            received_at=now,
            service=service,
            source=source[:255],
            details=details or {},
            links=links or [],
        )
