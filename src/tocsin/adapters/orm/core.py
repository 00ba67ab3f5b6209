"""The catalog, incidents, their timelines and roles."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from tocsin.adapters.orm.base import JsonDocument, UtcDateTime, metadata

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
