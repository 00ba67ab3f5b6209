"""Table definitions: the one description of the schema, used by repositories, views and Alembic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
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
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

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

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("handle", String(63), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("email", String(320), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("title", String(120), nullable=False, server_default=""),
    Column("contact_methods", JsonDocument, nullable=False),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    # The on-call schedule whose people `on-call engineer` pages for this team's services.
    Column("schedule", String(63), nullable=True),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id"), nullable=False, index=True),
    Column("role", String(120), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("team_id", "person_id", "role"),
)

services = Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("team_id", ForeignKey("teams.id"), nullable=True, index=True),
    Column("tier", Integer, nullable=False),
    Column("runbook_urls", JsonDocument, nullable=False),
)

service_dependencies = Table(
    "service_dependencies",
    metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), nullable=False),
    Column("depends_on_id", ForeignKey("services.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("service_id", "depends_on_id"),
)

MILESTONE_COLUMNS = (
    "impact_started_at",
    "detected_at",
    "declared_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("severity", String(2), nullable=False),
    Column("status", String(16), nullable=False),
    Column("user_impact", Text, nullable=False),
    Column("business_impact", Text, nullable=False),
    Column("customer_facing", Boolean, nullable=False),
    Column("detection_source", String(32), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("timeline_seq", Integer, nullable=False),
    *(Column(name, UtcDateTime, nullable=name != "declared_at") for name in MILESTONE_COLUMNS),
    # {milestone: {source, set_by, recorded_at}} for each value set above
    Column("timestamp_provenance", JsonDocument, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Private incidents (security breaches) are seen only by their participants and admins.
    Column("private", Boolean, nullable=False, server_default=false()),
    Index("ix_incidents_declared", "declared_at", "id"),
    Index("ix_incidents_status_declared", "status", "declared_at"),
    Index("ix_incidents_severity_declared", "severity", "declared_at"),
)

# Free-text search is a substring match kept off full scans by dialect-specific structures that
# only the migrations describe: an FTS5 trigram table (and its shadow tables) on SQLite, pg_trgm
# GIN indexes on PostgreSQL. Alembic cannot model either, so schema comparisons skip them.
SQLITE_SEARCH_TABLE = "incidents_search"
POSTGRES_SEARCH_INDEXES = frozenset({"ix_incidents_title_trgm", "ix_incidents_summary_trgm"})


def modelled(name: str | None, type_: str, _parent: object) -> bool:
    """Alembic's include_name filter: everything but the text search structures."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SQLITE_SEARCH_TABLE)
    return not (type_ == "index" and name in POSTGRES_SEARCH_INDEXES)


