"""Run Alembic from inside Tocsin: upgrade to head, and tell whether a database is current."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tocsin.adapters.database import Database


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", "tocsin:migrations")
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run on every start and from several processes."""
    config = alembic_config(database)
    with database.writer.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Two servers starting together must not both create the tables.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7452316)")
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def current_revision(database: Database) -> str | None:
    with database.reader.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()
