"""User accounts, their organisation role, API tokens and web sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tocsin.domain.errors import InvalidInput

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 10


class Scope(StrEnum):
    """What an API token may do: read < write < admin."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _SCOPE_RANK[self]

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, raw: str) -> Scope:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise InvalidInput(
                f"unknown scope {raw!r}; expected one of read, write, admin", field="scope"
            ) from None


_SCOPE_RANK = {Scope.READ: 1, Scope.WRITE: 2, Scope.ADMIN: 3}


class OrgRole(StrEnum):
    """A user's standing in the organisation; caps the scopes of their tokens."""

    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"

    @property
    def max_scope(self) -> Scope:
        return {
            OrgRole.VIEWER: Scope.READ,
            OrgRole.RESPONDER: Scope.WRITE,
            OrgRole.ADMIN: Scope.ADMIN,
        }[self]

    @classmethod
    def parse(cls, raw: str) -> OrgRole:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            raise InvalidInput(
                f"unknown role {raw!r}; expected one of viewer, responder, admin", field="role"
            ) from None


def clean_username(raw: str) -> str:
    name = raw.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidInput(
            f"username {raw!r} must be 2-63 lowercase letters, digits, '.', '-' or '_'",
            field="username",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters", field="password")
    return password


@dataclass
class User:
    username: str
    display_name: str
    password_hash: str
    org_role: OrgRole
    created_at: datetime
    person_id: int | None = None
    active: bool = True
    id: int | None = None


@dataclass
class ApiToken:
    """A bearer token; only its hash is stored, the secret is shown once at creation."""

    name: str
    scope: Scope
    token_hash: str
    prefix: str
    user_id: int
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    id: int | None = None


@dataclass
class WebSession:
    """A signed-in browser; the cookie holds a secret whose hash is the key here."""

    token_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    id: int | None = None
