"""Who is calling: resolve API tokens and session cookies to principals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tocsin.adapters import orm
from tocsin.adapters.database import Database
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actors import Actor


@dataclass(frozen=True)
class Principal:
    """An authenticated caller and the most it may do."""

    user_id: int | None  # None for an operator using the CLI on the database directly
    username: str
    display_name: str
    org_role: OrgRole
    scope: Scope
    csrf_token: str | None = None
    person_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        """Admins and operators on the database see private incidents they take no part in."""
        return self.user_id is None or self.org_role is OrgRole.ADMIN

    @property
    def actor(self) -> Actor:
        return Actor(
            name=self.display_name,
            user_id=self.user_id,
            person_id=self.person_id,
            admin=self.org_role is OrgRole.ADMIN,
        )


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    scope: str
    prefix: str
    username: str
    created_at: datetime
    revoked_at: datetime | None


class AccountViews:
    def __init__(self, database: Database) -> None:
        self._db = database

    def token_principal(self, token_hash: str) -> Principal | None:
        t, u = orm.api_tokens, orm.users
        query = (
            select(u.c.id, u.c.username, u.c.display_name, u.c.org_role, u.c.person_id, t.c.scope)
            .join(u, u.c.id == t.c.user_id)
            .where(t.c.token_hash == token_hash, t.c.revoked_at.is_(None), u.c.active.is_(True))
        )
        with self._db.reader.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        role = OrgRole(row.org_role)
        scope = Scope(row.scope)
        # A token never outranks its owner, even if the owner was demoted after creating it.
        if not role.max_scope.allows(scope):
            scope = role.max_scope
        return Principal(
            row.id, row.username, row.display_name, role, scope, person_id=row.person_id
        )

    def session_principal(self, token_hash: str, now: datetime) -> Principal | None:
        s, u = orm.web_sessions, orm.users
        query = (
            select(
                u.c.id,
                u.c.username,
                u.c.display_name,
                u.c.org_role,
                u.c.person_id,
                s.c.csrf_token,
            )
            .join(u, u.c.id == s.c.user_id)
            .where(s.c.token_hash == token_hash, s.c.expires_at > now, u.c.active.is_(True))
        )
        with self._db.reader.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        role = OrgRole(row.org_role)
        return Principal(
            row.id,
            row.username,
            row.display_name,
            role,
            role.max_scope,
            row.csrf_token,
            person_id=row.person_id,
        )

    def tokens(self) -> list[TokenView]:
        t, u = orm.api_tokens, orm.users
        query = (
            select(t, u.c.username).join(u, u.c.id == t.c.user_id).order_by(t.c.created_at.desc())
        )
        with self._db.reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            TokenView(
                id=r["id"],
                name=r["name"],
                scope=r["scope"],
                prefix=r["prefix"],
                username=r["username"],
                created_at=r["created_at"],
                revoked_at=r["revoked_at"],
            )
            for r in rows
        ]

    def has_users(self) -> bool:
        with self._db.reader.connect() as conn:
            return conn.execute(select(orm.users.c.id).limit(1)).first() is not None
