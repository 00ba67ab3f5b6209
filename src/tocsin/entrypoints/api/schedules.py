"""/api/v1/schedules and /api/v1/oncall: on-call schedules, their shifts, and who is on call."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope
from tocsin.entrypoints.api.deps import get_tocsin, read_access
from tocsin.entrypoints.api.feeds import FeedKind, feed_url
from tocsin.views.accounts import Principal
from tocsin.views.schedules import OnCallView, ScheduleSummaryView

router = APIRouter(prefix="/api/v1", tags=["schedules"])
FEED_URL = (
    "Secret iCalendar URL; shown to admins only, null while feeds are off "
    "(TOCSIN_FEED_SECRET unset)"
)


class OnCallRead(BaseModel):
    person: str
    name: str
    email: str | None
    schedule: str | None = Field(description="null: a team member with the on-call team role")
    schedule_name: str | None
    team: str | None = Field(description="The service's team, when asked about a service")
    until: datetime | None = Field(
        description="When the current shift ends; null without a schedule or beyond 400 days"
    )


class ShiftRead(BaseModel):
    person: str
    name: str
    starts_at: datetime
    ends_at: datetime
    override: bool = Field(description="An override of this person's overlaps the shift")


class OverrideRead(BaseModel):
    kind: str = Field(description="add, remove or replace")
    person: str
    name: str
    replaces: str | None
    starts_at: datetime
    ends_at: datetime


class ParticipantRead(BaseModel):
    person: str
    name: str
    feed_url: str | None = Field(description=FEED_URL)


class ScheduleSummaryRead(BaseModel):
    slug: str
    name: str
    time_zone: str
    teams: list[str] = Field(description="Teams whose `on-call engineer` this schedule names")
    on_call: list[OnCallRead] = Field(description="Who is on call now")
    updated_at: datetime
    feed_url: str | None = Field(description=FEED_URL)


class ScheduleRead(ScheduleSummaryRead):
    start: datetime
    end: datetime
    shifts: list[ShiftRead]
    overrides: list[OverrideRead] = Field(description="The overrides in force in [start, end)")
    people: list[ParticipantRead] = Field(description="Everyone the schedule names")


def _on_call_read(view: OnCallView) -> OnCallRead:
    data = asdict(view)
    data["person"] = data.pop("handle")
    return OnCallRead(**data)


def _feed(principal: Principal, tocsin: Tocsin, kind: FeedKind, name: str) -> str | None:
    """Feed URLs are credentials that outlive API tokens: only admins are handed them."""
    if not principal.scope.allows(Scope.ADMIN):
        return None
    return feed_url(tocsin.settings, kind, name)


def _summary(
    principal: Principal, tocsin: Tocsin, view: ScheduleSummaryView
) -> ScheduleSummaryRead:
    return ScheduleSummaryRead(
        slug=view.slug,
        name=view.name,
        time_zone=view.time_zone,
        teams=view.teams,
        on_call=[_on_call_read(v) for v in view.on_call],
        updated_at=view.updated_at,
        feed_url=_feed(principal, tocsin, "schedules", view.slug),
    )


@router.get("/schedules", response_model=list[ScheduleSummaryRead])
def list_schedules(
    principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[ScheduleSummaryRead]:
    """Every on-call schedule, by name, with who is on call now."""
    return [_summary(principal, tocsin, v) for v in tocsin.schedules.list(tocsin.clock.now())]


@router.get("/schedules/{slug}", response_model=ScheduleRead)
def get_schedule(
    slug: str,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> ScheduleRead:
    """The shifts in [start, end): from now and for 14 days unless given (at most 366 days).

    `on_call` is who is on call at `start`."""
    view = tocsin.schedules.schedule(slug, start or tocsin.clock.now(), end)
    return ScheduleRead(
        **dict(_summary(principal, tocsin, view)),
        start=view.start,
        end=view.end,
        shifts=[
            ShiftRead(
                person=s.handle,
                name=s.name,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                override=s.override,
            )
            for s in view.shifts
        ],
        overrides=[
            OverrideRead(
                kind=o.kind,
                person=o.handle,
                name=o.name,
                replaces=o.replaces,
                starts_at=o.starts_at,
                ends_at=o.ends_at,
            )
            for o in view.overrides
        ],
        people=[
            ParticipantRead(
                person=p.handle, name=p.name, feed_url=_feed(principal, tocsin, "people", p.handle)
            )
            for p in view.people
        ],
    )


@router.get("/oncall", response_model=list[OnCallRead])
def who_is_on_call(
    service: str | None = None,
    schedule: str | None = None,
    at: AwareDatetime | None = None,
    _: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[OnCallRead]:
    """Who is on call at `at` (default now) for a service, as paging would find them (its team's
    schedule, else the team's members with the `on-call engineer` role), for one schedule, or,
    with neither, for every schedule."""
    found = tocsin.schedules.who(
        at or tocsin.clock.now(),
        service=service.strip().lower() if service else None,
        schedule=schedule.strip().lower() if schedule else None,
    )
    return [_on_call_read(v) for v in found]
