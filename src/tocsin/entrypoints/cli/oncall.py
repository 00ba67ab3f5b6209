"""`tocsin oncall …`: who is on call, and a schedule's shifts, from a terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from tocsin.domain.errors import InvalidInput
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state

app = typer.Typer(help="On-call schedules: who is on call, and when.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TIME_HELP = (
    "ISO 8601, e.g. 2026-11-26T14:05 (no offset: UTC) or 2026-11-26T15:05+01:00; default now."
)


def parse_instant(raw: str | None, field: str) -> datetime | None:
    """ISO 8601; a time without an offset is UTC, whatever this machine's zone."""
    if raw is None or raw.strip().lower() == "now":
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: {raw!r} is not an ISO 8601 time like 2026-11-26T14:05:00Z", field=field
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as the schedule's people read it: 'Mon 2026-03-30 09:00 CEST'."""
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %Z")


@app.command()
def who(
    ctx: typer.Context,
    service: Annotated[
        str | None, typer.Option(help="Who paging reaches for this service's team.")
    ] = None,
    schedule: Annotated[str | None, typer.Option(help="Who this schedule puts on call.")] = None,
    at: Annotated[str | None, typer.Option(help=TIME_HELP)] = None,
    json: JsonFlag = False,
) -> None:
    """Who is on call now (or --at): for a service, a schedule, or every schedule."""
    found = (
        state(ctx)
        .backend()
        .oncall({"service": service, "schedule": schedule, "at": parse_instant(at, "at")})
    )
    if json:
        output.print_json(found)
        return
    if not found:
        target = f"service {service}" if service else f"schedule {schedule}" if schedule else ""
        output.console.print(f"Nobody is on call{' for ' + target if target else ''}.")
        return
    table = Table(header_style="bold")
    for column in ("Person", "Handle", "Schedule", "Team", "Until"):
        table.add_column(column)
    for person in found:
        table.add_row(
            person.name,
            person.person,
            person.schedule_name or "— (team role)",
            person.team or "—",
            output.when(person.until),
        )
    output.console.print(table)


@app.command("list")
def list_schedules(ctx: typer.Context, json: JsonFlag = False) -> None:
    """Every schedule with who is on call now."""
    found = state(ctx).backend().schedules()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Slug", "Name", "Time zone", "Teams", "On call now"):
        table.add_column(column)
    for s in found:
        people = ", ".join(p.name for p in s.on_call) or "nobody"
        table.add_row(s.slug, s.name, s.time_zone, ", ".join(s.teams) or "—", people)
    output.console.print(table)


@app.command()
def schedule(
    ctx: typer.Context,
    slug: str,
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days to show.")] = 14,
    start: Annotated[str | None, typer.Option(help=TIME_HELP)] = None,
    json: JsonFlag = False,
) -> None:
    """A schedule's shifts for the next days, in the schedule's time zone."""
    begins = parse_instant(start, "start") or datetime.now(UTC)
    found = state(ctx).backend().schedule(slug, {"start": begins, "end": begins + timedelta(days)})
    if json:
        output.print_json(found)
        return
    zone = ZoneInfo(found.time_zone)
    output.console.print(f"[bold]{found.name}[/] ({found.slug}), times in {found.time_zone}")
    table = Table(header_style="bold")
    for column in ("Person", "From", "Until", "Hours"):
        table.add_column(column)
    for shift in found.shifts:
        hours = (shift.ends_at - shift.starts_at) / timedelta(hours=1)
        table.add_row(
            shift.name + (" [italic](override)[/]" if shift.override else ""),
            local(shift.starts_at, zone),
            local(shift.ends_at, zone),
            f"{hours:g}",
        )
    if found.shifts:
        output.console.print(table)
    else:
        output.console.print("Nobody is on call in these days.")
    if found.feed_url:
        output.console.print(f"Calendar feed: {found.feed_url}", soft_wrap=True)
