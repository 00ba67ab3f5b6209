"""Apply the alert inbox as deliveries arrive, and let each request wait for its own outcome.

A webhook request is answered once its delivery is durable in the inbox; it then waits (briefly)
for the applier so the sender and anyone reading right after see the alerts and incidents. In an
alert storm (another answer already waiting, or more than `BUSY_PER_SECOND` alerts a second
to this process) answers stop waiting: senders holding their connections for the applier would
cap intake at the applier's pace.
The applier runs in every server process: whoever takes the inbox's lock applies it, in arrival
order. While alerts pour in it pauses briefly between passes, so each pass applies many: a pass
has a fixed cost (a transaction, a commit, the events it publishes) that a few alerts apiece
would pay over and over, taking the time and the write lock the inbox writer needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.concurrency import run_in_threadpool

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.alerts import AlertSignal, IntakeResult
from tocsin.domain.errors import InboxItemFailed, Unavailable

log = logging.getLogger(__name__)
BATCH = 200  # deliveries in one pass at most
# Deliveries of many alerts each are applied a few at a time. On SQLite a pass holds the write
# lock that answers and pages wait for; on PostgreSQL nobody waits, and a pass's statements per
# incident it touches are paid less often in larger passes.
ALERTS_PER_PASS = {"sqlite": 200, "postgresql": 2000}
POLL_SECONDS = 1.0  # deliveries another process committed while its applier was down
BUSY_PER_SECOND = 100
GATHER_AFTER = 8  # alerts in one pass: more are likely on the way
GATHER_SECONDS = 0.02


async def watch_the_clock(tocsin: Tocsin, every_seconds: float) -> None:
    """Until cancelled: fire the alert of every heartbeat whose interval passed without a ping,
    and declare the alerts still firing whose silence is over.

    Both are found from their rows (when a heartbeat is due, which silence muted an alert and
    when it ends), so a restart loses nothing: the next check finds them.
    """
    checks = (
        (commands.CheckHeartbeats(), "checking heartbeats"),
        (commands.ReleaseSilencedAlerts(), "declaring alerts whose silence is over"),
    )
    while True:
        for command, doing in checks:
            try:
                await run_in_threadpool(tocsin.handle, command)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again", doing)
        await asyncio.sleep(every_seconds)


class InboxApplier:
    def __init__(self, tocsin: Tocsin, wait_seconds: float = 2.0) -> None:
        self._tocsin = tocsin
        self._wait_seconds = wait_seconds
        self._waiters: dict[int, asyncio.Future[IntakeResult]] = {}
        # Results that arrived before their request started waiting. Only ids of this process's
        # requests in flight are kept: SQLite numbers deliveries afresh once the inbox empties.
        self._finished: dict[int, IntakeResult] = {}
        self._in_flight: set[int] = set()
        self._second = 0
        self._arrivals = 0  # alerts submitted in `_second`
        self._busy_until = 0
        self._per_pass = BATCH  # deliveries, fitted to how many alerts the last ones carried

    async def submit(
        self, integration_id: int, signals: tuple[AlertSignal, ...]
    ) -> IntakeResult | None:
        """Durably accept a delivery; its outcome, or None if applying it takes longer."""
        try:
            inbox_id = await self._tocsin.inbox.accept(
                integration_id, signals, on_stored=self._in_flight.add
            )
        except Exception as exc:  # logged by the writer; the sender must retry
            raise Unavailable(
                "the delivery could not be stored just now and nothing was recorded; send it again"
            ) from exc
        try:
            if inbox_id in self._finished:
                return self._finished.pop(inbox_id)
            if self._busy(len(signals)) or not self._wait_seconds:
                return None
            outcome: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
            self._waiters[inbox_id] = outcome
            try:
                return await asyncio.wait_for(outcome, self._wait_seconds)
            except TimeoutError:
                return None  # still safe in the inbox; it will be applied
        finally:
            self._waiters.pop(inbox_id, None)
            self._finished.pop(inbox_id, None)
            self._in_flight.discard(inbox_id)

    def _busy(self, alerts: int) -> bool:
        """Count a delivery's alerts; whether answers should stop waiting for the applier:
        another answer is already waiting, or alerts arrive faster than `BUSY_PER_SECOND`."""
        second = int(time.monotonic())
        if second != self._second:
            self._second, self._arrivals = second, 0
        self._arrivals += alerts
        if self._arrivals > BUSY_PER_SECOND:
            self._busy_until = second + 1
        return bool(self._waiters) or second <= self._busy_until

    async def run(self) -> None:
        """Until cancelled: apply whenever woken, and every second in case a wake was missed."""
        with self._tocsin.watch_inbox() as wake:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()
                try:
                    if await self._apply_all() >= GATHER_AFTER:
                        await asyncio.sleep(GATHER_SECONDS)
                except asyncio.CancelledError:
                    raise
                except Exception:  # keep applying later deliveries; this one is retried
                    log.exception("applying the alert inbox failed; retrying")
                    await asyncio.sleep(POLL_SECONDS)

    async def _apply_all(self) -> int:
        """Apply until the inbox is empty; how many alerts the last pass applied."""
        quarantine: tuple[tuple[int, str], ...] = ()
        while True:
            limit = self._per_pass
            try:
                results = await run_in_threadpool(
                    self._tocsin.handle, commands.ProcessInbox(limit, quarantine)
                )
            except InboxItemFailed as failed:
                log.error("delivery %d set aside: %s", failed.item_id, failed.detail)
                quarantine = ((failed.item_id, failed.detail),)
                continue
            quarantine = ()
            for inbox_id, result in results.items():
                self._publish(inbox_id, result)
            alerts = sum(len(result.dedup_keys) for result in results.values())
            if alerts:
                wanted = ALERTS_PER_PASS[self._tocsin.database.dialect]
                self._per_pass = max(1, min(BATCH, wanted * len(results) // alerts))
            if len(results) < limit:
                return alerts

    def _publish(self, inbox_id: int, result: IntakeResult) -> None:
        waiter = self._waiters.get(inbox_id)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(result)
        elif inbox_id in self._in_flight:
            self._finished[inbox_id] = result  # its request has not started waiting yet
