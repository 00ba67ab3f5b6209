"""The schema's shared parts: the metadata and naming convention, and column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    MetaData,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every dialect (SQLite stores no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; use aware UTC")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        recent: dict[datetime, str] = {}

        def to_text(value: datetime | None) -> str | None:
            """SQLAlchemy's SQLite text, made by one C call: formatting it field by field
            took a tenth of the time spent applying a batch of alerts. The rows of a
            transaction carry a few times over and over (its `now`, when the deliveries
            arrived, the start their senders stated), so recent answers are kept."""
            if value is None:
                return None
            text = recent.get(value)
            if text is None:
                utc = value if value.tzinfo is UTC else self.process_bind_param(value, dialect)
                assert utc is not None  # process_bind_param refuses naive values
                text = utc.isoformat(" ", "microseconds")[:26]  # without the "+00:00"
                if len(recent) >= 256:
                    recent.clear()
                recent[value] = text
            return text

        return to_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL for indexing later; plain JSON text on SQLite.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

DEFERRED: dict[str, Any] = {"deferrable": True, "initially": "DEFERRED"}
