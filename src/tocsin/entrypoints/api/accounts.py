"""/api/v1/tokens and /users: admin-only account management."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole
from tocsin.entrypoints.api import schemas
from tocsin.entrypoints.api.deps import admin_access, get_tocsin
from tocsin.views.accounts import Principal

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/tokens", response_model=list[schemas.TokenRead])
def list_tokens(
    _: Principal = Depends(admin_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[schemas.TokenRead]:
    return [schemas.TokenRead(**vars(t)) for t in tocsin.accounts.tokens()]


@router.post("/tokens", status_code=201, response_model=schemas.TokenCreated)
def create_token(
    body: schemas.TokenCreate,
    principal: Principal = Depends(admin_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.TokenCreated:
    created = tocsin.handle(
        commands.CreateApiToken(body.username or principal.username, body.name, body.scope)
    )
    return schemas.TokenCreated(
        id=created.id, token=created.secret, scope=created.scope.value, username=created.username
    )


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: int, _: Principal = Depends(admin_access), tocsin: Tocsin = Depends(get_tocsin)
) -> None:
    tocsin.handle(commands.RevokeApiToken(token_id))


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str
    password: str = Field(min_length=1, repr=False)
    role: OrgRole = OrgRole.RESPONDER
    display_name: str = ""
    person: str | None = None


class UserLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person: str | None = Field(description="catalog person handle; null unlinks")


class UserCreated(BaseModel):
    id: int
    username: str


@router.post("/users", status_code=201, response_model=UserCreated)
def create_user(
    body: UserCreate, _: Principal = Depends(admin_access), tocsin: Tocsin = Depends(get_tocsin)
) -> UserCreated:
    user_id = tocsin.handle(
        commands.CreateUser(
            username=body.username,
            password=body.password,
            org_role=body.role,
            display_name=body.display_name,
            person=body.person,
        )
    )
    return UserCreated(id=user_id, username=body.username.strip().lower())


@router.put("/users/{username}/person", status_code=204)
def link_user(
    username: str,
    body: UserLink,
    _: Principal = Depends(admin_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> None:
    """Say which catalog person a user is: incident roles, and private incidents, follow people."""
    tocsin.handle(commands.LinkUser(username, body.person))
