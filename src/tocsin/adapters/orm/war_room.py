"""The war room: participants, messages, workflows and tasks, updates, runbooks and actions."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tocsin.adapters.orm.base import DEFERRED, JsonDocument, UtcDateTime, metadata

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
