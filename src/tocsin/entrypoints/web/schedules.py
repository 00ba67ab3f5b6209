"""On-call schedule pages: who is on call now, and two weeks of shifts day by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup

from tocsin.domain.errors import InvalidInput
from tocsin.domain.rotations import local_instant
from tocsin.entrypoints.api.feeds import feed_url
from tocsin.entrypoints.web.sessions import signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.views.accounts import Principal
from tocsin.views.schedules import ShiftView

router = APIRouter(include_in_schema=False)
DAYS_SHOWN = 14


@dataclass(frozen=True)
class Segment:
    """The part of a shift that falls on one local day."""

    shift: ShiftView
    starts: str  # local wall-clock times: 00:00 … 24:00
    ends: str


@dataclass(frozen=True)
class Day:
    day: date
    today: bool
    segments: list[Segment]


def local_time(value: datetime, zone: ZoneInfo, fmt: str = "%a %d %b %H:%M %Z") -> Markup:
    """A time in the schedule's zone, with the exact UTC instant for machines and tooltips."""
    iso = value.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = value.astimezone(zone).strftime(fmt)
    return Markup('<time datetime="{0}" title="{0}">{1}</time>').format(iso, text)


def _days(shifts: list[ShiftView], first: date, zone: ZoneInfo, today: date) -> list[Day]:
    """Each local day from `first` on, with the shifts (clipped to it) that fall on it."""
    days = []
    for n in range(DAYS_SHOWN):
        day = first + timedelta(days=n)
        begins = local_instant(day, time(), zone)
        ends = local_instant(day + timedelta(days=1), time(), zone)
        segments = [
            Segment(
                s,
                max(s.starts_at, begins).astimezone(zone).strftime("%H:%M"),
                "24:00" if s.ends_at >= ends else s.ends_at.astimezone(zone).strftime("%H:%M"),
            )
            for s in shifts
            if s.starts_at < ends and begins < s.ends_at
        ]
        days.append(Day(day, day == today, segments))
    return days


def _first_day(raw: str | None, today: date) -> date:
    if not raw:
        return today
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"from: {raw!r} is not a date like 2026-11-26", field="from") from None


@router.get("/schedules")
def schedules_page(request: Request, _: Principal = Depends(signed_in)) -> Response:
    """Every on-call schedule with who is on call now and until when."""
    tocsin = tocsin_of(request)
    found = tocsin.schedules.list(tocsin.clock.now())
    return render(
        request,
        "schedules/list.html",
        {
            "schedules": found,
            "zones": {s.slug: ZoneInfo(s.time_zone) for s in found},
            "local_time": local_time,
        },
    )


@router.get("/schedules/{slug}")
def schedule_page(slug: str, request: Request, _: Principal = Depends(signed_in)) -> Response:
    """Two weeks of a schedule, day by day in its time zone; `?from=2026-04-06` pages."""
    tocsin = tocsin_of(request)
    now = tocsin.clock.now()
    zone = ZoneInfo(tocsin.schedules.time_zone(slug))
    today = now.astimezone(zone).date()
    first = _first_day(request.query_params.get("from"), today)
    start = local_instant(first, time(), zone)
    end = local_instant(first + timedelta(days=DAYS_SHOWN), time(), zone)
    schedule = tocsin.schedules.schedule(slug, start, end)
    on_call_now = tocsin.schedules.who(now, schedule=slug)
    settings = tocsin.settings
    return render(
        request,
        "schedules/schedule.html",
        {
            "schedule": schedule,
            "zone": zone,
            "local_time": local_time,
            "on_call_now": on_call_now,
            "days": _days(schedule.shifts, first, zone, today),
            "earlier": (first - timedelta(days=DAYS_SHOWN)).isoformat(),
            "later": (first + timedelta(days=DAYS_SHOWN)).isoformat(),
            "moved": first != today,
            "feed": feed_url(settings, "schedules", slug),
            "person_feeds": {
                p.handle: feed_url(settings, "people", p.handle) for p in schedule.people
            },
            "feeds_on": bool(settings.feed_secret.get_secret_value()),
        },
    )
