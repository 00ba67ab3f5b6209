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

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
BATCH = 50
RECORD_RETRY_SECONDS = 0.25


async def run_worker(tocsin: Tocsin) -> None:
    """`tocsin worker`: paging cycles, woken by other processes' NOTIFY on PostgreSQL."""
    relay = asyncio.create_task(tocsin.relay_changes())
    try:
        await run_paging(tocsin)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay


async def run_paging(tocsin: Tocsin) -> None:
    """Until cancelled: run paging cycles, each as soon as there may be work."""
    with tocsin.watch_paging() as wake:
        while True:
            wake.clear()
            try:
                busy = await paging_cycle(tocsin)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarting must not stop paging for good
                log.exception("paging cycle failed; trying again")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)


async def paging_cycle(tocsin: Tocsin) -> bool:
    """One cycle; True when it found a full batch, so the next should follow at once."""
    moved = await run_in_threadpool(tocsin.handle, commands.RunEscalations(BATCH))
    claim = commands.ClaimDeliveries(BATCH, tocsin.settings.paging_lease_seconds)
    claimed: list[Delivery] = await run_in_threadpool(tocsin.handle, claim)
    await asyncio.gather(*(_deliver(tocsin, d) for d in claimed))
    return moved >= BATCH or len(claimed) >= BATCH


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
