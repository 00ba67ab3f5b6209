"""runbooks, actions and recovery checks

Revision ID: 0010_runbooks
Revises: 0009_communications
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_runbooks"
down_revision = "0009_communications"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "runbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("services", _json(), nullable=False),
        sa.Column("alerts", _json(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("actions", _json(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbooks")),
        sa.UniqueConstraint("slug", name=op.f("uq_runbooks_slug")),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("headers", _json(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("expect_status", sa.Integer(), nullable=True),
        sa.Column("runbook", sa.String(length=63), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint("name", name=op.f("uq_actions_name")),
    )
    op.create_table(
        "incident_runbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("runbook_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("steps", _json(), nullable=False),
        sa.Column("attached_by", sa.String(length=120), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_runbooks_incident_id_incidents"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["runbook_id"],
            ["runbooks.id"],
            name=op.f("fk_incident_runbooks_runbook_id_runbooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_runbooks")),
        sa.UniqueConstraint(
            "incident_id", "slug", name=op.f("uq_incident_runbooks_incident_id_slug")
        ),
    )
    op.create_table(
        "action_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("headers", _json(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("expect_status", sa.Integer(), nullable=True),
        sa.Column("check_spec", _json(), nullable=True),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=120), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("passes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_action_runs_incident_id_incidents"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_runs")),
    )
    with op.batch_alter_table("action_runs", schema=None) as batch_op:
        batch_op.create_index("ix_action_runs_incident", ["incident_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_table("action_runs")
    op.drop_table("incident_runbooks")
    op.drop_table("actions")
    op.drop_table("runbooks")
