"""Opaque keyset cursors, so page N costs the same as page 1 on a big table."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tocsin.domain.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(at: datetime, ident: int) -> str:
    raw = json.dumps([at.isoformat(), ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value = datetime.fromisoformat(at)
        if value.tzinfo is None or not isinstance(ident, int):
            raise ValueError
        return value, ident
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InvalidInput(
            "cursor is not one returned by this API; start again without it", field="cursor"
        ) from None
