"""Fixtures shared by the paging tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.paging.pager import Pager
from tests.paging.receivers import Receiver
from tocsin.policy import load_default_policy


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _default_pager(url: str) -> Iterator[Pager]:
    made = Pager(url, load_default_policy())
    yield made
    made.core.close()


@pytest.fixture
def pager(db_url: str) -> Iterator[Pager]:
    """On a new SQLite file, and again on PostgreSQL."""
    yield from _default_pager(db_url)


@pytest.fixture
def pg_pager(postgres_url: str) -> Iterator[Pager]:
    """PostgreSQL only, for what SQLite cannot show: it serialises writers, so they never
    wait on each other's rows."""
    yield from _default_pager(postgres_url)
