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


def test_a_worker_on_sqlite_hears_of_work_another_process_commits(
    sqlite_url: str, clock: FakeClock
) -> None:
    """Two wired Tocsins on one SQLite file stand for a server and a `tocsin worker`: the
    worker's queues wake when the server commits, not when its poll interval runs out, and
    stay quiet while nobody commits."""
    server = make_tocsin(sqlite_url, clock)
    worker = make_tocsin(sqlite_url, clock)

    async def scenario() -> tuple[bool, bool, bool]:
        with worker.watch_paging() as paging, worker.watch_inbox() as inbox:
            relay = asyncio.create_task(worker.relay_changes(queues_from_peers=True))
            try:
                await asyncio.wait_for(paging.wait(), timeout=5)  # the first look wakes once
                paging.clear()
                inbox.clear()
                await asyncio.sleep(0.3)
                quiet = not paging.is_set() and not inbox.is_set()
                await run_in_threadpool(
                    server.handle, c.DeclareIncident("from the server", Severity.P1, ALICE)
                )
                await asyncio.wait_for(paging.wait(), timeout=5)
                return quiet, paging.is_set(), inbox.is_set()
            finally:
                relay.cancel()

    try:
        assert asyncio.run(scenario()) == (True, True, True)
        assert asyncio.run(_relay_without_peers(server)) is False
    finally:
        server.close()
        worker.close()


async def _relay_without_peers(tocsin: Tocsin) -> bool:
    """A server on SQLite runs its own worker: it does not watch the file for commits."""
    with tocsin.watch_paging() as paging:
        relay = asyncio.create_task(tocsin.relay_changes())
        await asyncio.sleep(0.2)
        relay.cancel()
        return paging.is_set()
