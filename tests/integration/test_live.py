"""Live-change notification reaches watchers in this process and, on PostgreSQL, in others."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from starlette.concurrency import run_in_threadpool

from tests.conftest import make_tocsin
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands as c
from tocsin.domain.actors import Actor
from tocsin.domain.errors import InvalidTransition
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind

ALICE = Actor("Alice")


def test_a_commit_wakes_watchers_of_that_incident_only(tocsin: Tocsin) -> None:
    first = tocsin.handle(c.DeclareIncident("one", Severity.P2, ALICE))
    second = tocsin.handle(c.DeclareIncident("two", Severity.P2, ALICE))

    async def scenario() -> tuple[bool, bool]:
        with tocsin.hub.subscribe(first) as woke_first, tocsin.hub.subscribe(second) as woke_second:
            await run_in_threadpool(
                tocsin.handle, c.AddTimelineEntry(first, EntryKind.OBSERVATION, "hi", ALICE)
            )
            await asyncio.sleep(0.05)
            return woke_first.is_set(), woke_second.is_set()

    assert asyncio.run(scenario()) == (True, False)


def test_a_refused_command_wakes_nobody(tocsin: Tocsin) -> None:
    number = tocsin.handle(c.DeclareIncident("one", Severity.P2, ALICE))

    async def scenario() -> bool:
        with tocsin.hub.subscribe(number) as woke:
            with contextlib.suppress(InvalidTransition):
                await run_in_threadpool(tocsin.handle, c.ChangeStatus(number, Status.CLOSED, ALICE))
            await asyncio.sleep(0.05)
            return woke.is_set()

    assert asyncio.run(scenario()) is False


def test_postgres_carries_changes_to_another_server_process(
    request: pytest.FixtureRequest, clock: FakeClock
) -> None:
    """Two wired Tocsins stand for two server processes sharing one database."""
    url = request.getfixturevalue("_postgres_migrated")
    writer = make_tocsin(url, clock)
    reader = make_tocsin(url, clock)
    number = writer.handle(c.DeclareIncident("shared", Severity.P1, ALICE))

    async def scenario() -> bool:
        relay = asyncio.create_task(reader.relay_changes())
        try:
            with reader.hub.subscribe(number) as woke:
                await asyncio.sleep(0.5)  # let the listener connect
                await run_in_threadpool(
                    writer.handle,
                    c.AddTimelineEntry(number, EntryKind.ACTION, "from elsewhere", ALICE),
                )
                await asyncio.wait_for(woke.wait(), timeout=5)
                return True
        finally:
            relay.cancel()

    try:
        assert asyncio.run(scenario())
    finally:
        writer.close()
        reader.close()
