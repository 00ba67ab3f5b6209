"""/api/v1/people, /teams, /services and /catalog/import."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.errors import InvalidInput
from tocsin.entrypoints.api import schemas
from tocsin.entrypoints.api.catalog_file import CatalogFile, CatalogFileError, parse_catalog
from tocsin.entrypoints.api.deps import get_tocsin, read_access, write_access
from tocsin.entrypoints.api.presenters import person_read, service_read, team_read
from tocsin.views.accounts import Principal

router = APIRouter(prefix="/api/v1", tags=["catalog"])


def _slug(raw: str) -> str:
    return raw.strip().lower()


# ----- people ---------------------------------------------------------------------------------
@router.get("/people", response_model=list[schemas.PersonRead])
def list_people(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[schemas.PersonRead]:
    return [person_read(p) for p in tocsin.catalog.people()]


@router.get("/people/{handle}", response_model=schemas.PersonRead)
def get_person(
    handle: str, _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> schemas.PersonRead:
    return person_read(tocsin.catalog.person(_slug(handle)))


@router.post("/people", status_code=201, response_model=schemas.PersonRead)
def create_person(
    body: schemas.PersonCreate,
    response: Response,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.PersonRead:
    tocsin.handle(commands.SavePerson(body.spec()))
    response.headers["Location"] = f"/api/v1/people/{_slug(body.handle)}"
    return person_read(tocsin.catalog.person(_slug(body.handle)))


@router.patch("/people/{handle}", response_model=schemas.PersonRead)
def update_person(
    handle: str,
    body: schemas.PersonUpdate,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.PersonRead:
    current = person_read(tocsin.catalog.person(_slug(handle)))
    merged = schemas.PersonCreate(**{**current.model_dump(), **body.model_dump(exclude_unset=True)})
    tocsin.handle(commands.SavePerson(merged.spec(), create_only=False))
    return person_read(tocsin.catalog.person(current.handle))


# ----- teams ----------------------------------------------------------------------------------
@router.get("/teams", response_model=list[schemas.TeamRead])
def list_teams(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[schemas.TeamRead]:
    return [team_read(t) for t in tocsin.catalog.teams()]


@router.get("/teams/{slug}", response_model=schemas.TeamRead)
def get_team(
    slug: str, _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> schemas.TeamRead:
    return team_read(tocsin.catalog.team(_slug(slug)))


@router.post("/teams", status_code=201, response_model=schemas.TeamRead)
def create_team(
    body: schemas.TeamCreate,
    response: Response,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.TeamRead:
    tocsin.handle(commands.SaveTeam(body.spec()))
    response.headers["Location"] = f"/api/v1/teams/{_slug(body.slug)}"
    return team_read(tocsin.catalog.team(_slug(body.slug)))


@router.patch("/teams/{slug}", response_model=schemas.TeamRead)
def update_team(
    slug: str,
    body: schemas.TeamUpdate,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.TeamRead:
    current = tocsin.catalog.team(_slug(slug))
    base = {
        "slug": current.slug,
        "name": current.name,
        "description": current.description,
        "members": [{"person": m.handle, "role": m.role} for m in current.members],
    }
    merged = schemas.TeamCreate(**{**base, **body.model_dump(exclude_unset=True)})
    tocsin.handle(commands.SaveTeam(merged.spec(), create_only=False))
    return team_read(tocsin.catalog.team(current.slug))


# ----- services -------------------------------------------------------------------------------
@router.get("/services", response_model=list[schemas.ServiceRead])
def list_services(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[schemas.ServiceRead]:
    return [service_read(s) for s in tocsin.catalog.services()]


@router.get("/services/{slug}", response_model=schemas.ServiceRead)
def get_service(
    slug: str, _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> schemas.ServiceRead:
    return service_read(tocsin.catalog.service(_slug(slug)))


@router.post("/services", status_code=201, response_model=schemas.ServiceRead)
def create_service(
    body: schemas.ServiceCreate,
    response: Response,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.ServiceRead:
    tocsin.handle(commands.SaveService(body.spec()))
    response.headers["Location"] = f"/api/v1/services/{_slug(body.slug)}"
    return service_read(tocsin.catalog.service(_slug(body.slug)))


@router.patch("/services/{slug}", response_model=schemas.ServiceRead)
def update_service(
    slug: str,
    body: schemas.ServiceUpdate,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.ServiceRead:
    current = service_read(tocsin.catalog.service(_slug(slug)))
    base = current.model_dump(exclude={"open_incidents"})
    merged = schemas.ServiceCreate(**{**base, **body.model_dump(exclude_unset=True)})
    tocsin.handle(commands.SaveService(merged.spec(), create_only=False))
    return service_read(tocsin.catalog.service(current.slug))


# ----- import ---------------------------------------------------------------------------------
@router.post("/catalog/import", response_model=schemas.ImportReport)
async def import_catalog(
    request: Request,
    _: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> schemas.ImportReport:
    """Upsert people, teams and services from the catalog file format (YAML or JSON body)."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    return await run_in_threadpool(import_catalog_text, tocsin, raw, "request body")


def import_catalog_text(tocsin: Tocsin, text: str, source: str) -> schemas.ImportReport:
    """Validate a catalog file and import it in one transaction; nothing is written on error."""
    try:
        catalog: CatalogFile = parse_catalog(text, source)
    except CatalogFileError as exc:
        raise InvalidInput("; ".join(str(p) for p in exc.problems), field="body") from None
    return schemas.ImportReport(**tocsin.handle(catalog.command()))
