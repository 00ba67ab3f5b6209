"""alerts: an index of the alerts a silence keeps from declaring

They are looked up every few seconds, so that those still firing when their silence is over
declare their incident then. Only firing, muted alerts without an incident are in the index,
so it stays small however many alerts silences muted in the past.

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

MUTED = sa.text("silenced_by IS NOT NULL AND status = 'firing' AND incident_id IS NULL")


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
