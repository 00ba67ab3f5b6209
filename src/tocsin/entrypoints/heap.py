"""Keep the garbage collector's full passes short in long-running processes.

Everything loaded at start (SQLAlchemy, pydantic, Jinja, the policy, routes) lives as long as
the process, yet a full collection walked all of it: one pause of 100 to 150 ms was enough to
put the pages in flight at 100 alerts/s past the p99 target (bench/paging.py). Freezing the
start-up heap leaves full passes only what was created since.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process is ready to serve: what exists now is never collected again."""
    gc.collect()
    gc.freeze()
