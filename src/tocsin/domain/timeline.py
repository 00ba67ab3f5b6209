"""The incident timeline: append-only entries, written by people and by Tocsin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tocsin.domain.errors import InvalidInput

MAX_BODY = 10_000


class EntryKind(StrEnum):
    """What an entry records; the first four are written by people."""

    OBSERVATION = "observation"
    ACTION = "action"
    DECISION = "decision"
    COMMUNICATION = "communication"
    DECLARED = "declared"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    ROLE_ASSIGNED = "role_assigned"
    ROLE_RELIEVED = "role_relieved"
    TIMESTAMP_SET = "timestamp_set"
    DETAILS_UPDATED = "details_updated"
    ALERT_FIRED = "alert_fired"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    ALERT_RESOLVED = "alert_resolved"
    ACKNOWLEDGED = "acknowledged"
    PAGED = "paged"
    ESCALATION = "escalation"  # a step fired, fell through, repeated or ran out
    DELIVERY_FAILED = "delivery_failed"
    OVERRIDE = "override"  # an admin acted outside their incident role
    PARTICIPANT_INVITED = "participant_invited"
    VISIBILITY_CHANGED = "visibility_changed"
    # workflow: stages, checklists and tasks
    STAGE_CHANGED = "stage_changed"
    CHECKLIST = "checklist"
    TASK = "task"
    # ----- communications (issue 5) -----
    STAKEHOLDER_UPDATE = "stakeholder_update"  # an update sent to audiences, with its promise
    UPDATE_OVERDUE = "update_overdue"  # the promised next update did not come in time
    # runbooks, actions and recovery checks (issue 5)
    RUNBOOK_ATTACHED = "runbook_attached"
    RUNBOOK_STEP = "runbook_step"
    ACTION_REQUESTED = "action_requested"
    ACTION_APPROVED = "action_approved"
    ACTION_RESULT = "action_result"
    CHECK_RESULT = "check_result"  # a recovery check passed (evidence) or failed

    @property
    def is_manual(self) -> bool:
        return self in MANUAL_KINDS

    @classmethod
    def parse_manual(cls, raw: str) -> EntryKind:
        """Parse the kind of a person's entry; system kinds are refused."""
        try:
            kind = cls(raw.strip().lower())
        except ValueError:
            kind = None
        if kind is None or not kind.is_manual:
            names = ", ".join(k.value for k in MANUAL_KINDS)
            raise InvalidInput(f"unknown entry kind {raw!r}; expected one of {names}", field="kind")
        return kind


MANUAL_KINDS = (
    EntryKind.OBSERVATION,
    EntryKind.ACTION,
    EntryKind.DECISION,
    EntryKind.COMMUNICATION,
)


@dataclass
class TimelineEntry:
    """One line of the timeline. Its content never changes; only the key-moment flag does."""

    incident_id: int
    seq: int
    kind: EntryKind
    body: str
    author: str
    occurred_at: datetime
    recorded_at: datetime
    author_user_id: int | None = None
    corrects_seq: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    key_moment: bool = False
    key_moment_by: str | None = None
    key_moment_at: datetime | None = None
    id: int | None = None


def clean_body(body: str, field_name: str = "body") -> str:
    """Trim and bound a free-text body; empty text is refused."""
    text = body.strip()
    if not text:
        raise InvalidInput(f"{field_name} must not be empty", field=field_name)
    if len(text) > MAX_BODY:
        raise InvalidInput(
            f"{field_name} is {len(text)} characters; the limit is {MAX_BODY}", field=field_name
        )
    return text
