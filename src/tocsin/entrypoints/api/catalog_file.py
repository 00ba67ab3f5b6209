"""The catalog-as-code file format, shared by `tocsin catalog import` and the import endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tocsin.domain import commands
from tocsin.entrypoints.api.schemas import PersonCreate, ServiceCreate, TeamCreate
from tocsin.yamlfile import YamlFileError, load_validated


class CatalogFileError(YamlFileError):
    kind = "catalog"


class CatalogFile(BaseModel):
    """people, teams and services, each entry shaped as the API's create bodies; all optional."""

    model_config = ConfigDict(extra="forbid")

    people: list[PersonCreate] = Field(default_factory=list)
    teams: list[TeamCreate] = Field(default_factory=list)
    services: list[ServiceCreate] = Field(default_factory=list)
    # On-call schedules, validated by the domain (which names the offending field).
    schedules: list[dict[str, Any]] = Field(default_factory=list)

    def command(self) -> commands.ImportCatalog:
        return commands.ImportCatalog(
            people=tuple(p.spec() for p in self.people),
            teams=tuple(t.spec() for t in self.teams),
            services=tuple(s.spec() for s in self.services),
            schedules=tuple(self.schedules),
        )


def parse_catalog(text: str, source: str) -> CatalogFile:
    return load_validated(text, source, CatalogFile, CatalogFileError)
