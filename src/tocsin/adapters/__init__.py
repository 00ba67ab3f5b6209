"""Adapters: SQLAlchemy storage, clock, password hashing and live-change notification."""
