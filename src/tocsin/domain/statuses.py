"""Incident statuses and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from tocsin.domain.errors import InvalidInput


class Status(StrEnum):
    """The public lifecycle of an incident, in its usual order."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_open(self) -> bool:
        """Open incidents still need responders; resolved and closed ones do not."""
        return self in OPEN_STATUSES

    @classmethod
    def parse(cls, raw: str, *, field: str = "status") -> Status:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise InvalidInput(
                f"unknown status {raw!r}; expected one of {names}", field=field
            ) from None


OPEN_STATUSES = frozenset({Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING})

# Any open status may move to any other open status (new facts send people back) or resolve;
# resolved incidents close when post-incident work is done, and both can be reopened.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.INVESTIGATING: (Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED),
    Status.IDENTIFIED: (Status.INVESTIGATING, Status.MONITORING, Status.RESOLVED),
    Status.MONITORING: (Status.INVESTIGATING, Status.IDENTIFIED, Status.RESOLVED),
    Status.RESOLVED: (Status.CLOSED, Status.INVESTIGATING),
    Status.CLOSED: (Status.INVESTIGATING,),
}


def allowed_from(status: Status) -> tuple[Status, ...]:
    """Statuses reachable in one step from `status`."""
    return TRANSITIONS[status]
