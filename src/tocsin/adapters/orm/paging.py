"""Schedules, escalations, deliveries and acknowledgement links."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from tocsin.adapters.orm.base import DEFERRED, JsonDocument, UtcDateTime, metadata

schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("document", JsonDocument, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Where each incident stands in its escalation path; `next_step_at` is the engine's only timer.
escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False, unique=True),
    Column("severity", String(2), nullable=False),
    Column("state", String(16), nullable=False),
    Column("step", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("next_step_at", UtcDateTime, nullable=True),
    Column("paged", JsonDocument, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_escalations_due", "state", "next_step_at"),
)

# The outbox: every page and channel message, written with the step that decided it.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("person_id", Integer, nullable=True),
    Column("step", Integer, nullable=True),
    Column("round", Integer, nullable=False),
    Column("channel", String(63), nullable=False),
    Column("method", String(32), nullable=False),
    Column("event", String(16), nullable=False),
    Column("address", String(1024), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("fence", Integer, nullable=False),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_deliveries_due", "status", "due_at"),
    Index("ix_deliveries_incident", "incident_id", "id"),
)

# One-click acknowledgement links sent in pages: only a hash of the secret token is kept.
ack_links = Table(
    "ack_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("person_id", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)
