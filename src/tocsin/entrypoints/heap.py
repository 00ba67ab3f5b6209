"""Keep the garbage collector's full passes short in long-running processes.

Everything loaded at start (SQLAlchemy, pydantic, Jinja, the policy, routes) lives as long as
the process, yet a full collection walked all of it: one pause of 100 to 150 ms was enough to
put the pages in flight at 100 alerts/s past the p99 target (bench/paging.py). Freezing the
start-up heap leaves full passes only what was created since.

Applying alerts makes many short-lived objects. At the default thresholds (a young pass every
700 allocations) collections took about 5 % of the server's time in a storm of batched alerts:
1,399 of them in 13 s, the longest 17 ms. At a young pass every 10,000 allocations the same
storm had 7, 27 ms in all, the longest 6 ms.
"""

from __future__ import annotations

import gc

THRESHOLDS = (10_000, 20, 20)  # allocations for a young pass; young passes per older one


def freeze_startup_heap() -> None:
    """Call once the process is ready to serve: what exists now is never collected again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
