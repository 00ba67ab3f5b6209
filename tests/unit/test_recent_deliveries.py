"""What the inbox writer keeps decoded for its own applier, and when the applier may use it."""

from __future__ import annotations

from tocsin.adapters.recent_deliveries import RecentDeliveries
from tocsin.domain.alerts import AlertSignal, SignalAction


def signals(*keys: str) -> tuple[AlertSignal, ...]:
    return tuple(AlertSignal(key, SignalAction.TRIGGER) for key in keys)


def test_a_delivery_is_taken_once_and_only_as_stored_where_numbers_are_reused() -> None:
    recent = RecentDeliveries(ids_reused=True)
    recent.keep([(1, "text-1", signals("a")), (2, "text-2", signals("b"))])
    assert recent.take(1, "another delivery under number 1") is None
    assert recent.take(1, "text-1") is None, "a failed check forgets it"
    assert recent.take(2, "text-2") == signals("b")
    assert recent.take(2, "text-2") is None, "taken once"


def test_where_numbers_are_never_reused_the_number_is_enough() -> None:
    recent = RecentDeliveries(ids_reused=False)
    recent.keep([(7, "as written", signals("a"))])
    assert recent.take(7, "as the database writes it back") == signals("a")


def test_when_full_the_oldest_stay_kept_and_new_ones_are_read_back_instead() -> None:
    recent = RecentDeliveries(ids_reused=False, max_signals=3)
    recent.keep([(1, "", signals("a", "b")), (2, "", signals("c", "d")), (3, "", signals("e"))])
    assert recent.take(2, "") is None, "it did not fit"
    assert recent.take(1, "") == signals("a", "b")
    assert recent.take(3, "") == signals("e")
    recent.keep([(4, "", signals("f", "g", "h"))])
    assert recent.take(4, "") == signals("f", "g", "h"), "taking made room"


def test_what_was_applied_elsewhere_is_forgotten_once_the_applier_reads_past_it() -> None:
    """Else deliveries another process applied would fill it for good."""
    recent = RecentDeliveries(ids_reused=False, max_signals=3)
    recent.keep([(1, "", signals("a")), (2, "", signals("b")), (3, "", signals("c"))])
    recent.forget_before(3)
    assert recent.take(1, "") is None and recent.take(2, "") is None
    recent.keep([(4, "", signals("d")), (5, "", signals("e"))])
    assert recent.take(4, "") == signals("d"), "there was room again"
    recent.forget_before(None)  # the inbox is empty
    assert recent.take(3, "") is None and recent.take(5, "") is None


def test_nothing_is_kept_where_nothing_may_be() -> None:
    """A server that leaves applying to a `tocsin worker` keeps none of what it stores."""
    recent = RecentDeliveries(ids_reused=False, max_signals=0)
    recent.keep([(1, "", signals("a")), (2, "", ())])
    assert recent.take(1, "") is None and recent.take(2, "") is None
