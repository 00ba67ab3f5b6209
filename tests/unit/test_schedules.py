"""On-call schedules: who is on call at concrete instants, across DST, layers, overrides and edits."""

from __future__ import annotations

import copy
import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from tocsin.domain.errors import InvalidInput, NotFound
from tocsin.domain.rotations import Layer, Rotation, Shift, ShiftKind, WeeklyWindow
from tocsin.domain.schedule_documents import parse_schedule
from tocsin.domain.schedules import Override, OverrideKind, Schedule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rotation(
    kind: str,
    starts_at: datetime,
    people: tuple[str, ...] = ("ana", "ben", "cara"),
    length: int | timedelta = 1,
    zone: str = "Europe/Berlin",
    restrictions: tuple[WeeklyWindow, ...] = (),
) -> Rotation:
    return Rotation(
        participants=people,
        kind=ShiftKind(kind),
        length=length,
        starts_at=starts_at,
        time_zone=zone,
        restrictions=restrictions,
    )


def schedule(*rotations: Rotation, overrides: tuple[Override, ...] = ()) -> Schedule:
    """Layers in the order given: the last one has the highest precedence."""
    layers = tuple(Layer.of(f"layer {i}", r) for i, r in enumerate(rotations))
    return Schedule("ops", "Ops", "Europe/Berlin", layers, overrides)


def override(
    kind: str, person: str, start: datetime, end: datetime, replaces: str | None = None
) -> Override:
    return Override(
        kind=OverrideKind(kind), person=person, starts_at=start, ends_at=end, replaces=replaces
    )


def handoffs(s: Schedule, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    return [(shift.person, shift.starts_at) for shift in s.shifts(start, end)]


# ----- rotation kinds ---------------------------------------------------------------------------
def test_weekly_rotation_hands_off_every_monday_at_local_nine() -> None:
    s = schedule(rotation("weekly", local(BERLIN, 2026, 1, 5, 9)))
    assert s.on_call(local(BERLIN, 2026, 1, 5, 8, 59)) == ()  # before the first hand-off
    assert s.on_call(local(BERLIN, 2026, 1, 5, 9)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 12, 8, 59)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 12, 9)) == ("ben",)
    assert s.on_call(local(BERLIN, 2026, 1, 21, 3)) == ("cara",)
    assert s.on_call(local(BERLIN, 2026, 1, 26, 9)) == ("ana",)
    # 26 weeks later it is summer time: still 09:00 in Berlin, now 07:00 UTC.
    assert s.on_call(utc(2026, 7, 6, 6, 59)) == ("ben",)
    assert s.on_call(utc(2026, 7, 6, 7, 0)) == ("cara",)


def test_weekly_rotation_of_two_weeks() -> None:
    s = schedule(rotation("weekly", local(BERLIN, 2026, 1, 5, 9), length=2))
    assert s.on_call(local(BERLIN, 2026, 1, 16, 12)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 19, 9)) == ("ben",)
    assert s.on_call(local(BERLIN, 2026, 2, 2, 9)) == ("cara",)


