"""Request dependencies: the wired Tocsin and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request

from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope
from tocsin.domain.errors import AuthenticationFailed, PermissionDenied
from tocsin.services.handlers.accounts import secret_hash
from tocsin.views.accounts import Principal


def get_tocsin(request: Request) -> Tocsin:
    tocsin: Tocsin = request.app.state.tocsin
    return tocsin


def require(scope: Scope) -> Callable[..., Principal]:
    """A dependency that admits callers whose token has at least `scope`."""

    def dependency(request: Request, tocsin: Tocsin = Depends(get_tocsin)) -> Principal:
        header = request.headers.get("authorization", "")
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            raise AuthenticationFailed(
                "send an API token as 'Authorization: Bearer <token>' "
                "(create one with `tocsin token create`)"
            )
        principal = tocsin.accounts.token_principal(secret_hash(secret.strip()))
        if principal is None:
            raise AuthenticationFailed("the API token is unknown or revoked")
        if not principal.scope.allows(scope):
            raise PermissionDenied(
                f"this token has {principal.scope.value} scope; this action needs {scope.value}"
            )
        return principal

    return dependency


read_access = require(Scope.READ)
write_access = require(Scope.WRITE)
admin_access = require(Scope.ADMIN)
