"""war room: private incidents, participants, messages

Revision ID: 0011
Revises: 0010_runbooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010_runbooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: rebuilding the table on SQLite would drop its search triggers.
    op.add_column(
        "incidents",
        sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "incident_participants",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_participants_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_incident_participants_person_id_people")
        ),
        sa.PrimaryKeyConstraint("incident_id", "person_id", name=op.f("pk_incident_participants")),
    )
    op.create_index(
        op.f("ix_incident_participants_person_id"),
        "incident_participants",
        ["person_id"],
        unique=False,
    )
    op.create_table(
        "war_room_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=63), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_war_room_messages_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_war_room_messages")),
    )
    op.create_index(
        "ix_war_room_messages_incident", "war_room_messages", ["incident_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_war_room_messages_incident", table_name="war_room_messages")
    op.drop_table("war_room_messages")
    op.drop_index(op.f("ix_incident_participants_person_id"), table_name="incident_participants")
    op.drop_table("incident_participants")
    op.drop_column("incidents", "private")
