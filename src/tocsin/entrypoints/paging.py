"""The paging worker loop: fire due escalation steps, then send due deliveries.

It runs inside `tocsin serve` (embedded mode) or as `tocsin worker` processes (scale mode).
Nothing it knows lives only in memory: every cycle starts from the rows, so a restarted worker
picks up exactly where the database says things stand. It wakes at once when a transaction
queues paging work (in-process signal, or NOTIFY on PostgreSQL) and otherwise every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.concurrency import run_in_threadpool

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.paging import Delivery, SendFailed
from tocsin.entrypoints.intake import InboxApplier

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
BATCH = 50
RECORD_RETRY_SECONDS = 0.25


async def run_worker(tocsin: Tocsin) -> None:
    """`tocsin worker`: applying the alert inbox and paging cycles, woken by other processes'
    NOTIFY on PostgreSQL. Servers with TOCSIN_INTAKE_EMBEDDED=false leave applying to it."""
    helpers = [
        asyncio.create_task(tocsin.relay_changes()),
        asyncio.create_task(InboxApplier(tocsin, wait_seconds=0.0).run()),
    ]
    try:
        await run_paging(tocsin)
    finally:
        for task in helpers:
            task.cancel()
        for task in helpers:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def run_paging(tocsin: Tocsin) -> None:
    """Until cancelled: run paging cycles as soon as there may be work, or when the next step
    or page falls due; sends run beside the cycles, so a slow receiver delays no step."""
    sending: set[asyncio.Task[None]] = set()
    with tocsin.watch_paging() as wake:
        try:
            while True:
                wake.clear()
                try:
                    busy = await paging_cycle(tocsin, sending)
                    if len(sending) >= BATCH:  # as many sends in flight as allowed: wait for one
                        await asyncio.wait(
                            sending, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                        )
                        continue
                    pause = 0.0 if busy else await _until_due(tocsin)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database restarting must not stop paging for good
                    log.exception("paging cycle failed; trying again")
                    pause = POLL_SECONDS
                if pause > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), pause)
        finally:
            for task in sending:
                task.cancel()


async def _until_due(tocsin: Tocsin) -> float:
    """Seconds until the next step or page is due (at most the poll interval)."""
    due = await run_in_threadpool(tocsin.paging.next_due)
    if due is None:
        return POLL_SECONDS
    return min(POLL_SECONDS, max(0.0, (due - tocsin.clock.now()).total_seconds()))


async def paging_cycle(tocsin: Tocsin, sending: set[asyncio.Task[None]] | None = None) -> bool:
    """Fire due steps and claim due pages; True when there may be more to do at once.

    With `sending`, pages are sent in tasks kept there (at most BATCH at a time) and the cycle
    returns without waiting for them; without it, the cycle sends and records them all first.
    """
    moved = await run_in_threadpool(tocsin.handle, commands.RunEscalations(BATCH))
    room = BATCH - len(sending) if sending is not None else BATCH
    claimed: list[Delivery] = []
    if room > 0:
        claim = commands.ClaimDeliveries(room, tocsin.settings.paging_lease_seconds)
        claimed = await run_in_threadpool(tocsin.handle, claim)
    if sending is None:
        await asyncio.gather(*(_deliver(tocsin, d) for d in claimed))
    else:
        for delivery in claimed:
            task = asyncio.create_task(_deliver_logged(tocsin, delivery))
            sending.add(task)
            task.add_done_callback(sending.discard)
    # Stakeholder-update reminders and reports come after the pages, which are more urgent; a
    # failure there (a broken row) is logged and never keeps pages from going out.
    try:
        reminded = await run_in_threadpool(tocsin.handle, commands.RunUpdateReminders(BATCH))
        moved = max(moved, reminded)
    except Exception:
        log.exception("stakeholder update reminders failed; paging goes on")
    return moved >= BATCH or (room > 0 and len(claimed) >= room)


async def _deliver_logged(tocsin: Tocsin, delivery: Delivery) -> None:
    """A send in the background; if its outcome cannot be recorded, its lease retries it."""
    try:
        await _deliver(tocsin, delivery)
    except Exception:
        log.exception("could not record delivery %s; it is sent again after its lease", delivery.id)


async def _deliver(tocsin: Tocsin, delivery: Delivery) -> None:
    error, permanent = "", False
    try:
        await run_in_threadpool(tocsin.notifier.send, delivery)
    except SendFailed as exc:
        error, permanent = str(exc), exc.permanent
    except Exception as exc:  # a sender bug must not lose the page: retry it like a timeout
        log.exception("sending delivery %s failed unexpectedly", delivery.id)
        error = f"{type(exc).__name__}: {exc}"
    record = commands.RecordDelivery(delivery.id or 0, delivery.fence, error, permanent)
    await _record(
        tocsin, record, deadline=time.monotonic() + tocsin.settings.paging_lease_seconds / 2
    )


async def _record(tocsin: Tocsin, record: commands.RecordDelivery, deadline: float) -> None:
    """Record the outcome, retrying while the database is away: a sent page that goes
    unrecorded until its lease runs out is sent again (with the same idempotency key)."""
    while True:
        try:
            await run_in_threadpool(tocsin.handle, record)
            return
        except Exception:
            if time.monotonic() >= deadline:
                raise
            log.warning("recording delivery %s failed; retrying", record.delivery_id)
            await asyncio.sleep(RECORD_RETRY_SECONDS)