def test_daily_rotation_and_daily_rotation_of_two_days() -> None:
    daily = schedule(rotation("daily", local(BERLIN, 2026, 1, 5, 9)))
    assert daily.on_call(local(BERLIN, 2026, 1, 6, 8, 59)) == ("ana",)
    assert daily.on_call(local(BERLIN, 2026, 1, 6, 9)) == ("ben",)
    assert daily.on_call(local(BERLIN, 2026, 1, 7, 23)) == ("cara",)
    assert daily.on_call(local(BERLIN, 2026, 1, 8, 9)) == ("ana",)
    two_days = schedule(rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben"), length=2))
    assert two_days.on_call(local(BERLIN, 2026, 1, 6, 20)) == ("ana",)
    assert two_days.on_call(local(BERLIN, 2026, 1, 7, 9)) == ("ben",)
    assert two_days.on_call(local(BERLIN, 2026, 1, 9, 9)) == ("ana",)


def test_hourly_rotation() -> None:
    s = schedule(rotation("hourly", utc(2026, 1, 5, 0)))
    assert s.on_call(utc(2026, 1, 5, 0, 30)) == ("ana",)
    assert s.on_call(utc(2026, 1, 5, 1, 0)) == ("ben",)
    assert s.on_call(utc(2026, 1, 5, 2, 59)) == ("cara",)
    assert s.on_call(utc(2026, 1, 5, 3, 0)) == ("ana",)
    four_hours = schedule(rotation("hourly", utc(2026, 1, 5, 0), length=4))
    assert four_hours.on_call(utc(2026, 1, 5, 3, 59)) == ("ana",)
    assert four_hours.on_call(utc(2026, 1, 5, 4, 0)) == ("ben",)


def test_custom_shifts_follow_the_sun_in_eight_hours_and_ninety_minutes() -> None:
    sun = schedule(
        rotation("custom", utc(2026, 1, 5, 0), ("apac", "emea", "amer"), timedelta(hours=8))
    )
    assert sun.on_call(utc(2026, 1, 5, 7, 59)) == ("apac",)
    assert sun.on_call(utc(2026, 1, 5, 8, 0)) == ("emea",)
    assert sun.on_call(utc(2026, 1, 5, 16, 0)) == ("amer",)
    assert sun.on_call(utc(2026, 1, 6, 0, 0)) == ("apac",)
    odd = schedule(rotation("custom", utc(2026, 1, 5, 0), ("ana", "ben"), timedelta(minutes=90)))
    assert odd.on_call(utc(2026, 1, 5, 1, 29)) == ("ana",)
    assert odd.on_call(utc(2026, 1, 5, 1, 30)) == ("ben",)
    assert odd.on_call(utc(2026, 1, 5, 3, 0)) == ("ana",)


def test_a_participant_may_appear_twice_in_the_order() -> None:
    s = schedule(rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben", "ana", "cara")))
    days = [s.on_call(local(BERLIN, 2026, 1, 5 + n, 12))[0] for n in range(5)]
    assert days == ["ana", "ben", "ana", "cara", "ana"]


# ----- daylight saving time ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "day_before", "before_utc", "after_utc", "hours"),
    [
        (BERLIN, date(2026, 3, 28), utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), 23),
        (BERLIN, date(2026, 10, 24), utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), 25),
        (NEW_YORK, date(2026, 3, 7), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), 23),
        (NEW_YORK, date(2026, 10, 31), utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), 25),
    ],
    ids=[
        "berlin-spring-forward",
        "berlin-fall-back",
        "new-york-spring-forward",
        "new-york-fall-back",
    ],
)
def test_daily_handoff_stays_at_local_nine_across_dst(
    zone: ZoneInfo, day_before: date, before_utc: datetime, after_utc: datetime, hours: int
) -> None:
    starts_at = datetime.combine(day_before, time(9), tzinfo=zone)
    s = schedule(rotation("daily", starts_at, zone=str(zone)))
    shifts = s.shifts(starts_at, starts_at + timedelta(days=3))
    assert [(x.person, x.starts_at) for x in shifts[:3]] == [
        ("ana", before_utc),
        ("ben", after_utc),
        ("cara", after_utc + timedelta(hours=24)),
    ]
    assert after_utc - before_utc == timedelta(hours=hours)  # the UTC hand-off moved by an hour
    assert {x.starts_at.astimezone(zone).time() for x in shifts} == {time(9)}
    assert s.on_call(after_utc - timedelta(minutes=1)) == ("ana",)
    assert s.on_call(after_utc) == ("ben",)


def test_weekly_handoff_across_new_york_dst_lasts_167_and_169_hours() -> None:
    spring = schedule(rotation("weekly", local(NEW_YORK, 2026, 3, 2, 9), zone="America/New_York"))
    assert handoffs(spring, utc(2026, 3, 2, 14), utc(2026, 3, 10)) == [
        ("ana", utc(2026, 3, 2, 14)),
        ("ben", utc(2026, 3, 9, 13)),
    ]
    fall = schedule(rotation("weekly", local(NEW_YORK, 2026, 10, 26, 9), zone="America/New_York"))
    assert handoffs(fall, utc(2026, 10, 26, 13), utc(2026, 11, 3)) == [
        ("ana", utc(2026, 10, 26, 13)),
        ("ben", utc(2026, 11, 2, 14)),
    ]


