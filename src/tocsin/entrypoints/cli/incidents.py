"""`tocsin incident …`: declare, list, show and change incidents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from tocsin.domain.errors import InvalidInput
from tocsin.entrypoints.api import schemas
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state

app = typer.Typer(help="Declare, list, show and change incidents.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Ref = Annotated[str, typer.Argument(help="Incident reference: INC-42 or 42.")]


def parse_time(raw: str | None, field: str) -> datetime | None:
    """ISO 8601 with an offset (2026-11-26T14:05:00Z), or 'now'."""
    if raw is None:
        return None
    if raw.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: {raw!r} is not an ISO 8601 time like 2026-11-26T14:05:00Z", field=field
        ) from None
    if value.tzinfo is None:
        raise InvalidInput(
            f"{field}: {raw!r} has no time zone; add Z or an offset like +01:00", field=field
        )
    return value


@app.command()
def declare(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="What is broken, in a few words.")],
    severity: Annotated[str, typer.Option(help="P1 (critical) … P4 (low).")],
    service: Annotated[
        list[str], typer.Option(help="Affected service slug; repeat for several.")
    ] = [],  # noqa: B006
    summary: Annotated[str, typer.Option(help="What is known so far.")] = "",
    user_impact: Annotated[str, typer.Option(help="What users experience.")] = "",
    business_impact: Annotated[str, typer.Option(help="What it costs the business.")] = "",
    customer_facing: Annotated[bool, typer.Option(help="Do customers notice?")] = False,
    detection_source: Annotated[
        str, typer.Option(help="alert, customer, employee, partner, automated_test, other")
    ] = "employee",
    detected_at: Annotated[str | None, typer.Option(help="When it was noticed (ISO 8601).")] = None,
    impact_started_at: Annotated[
        str | None, typer.Option(help="When impact began (ISO 8601).")
    ] = None,
    private: Annotated[
        bool, typer.Option(help="Visible only to participants and admins (security breaches).")
    ] = False,
    workflow: Annotated[str, typer.Option(help="A workflow of the policy.")] = "standard",
    json: JsonFlag = False,
) -> None:
    """Declare an incident; it starts in Investigating."""
    body = schemas.IncidentCreate(
        title=title,
        severity=severity,
        services=service,
        summary=summary,
        user_impact=user_impact,
        business_impact=business_impact,
        customer_facing=customer_facing,
        detection_source=detection_source,
        detected_at=parse_time(detected_at, "detected_at"),
        impact_started_at=parse_time(impact_started_at, "impact_started_at"),
        private=private,
        workflow=workflow,
    )
    incident = state(ctx).backend().declare(body)
    if json:
        output.print_json(incident)
    else:
        output.console.print(f"Declared {incident.reference}: {incident.title}")
        output.console.print(f"War room: {incident.war_room['chat']}   {incident.url}")


@app.command("list")
def list_incidents(
    ctx: typer.Context,
    status: Annotated[list[str], typer.Option(help="Status, or 'open'; repeat for several.")] = [],  # noqa: B006
    severity: Annotated[list[str], typer.Option(help="P1 … P4; repeat for several.")] = [],  # noqa: B006
    service: Annotated[str | None, typer.Option(help="Service slug.")] = None,
    since: Annotated[str | None, typer.Option(help="Declared at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Declared before (ISO 8601).")] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Text in title or summary.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Continue from a previous page.")] = None,
    json: JsonFlag = False,
) -> None:
    """List incidents, newest first."""
    params = {
        "status": status,
        "severity": severity,
        "service": service,
        "since": parse_time(since, "since"),
        "until": parse_time(until, "until"),
        "q": search,
        "limit": limit,
        "cursor": cursor,
    }
    page = state(ctx).backend().list_incidents(params)
    if json:
        output.print_json(page)
        return
    if not page.items:
        output.console.print("No incidents match.")
        return
    output.console.print(output.incident_table(page))
    if page.next_cursor:
        output.console.print(f"More: --cursor {page.next_cursor}")


@app.command()
def show(ctx: typer.Context, ref: Ref, json: JsonFlag = False) -> None:
    """Show an incident with its roles, timestamps and timeline."""
    backend = state(ctx).backend()
    incident = backend.show(ref)
    entries = backend.timeline(ref, False)
    if json:
        output.console.print_json(
            data={
                **incident.model_dump(mode="json"),
                "timeline": [e.model_dump(mode="json") for e in entries],
            }
        )
        return
    output.show_incident(incident)
    output.console.print(output.timeline_table(entries))


@app.command()
def timeline(
    ctx: typer.Context,
    ref: Ref,
    key_moments: Annotated[bool, typer.Option(help="Only key moments.")] = False,
    json: JsonFlag = False,
) -> None:
    """Print an incident's timeline."""
    entries = state(ctx).backend().timeline(ref, key_moments)
    if json:
        output.print_json(entries)
    else:
        output.console.print(output.timeline_table(entries))


@app.command()
def status(
    ctx: typer.Context,
    ref: Ref,
    new_status: Annotated[
        str,
        typer.Argument(
            metavar="STATUS", help="investigating, identified, monitoring, resolved, closed"
        ),
    ],
    note: Annotated[str, typer.Option(help="Why, for the timeline.")] = "",
) -> None:
    """Move an incident to another status (reopen by moving back to investigating)."""
    body = schemas.StatusChange(status=new_status, note=note)
    incident = state(ctx).backend().status(ref, body)
    output.console.print(f"{incident.reference} is now {incident.status}")


