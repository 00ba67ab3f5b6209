"""The catalog-as-code file format, shared by `tocsin catalog import` and the import endpoint."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tocsin.domain import commands
from tocsin.yamlfile import YamlFileError, load_validated


class CatalogFileError(YamlFileError):
    kind = "catalog"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContactMethodEntry(_Strict):
    kind: str
    address: str


class PersonEntry(_Strict):
    handle: str
    name: str
    email: str
    time_zone: str = "UTC"
    title: str = ""
    contact_methods: list[ContactMethodEntry] = Field(default_factory=list)

    def spec(self) -> commands.PersonSpec:
        return commands.PersonSpec(
            handle=self.handle,
            name=self.name,
            email=self.email,
            time_zone=self.time_zone,
            title=self.title,
            contact_methods=tuple((c.kind, c.address) for c in self.contact_methods),
        )


class MemberEntry(_Strict):
    person: str
    role: str = "member"


class TeamEntry(_Strict):
    slug: str
    name: str
    description: str = ""
    members: list[MemberEntry] = Field(default_factory=list)

    def spec(self) -> commands.TeamSpec:
        return commands.TeamSpec(
            slug=self.slug,
            name=self.name,
            description=self.description,
            members=tuple((m.person, m.role) for m in self.members),
        )


class ServiceEntry(_Strict):
    slug: str
    name: str
    description: str = ""
    team: str | None = None
    tier: int = 2
    depends_on: list[str] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)

    def spec(self) -> commands.ServiceSpec:
        return commands.ServiceSpec(
            slug=self.slug,
            name=self.name,
            description=self.description,
            team=self.team,
            tier=self.tier,
            depends_on=tuple(self.depends_on),
            runbooks=tuple(self.runbooks),
        )


class CatalogFile(_Strict):
    """people, teams and services; every section is optional."""

    people: list[PersonEntry] = Field(default_factory=list)
    teams: list[TeamEntry] = Field(default_factory=list)
    services: list[ServiceEntry] = Field(default_factory=list)

    def command(self) -> commands.ImportCatalog:
        return commands.ImportCatalog(
            people=tuple(p.spec() for p in self.people),
            teams=tuple(t.spec() for t in self.teams),
            services=tuple(s.spec() for s in self.services),
        )


def parse_catalog(text: str, source: str) -> CatalogFile:
    return load_validated(text, source, CatalogFile, CatalogFileError)