def test_hourly_shifts_count_real_hours_across_dst() -> None:
    people = ("ana", "ben", "cara", "dan")
    spring = schedule(rotation("hourly", local(BERLIN, 2026, 3, 29, 0), people))  # 23:00 UTC
    # 04:30 CEST is 3.5 real hours after midnight CET (the wall clock says 4.5).
    assert spring.on_call(local(BERLIN, 2026, 3, 29, 4, 30)) == ("dan",)
    assert [x.starts_at for x in spring.shifts(utc(2026, 3, 28, 23), utc(2026, 3, 29, 3))] == [
        utc(2026, 3, 28, 23),
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
    ]
    fall = schedule(rotation("hourly", local(BERLIN, 2026, 10, 25, 0), people))  # 22:00 UTC
    assert fall.on_call(local(BERLIN, 2026, 10, 25, 3, 30)) == ("ana",)  # 4.5 real hours later
    # 02:30 happens twice that night: first in summer time, then an hour later in winter time.
    assert fall.on_call(local(BERLIN, 2026, 10, 25, 2, 30)) == ("cara",)
    assert fall.on_call(datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1)) == ("dan",)


def test_handoff_in_the_spring_gap_moves_forward_and_in_the_fold_takes_the_first() -> None:
    people = ("ana", "ben", "cara", "dan")
    spring = schedule(rotation("daily", local(BERLIN, 2026, 3, 27, 2, 30), people))
    assert handoffs(spring, utc(2026, 3, 27), utc(2026, 3, 30, 12)) == [
        ("ana", utc(2026, 3, 27, 1, 30)),
        ("ben", utc(2026, 3, 28, 1, 30)),
        ("cara", utc(2026, 3, 29, 1, 30)),  # 02:30 does not exist: 03:30 CEST
        ("dan", utc(2026, 3, 30, 0, 30)),  # 02:30 CEST
    ]
    fall = schedule(rotation("daily", local(BERLIN, 2026, 10, 23, 2, 30), people))
    assert handoffs(fall, utc(2026, 10, 23), utc(2026, 10, 26, 12)) == [
        ("ana", utc(2026, 10, 23, 0, 30)),
        ("ben", utc(2026, 10, 24, 0, 30)),
        ("cara", utc(2026, 10, 25, 0, 30)),  # the first 02:30, still summer time
        ("dan", utc(2026, 10, 26, 1, 30)),  # 02:30 CET
    ]


# ----- restrictions -----------------------------------------------------------------------------
def test_business_hours_restriction_leaves_the_layer_empty_outside_them() -> None:
    hours = WeeklyWindow(WEEKDAYS, time(9), time(17))
    s = schedule(
        rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben"), restrictions=(hours,))
    )
    assert s.on_call(local(BERLIN, 2026, 1, 6, 8, 59)) == ()
    assert s.on_call(local(BERLIN, 2026, 1, 6, 10)) == ("ben",)
    assert s.on_call(local(BERLIN, 2026, 1, 6, 17)) == ()
    assert s.on_call(local(BERLIN, 2026, 1, 10, 10)) == ()  # Saturday
    assert s.shifts(utc(2026, 1, 5), utc(2026, 1, 7)) == [
        Shift("ana", utc(2026, 1, 5, 8), utc(2026, 1, 5, 16)),
        Shift("ben", utc(2026, 1, 6, 8), utc(2026, 1, 6, 16)),
    ]


def test_overnight_window_runs_into_the_next_day() -> None:
    friday_night = WeeklyWindow(frozenset({4}), time(18), time(9))
    s = schedule(
        rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("ana",), restrictions=(friday_night,))
    )
    assert s.on_call(local(BERLIN, 2026, 1, 8, 20)) == ()  # Thursday night
    assert s.on_call(local(BERLIN, 2026, 1, 9, 17, 59)) == ()
    assert s.on_call(local(BERLIN, 2026, 1, 9, 18)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 10, 8, 59)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 10, 9)) == ()


