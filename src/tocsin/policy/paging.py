"""The policy's `paging` section: repeats, retries, business hours and where channels deliver.

A channel named like a contact kind (`email`, `sms`, `phone`, `slack`, `push`, `webhook`) pages
the people a step targets through their own contact methods of that kind. Any other channel name
(`slack-incidents`, `pagerduty`, …) is a destination: an apprise URL or a signed JSON webhook
that hears about each incident of a severity listing it. `${NAME}` in a URL or secret is read
from the environment when the message is sent, so secrets stay out of the policy file.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays import HolidayBase
from pydantic import Field, field_validator, model_validator

from tocsin.domain.catalog import ContactKind
from tocsin.domain.paging import RetryPolicy, Throttle
from tocsin.policy.sections import Duration, Section

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONTACT_CHANNELS = frozenset(k.value for k in ContactKind)


class BusinessHours(Section):
    """When `next_business_day` steps fire: the opening of the next working day."""

    time_zone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    opens: time = time(9, 0)
    holidays: str | None = Field(None, description="Country code for public holidays, e.g. US")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [d.strip().lower()[:3] for d in value]
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown or not days:
            raise ValueError(f"days must be some of {', '.join(WEEKDAYS)}")
        return days

    @field_validator("holidays")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in holidays.list_supported_countries():
            raise ValueError(f"no public holiday calendar for country {value!r}")
        return value.upper() if value else None

    @cached_property
    def _calendar(self) -> HolidayBase | None:
        return holidays.country_holidays(self.holidays) if self.holidays else None

    def is_business_day(self, day: date) -> bool:
        if WEEKDAYS[day.weekday()] not in self.days:
            return False
        return self._calendar is None or day not in self._calendar

    def next_opening(self, after: datetime) -> datetime:
        """The first opening of business hours strictly after `after` (aware UTC in and out)."""
        zone = ZoneInfo(self.time_zone)
        day = after.astimezone(zone).date()
        for _ in range(400):
            if self.is_business_day(day):
                opening = datetime.combine(day, self.opens, tzinfo=zone).astimezone(after.tzinfo)
                if opening > after:
                    return opening
            day += timedelta(days=1)
        raise ValueError("business hours never open: check paging.business_hours")


PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


class Destination(Section):
    """Where a non-personal channel delivers: an apprise URL, a webhook signed with a secret,
    or PagerDuty's Events API v2 (trigger, then acknowledge and resolve, under one dedup key)."""

    apprise: str | None = None
    webhook: str | None = None
    secret: str | None = None
    pagerduty: str | None = Field(None, description="routing key, e.g. ${PAGERDUTY_KEY}")
    url: str = PAGERDUTY_EVENTS_URL

    @model_validator(mode="after")
    def _one_kind(self) -> Destination:
        if sum(x is not None for x in (self.apprise, self.webhook, self.pagerduty)) != 1:
            raise ValueError("give exactly one of apprise, webhook or pagerduty")
        if self.secret and not self.webhook:
            raise ValueError("secret signs webhooks; apprise URLs carry their own credentials")
        return self


class ThrottleSpec(Section):
    max: int = Field(ge=1, description="pages of this kind to one person…")
    per: Duration = Field(description="…within this long; more are delayed, never dropped")


class PagingPolicy(Section):
    repeat: int = Field(0, ge=0, le=9, description="Re-run the path this often if nobody acks")
    repeat_after: Duration = timedelta(minutes=30)
    retry_attempts: int = Field(5, ge=1, le=20)
    retry_first_delay: Duration = timedelta(seconds=10)
    retry_max_delay: Duration = timedelta(minutes=5)
    business_hours: BusinessHours = BusinessHours()
    destinations: dict[str, Destination] = Field(default_factory=dict)
    # Per contact kind, e.g. sms: {max: 3, per: 10m}. Unset kinds are not throttled.
    throttles: dict[str, ThrottleSpec] = Field(default_factory=dict)
    # apprise URL templates for contact kinds Tocsin cannot send itself, e.g.
    # sms: "twilio://${TWILIO_SID}:${TWILIO_TOKEN}@+15550100/{address}"
    contact_urls: dict[str, str] = Field(default_factory=dict)

    @field_validator("contact_urls")
    @classmethod
    def _contact_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, url in value.items():
            if kind not in CONTACT_CHANNELS:
                raise ValueError(f"{kind!r} is not a contact kind ({', '.join(CONTACT_CHANNELS)})")
            if "{address}" not in url:
                raise ValueError(f"{kind}: the URL must contain {{address}}")
        return value

    @field_validator("throttles")
    @classmethod
    def _throttle_kinds(cls, value: dict[str, ThrottleSpec]) -> dict[str, ThrottleSpec]:
        for kind in value:
            if kind not in CONTACT_CHANNELS:
                raise ValueError(f"{kind!r} is not a contact kind ({', '.join(CONTACT_CHANNELS)})")
        return value

    def throttle_for(self, kind: str) -> Throttle | None:
        spec = self.throttles.get(kind)
        return Throttle(spec.max, spec.per) if spec else None

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.retry_attempts, self.retry_first_delay, self.retry_max_delay)
