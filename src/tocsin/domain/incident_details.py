"""What an incident says about itself: title, summary, impact, services, how it was detected.

A part of Incident (which supplies the state below), kept apart so that neither module grows
past reading in one go, as the war room is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tocsin.domain import events
from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power
from tocsin.domain.errors import InvalidInput, NoChange
from tocsin.domain.timeline import EntryKind
from tocsin.domain.war_room import WarRoom

TITLE_MAX = 200
TEXT_MAX = 10_000


class DetectionSource(StrEnum):
    """How the problem first came to light."""

    ALERT = "alert"
    CUSTOMER = "customer"
    EMPLOYEE = "employee"
    PARTNER = "partner"
    AUTOMATED_TEST = "automated_test"
    OTHER = "other"

    @classmethod
    def parse(cls, raw: str) -> DetectionSource:
        try:
            return cls(raw.strip().lower().replace("-", "_").replace(" ", "_"))
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise InvalidInput(
                f"unknown detection source {raw!r}; expected one of {names}",
                field="detection_source",
            ) from None


@dataclass(frozen=True)
class ServiceRef:
    """An affected service as the incident knows it."""

    id: int
    slug: str


def clean_title(title: str) -> str:
    text = " ".join(title.split())
    if not text:
        raise InvalidInput("title must not be empty", field="title")
    if len(text) > TITLE_MAX:
        raise InvalidInput(
            f"title is {len(text)} characters; the limit is {TITLE_MAX}", field="title"
        )
    return text


def clean_text(text: str, field_name: str) -> str:
    value = text.strip()
    if len(value) > TEXT_MAX:
        raise InvalidInput(
            f"{field_name} is {len(value)} characters; the limit is {TEXT_MAX}", field=field_name
        )
    return value


class IncidentDetails(WarRoom):
    """Editing the descriptive fields, each change on the timeline (on top of the war room's
    authority rules, which it uses)."""

    if TYPE_CHECKING:
        title: str
        summary: str
        user_impact: str
        business_impact: str
        customer_facing: bool
        detection_source: DetectionSource
        services: list[ServiceRef]

    def update_details(
        self,
        actor: Actor,
        now: datetime,
        *,
        title: str | None = None,
        summary: str | None = None,
        user_impact: str | None = None,
        business_impact: str | None = None,
        customer_facing: bool | None = None,
        detection_source: DetectionSource | None = None,
        services: list[ServiceRef] | None = None,
    ) -> list[str]:
        """Change descriptive fields; returns the names of those that changed."""
        self.authorize(actor, Power.DOCUMENT, "editing the incident details", now)
        proposed: dict[str, Any] = {}
        if title is not None:
            proposed["title"] = clean_title(title)
        for name, text in (
            ("summary", summary),
            ("user_impact", user_impact),
            ("business_impact", business_impact),
        ):
            if text is not None:
                proposed[name] = clean_text(text, name)
        if customer_facing is not None:
            proposed["customer_facing"] = customer_facing
        if detection_source is not None:
            proposed["detection_source"] = detection_source
        if services is not None:
            proposed["services"] = unique_services(services)
        changed = {k: v for k, v in proposed.items() if getattr(self, k) != v}
        if not changed:
            raise NoChange("nothing differs from the incident as it stands")
        parts = [
            f"{name.replace('_', ' ')}: {_show(getattr(self, name))} → {_show(value)}"
            for name, value in changed.items()
        ]
        for name, value in changed.items():
            setattr(self, name, value)
        self.log(
            EntryKind.DETAILS_UPDATED,
            "Updated " + "; ".join(parts),
            actor,
            now,
            data={"fields": sorted(changed)},
        )
        self.events.append(events.IncidentDetailsUpdated(self.id, tuple(sorted(changed))))
        return sorted(changed)


def unique_services(services: list[ServiceRef]) -> list[ServiceRef]:
    seen: dict[int, ServiceRef] = {}
    for service in services:
        seen.setdefault(service.id, service)
    return list(seen.values())


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(s.slug for s in value) or "none"
    if isinstance(value, StrEnum):
        return value.value
    text = str(value)
    if not text:
        return "(empty)"
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")
