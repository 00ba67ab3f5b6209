"""The war room's people and conversation: participants, private incidents, messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tocsin.domain.errors import InvalidInput

MESSAGE_MAX = 4_000


class JoinReason(StrEnum):
    """Why someone is a participant; only invitations are announced on the timeline."""

    DECLARED = "declared"
    ROLE = "role"
    PAGED = "paged"
    INVITED = "invited"
    TASK = "task owner"


@dataclass(frozen=True)
class Participant:
    """A person taking part in an incident; private incidents are visible to these people only."""

    person_id: int
    reason: JoinReason
    added_at: datetime
    added_by: str


@dataclass
class Message:
    """One message in the war room's live conversation."""

    incident_id: int
    author: str
    author_user_id: int | None
    body: str
    posted_at: datetime
    via: str | None = None  # the chat integration it came through; None when posted in Tocsin
    id: int | None = None


def clean_message(body: str) -> str:
    """Trim a message and refuse empty or oversized ones."""
    text = body.strip()
    if not text:
        raise InvalidInput("message must not be empty", field="body")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput(
            f"message is {len(text)} characters; the limit is {MESSAGE_MAX}", field="body"
        )
    return text


def mirrored_text(reference: str, author: str, body: str) -> str:
    """How a war-room message reads in a chat tool; the leading reference marks it as ours."""
    return f"[{reference}] {author}: {body}"


def is_mirrored(text: str) -> bool:
    """A chat message that is one of our own mirrored messages coming back: not taken in again."""
    return _MIRRORED.match(text.lstrip()) is not None


_MIRRORED = re.compile(r"^\[INC-\d+\] ")
