"""Alembic environment: runs on the connection Tocsin hands over, or on TOCSIN_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from tocsin.adapters.database import connect
from tocsin.adapters.orm import metadata, modelled
from tocsin.config import load_settings


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = connect(load_settings().database_url)
    try:
        with database.writer.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        database.dispose()


run_migrations_online()
