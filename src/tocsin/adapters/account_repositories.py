"""Users, API tokens and web sessions in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from tocsin.adapters import orm
from tocsin.domain.accounts import ApiToken, OrgRole, Scope, User, WebSession
from tocsin.domain.errors import NotFound


class SqlAlchemyUserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, user: User) -> None:
        user.id = self._conn.execute(
            insert(orm.users)
            .values(
                username=user.username,
                display_name=user.display_name,
                password_hash=user.password_hash,
                org_role=user.org_role.value,
                person_id=user.person_id,
                active=user.active,
                created_at=user.created_at,
            )
            .returning(orm.users.c.id)
        ).scalar_one()

    def find(self, username: str) -> User | None:
        row = (
            self._conn.execute(select(orm.users).where(orm.users.c.username == username))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return User(
            username=row["username"],
            display_name=row["display_name"],
            password_hash=row["password_hash"],
            org_role=OrgRole(row["org_role"]),
            created_at=row["created_at"],
            person_id=row["person_id"],
            active=row["active"],
            id=row["id"],
        )

    def save(self, user: User) -> None:
        """Write back what may change after creation: the person, role, name and activity."""
        self._conn.execute(
            update(orm.users)
            .where(orm.users.c.id == user.id)
            .values(
                person_id=user.person_id,
                org_role=user.org_role.value,
                display_name=user.display_name,
                active=user.active,
            )
        )

    def count(self) -> int:
        return int(self._conn.scalar(select(func.count()).select_from(orm.users)) or 0)


class SqlAlchemyApiTokenRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._loaded: list[tuple[ApiToken, Any]] = []

    def add(self, token: ApiToken) -> None:
        token.id = self._conn.execute(
            insert(orm.api_tokens)
            .values(
                name=token.name,
                scope=token.scope.value,
                token_hash=token.token_hash,
                prefix=token.prefix,
                user_id=token.user_id,
                created_at=token.created_at,
            )
            .returning(orm.api_tokens.c.id)
        ).scalar_one()

    def get(self, token_id: int) -> ApiToken:
        row = (
            self._conn.execute(select(orm.api_tokens).where(orm.api_tokens.c.id == token_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no API token with id {token_id}", field="token_id")
        token = ApiToken(
            name=row["name"],
            scope=Scope(row["scope"]),
            token_hash=row["token_hash"],
            prefix=row["prefix"],
            user_id=row["user_id"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
            last_used_at=row["last_used_at"],
            id=row["id"],
        )
        self._loaded.append((token, token.revoked_at))
        return token

    def flush(self) -> None:
        for token, revoked_at in self._loaded:
            if token.revoked_at != revoked_at:
                self._conn.execute(
                    update(orm.api_tokens)
                    .where(orm.api_tokens.c.id == token.id)
                    .values(revoked_at=token.revoked_at)
                )
        self._loaded.clear()


class SqlAlchemyWebSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, session: WebSession) -> None:
        session.id = self._conn.execute(
            insert(orm.web_sessions)
            .values(
                token_hash=session.token_hash,
                user_id=session.user_id,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
            .returning(orm.web_sessions.c.id)
        ).scalar_one()

    def delete_expired(self, now: datetime) -> int:
        table = orm.web_sessions
        return self._conn.execute(delete(table).where(table.c.expires_at <= now)).rowcount

    def delete(self, token_hash: str) -> None:
        self._conn.execute(
            delete(orm.web_sessions).where(orm.web_sessions.c.token_hash == token_hash)
        )
