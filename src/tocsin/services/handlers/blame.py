"""Blame a failure on the one item being handled, so the items behind it can go on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tocsin.domain.errors import ConcurrencyConflict, DomainError


@contextmanager
def blamed_on(error: Callable[[str], DomainError]) -> Iterator[None]:
    """Any failure inside becomes `error(detail)`, which names the item; the caller sets it
    aside. A conflict is nobody's fault: it passes as it is, and the whole pass is tried again."""
    try:
        yield
    except ConcurrencyConflict:
        raise
    except Exception as exc:
        raise error(f"{type(exc).__name__}: {exc}") from exc
