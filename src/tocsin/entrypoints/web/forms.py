"""Form input for pages: read fields, parse times, keep what was typed when a change is refused."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams

from tocsin.domain.errors import DomainError, InvalidInput, NotFound

T = TypeVar("T")
Fields = FormData | QueryParams
# Never echoed back into a page.
_SECRET_FIELDS = frozenset({"csrf_token", "password", "secret"})
# Row ids are 32-bit integers in the database; anything larger names nothing.
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class FormState:
    """What a form shows: the values to fill in and, after a refusal, the message and its field."""

    values: Mapping[str, str | list[str]] = field(default_factory=dict)
    error: str | None = None
    field: str | None = None
    title: str | None = None

    @classmethod
    def refused(cls, fields: Fields, exc: DomainError) -> FormState:
        return cls(values=kept_values(fields), error=exc.detail, field=exc.field, title=exc.title)

    @property
    def submitted(self) -> bool:
        return bool(self.values)

    def value(self, name: str, default: str = "") -> str:
        raw = self.values.get(name)
        if raw is None:
            return default
        return raw if isinstance(raw, str) else (raw[0] if raw else default)

    def chosen(self, name: str, default: list[str] | None = None) -> list[str]:
        """The selected values of a multi-choice field."""
        if not self.submitted:
            return list(default or [])
        raw = self.values.get(name, [])
        return [raw] if isinstance(raw, str) else list(raw)

    def checked(self, name: str, default: bool = False) -> bool:
        if not self.submitted:
            return default
        return is_on(self.value(name))

    def invalid(self, *names: str) -> bool:
        """True when the refusal named one of these fields (for aria-invalid)."""
        return self.field is not None and any(
            self.field == n or self.field.startswith(n) for n in names
        )


EMPTY = FormState()


def kept_values(fields: Fields) -> dict[str, str | list[str]]:
    """What was posted, to fill the form in again (never the password or the CSRF token)."""
    out: dict[str, str | list[str]] = {}
    for key in fields:
        if key in _SECRET_FIELDS:
            continue
        items = [v for v in fields.getlist(key) if isinstance(v, str)]
        out[key] = items[0] if len(items) == 1 else items
    # Mark the form as submitted even when every field was left empty.
    out.setdefault("_submitted", "1")
    return out


def text(fields: Fields, name: str) -> str:
    """One field as text; missing or a file upload reads as empty."""
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def texts(fields: Fields, name: str) -> list[str]:
    """Every non-blank value of a repeated field (checkboxes, multi-selects)."""
    return [v.strip() for v in fields.getlist(name) if isinstance(v, str) and v.strip()]


def is_on(raw: str) -> bool:
    """How browsers and people spell a ticked checkbox."""
    return raw.strip().lower() in ("on", "true", "1", "yes")


def flag(fields: Fields, name: str) -> bool:
    """A checkbox: absent means unticked."""
    return is_on(text(fields, name))


def required(fields: Fields, name: str, parse: Callable[[str], T], what: str) -> T:
    """Parse a required choice, with 'choose a …' instead of a parser's message for a blank."""
    raw = text(fields, name).strip()
    if not raw:
        raise InvalidInput(f"choose {what}", field=name)
    return parse(raw)


def parse_time(raw: str, name: str) -> datetime | None:
    """A time from a datetime-local input (read as UTC) or an ISO value with an offset."""
    value = raw.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace(" ", "T", 1))
    except ValueError:
        raise InvalidInput(
            f"{name} {raw!r} is not a date and time like 2026-03-29T14:05 (UTC)", field=name
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_number(raw: str, name: str) -> int | None:
    """A positive whole number such as an entry number; `#12` is accepted too."""
    value = raw.strip().removeprefix("#")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput(f"{name} must be an entry number like 12, not {raw!r}", field=name)
    return int(value)


def parse_id(raw: str, what: str) -> int:
    """A row id from a path, such as the 12 of /alerts/12; anything else is not found."""
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= _MAX_ID:
        raise NotFound(f"no {what} {raw!r}", field=what)
    return int(value)


def filter_query(query: QueryParams, fields: tuple[str, ...], **extra: str) -> str:
    """A list page's filters as a query string, with `extra` (such as a cursor) on top."""
    pairs = [(k, v) for k in fields for v in query.getlist(k) if v]
    pairs += list(extra.items())
    return urlencode(pairs)