@app.command("ack")
def acknowledge(ctx: typer.Context, ref: Ref) -> None:
    """Acknowledge an incident: escalation stops and pages not yet sent are cancelled."""
    incident = state(ctx).backend().acknowledge(ref)
    output.console.print(f"{incident.reference} acknowledged; paging stops")
    if incident.needs_incident_commander:
        output.console.print(
            f"{incident.reference} has no Incident Commander: take the role with "
            f"`tocsin incident role {incident.id} ic YOUR-HANDLE`"
        )


@app.command()
def severity(
    ctx: typer.Context,
    ref: Ref,
    level: Annotated[str, typer.Argument(metavar="LEVEL", help="P1 … P4")],
    reason: Annotated[str, typer.Option(help="Why the severity changes (required).")],
) -> None:
    """Reclassify an incident; the reason goes on the timeline."""
    body = schemas.SeverityChange(severity=level, reason=reason)
    incident = state(ctx).backend().severity(ref, body)
    output.console.print(
        f"{incident.reference} is now {incident.severity.level} ({incident.severity.name})"
    )


@app.command()
def role(
    ctx: typer.Context,
    ref: Ref,
    role_name: Annotated[
        str, typer.Argument(metavar="ROLE", help="ic, tl, cl, scribe, sme or the full name")
    ],
    person: Annotated[
        str | None,
        typer.Argument(help="Person handle; omit with --relieve to free a single-holder role"),
    ] = None,
    relieve: Annotated[bool, typer.Option(help="Take the role away instead of giving it.")] = False,
) -> None:
    """Assign (or hand over) an incident role, or relieve someone of it."""
    backend = state(ctx).backend()
    if relieve:
        incident = backend.relieve_role(ref, role_name, person)
    else:
        if not person:
            raise InvalidInput("name the person to give the role to", field="person")
        incident = backend.assign_role(ref, schemas.RoleAssign(role=role_name, person=person))
    holders = [f"{r.label}: {r.name}" for r in incident.roles] or ["no roles assigned"]
    output.console.print(f"{incident.reference} — " + "; ".join(holders))


@app.command()
def note(
    ctx: typer.Context,
    ref: Ref,
    text: Annotated[str, typer.Argument(help="The entry's text.")],
    kind: Annotated[
        str, typer.Option(help="observation, action, decision or communication")
    ] = "observation",
    at: Annotated[str | None, typer.Option(help="When it happened (ISO 8601), if not now.")] = None,
    corrects: Annotated[int | None, typer.Option(help="# of the entry this one corrects.")] = None,
    key_moment: Annotated[bool, typer.Option(help="Also mark it as a key moment.")] = False,
) -> None:
    """Add an entry to the timeline."""
    backend = state(ctx).backend()
    body = schemas.TimelineEntryCreate(
        kind=kind, body=text, occurred_at=parse_time(at, "at"), corrects=corrects
    )
    entry = backend.note(ref, body)
    if key_moment:
        entry = backend.key_moment(ref, entry.seq, True)
    output.console.print(f"Added #{entry.seq} ({entry.kind}){' ★' if entry.key_moment else ''}")


@app.command("key-moment")
def key_moment(
    ctx: typer.Context,
    ref: Ref,
    seq: Annotated[int, typer.Argument(help="# of the timeline entry.")],
    unmark: Annotated[bool, typer.Option(help="Remove the mark instead.")] = False,
) -> None:
    """Mark a timeline entry as a key moment (or unmark it)."""
    entry = state(ctx).backend().key_moment(ref, seq, not unmark)
    output.console.print(
        f"#{entry.seq} is {'now' if entry.key_moment else 'no longer'} a key moment"
    )


@app.command()
def timestamp(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[
        str,
        typer.Argument(
            help="impact_started_at, detected_at, declared_at, acknowledged_at, "
            "mitigated_at, resolved_at, closed_at"
        ),
    ],
    value: Annotated[str, typer.Argument(help="ISO 8601 with offset, or 'now'")],
) -> None:
    """Enter or correct a lifecycle timestamp."""
    when = parse_time(value, name)
    assert when is not None
    incident = state(ctx).backend().set_timestamp(ref, name, schemas.TimestampSet(value=when))
    key = name if name.endswith("_at") else f"{name}_at"
    output.console.print(
        f"{incident.reference} {key} = {output.when(incident.timestamps[key].value)}"
    )


@app.command()
def update(
    ctx: typer.Context,
    ref: Ref,
    title: Annotated[str | None, typer.Option()] = None,
    summary: Annotated[str | None, typer.Option()] = None,
    service: Annotated[
        list[str] | None, typer.Option(help="Replace the affected services; repeat for several.")
    ] = None,
    user_impact: Annotated[str | None, typer.Option()] = None,
    business_impact: Annotated[str | None, typer.Option()] = None,
    customer_facing: Annotated[bool | None, typer.Option("--customer-facing/--internal")] = None,
    detection_source: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change the title, summary, impact, affected services or detection source."""
    fields = {
        "title": title,
        "summary": summary,
        "services": service,
        "user_impact": user_impact,
        "business_impact": business_impact,
        "customer_facing": customer_facing,
        "detection_source": detection_source,
    }
    body = schemas.IncidentUpdate(**{k: v for k, v in fields.items() if v is not None})
    incident = state(ctx).backend().update(ref, body)
    output.console.print(f"Updated {incident.reference}")
