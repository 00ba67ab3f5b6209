"""alerts: an index of muted alerts

Alerts a silence muted are looked up when silences end, so those still firing declare their
incident then. Only muted alerts are in the index.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MUTED = sa.text("silenced_by IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_alerts_silenced",
        "alerts",
        ["silenced_by"],
        sqlite_where=MUTED,
        postgresql_where=MUTED,
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_silenced", table_name="alerts")
