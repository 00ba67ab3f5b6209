"""incident text search indexes

Substring search over incident titles and summaries without reading every row: pg_trgm GIN
indexes on PostgreSQL, an FTS5 trigram table kept in step by triggers on SQLite.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("title", "summary")

SQLITE_UPGRADE = (
    """CREATE VIRTUAL TABLE incidents_search USING fts5(
        title, summary, content='incidents', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER incidents_search_insert AFTER INSERT ON incidents BEGIN
        INSERT INTO incidents_search(rowid, title, summary)
        VALUES (new.id, new.title, new.summary);
    END""",
    """CREATE TRIGGER incidents_search_delete AFTER DELETE ON incidents BEGIN
        INSERT INTO incidents_search(incidents_search, rowid, title, summary)
        VALUES ('delete', old.id, old.title, old.summary);
    END""",
    """CREATE TRIGGER incidents_search_update AFTER UPDATE OF title, summary ON incidents BEGIN
        INSERT INTO incidents_search(incidents_search, rowid, title, summary)
        VALUES ('delete', old.id, old.title, old.summary);
        INSERT INTO incidents_search(rowid, title, summary)
        VALUES (new.id, new.title, new.summary);
    END""",
    "INSERT INTO incidents_search(incidents_search) VALUES ('rebuild')",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER incidents_search_update",
    "DROP TRIGGER incidents_search_delete",
    "DROP TRIGGER incidents_search_insert",
    "DROP TABLE incidents_search",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in COLUMNS:
        op.create_index(
            f"ix_incidents_{name}_trgm",
            "incidents",
            [name],
            postgresql_using="gin",
            postgresql_ops={name: "gin_trgm_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
        return
    for name in COLUMNS:
        op.drop_index(f"ix_incidents_{name}_trgm", table_name="incidents")
