"""alert inbox

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "alert_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "signals",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_alert_inbox_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_inbox")),
    )
    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.create_index("ix_alert_inbox_pending", ["failed_at", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("alert_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_inbox_pending")

    op.drop_table("alert_inbox")
