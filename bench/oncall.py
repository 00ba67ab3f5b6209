"""On-call lookups over a year of a 3-layer schedule with overrides, and one year of shifts.

The schedule: a weekly primary (Berlin, Monday 09:00 hand-off, edited mid-year), a daily
secondary limited to business hours, and a follow-the-sun layer of 4-hour custom shifts on
weekends, plus about 100 overrides (add, remove, replace) spread over 2026. The figures are the
time for `--lookups` calls of `Schedule.on_call` at random instants of the year and for one
`Schedule.shifts` over the whole year (best of `--repeat` runs each). Pure Python, no peer.

Usage: python bench/oncall.py [--lookups 10000] [--overrides 100] [--repeat 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from time import perf_counter, perf_counter_ns
from zoneinfo import ZoneInfo

from tocsin.domain.rotations import Layer, Rotation, ShiftKind, WeeklyWindow
from tocsin.domain.schedules import Override, OverrideKind, Schedule

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
PEOPLE = tuple(f"engineer-{n:02d}" for n in range(12))


def build_schedule(overrides: int, seed: int) -> Schedule:
    """The 3-layer schedule with `overrides` random overrides over the year."""
    monday = datetime(2026, 1, 5, 9, tzinfo=BERLIN)
    weekly = Rotation(
        participants=PEOPLE[:6], kind=ShiftKind.WEEKLY, length=1,
        starts_at=monday, time_zone="Europe/Berlin",
    )  # fmt: skip
    business = WeeklyWindow(frozenset(range(5)), time(9), time(17))
    daily = Rotation(
        participants=PEOPLE[6:10], kind=ShiftKind.DAILY, length=1,
        starts_at=monday, time_zone="Europe/Berlin", restrictions=(business,),
    )  # fmt: skip
    weekend = WeeklyWindow(frozenset({5, 6}), time(0), time(0))
    sun = Rotation(
        participants=("apac", "emea", "amer"), kind=ShiftKind.CUSTOM, length=timedelta(hours=4),
        starts_at=datetime(2026, 1, 1, tzinfo=UTC), time_zone="America/New_York",
        restrictions=(weekend,),
    )  # fmt: skip
    chance = random.Random(seed)
    found = []
    for _ in range(overrides):
        starts_at = YEAR_START + timedelta(minutes=chance.randrange(365 * 24 * 60))
        ends_at = starts_at + timedelta(minutes=chance.randrange(60, 3 * 24 * 60))
        kind = chance.choice(list(OverrideKind))
        person, other = chance.sample(PEOPLE, 2)
        replaces = other if kind is OverrideKind.REPLACE else None
        found.append(
            Override(kind=kind, person=person, starts_at=starts_at, ends_at=ends_at,
                     replaces=replaces)
        )  # fmt: skip
    schedule = Schedule(
        "platform", "Platform", "Europe/Berlin",
        (Layer.of("primary", weekly), Layer.of("follow the sun", sun),
         Layer.of("business hours", daily)),
        tuple(found),
    )  # fmt: skip
    edit = Rotation(
        participants=PEOPLE[:7], kind=ShiftKind.WEEKLY, length=1,
        starts_at=monday, time_zone="Europe/Berlin",
    )  # fmt: skip
    return schedule.edit_rotation("primary", edit, datetime(2026, 7, 1, 12, tzinfo=BERLIN))


def time_lookups(schedule: Schedule, instants: Sequence[datetime]) -> float:
    """Seconds for one on_call per instant."""
    on_call = schedule.on_call
    started = perf_counter()
    for instant in instants:
        on_call(instant)
    return perf_counter() - started


def each_lookup_us(schedule: Schedule, instants: Sequence[datetime]) -> list[float]:
    """Microseconds of every single lookup, for the spread."""
    times = []
    for instant in instants:
        started = perf_counter_ns()
        schedule.on_call(instant)
        times.append((perf_counter_ns() - started) / 1000)
    return sorted(times)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--overrides", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; the best is shown")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    started = perf_counter()
    schedule = build_schedule(args.overrides, args.seed)
    built_ms = (perf_counter() - started) * 1000
    chance = random.Random(args.seed + 1)
    span = int((YEAR_END - YEAR_START).total_seconds())
    instants = [YEAR_START + timedelta(seconds=chance.randrange(span)) for _ in range(args.lookups)]

    print(f"== on-call schedule: 3 layers, {len(schedule.overrides)} overrides, year 2026")
    print(f"   built in {built_ms:.2f} ms")
    best = min(time_lookups(schedule, instants) for _ in range(args.repeat))
    spread = each_lookup_us(schedule, instants)
    print(f"   {args.lookups:,} on_call lookups: {best * 1000:.1f} ms total, "
          f"{best / args.lookups * 1e6:.2f} µs per lookup "
          f"(single lookups p50 {statistics.median(spread):.2f} µs, "
          f"p99 {spread[int(len(spread) * 0.99)]:.2f} µs)")  # fmt: skip
    shift_times = []
    for _ in range(args.repeat):
        started = perf_counter()
        shifts = schedule.shifts(YEAR_START, YEAR_END)
        shift_times.append(perf_counter() - started)
    people = len({shift.person for shift in shifts})
    print(f"   shifts() over the year: {min(shift_times) * 1000:.1f} ms, "
          f"{len(shifts):,} shifts for {people} people")  # fmt: skip


if __name__ == "__main__":
    main()
