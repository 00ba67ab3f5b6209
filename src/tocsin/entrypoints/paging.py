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
from collections.abc import Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.errors import ConcurrencyConflict, DomainError, UpdateFailed
from tocsin.domain.incidents import reference
from tocsin.domain.paging import Delivery, SendFailed
from tocsin.entrypoints.heap import freeze_startup_heap
from tocsin.entrypoints.intake import InboxApplier
from tocsin.views.paging import DueWork

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
BATCH = 50
# Reports per transaction. Each has a fixed cost (due queries, loading the incidents, commit):
# at five a transaction a report cost ~0.4 ms more than at twenty-five (bench/declare.py).
# Their own loop, the gap after each transaction and deferring to due pages keep pages first.
UPDATE_BATCH = 25
UPDATE_GAP_SECONDS, UPDATE_YIELD_SECONDS, UPDATE_DEFER_SECONDS = 0.05, 0.01, 1.0
UPDATE_BACKOFF_MAX_SECONDS = 60.0
SET_ASIDE_SECONDS = 600.0
RECORD_RETRY_SECONDS = 0.25


async def run_worker(tocsin: Tocsin) -> None:
    """`tocsin worker`: applying the alert inbox and paging cycles, woken by other processes'
    NOTIFY on PostgreSQL or by their commits to the SQLite file. Servers with
    TOCSIN_INTAKE_EMBEDDED=false leave applying to it."""
    helpers = [
        asyncio.create_task(tocsin.relay_changes(queues_from_peers=True)),
        asyncio.create_task(InboxApplier(tocsin, wait_seconds=0.0).run()),
    ]
    freeze_startup_heap()
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
    or page falls due; sends run beside the cycles, so a slow receiver delays no step, and
    stakeholder reports run in a loop of their own, so rendering one delays no page."""
    sending: set[asyncio.Task[None]] = set()
    recorder = Recorder(tocsin)
    helpers = [asyncio.create_task(recorder.run()), asyncio.create_task(run_updates(tocsin))]
    with tocsin.watch_paging() as wake:
        try:
            while True:
                wake.clear()
                try:
                    busy = await paging_cycle(tocsin, sending, recorder, updates=False)
                    if len(sending) >= BATCH:  # as many sends in flight as allowed: wait for one
                        await asyncio.wait(
                            sending, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
                        )
                        continue
                    pause = 0.0 if busy else await _until(tocsin, tocsin.paging.next_due)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database restarting must not stop paging for good
                    log.exception("paging cycle failed; trying again")
                    pause = POLL_SECONDS
                await _pause(wake, pause)
        finally:
            for task in (*sending, *helpers):
                task.cancel()
            await tocsin.notifier.aclose()


async def run_updates(tocsin: Tocsin) -> None:
    """Until cancelled: send stakeholder reports and reminders as they fall due. With nothing
    due, it looks again at most every UPDATE_GAP_SECONDS however often paging work wakes it:
    a report needs no millisecond haste, and each look is a query. Pages come first: while
    steps or pages are due, reports wait, up to UPDATE_DEFER_SECONDS at a time, so a storm of
    new incidents spends the process on paging people before telling stakeholders."""
    deferred_since: float | None = None
    failures = 0
    set_aside = SetAside()
    with tocsin.watch_paging() as wake:
        while True:
            wake.clear()
            try:
                due = await run_in_threadpool(tocsin.paging.due_now, tocsin.clock.now())
                pages_first = due.updates and (due.steps or due.pages)
                if pages_first and deferred_since is None:
                    deferred_since = time.monotonic()
                waited = time.monotonic() - (deferred_since or 0.0)
                if pages_first and waited < UPDATE_DEFER_SECONDS:
                    busy, pause = False, 0.0  # look again after the gap
                else:
                    deferred_since = None
                    skip = set_aside.incidents()
                    busy = await _run_reminders(tocsin, skip) if due.updates else False
                    failures = 0
                    pause = 0.0 if busy else await _until(tocsin, tocsin.paging.next_update_due)
                    if skip and not busy:  # what is still due may be only what is set aside
                        pause = max(pause, POLL_SECONDS)
            except asyncio.CancelledError:
                raise
            except UpdateFailed as failed:  # one incident's: the others' go on at once
                set_aside.add(failed.incident_id)
                log.error(
                    "stakeholder updates of %s failed; set aside for %.0f s: %s",
                    reference(failed.incident_id),
                    SET_ASIDE_SECONDS,
                    failed.detail,
                )
                continue
            except Exception:
                # Still due after a failure: without a growing pause it failed 20 times a second.
                # New paging work must not cut this pause short, so it is a plain sleep.
                pause = min(UPDATE_BACKOFF_MAX_SECONDS, POLL_SECONDS * 2**failures)
                failures += 1
                log.exception("stakeholder updates failed; trying again in %.0f s", pause)
                await asyncio.sleep(pause)
                continue
            # Even with more due, a gap: back to back, these transactions held pages up.
            await asyncio.sleep(UPDATE_YIELD_SECONDS if busy else UPDATE_GAP_SECONDS)
            await _pause(wake, pause - UPDATE_GAP_SECONDS)


async def _pause(wake: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `wake` is set meanwhile."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)


async def _until(tocsin: Tocsin, next_due: Callable[[], datetime | None]) -> float:
    """Seconds until `next_due` says the next thing is due (at most the poll interval)."""
    due = await run_in_threadpool(next_due)
    if due is None:
        return POLL_SECONDS
    return min(POLL_SECONDS, max(0.0, (due - tocsin.clock.now()).total_seconds()))


async def paging_cycle(
    tocsin: Tocsin,
    sending: set[asyncio.Task[None]] | None = None,
    recorder: Recorder | None = None,
    *,
    updates: bool = True,
) -> bool:
    """Fire due steps, claim due pages, then (with `updates`) send stakeholder reports and
    reminders that fell due; True when there may be more to do at once."""
    due = await run_in_threadpool(tocsin.paging.due_now, tocsin.clock.now())
    pages = await page_cycle(tocsin, sending, recorder, due) if due.steps or due.pages else False
    more = await update_cycle(tocsin) if updates and due.updates else False
    return pages or more


async def page_cycle(
    tocsin: Tocsin,
    sending: set[asyncio.Task[None]] | None = None,
    recorder: Recorder | None = None,
    due: DueWork | None = None,
) -> bool:
    """Fire due steps and claim due pages; True when there may be more to do at once. With
    `due`, only what it says is due (and the pages of steps just fired).

    With `sending` and `recorder`, pages are sent in tasks kept there (at most BATCH at a
    time) and the cycle returns without waiting for them; without, the cycle sends them all and
    records their outcomes first.
    """
    moved = 0
    if due is None or due.steps:
        moved = await run_in_threadpool(tocsin.handle, commands.RunEscalations(BATCH))
    room = BATCH - len(sending) if sending is not None else BATCH
    claimed: list[Delivery] = []
    if room > 0 and (due is None or due.pages or moved):
        claim = commands.ClaimDeliveries(room, tocsin.settings.paging_lease_seconds)
        claimed = await run_in_threadpool(tocsin.handle, claim)
    if sending is None or recorder is None:
        outcomes = await asyncio.gather(*(_send(tocsin, d) for d in claimed))
        await _record(tocsin, tuple(outcomes), _record_deadline(tocsin))
    else:
        for delivery in claimed:
            task = asyncio.create_task(_deliver(tocsin, delivery, recorder))
            sending.add(task)
            task.add_done_callback(sending.discard)
    return moved >= BATCH or (room > 0 and len(claimed) >= room)


async def update_cycle(tocsin: Tocsin) -> bool:
    """Send stakeholder reports and reminders that fell due; True when there may be more. A
    failure here (a broken row) is logged, and never keeps pages from going out."""
    try:
        return await _run_reminders(tocsin)
    except Exception:
        log.exception("stakeholder update reminders failed; paging goes on")
        return False


async def _run_reminders(tocsin: Tocsin, skip: tuple[int, ...] = ()) -> bool:
    reminders = commands.RunUpdateReminders(UPDATE_BATCH, skip)
    moved: int = await run_in_threadpool(tocsin.handle, reminders)
    return moved >= UPDATE_BATCH


class SetAside:
    """Incidents whose stakeholder updates failed, left alone for SET_ASIDE_SECONDS: a row
    this version cannot render must not hold up every other incident's reports."""

    def __init__(self) -> None:
        self._until: dict[int, float] = {}

    def add(self, incident_id: int) -> None:
        self._until[incident_id] = time.monotonic() + SET_ASIDE_SECONDS

    def incidents(self) -> tuple[int, ...]:
        now = time.monotonic()
        self._until = {i: until for i, until in self._until.items() if until > now}
        return tuple(sorted(self._until))


