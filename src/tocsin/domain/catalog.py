"""The service catalog: people, teams with their members' roles, and services."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from tocsin.domain.errors import InvalidInput

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
NAME_MAX = 120
DESCRIPTION_MAX = 2_000
MAX_CONTACT_DELAY = timedelta(hours=24)


def clean_slug(raw: str, field_name: str) -> str:
    """Slugs name things in URLs, YAML and the CLI: lowercase letters, digits, - and _."""
    slug = raw.strip().lower()
    if not _SLUG.match(slug):
        raise InvalidInput(
            f"{field_name} {raw!r} must be 1-63 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit",
            field=field_name,
        )
    return slug


def clean_name(raw: str, field_name: str = "name") -> str:
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput(f"{field_name} must not be empty", field=field_name)
    if len(name) > NAME_MAX:
        raise InvalidInput(f"{field_name} is longer than {NAME_MAX} characters", field=field_name)
    return name


def clean_description(raw: str, field_name: str = "description") -> str:
    text = raw.strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"{field_name} is longer than {DESCRIPTION_MAX} characters", field=field_name
        )
    return text


def normalize_title(raw: str, field_name: str = "title") -> str:
    """Team roles and titles are stored as lowercase words: 'Team_Lead' -> 'team lead'."""
    words = re.split(r"[\s_]+", raw.strip().lower())
    title = " ".join(w for w in words if w)
    if len(title) > NAME_MAX:
        raise InvalidInput(f"{field_name} is longer than {NAME_MAX} characters", field=field_name)
    return title


def clean_email(raw: str, field_name: str = "email") -> str:
    email = raw.strip()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{field_name} {raw!r} is not an email address", field=field_name)
    return email


class ContactKind(StrEnum):
    """Ways to reach a person; the paging engine decides which to use when."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    SLACK = "slack"
    PUSH = "push"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class ContactMethod:
    """A way to reach someone; `after` delays it from the moment a step pages them (e.g. push
    at once, SMS after 2 minutes, a call after 5), so acknowledging early spares the rest."""

    kind: ContactKind
    address: str
    after: timedelta = timedelta(0)

    @classmethod
    def parse(
        cls, kind: str, address: str, field_name: str, after: timedelta = timedelta(0)
    ) -> ContactMethod:
        try:
            parsed = ContactKind(kind.strip().lower())
        except ValueError:
            names = ", ".join(k.value for k in ContactKind)
            raise InvalidInput(
                f"unknown contact kind {kind!r}; expected one of {names}", field=field_name
            ) from None
        value = address.strip()
        if parsed is ContactKind.EMAIL:
            value = clean_email(value, field_name)
        elif parsed in (ContactKind.SMS, ContactKind.PHONE) and not _PHONE.match(value):
            raise InvalidInput(
                f"{field_name} {address!r} must be an E.164 number like +4915112345678",
                field=field_name,
            )
        elif not value:
            raise InvalidInput(f"{field_name} must not be empty", field=field_name)
        if after < timedelta(0) or after > MAX_CONTACT_DELAY:
            raise InvalidInput(
                f"{field_name}.after must be between 0 and {MAX_CONTACT_DELAY}",
                field=f"{field_name}.after",
            )
        return cls(parsed, value, after)


@dataclass
class Person:
    """Someone who can hold an incident role or be paged."""

    handle: str
    name: str
    email: str
    time_zone: str = "UTC"
    title: str = ""
    contact_methods: list[ContactMethod] = field(default_factory=list)
    id: int | None = None


@dataclass(frozen=True)
class Membership:
    """A person's place in a team, e.g. `on-call engineer` or `team lead`."""

    person_id: int
    role: str


# The team role whose members take pages when the team names no on-call schedule.
ON_CALL_ROLE = "on-call engineer"


@dataclass
class Team:
    slug: str
    name: str
    description: str = ""
    members: list[Membership] = field(default_factory=list)
    schedule: str | None = None  # the on-call schedule that `on-call engineer` pages
    id: int | None = None

    def on_call_members(self) -> list[int]:
        """Who `on-call engineer` means when the team has no schedule."""
        return [m.person_id for m in self.members if m.role == ON_CALL_ROLE]


@dataclass
class Service:
    """Something that can break; tier 1 is the most critical."""

    slug: str
    name: str
    description: str = ""
    team_id: int | None = None
    tier: int = 2
    dependency_ids: list[int] = field(default_factory=list)
    runbook_urls: list[str] = field(default_factory=list)
    id: int | None = None


def clean_tier(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in (1, 2, 3):
        raise InvalidInput(f"tier must be 1, 2 or 3, not {raw!r}", field="tier")
    return raw


def clean_url(raw: str, field_name: str) -> str:
    url = raw.strip()
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", url):
        raise InvalidInput(f"{field_name} {raw!r} is not an http(s) URL", field=field_name)
    return url


def apply_changes(entity: Any, changes: dict[str, Any]) -> list[str]:
    """Set the attributes that differ and return their names; used by catalog updates."""
    changed = [name for name, value in changes.items() if getattr(entity, name) != value]
    for name in changed:
        setattr(entity, name, changes[name])
    return changed
