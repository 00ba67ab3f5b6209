"""Account use cases: users, API tokens and web sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from tocsin.domain import accounts as acc
from tocsin.domain import commands
from tocsin.domain.catalog import clean_name
from tocsin.domain.errors import (
    AlreadyExists,
    AuthenticationFailed,
    NoChange,
    NotFound,
    PermissionDenied,
)
from tocsin.services.handlers.people import person_ref
from tocsin.services.messagebus import Context

TOKEN_PREFIX = "tsn_"
SESSION_LIFETIME = timedelta(days=14)
# Verified when the user does not exist, so a wrong username takes as long as a wrong password.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$EynBFbQLrWsa+6PtD5NMwA$"
    "3kbWJ7vlH/2VrwxUar4gTytcdelZeCDWqpUow5HOFhs"
)


def secret_hash(secret: str) -> str:
    """Tokens and session secrets are long random strings: a plain SHA-256 is the right hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    id: int
    secret: str
    scope: acc.Scope
    username: str


@dataclass(frozen=True)
class NewSession:
    secret: str
    csrf_token: str
    user_id: int


def create_user(cmd: commands.CreateUser, ctx: Context) -> int:
    username = acc.clean_username(cmd.username)
    if ctx.uow.users.find(username) is not None:
        raise AlreadyExists(f"a user named {username!r} already exists", field="username")
    person_id = person_ref(ctx.uow, cmd.person).id if cmd.person else None
    user = acc.User(
        username=username,
        display_name=clean_name(cmd.display_name or username, "display_name"),
        password_hash=ctx.hasher.hash(acc.check_password(cmd.password)),
        org_role=cmd.org_role,
        created_at=ctx.clock.now(),
        person_id=person_id,
    )
    ctx.uow.users.add(user)
    assert user.id is not None
    return user.id


def link_user(cmd: commands.LinkUser, ctx: Context) -> None:
    user = ctx.uow.users.find(cmd.username.strip().lower())
    if user is None:
        raise NotFound(f"no user named {cmd.username!r}", field="username")
    person_id = person_ref(ctx.uow, cmd.person).id if cmd.person else None
    if person_id == user.person_id:
        raise NoChange(f"{user.username} is already linked that way", field="person")
    user.person_id = person_id
    ctx.uow.users.save(user)


def create_api_token(cmd: commands.CreateApiToken, ctx: Context) -> NewToken:
    """Create a token; the secret is returned here and never again."""
    user = ctx.uow.users.find(cmd.username.strip().lower())
    if user is None or not user.active:
        raise NotFound(f"no active user named {cmd.username!r}", field="username")
    if not user.org_role.max_scope.allows(cmd.scope):
        raise PermissionDenied(
            f"{user.username} is {user.org_role.value}; their tokens can have at most "
            f"{user.org_role.max_scope.value} scope",
            field="scope",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    token = acc.ApiToken(
        name=clean_name(cmd.name, "name"),
        scope=cmd.scope,
        token_hash=secret_hash(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        user_id=user.id,
        created_at=ctx.clock.now(),
    )
    ctx.uow.tokens.add(token)
    assert token.id is not None
    return NewToken(token.id, secret, token.scope, user.username)


def revoke_api_token(cmd: commands.RevokeApiToken, ctx: Context) -> None:
    token = ctx.uow.tokens.get(cmd.token_id)
    if token.revoked_at is None:
        token.revoked_at = ctx.clock.now()


def log_in(cmd: commands.LogIn, ctx: Context) -> NewSession:
    user = ctx.uow.users.find(cmd.username.strip().lower())
    if user is None or not user.active:
        ctx.hasher.verify(_DUMMY_HASH, cmd.password)
        raise AuthenticationFailed("wrong username or password")
    if not ctx.hasher.verify(user.password_hash, cmd.password):
        raise AuthenticationFailed("wrong username or password")
    assert user.id is not None
    now = ctx.clock.now()
    secret = secrets.token_urlsafe(32)
    session = acc.WebSession(
        token_hash=secret_hash(secret),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    ctx.uow.sessions.delete_expired(now)  # sign-ins sweep up the sessions nobody logged out of
    ctx.uow.sessions.add(session)
    return NewSession(secret, session.csrf_token, user.id)


def log_out(cmd: commands.LogOut, ctx: Context) -> None:
    ctx.uow.sessions.delete(secret_hash(cmd.session_secret))
