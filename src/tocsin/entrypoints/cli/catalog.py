"""`tocsin catalog …`: import the catalog as code, list and add people, teams and services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tocsin.domain.errors import InvalidInput
from tocsin.entrypoints.api import schemas
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state

app = typer.Typer(help="People, teams and services.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Catalog YAML with people, teams and services.")],
) -> None:
    """Create or update everything in FILE in one transaction; importing twice changes nothing."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}", field="file") from None
    report = state(ctx).backend().import_catalog(text, str(file))
    for kind in ("people", "teams", "services"):
        counts = getattr(report, kind) or {"created": 0, "updated": 0, "unchanged": 0}
        output.console.print(
            f"{kind}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )


@app.command()
def people(ctx: typer.Context, json: JsonFlag = False) -> None:
    """List people."""
    found = state(ctx).backend().people()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Handle", "Name", "Email", "Title", "Time zone"):
        table.add_column(column)
    for p in found:
        table.add_row(p.handle, p.name, p.email, p.title or "—", p.time_zone)
    output.console.print(table)


@app.command()
def teams(ctx: typer.Context, json: JsonFlag = False) -> None:
    """List teams with their members' roles."""
    found = state(ctx).backend().teams()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Slug", "Name", "Members", "Services"):
        table.add_column(column)
    for t in found:
        members = ", ".join(f"{m.name} ({m.role})" for m in t.members) or "—"
        table.add_row(t.slug, t.name, members, ", ".join(t.services) or "—")
    output.console.print(table)


@app.command()
def services(ctx: typer.Context, json: JsonFlag = False) -> None:
    """List services."""
    found = state(ctx).backend().services()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Slug", "Name", "Tier", "Team", "Depends on", "Open incidents"):
        table.add_column(column)
    for s in found:
        table.add_row(
            s.slug,
            s.name,
            str(s.tier),
            s.team or "—",
            ", ".join(s.depends_on) or "—",
            str(s.open_incidents),
        )
    output.console.print(table)


@app.command("add-person")
def add_person(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option()],
    email: Annotated[str, typer.Option()],
    time_zone: Annotated[str, typer.Option()] = "UTC",
    title: Annotated[str, typer.Option(help="Organisation title, e.g. 'VP engineering'.")] = "",
) -> None:
    """Add a person."""
    person = (
        state(ctx)
        .backend()
        .create_person(
            schemas.PersonCreate(
                handle=handle, name=name, email=email, time_zone=time_zone, title=title
            )
        )
    )
    output.console.print(f"Added {person.name} ({person.handle})")


@app.command("add-team")
def add_team(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option()],
    member: Annotated[
        list[str], typer.Option(help="HANDLE:ROLE, e.g. alice:'team lead'; repeat.")
    ] = [],  # noqa: B006
) -> None:
    """Add a team."""
    members = []
    for raw in member:
        handle, _, role = raw.partition(":")
        members.append(schemas.MemberIO(person=handle, role=role or "member"))
    team = (
        state(ctx).backend().create_team(schemas.TeamCreate(slug=slug, name=name, members=members))
    )
    output.console.print(f"Added team {team.name} ({team.slug})")


@app.command("add-service")
def add_service(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option()],
    team: Annotated[str | None, typer.Option()] = None,
    tier: Annotated[int, typer.Option(min=1, max=3)] = 2,
    depends_on: Annotated[list[str], typer.Option(help="Service slug; repeat.")] = [],  # noqa: B006
) -> None:
    """Add a service."""
    service = (
        state(ctx)
        .backend()
        .create_service(
            schemas.ServiceCreate(slug=slug, name=name, team=team, tier=tier, depends_on=depends_on)
        )
    )
    output.console.print(f"Added service {service.name} ({service.slug})")
