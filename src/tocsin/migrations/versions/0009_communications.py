"""communications: stakeholder updates and their "next update by" promises

Revision ID: 0009_communications
Revises: 0008_workflow
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009_communications"
down_revision = "0008_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stakeholder_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=16), nullable=False),
        sa.Column(
            "audiences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_stakeholder_updates_incident_id_incidents"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_updates")),
    )
    with op.batch_alter_table("stakeholder_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stakeholder_updates_incident", ["incident_id", "id"], unique=False
        )

    op.create_table(
        "update_promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_update_promises_incident_id_incidents"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["stakeholder_updates.id"],
            name=op.f("fk_update_promises_update_id_stakeholder_updates"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_promises")),
    )
    with op.batch_alter_table("update_promises", schema=None) as batch_op:
        batch_op.create_index("ix_update_promises_due", ["next_check_at"], unique=False)
        batch_op.create_index("ix_update_promises_incident", ["incident_id", "id"], unique=False)

    op.create_table(
        "scheduled_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(length=16), nullable=False),
        sa.Column(
            "audiences",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_scheduled_updates_incident_id_incidents"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_updates")),
    )
    with op.batch_alter_table("scheduled_updates", schema=None) as batch_op:
        batch_op.create_index("ix_scheduled_updates_due", ["done_at", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_updates_due")
    op.drop_table("scheduled_updates")
    with op.batch_alter_table("update_promises", schema=None) as batch_op:
        batch_op.drop_index("ix_update_promises_incident")
        batch_op.drop_index("ix_update_promises_due")
    op.drop_table("update_promises")
    with op.batch_alter_table("stakeholder_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_stakeholder_updates_incident")
    op.drop_table("stakeholder_updates")
