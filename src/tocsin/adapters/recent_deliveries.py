"""Deliveries this process stored in the alert inbox, kept decoded for its own applier.

Reading a delivery back costs parsing its JSON and building its signals again, on the applier's
path, while (on SQLite) it holds the write lock every answer waits for. The writer keeps what it
committed here; the applier takes each back by inbox id, if it is still the same row: on SQLite,
which numbers deliveries afresh once the inbox empties, only when the stored text is the very
text kept; on PostgreSQL ids come from a sequence and are never reused. What is kept is
bounded: when full, new deliveries are not kept (an applier running behind takes the oldest
first, so those are the ones worth keeping), and what another process applied, or set aside, is
forgotten once the applier reads past it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from tocsin.domain.alerts import AlertSignal

MAX_SIGNALS = 5_000  # about 12 MB of alerts from webhooks


class RecentDeliveries:
    def __init__(self, *, ids_reused: bool, max_signals: int = MAX_SIGNALS) -> None:
        self._ids_reused = ids_reused
        self._max_signals = max_signals
        self._kept: dict[int, tuple[str, tuple[AlertSignal, ...]]] = {}
        self._signals = 0
        self._lock = threading.Lock()

    def keep(self, deliveries: Iterable[tuple[int, str, tuple[AlertSignal, ...]]]) -> None:
        """(inbox id, stored text, signals) of deliveries just committed."""
        if not self._max_signals:
            return
        with self._lock:
            for inbox_id, stored, signals in deliveries:
                self._forget(inbox_id)
                if self._signals + len(signals) > self._max_signals:
                    continue
                self._kept[inbox_id] = (stored, signals)
                self._signals += len(signals)

    def take(self, inbox_id: int, stored: str) -> tuple[AlertSignal, ...] | None:
        """The signals of the delivery stored under `inbox_id` as `stored`, if kept."""
        with self._lock:
            kept = self._forget(inbox_id)
        if kept is None or (self._ids_reused and kept[0] != stored):
            return None
        return kept[1]

    def forget_before(self, oldest_pending: int | None) -> None:
        """The applier read the inbox: deliveries older than the oldest still pending (all, if
        none is) were applied or set aside, here or elsewhere, and will not be taken."""
        with self._lock:
            stale = [i for i in self._kept if oldest_pending is None or i < oldest_pending]
            for inbox_id in stale:
                self._forget(inbox_id)

    def _forget(self, inbox_id: int) -> tuple[str, tuple[AlertSignal, ...]] | None:
        kept = self._kept.pop(inbox_id, None)
        if kept is not None:
            self._signals -= len(kept[1])
        return kept
