"""What the incident page's Communications panels show: the contract, the history, the form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from tocsin.bootstrap import Tocsin
from tocsin.domain.communications import Audience, UpdateTemplate
from tocsin.policy.durations import format_duration
from tocsin.views.communications import IncidentCommunications


@dataclass(frozen=True)
class AudienceChoice:
    value: str
    label: str
    channel: str  # where the policy says this audience hears updates (channels.updates)


class CommunicationsPanel:
    """Loaded only when a Communications panel renders."""

    templates = tuple(UpdateTemplate)

    def __init__(self, tocsin: Tocsin, incident_id: int) -> None:
        self._tocsin = tocsin
        self.id = incident_id

    @cached_property
    def record(self) -> IncidentCommunications:
        return self._tocsin.communications.for_incident(self.id)

    @cached_property
    def now(self) -> datetime:
        return self._tocsin.clock.now()

    @property
    def state(self) -> str | None:
        """overdue (red), due-soon (amber), on-track; None when no update is promised."""
        promise = self.record.promise
        return None if promise is None else promise.state(self.now)

    @property
    def minutes_left(self) -> int:
        promise = self.record.promise
        if promise is None:
            return 0
        return int(abs(promise.remaining(self.now).total_seconds()) // 60)

    @property
    def remind_before(self) -> str:
        return format_duration(self._tocsin.policy.communications.remind_before)

    @property
    def audiences(self) -> list[AudienceChoice]:
        channels = self._tocsin.policy.channels.updates
        return [
            AudienceChoice(a.value, a.value.title(), getattr(channels, a.value)) for a in Audience
        ]

    @property
    def default_template(self) -> str:
        """The Initial Incident Report until one has gone out, then Status Updates."""
        sent = {u.template for u in self.record.updates}
        return "status" if UpdateTemplate.INITIAL.value in sent else "initial"
