"""Silences and maintenance windows: matching alerts are recorded but declare and page nobody."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tocsin.domain.errors import InvalidInput
from tocsin.domain.matchers import Matcher, all_match

COMMENT_MAX = 1_000


@dataclass
class Silence:
    id: int | None
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None = None  # ended early by someone

    @classmethod
    def create(
        cls,
        matchers: tuple[Matcher, ...],
        starts_at: datetime,
        ends_at: datetime,
        comment: str,
        created_by: str,
        now: datetime,
    ) -> Silence:
        if not matchers:
            raise InvalidInput(
                "a silence needs at least one matcher, or it would mute every alert",
                field="matchers",
            )
        if ends_at <= now:
            raise InvalidInput("ends_at is already in the past", field="ends_at")
        if ends_at <= starts_at:
            raise InvalidInput("ends_at must be later than starts_at", field="ends_at")
        comment = " ".join(comment.split())
        if not comment:
            raise InvalidInput("say why alerts are silenced (comment)", field="comment")
        if len(comment) > COMMENT_MAX:
            raise InvalidInput(f"comment is longer than {COMMENT_MAX} characters", field="comment")
        return cls(None, matchers, starts_at, ends_at, comment, created_by, now)

    def is_active(self, now: datetime) -> bool:
        end = min(self.ends_at, self.expired_at) if self.expired_at else self.ends_at
        return self.starts_at <= now < end

    def mutes(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.is_active(now) and all_match(self.matchers, labels)

    def expire(self, now: datetime) -> None:
        if not self.is_active(now) and self.starts_at <= now:
            raise InvalidInput(f"silence {self.id} has already ended", field="silence")
        self.expired_at = now