def test_overnight_window_on_the_spring_forward_night_is_an_hour_shorter() -> None:
    saturday_night = WeeklyWindow(frozenset({5}), time(18), time(9))
    s = schedule(
        rotation("weekly", local(BERLIN, 2026, 3, 2, 9), ("ana",), restrictions=(saturday_night,))
    )
    assert s.shifts(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        Shift("ana", utc(2026, 3, 28, 17), utc(2026, 3, 29, 7))  # 14 hours, not 15
    ]


def test_whole_day_window_and_several_windows() -> None:
    weekend = WeeklyWindow(frozenset({5, 6}), time(0), time(0))
    late = WeeklyWindow(WEEKDAYS, time(20), time(22))
    s = schedule(
        rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("ana",), restrictions=(weekend, late))
    )
    assert s.on_call(local(BERLIN, 2026, 1, 9, 21)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 9, 23)) == ()
    assert s.on_call(local(BERLIN, 2026, 1, 10, 0)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 11, 23, 59)) == ("ana",)
    assert s.on_call(local(BERLIN, 2026, 1, 12, 0)) == ()
    # Saturday and Sunday touch, so they are one shift.
    assert s.shifts(utc(2026, 1, 9, 12), utc(2026, 1, 13)) == [
        Shift("ana", utc(2026, 1, 9, 19), utc(2026, 1, 9, 21)),
        Shift("ana", utc(2026, 1, 9, 23), utc(2026, 1, 11, 23)),
        Shift("ana", utc(2026, 1, 12, 19), utc(2026, 1, 12, 21)),
    ]


# ----- layers -----------------------------------------------------------------------------------
def test_the_last_layer_with_someone_on_call_wins() -> None:
    base = rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben"))
    hours = WeeklyWindow(WEEKDAYS, time(9), time(17))
    day = rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("cara", "dan"), restrictions=(hours,))
    s = schedule(base, day)
    assert s.on_call(local(BERLIN, 2026, 1, 6, 10)) == ("dan",)
    assert s.on_call(local(BERLIN, 2026, 1, 6, 20)) == ("ana",)  # the day layer is empty
    assert s.on_call(local(BERLIN, 2026, 1, 5, 8)) == ()  # no layer has started
    assert schedule(day, base).on_call(local(BERLIN, 2026, 1, 6, 10)) == ("ana",)
    assert handoffs(s, local(BERLIN, 2026, 1, 6, 8), local(BERLIN, 2026, 1, 7, 10)) == [
        ("ana", utc(2026, 1, 6, 7)),
        ("dan", utc(2026, 1, 6, 8)),
        ("ana", utc(2026, 1, 6, 16)),
        ("cara", utc(2026, 1, 7, 8)),
    ]


# ----- overrides --------------------------------------------------------------------------------
WEEKLY = rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben"))
NOON, TWO = local(BERLIN, 2026, 1, 6, 12), local(BERLIN, 2026, 1, 6, 14)


def test_add_override_puts_someone_alongside() -> None:
    s = schedule(WEEKLY, overrides=(override("add", "eve", NOON, TWO),))
    assert s.on_call(NOON - timedelta(seconds=1)) == ("ana",)
    assert s.on_call(NOON) == ("ana", "eve")
    assert s.on_call(TWO) == ("ana",)  # the end is exclusive
    assert s.shifts(local(BERLIN, 2026, 1, 6, 9), local(BERLIN, 2026, 1, 6, 18)) == [
        Shift("ana", utc(2026, 1, 6, 8), utc(2026, 1, 6, 17)),  # unbroken by the addition
        Shift("eve", utc(2026, 1, 6, 11), utc(2026, 1, 6, 13)),
    ]


def test_add_override_covers_a_time_no_layer_covers() -> None:
    s = schedule(WEEKLY, overrides=(override("add", "eve", utc(2026, 1, 1), utc(2026, 1, 2)),))
    assert s.on_call(utc(2026, 1, 1, 12)) == ("eve",)


def test_remove_override_leaves_nobody_rather_than_a_lower_layer() -> None:
    base = rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("zoe",))
    s = schedule(base, WEEKLY, overrides=(override("remove", "ana", NOON, TWO),))
    assert s.on_call(NOON) == ()
    assert s.on_call(TWO) == ("ana",)
    removing_someone_else = schedule(WEEKLY, overrides=(override("remove", "ben", NOON, TWO),))
    assert removing_someone_else.on_call(NOON) == ("ana",)


