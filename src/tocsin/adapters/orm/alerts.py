"""Integrations, alerts, silences, the inbox and change events."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tocsin.adapters.orm.base import DEFERRED, JsonDocument, UtcDateTime, metadata

integrations = Table(
    "integrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(128), nullable=False, unique=True),
    Column("service", String(63), nullable=True),
    Column("secret", String(255), nullable=True),
    Column("config", JsonDocument, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("key_rotated_at", UtcDateTime, nullable=True),
)

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("matchers", JsonDocument, nullable=False),  # ["name=\"value\"", …] as written
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expired_at", UtcDateTime, nullable=True),
    Index("ix_silences_ends_at", "ends_at"),
)

# Alerts a silence keeps from declaring: firing, muted, no incident yet.
MUTED_AND_WAITING = "silenced_by IS NOT NULL AND status = 'firing' AND incident_id IS NULL"
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id"), nullable=False),
    Column("dedup_key", String(255), nullable=False),
    # The dedup key while the alert is open, NULL once resolved: at most one open alert per key,
    # enforced by the database even when two deliveries race.
    Column("open_key", String(255), nullable=True),
    Column("status", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("severity", String(2), nullable=False),
    Column("source_severity", String(32), nullable=False),
    Column("service", String(63), nullable=True),
    Column("declares", Boolean, nullable=False),
    Column("rule", String(200), nullable=True),
    Column("labels", JsonDocument, nullable=False),
    Column("annotations", JsonDocument, nullable=False),
    Column("details", JsonDocument, nullable=False),
    Column("links", JsonDocument, nullable=False),
    Column("source", String(255), nullable=False),
    Column("group_key", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("first_received_at", UtcDateTime, nullable=False),
    Column("last_received_at", UtcDateTime, nullable=False),
    Column("received_count", Integer, nullable=False),
    # Checked at commit: the incident an alert declares is written when the transaction ends.
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=True),
    Column("silenced_by", ForeignKey("silences.id"), nullable=True),
    Column("raw", JsonDocument, nullable=False),
    UniqueConstraint("integration_id", "open_key"),
    Index("ix_alerts_integration_key", "integration_id", "dedup_key", "id"),
    Index("ix_alerts_incident", "incident_id", "status"),
    Index("ix_alerts_received", "first_received_at", "id"),
    Index("ix_alerts_status_received", "status", "first_received_at"),
    # Firing alerts a silence keeps from declaring, for declaring them once it is over.
    Index(
        "ix_alerts_silenced",
        "silenced_by",
        sqlite_where=text(MUTED_AND_WAITING),
        postgresql_where=text(MUTED_AND_WAITING),
    ),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("integration_id", ForeignKey("integrations.id"), primary_key=True),
    Column("interval_seconds", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("last_ping_at", UtcDateTime, nullable=True),
    Column("firing", Boolean, nullable=False),
    Index("ix_heartbeats_due", "firing", "due_at"),
)

# Accepted deliveries not yet applied: written (group-committed) before the sender is answered,
# applied to alerts and incidents right after, and deleted in the transaction that applies them.
alert_inbox = Table(
    "alert_inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id"), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("signals", JsonDocument, nullable=False),
    Column("failed_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_alert_inbox_pending", "failed_at", "id"),
)

change_events = Table(
    "change_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id"), nullable=False),
    Column("summary", String(1024), nullable=False),
    Column("service", String(63), nullable=True),
    Column("source", String(255), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("details", JsonDocument, nullable=False),
    Column("links", JsonDocument, nullable=False),
    Index("ix_change_events_service_occurred", "service", "occurred_at"),
    Index("ix_change_events_occurred", "occurred_at", "id"),
)

# One row per grouping key (a service, or a sender's group): the incident its alerts join.
# Locking the row serialises concurrent deliveries that would otherwise each declare one.
alert_groups = Table(
    "alert_groups",
    metadata,
    Column("key", String(320), primary_key=True),
    # Checked at commit: the incident an alert declares is written when the transaction ends.
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_alert_groups_incident", "incident_id"),
)

# On-call schedules as their validated YAML documents; who is on call is computed from them.