async def _deliver(tocsin: Tocsin, delivery: Delivery, recorder: Recorder) -> None:
    """A send in the background; if its outcome cannot be recorded, its lease retries it."""
    try:
        await recorder.record(await _send(tocsin, delivery))
    except Exception:
        log.exception("could not record delivery %s; it is sent again after its lease", delivery.id)


async def _send(tocsin: Tocsin, delivery: Delivery) -> commands.DeliveryOutcome:
    error, permanent = "", False
    try:
        await tocsin.notifier.send(delivery)
    except SendFailed as exc:
        error, permanent = str(exc), exc.permanent
    except Exception as exc:  # a sender bug must not lose the page: retry it like a timeout
        log.exception("sending delivery %s failed unexpectedly", delivery.id)
        error = f"{type(exc).__name__}: {exc}"
    return commands.DeliveryOutcome(delivery.id or 0, delivery.fence, error, permanent)


class Recorder:
    """Records the outcomes of finished sends together: one transaction, and one durable
    commit, for every page that finished meanwhile instead of one each. At a hundred pages a
    second those commits, queued behind one write lock on SQLite, were what held pages up."""

    def __init__(self, tocsin: Tocsin) -> None:
        self._tocsin = tocsin
        self._waiting: list[tuple[commands.DeliveryOutcome, asyncio.Future[None]]] = []
        self._ready = asyncio.Event()
        self._alone: set[asyncio.Task[None]] = set()

    async def record(self, outcome: commands.DeliveryOutcome) -> None:
        """Returns once the outcome is recorded; raises if it could not be."""
        recorded = asyncio.get_running_loop().create_future()
        self._waiting.append((outcome, recorded))
        self._ready.set()
        await recorded

    async def run(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                batch, self._waiting = self._waiting, []
                await self._record_batch(batch)
        finally:
            for task in self._alone:
                task.cancel()

    async def _record_batch(
        self, batch: list[tuple[commands.DeliveryOutcome, asyncio.Future[None]]]
    ) -> None:
        """One try for the whole batch; on failure each outcome keeps trying alone, in a task of
        its own, so one that cannot be recorded holds up neither the others nor later batches."""
        try:
            await _record(self._tocsin, tuple(outcome for outcome, _ in batch), time.monotonic())
        except Exception:
            log.warning("recording %d deliveries failed; retrying each alone", len(batch))
            for single in batch:
                task = asyncio.create_task(self._record_alone(*single))
                self._alone.add(task)
                task.add_done_callback(self._alone.discard)
            return
        for _, recorded in batch:
            _settle(recorded, None)

    async def _record_alone(
        self, outcome: commands.DeliveryOutcome, recorded: asyncio.Future[None]
    ) -> None:
        try:
            await _record(self._tocsin, (outcome,), _record_deadline(self._tocsin))
        except Exception as exc:
            _settle(recorded, exc)
            return
        _settle(recorded, None)


def _settle(recorded: asyncio.Future[None], error: Exception | None) -> None:
    if recorded.done():  # its send task was cancelled
        return
    if error is None:
        recorded.set_result(None)
    else:
        recorded.set_exception(error)


def _record_deadline(tocsin: Tocsin) -> float:
    """A sent page unrecorded until its lease runs out is sent again (same idempotency key):
    recording keeps trying for half the lease."""
    return time.monotonic() + tocsin.settings.paging_lease_seconds / 2


async def _record(
    tocsin: Tocsin, outcomes: tuple[commands.DeliveryOutcome, ...], deadline: float
) -> None:
    """Record outcomes in one transaction, retrying while the database is away."""
    if not outcomes:
        return
    while True:
        try:
            await run_in_threadpool(tocsin.handle, commands.RecordDeliveries(outcomes))
            return
        except Exception as exc:
            if time.monotonic() >= deadline or _refused(exc):
                raise
            log.warning("recording %d deliveries failed; retrying", len(outcomes))
            await asyncio.sleep(RECORD_RETRY_SECONDS)


def _refused(error: Exception) -> bool:
    """A refusal (no such delivery) is the same on every try; a conflict may pass."""
    return isinstance(error, DomainError) and not isinstance(error, ConcurrencyConflict)