def test_replace_override_stands_in_only_for_the_named_person() -> None:
    s = schedule(
        WEEKLY,
        overrides=(
            override(
                "replace", "eve", local(BERLIN, 2026, 1, 11), local(BERLIN, 2026, 1, 13), "ana"
            ),
        ),
    )
    assert s.on_call(local(BERLIN, 2026, 1, 11, 12)) == ("eve",)
    assert s.on_call(local(BERLIN, 2026, 1, 12, 8, 59)) == ("eve",)
    assert s.on_call(local(BERLIN, 2026, 1, 12, 9)) == ("ben",)  # ben's week: nothing to replace
    assert handoffs(s, local(BERLIN, 2026, 1, 10), local(BERLIN, 2026, 1, 14)) == [
        ("ana", local(BERLIN, 2026, 1, 10)),
        ("eve", local(BERLIN, 2026, 1, 11)),
        ("ben", local(BERLIN, 2026, 1, 12, 9)),
    ]


def test_replacements_then_removals_then_additions() -> None:
    s = schedule(
        WEEKLY,
        overrides=(
            override("add", "cara", NOON, TWO),
            override("replace", "eve", NOON, TWO, replaces="ana"),
            override("remove", "eve", local(BERLIN, 2026, 1, 6, 13), TWO),
            override("remove", "cara", NOON, TWO),  # removals act on the layers, not on additions
        ),
    )
    assert s.on_call(NOON) == ("cara", "eve")
    assert s.on_call(local(BERLIN, 2026, 1, 6, 13)) == ("cara",)


# ----- editing a rotation -----------------------------------------------------------------------
def test_editing_a_rotation_leaves_the_past_unchanged() -> None:
    before = schedule(rotation("weekly", local(BERLIN, 2026, 1, 5, 9)))
    edit_at = local(BERLIN, 2026, 2, 4, 12)  # in the middle of ben's week
    new = rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("dan", "eve"))
    after = before.edit_rotation("layer 0", new, edit_at)
    start = local(BERLIN, 2026, 1, 1)
    assert after.shifts(start, edit_at) == before.shifts(start, edit_at)
    assert after.on_call(edit_at - timedelta(seconds=1)) == ("ben",)
    assert after.on_call(edit_at) == ("dan",)  # day 30 of the new daily rotation
    assert after.on_call(local(BERLIN, 2026, 2, 5, 9)) == ("eve",)
    assert before.on_call(local(BERLIN, 2026, 2, 5, 9)) == ("ben",)  # the original is untouched
    assert len(after.layers[0].versions) == 2


def test_an_earlier_edit_replaces_later_scheduled_ones() -> None:
    s = schedule(rotation("weekly", local(BERLIN, 2026, 1, 5, 9)))
    s = s.edit_rotation(
        "layer 0",
        rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("dan",)),
        local(BERLIN, 2026, 3, 1),
    )
    s = s.edit_rotation(
        "layer 0",
        rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("eve",)),
        local(BERLIN, 2026, 2, 1),
    )
    assert [v.effective_from for v in s.layers[0].versions] == [
        utc(2026, 1, 5, 8),
        utc(2026, 1, 31, 23),
    ]
    assert s.on_call(local(BERLIN, 2026, 3, 2)) == ("eve",)


def test_editing_an_unknown_layer_is_refused() -> None:
    s = schedule(WEEKLY)
    with pytest.raises(NotFound) as err:
        s.edit_rotation("nope", WEEKLY, utc(2026, 2, 1))
    assert err.value.field == "layer"


