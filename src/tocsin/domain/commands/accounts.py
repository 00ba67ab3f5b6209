"""Commands for users, tokens and sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.commands.base import Command


@dataclass(frozen=True)
class CreateUser(Command):
    username: str
    password: str = field(repr=False)
    org_role: OrgRole = OrgRole.RESPONDER
    display_name: str = ""
    person: str | None = None


@dataclass(frozen=True)
class LinkUser(Command):
    """Say which catalog person a user is (None unlinks): incident roles belong to people."""

    username: str
    person: str | None


@dataclass(frozen=True)
class CreateApiToken(Command):
    username: str
    name: str
    scope: Scope


@dataclass(frozen=True)
class RevokeApiToken(Command):
    token_id: int


@dataclass(frozen=True)
class LogIn(Command):
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class LogOut(Command):
    session_secret: str = field(repr=False)
