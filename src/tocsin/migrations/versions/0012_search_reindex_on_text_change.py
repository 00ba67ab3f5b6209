"""incident search: re-index only when the title or summary text changes

Every change to an incident rewrites its whole row, title and summary included, so the SQLite
trigger of 0002 re-indexed both texts for each step fired, page sent or status set. A WHEN
clause keeps the index in step on a text change only. PostgreSQL's indexes need nothing.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REINDEX = """
        INSERT INTO incidents_search(incidents_search, rowid, title, summary)
        VALUES ('delete', old.id, old.title, old.summary);
        INSERT INTO incidents_search(rowid, title, summary)
        VALUES (new.id, new.title, new.summary);
    END"""
ON_TEXT_CHANGE = (
    "CREATE TRIGGER incidents_search_update AFTER UPDATE OF title, summary ON incidents\n"
    "    WHEN old.title IS NOT new.title OR old.summary IS NOT new.summary BEGIN" + REINDEX
)
ON_ANY_WRITE = (
    "CREATE TRIGGER incidents_search_update AFTER UPDATE OF title, summary ON incidents BEGIN"
    + REINDEX
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER incidents_search_update")
        op.execute(ON_TEXT_CHANGE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER incidents_search_update")
        op.execute(ON_ANY_WRITE)