# ----- shifts -----------------------------------------------------------------------------------
def test_shifts_merge_consecutive_turns_of_one_person_and_clip_to_the_range() -> None:
    s = schedule(rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("ana",)))
    assert s.shifts(local(BERLIN, 2026, 1, 6, 12), local(BERLIN, 2026, 1, 20, 15)) == [
        Shift("ana", utc(2026, 1, 6, 11), utc(2026, 1, 20, 14))
    ]
    two = schedule(rotation("daily", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben")))
    assert two.shifts(local(BERLIN, 2026, 1, 6, 12), local(BERLIN, 2026, 1, 7, 10)) == [
        Shift("ben", utc(2026, 1, 6, 11), utc(2026, 1, 7, 8)),
        Shift("ana", utc(2026, 1, 7, 8), utc(2026, 1, 7, 9)),
    ]


def test_shifts_of_an_empty_range_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        schedule(WEEKLY).shifts(utc(2026, 2, 1), utc(2026, 2, 1))
    assert err.value.field == "end"


def test_shifts_agree_with_on_call_at_random_instants_over_a_year() -> None:
    hours = WeeklyWindow(WEEKDAYS, time(9), time(17))
    nights = WeeklyWindow(frozenset({4, 5}), time(22), time(6))
    s = Schedule(
        "ops",
        "Ops",
        "Europe/Berlin",
        (
            Layer.of(
                "weekly", rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben", "cara"))
            ),
            Layer.of(
                "day",
                rotation(
                    "daily",
                    local(NEW_YORK, 2026, 1, 5, 9),
                    ("dan", "eve"),
                    zone="America/New_York",
                    restrictions=(hours,),
                ),
            ),
            Layer.of(
                "sun",
                rotation(
                    "custom",
                    utc(2026, 2, 1, 3),
                    ("fay", "gus", "hal"),
                    timedelta(hours=7),
                    restrictions=(nights,),
                ),
            ),
        ),
    ).edit_rotation(
        "weekly",
        rotation("weekly", local(BERLIN, 2026, 1, 5, 9), ("ana", "ben")),
        utc(2026, 6, 17, 12),
    )
    chance = random.Random(4)
    people = ("ana", "ben", "ivy", "jo", "dan")
    found = []
    for _ in range(60):
        start = utc(2026, 1, 1) + timedelta(minutes=chance.randrange(365 * 24 * 60))
        end = start + timedelta(minutes=chance.randrange(30, 5 * 24 * 60))
        kind = chance.choice(["add", "remove", "replace"])
        a, b = chance.sample(people, 2)
        found.append(override(kind, a, start, end, b if kind == "replace" else None))
    s = Schedule(s.slug, s.name, s.time_zone, s.layers, tuple(found))
    year_start, year_end = utc(2026, 1, 1), utc(2027, 1, 1)
    shifts = s.shifts(year_start, year_end)
    for _ in range(1000):
        instant = year_start + timedelta(seconds=chance.randrange(365 * 86400))
        covering = sorted(x.person for x in shifts if x.starts_at <= instant < x.ends_at)
        assert tuple(covering) == s.on_call(instant), instant
    for person in {x.person for x in shifts}:
        own = [x for x in shifts if x.person == person]
        assert all(a.ends_at < b.starts_at for a, b in itertools.pairwise(own))


# ----- validation -------------------------------------------------------------------------------
def test_invalid_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        rotation("weekly", utc(2026, 1, 5, 9), zone="Mars/Olympus_Mons")
    assert err.value.field == "time_zone"
    with pytest.raises(InvalidInput) as err:
        Schedule("ops", "Ops", "Europe/Atlantis")
    assert err.value.field == "time_zone"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: rotation("weekly", utc(2026, 1, 5), people=()), "participants"),
        (
            lambda: rotation("weekly", utc(2026, 1, 5), people=("ana", "Not A Slug")),
            "participants[1]",
        ),
        (lambda: rotation("weekly", utc(2026, 1, 5), length=0), "length"),
        (lambda: rotation("custom", utc(2026, 1, 5), length=3), "length"),
        (lambda: rotation("weekly", datetime(2026, 1, 5, 9)), "starts_at"),  # noqa: DTZ001
        (lambda: override("add", "eve", TWO, NOON), "ends_at"),
        (lambda: override("add", "eve", datetime(2026, 1, 6), TWO), "starts_at"),  # noqa: DTZ001
        (lambda: override("replace", "eve", NOON, TWO), "replaces"),
        (lambda: override("replace", "eve", NOON, TWO, "eve"), "replaces"),
        (lambda: override("remove", "eve", NOON, TWO, "ana"), "replaces"),
        (lambda: WeeklyWindow(frozenset(), time(9), time(17)), "days"),
        (
            lambda: Schedule("ops", "Ops", "UTC", (Layer.of("a", WEEKLY), Layer.of("a", WEEKLY))),
            "layers[1].name",
        ),
        (lambda: schedule(WEEKLY).on_call(datetime(2026, 1, 6, 12)), "at"),  # noqa: DTZ001
    ],
)
def test_invalid_values_are_refused_naming_the_field(make: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make()
    assert err.value.field == field


# ----- the YAML form ----------------------------------------------------------------------------
DOCUMENT = """
slug: platform
name: Platform on call
time_zone: Europe/Berlin
layers:
  - name: Primary
    rotation:
      type: weekly
      participants: [ana, ben, cara]
      start: "2026-01-05T09:00"
    changes:
      - effective_from: "2026-02-04T12:00"
        rotation: {type: weekly, participants: [ana, ben], start: "2026-01-05T09:00"}
  - name: Business hours
    rotation:
      type: daily
      participants: [dan, eve]
      start: "2026-01-05T09:00"
      time_zone: America/New_York
      restrictions:
        - {days: [mon-fri], start: "09:00", end: "17:00"}
  - name: Follow the sun
    rotation:
      type: custom
      length: 8h
      participants: [fay, gus, hal]
      start: "2026-01-05T00:00Z"
      restrictions:
        - {days: sat-sun, start: "00:00", end: "24:00"}
overrides:
  - {start: "2026-01-06T16:00", end: "2026-01-06T18:00", person: ivy, replaces: eve}
  - {start: "2026-01-07T10:00", end: "2026-01-07T11:00", person: jo}
  - {start: "2026-01-07T16:00", end: "2026-01-07T17:00", person: dan, kind: remove}
"""


def test_parse_schedule_reads_the_documented_yaml_form() -> None:
    s = parse_schedule(yaml.safe_load(DOCUMENT))
    assert (s.slug, s.name, [layer.name for layer in s.layers]) == (
        "platform",
        "Platform on call",
        ["Primary", "Business hours", "Follow the sun"],
    )
    business = s.layers[1].versions[0].rotation
    assert business.starts_at == utc(2026, 1, 5, 14)  # 09:00 in New York
    assert s.on_call(local(NEW_YORK, 2026, 1, 5, 10)) == ("dan",)
    assert s.on_call(local(NEW_YORK, 2026, 1, 5, 8)) == ("ana",)  # primary, 14:00 in Berlin
    assert s.on_call(local(NEW_YORK, 2026, 1, 6, 12)) == ("eve",)
    assert s.on_call(local(BERLIN, 2026, 1, 6, 12)) == ("ana",)  # eve's day starts later
    assert s.on_call(local(BERLIN, 2026, 1, 7, 10, 30)) == ("ana", "jo")
    assert s.on_call(local(BERLIN, 2026, 1, 10, 9)) == ("gus",)  # Saturday, 08:00 UTC
    assert s.on_call(local(BERLIN, 2026, 2, 4, 11, 59)) == ("ben",)
    assert s.on_call(local(BERLIN, 2026, 2, 4, 12)) == ("ana",)  # the edit: two people now
    assert s.layers[0].versions[1].effective_from == utc(2026, 2, 4, 11)


def test_parse_schedule_applies_replace_and_remove_overrides() -> None:
    s = parse_schedule(yaml.safe_load(DOCUMENT))
    assert s.on_call(local(NEW_YORK, 2026, 1, 6, 9, 59)) == ("eve",)
    assert s.on_call(local(NEW_YORK, 2026, 1, 6, 10)) == ("ivy",)  # 16:00 in Berlin
    assert s.on_call(local(NEW_YORK, 2026, 1, 6, 12)) == ("eve",)
    assert s.on_call(local(NEW_YORK, 2026, 1, 7, 10, 30)) == ()  # dan removed: nobody, not ana
    assert s.on_call(local(NEW_YORK, 2026, 1, 7, 11)) == ("dan",)


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT)
    return copy.deepcopy(loaded)


