"""Secret iCalendar feeds of on-call shifts, per schedule and per person, for calendar apps.

Calendar apps cannot sign in, so a feed's URL carries its own token: HMAC-SHA256 of the feed's
kind and name under `TOCSIN_FEED_SECRET`. No table holds the tokens; a URL works until the
secret changes, and changing the secret revokes every feed URL at once. Unset, feeds are off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse, Response
from icalendar import Calendar, Event

from tocsin.bootstrap import Tocsin
from tocsin.config import Settings
from tocsin.domain.errors import NotFound
from tocsin.entrypoints.api.deps import get_tocsin

router = APIRouter(prefix="/feeds", tags=["feeds"])

FeedKind = Literal["schedules", "people"]
PAST = timedelta(weeks=4)
AHEAD = timedelta(weeks=12)
REFRESH = timedelta(hours=1)
FEEDS_OFF = (
    "iCalendar feeds are off on this server: an administrator turns them on by setting "
    "TOCSIN_FEED_SECRET (16 or more random characters)"
)
NO_FEED = "no such feed: the link is wrong, or the server's feed secret has changed"
TokenQuery = Query("", description="The feed's secret token, as in the URL Tocsin shows")


def feed_token(secret: str, kind: FeedKind, name: str) -> str:
    """The token in a feed's URL: 32 URL-safe characters that only the secret's holder can make."""
    message = f"tocsin-feed\x00{kind}\x00{name}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def feed_url(settings: Settings, kind: FeedKind, name: str) -> str | None:
    """The secret URL of a schedule's or a person's feed; None while feeds are off."""
    secret = settings.feed_secret.get_secret_value()
    if not secret:
        return None
    token = feed_token(secret, kind, name)
    return f"{settings.public_url()}/feeds/{kind}/{quote(name, safe='')}.ics?token={token}"


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """Four weeks back to twelve ahead, from UTC midnights, so events stay put between refreshes."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - PAST, midnight + AHEAD + timedelta(days=1)


@router.get("/schedules/{slug}.ics", response_class=Response)
def schedule_feed(
    slug: str, token: str = TokenQuery, tocsin: Tocsin = Depends(get_tocsin)
) -> Response:
    """Every shift of one schedule, one event per person's unbroken time on call."""
    refused = _refused(tocsin.settings, "schedules", slug, token)
    if refused:
        return refused
    now = tocsin.clock.now()
    start, end = feed_window(now)
    try:
        schedule = tocsin.schedules.schedule(slug, start, end)
    except NotFound:
        return PlainTextResponse(NO_FEED, status_code=404)
    page = f"{tocsin.settings.public_url()}/schedules/{quote(slug, safe='')}"
    events = [
        _event(
            uid=_uid(tocsin.settings, "schedule", slug, shift.handle, shift.starts_at),
            summary=f"{shift.name} on call",
            description=f"{shift.name} (@{shift.handle}) is on call for {schedule.name}.",
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            url=page,
            now=now,
        )
        for shift in schedule.shifts
    ]
    return _calendar(schedule.name, events, f"{slug}.ics")


@router.get("/people/{handle}.ics", response_class=Response)
def person_feed(
    handle: str, token: str = TokenQuery, tocsin: Tocsin = Depends(get_tocsin)
) -> Response:
    """One person's shifts across every schedule."""
    refused = _refused(tocsin.settings, "people", handle, token)
    if refused:
        return refused
    now = tocsin.clock.now()
    start, end = feed_window(now)
    try:
        person = tocsin.catalog.person(handle)
    except NotFound:
        return PlainTextResponse(NO_FEED, status_code=404)
    base = tocsin.settings.public_url()
    events = [
        _event(
            uid=_uid(tocsin.settings, "person", shift.schedule, handle, shift.starts_at),
            summary=f"On call: {shift.schedule_name}",
            description=f"{person.name} is on call for {shift.schedule_name}.",
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            url=f"{base}/schedules/{quote(shift.schedule, safe='')}",
            now=now,
        )
        for shift in tocsin.schedules.person_shifts(handle, start, end)
    ]
    return _calendar(f"{person.name}: on call", events, f"{handle}.ics")


def _refused(settings: Settings, kind: FeedKind, name: str, token: str) -> Response | None:
    """A 404 unless the token is this feed's; a wrong token says no more than a missing feed."""
    secret = settings.feed_secret.get_secret_value()
    if not secret:
        return PlainTextResponse(FEEDS_OFF, status_code=404)
    if not hmac.compare_digest(token.encode(), feed_token(secret, kind, name).encode()):
        return PlainTextResponse(NO_FEED, status_code=404)
    return None


def _uid(settings: Settings, feed: str, schedule: str, handle: str, starts_at: datetime) -> str:
    """Stable across refreshes: the same shift keeps its UID, so calendars update it in place."""
    host = urlsplit(settings.public_url()).hostname or "tocsin"
    return f"{feed}-{schedule}-{handle}-{starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}@{host}"


def _event(
    *,
    uid: str,
    summary: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    url: str,
    now: datetime,
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")  # being on call does not make anyone busy
    return event


def _calendar(name: str, events: Iterable[Event], filename: str) -> Response:
    calendar = Calendar()
    calendar.add("prodid", "-//Tocsin//On-call shifts//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for event in events:
        calendar.add_component(event)
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, max-age=300",
        },
    )