incident_services = Table(
    "incident_services",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("service_id", ForeignKey("services.id"), nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("incident_id", "service_id"),
    Index("ix_incident_services_service", "service_id", "incident_id"),
)

incident_roles = Table(
    "incident_roles",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("person_id", ForeignKey("people.id"), nullable=False, index=True),
    Column("person_name", String(120), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("assigned_by", String(120), nullable=False),
    PrimaryKeyConstraint("incident_id", "role", "person_id"),
)

# Who takes part in an incident: role holders, the people paged, those invited, its declarer.
incident_participants = Table(
    "incident_participants",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("people.id"), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("added_by", String(120), nullable=False),
    PrimaryKeyConstraint("incident_id", "person_id"),
)

# The war room's conversation: messages between participants, beside the timeline.
war_room_messages = Table(
    "war_room_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(120), nullable=False),
    Column("author_user_id", Integer, nullable=True),
    Column("body", Text, nullable=False),
    Column("posted_at", UtcDateTime, nullable=False),
    Column("via", String(63), nullable=True),  # the chat integration it came through
    Index("ix_war_room_messages_incident", "incident_id", "id"),
)

timeline_entries = Table(
    "timeline_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("author", String(120), nullable=False),
    Column("author_user_id", Integer, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("corrects_seq", Integer, nullable=True),
    Column("data", JsonDocument, nullable=False),
    Column("key_moment", Boolean, nullable=False),
    Column("key_moment_by", String(120), nullable=True),
    Column("key_moment_at", UtcDateTime, nullable=True),
    UniqueConstraint("incident_id", "seq"),
)

DEFERRED: dict[str, Any] = {"deferrable": True, "initially": "DEFERRED"}

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

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(63), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("org_role", String(16), nullable=False),
    Column("person_id", ForeignKey("people.id"), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# ----- workflow: stages, checklists and the task graph (issue 5, the war room) -----------------
# Where each incident stands in its workflow; the stages are a snapshot of the policy's workflow
# at declaration, so editing the policy never rewrites a running incident's checklists.
incident_workflows = Table(
    "incident_workflows",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), primary_key=True),
    Column("workflow", String(63), nullable=False),
    Column("stage", String(63), nullable=False),
    Column("stages", JsonDocument, nullable=False),  # [{key, name, role, checklist}, …]
    Column("ticks", JsonDocument, nullable=False),  # [{stage, item, by, at}, …]
    Column("resolution_task", String(63), nullable=True),
    Column("version", Integer, nullable=False),
)

# An incident's tasks: the workflow's graph and its severity's parallel workstreams.
incident_tasks = Table(
    "incident_tasks",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("key", String(63), nullable=False),
    Column("position", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("priority", String(16), nullable=False),
    Column("role", String(32), nullable=True),
    Column("estimate_seconds", Integer, nullable=True),
    Column("depends_on", JsonDocument, nullable=False),
    Column("workstream", String(120), nullable=False),  # the team's name; empty for graph tasks
    Column("team", String(63), nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner_id", ForeignKey("people.id"), nullable=True),
    Column("owner_name", String(120), nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("incident_id", "key"),
)

# ----- communications (issue 5): stakeholder updates and their "next update by" promises -----
# Every update as sent; its deliveries are rows in `deliveries` (event "update").
stakeholder_updates = Table(
    "stakeholder_updates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("template", String(16), nullable=False),
    Column("audiences", JsonDocument, nullable=False),
    Column("subject", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("author", String(120), nullable=False),
    Column("author_user_id", Integer, nullable=True),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("next_update_at", UtcDateTime, nullable=True),
    Index("ix_stakeholder_updates_incident", "incident_id", "id"),
)

# One row per promise; `next_check_at` is when the worker reminds or records it missed.
update_promises = Table(
    "update_promises",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("update_id", ForeignKey("stakeholder_updates.id", **DEFERRED), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("remind_at", UtcDateTime, nullable=False),
    Column("reminded_at", UtcDateTime, nullable=True),
    Column("overdue_at", UtcDateTime, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("next_check_at", UtcDateTime, nullable=True),
    Index("ix_update_promises_due", "next_check_at"),
    Index("ix_update_promises_incident", "incident_id", "id"),
)

# Updates Tocsin sends by itself (the Initial Incident Report on declaration), due at `due_at`.
scheduled_updates = Table(
    "scheduled_updates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("template", String(16), nullable=False),
    Column("audiences", JsonDocument, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Index("ix_scheduled_updates_due", "done_at", "due_at"),
)

# ----- runbooks, actions and recovery checks (issue 5: the war room) ---------------------------
runbooks = Table(
    "runbooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("services", JsonDocument, nullable=False),
    Column("alerts", JsonDocument, nullable=False),
    Column("private", Boolean, nullable=False),
    Column("actions", JsonDocument, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Action definitions; header values and URLs keep `${NAME}` secret references, never values.
actions = Table(
    "actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("method", String(8), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("headers", JsonDocument, nullable=False),
    Column("body", Text, nullable=False),
    Column("timeout", Float, nullable=False),
    Column("requires_approval", Boolean, nullable=False),
    Column("expect_status", Integer, nullable=True),
    Column("runbook", String(63), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

# A runbook followed on an incident: its steps as attached, with who ticked each and when.
incident_runbooks = Table(
    "incident_runbooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("runbook_id", ForeignKey("runbooks.id"), nullable=False),
    Column("slug", String(63), nullable=False),
    Column("title", String(200), nullable=False),
    Column("steps", JsonDocument, nullable=False),
    Column("attached_by", String(120), nullable=False),
    Column("attached_at", UtcDateTime, nullable=False),
    UniqueConstraint("incident_id", "slug"),
)

# Runs of actions and checks: requested → (approved) → running → outcome. A run still running
# past deadline_at lost its worker and is shown as "outcome unknown".
action_runs = Table(
    "action_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", ForeignKey("incidents.id", **DEFERRED), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("name", String(63), nullable=False),
    Column("method", String(8), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("headers", JsonDocument, nullable=False),
    Column("body", Text, nullable=False),
    Column("timeout", Float, nullable=False),
    Column("state", String(20), nullable=False),
    Column("requires_approval", Boolean, nullable=False),
    Column("expect_status", Integer, nullable=True),
    Column("check_spec", JsonDocument, nullable=True),
    Column("requested_by", String(120), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("approved_by", String(120), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("deadline_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=True),
    Column("excerpt", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("passes", Integer, nullable=False),
    Index("ix_action_runs_incident", "incident_id", "id"),
)