DELETE = object()


@pytest.mark.parametrize(
    ("where", "value", "field", "says"),
    [
        (
            ("layers", 0, "rotation", "participants"),
            DELETE,
            "layers[0].rotation.participants",
            "is required",
        ),
        (
            ("layers", 1, "rotation", "participants"),
            [],
            "layers[1].rotation.participants",
            "at least one person",
        ),
        (
            ("layers", 1, "rotation", "participants"),
            ["dan", "Eve Smith"],
            "layers[1].rotation.participants[1]",
            "lowercase",
        ),
        (
            ("layers", 0, "rotation", "participants"),
            "ana",
            "layers[0].rotation.participants",
            "must be a list",
        ),
        (
            ("layers", 0, "rotation", "type"),
            "monthly",
            "layers[0].rotation.type",
            "hourly | daily | weekly | custom",
        ),
        (("layers", 0, "rotation", "length"), 0, "layers[0].rotation.length", "1 or more"),
        (("layers", 2, "rotation", "length"), DELETE, "layers[2].rotation.length", "is required"),
        (("layers", 2, "rotation", "length"), "8 hours", "layers[2].rotation.length", "such as 8h"),
        (("layers", 0, "rotation", "lenght"), 2, "layers[0].rotation.lenght", "not a known key"),
        (
            ("layers", 0, "rotation", "start"),
            "next monday",
            "layers[0].rotation.start",
            "2026-01-05T09:00",
        ),
        (
            ("layers", 1, "rotation", "time_zone"),
            "US/Nowhere",
            "layers[1].rotation.time_zone",
            "IANA",
        ),
        (
            ("layers", 1, "rotation", "restrictions", 0, "days"),
            ["mon", "funday"],
            "layers[1].rotation.restrictions[0].days[1]",
            "weekday",
        ),
        (
            ("layers", 1, "rotation", "restrictions", 0, "end"),
            1020,
            "layers[1].rotation.restrictions[0].end",
            "quoted",
        ),
        (
            ("layers", 1, "rotation", "restrictions", 0, "start"),
            "9am",
            "layers[1].rotation.restrictions[0].start",
            "time of day",
        ),
        (
            ("layers", 0, "changes", 0, "effective_from"),
            "2026-01-01T00:00",
            "layers[0].changes[0].effective_from",
            "later",
        ),
        (("layers", 1, "name"), "Primary", "layers[1].name", "used twice"),
        (("layers", 1), "daily", "layers[1]", "mapping"),
        (("overrides", 0, "end"), "2026-01-06T11:00", "overrides[0].end", "later than"),
        (("overrides", 1, "kind"), "swap", "overrides[1].kind", "add | remove | replace"),
        (("overrides", 1, "kind"), "replace", "overrides[1].replaces", "stands in for"),
        (("overrides", 2, "person"), "", "overrides[2].person", "non-empty"),
        (("overrides", 2, "person"), "Dan D", "overrides[2].person", "lowercase"),
        (("time_zone",), "Berlin", "time_zone", "IANA"),
        (("slug",), DELETE, "slug", "is required"),
    ],
)
def test_parse_errors_name_the_field_and_what_was_expected(
    where: tuple[str | int, ...], value: object, field: str, says: str
) -> None:
    doc = document()
    parent: Any = doc
    for key in where[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    with pytest.raises(InvalidInput) as err:
        parse_schedule(doc)
    assert err.value.field == field
    assert str(err.value).startswith(field)
    assert says in str(err.value)


def test_unquoted_yaml_time_is_explained() -> None:
    text = DOCUMENT.replace('end: "17:00"', "end: 17:00")
    with pytest.raises(InvalidInput, match="YAML reads an unquoted 17:00 as the number 1020"):
        parse_schedule(yaml.safe_load(text))


def test_naive_document_times_are_read_in_the_schedule_zone_and_zoned_ones_kept() -> None:
    doc = document()
    doc["overrides"] = [
        {"start": "2026-03-29T02:30", "end": "2026-03-29T04:00", "person": "kim"},
        {"start": "2026-03-29T02:30+00:00", "end": "2026-03-29T04:00+00:00", "person": "lee"},
    ]
    s = parse_schedule(doc)
    assert [(o.starts_at, o.ends_at) for o in s.overrides] == [
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2)),  # 02:30 is in the gap: read as 03:30 CEST
        (utc(2026, 3, 29, 2, 30), utc(2026, 3, 29, 4)),
    ]
