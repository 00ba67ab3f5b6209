"""Per-invocation state: settings, and the backend built only when a command needs one."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import Settings, load_settings
from tocsin.entrypoints.cli.backend import Backend, HttpBackend, LocalBackend


@dataclass
class CliState:
    url: str | None
    token: str | None
    database_url: str | None
    actor: str | None
    _tocsin: Tocsin | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        return load_settings(database_url=self.database_url)

    def tocsin(self, migrate: bool = True) -> Tocsin:
        """Work on the database directly, upgrading its schema first unless told not to."""
        if self._tocsin is None:
            self._tocsin = bootstrap(self.settings())
            if migrate and not self._tocsin.schema_is_current():
                self._tocsin.migrate()
        return self._tocsin

    def backend(self) -> Backend:
        if self.url:
            return HttpBackend(self.url, self.token or self.settings().token)
        return LocalBackend(self.tocsin(), self.actor)

    def close(self) -> None:
        if self._tocsin is not None:
            self._tocsin.close()


def state(ctx: typer.Context) -> CliState:
    found: CliState = ctx.ensure_object(CliState) if ctx.obj is None else ctx.obj
    return found
