"""Alembic migrations, shipped inside the package so an installed Tocsin can upgrade itself."""
