"""Rich tables and panels for people, `--json` for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from tocsin.entrypoints.api import schemas

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per problem

SEVERITY_STYLE = {"P1": "bold white on red", "P2": "bold red", "P3": "yellow", "P4": "cyan"}
STATUS_STYLE = {
    "investigating": "bold red",
    "identified": "yellow",
    "monitoring": "cyan",
    "resolved": "green",
    "closed": "dim",
}


def print_json(value: BaseModel | Sequence[BaseModel]) -> None:
    if isinstance(value, BaseModel):
        console.print_json(value.model_dump_json())
    else:
        console.print_json(json.dumps([item.model_dump(mode="json") for item in value]))


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%SZ")


def incident_table(page: schemas.IncidentPage) -> Table:
    table = Table(title=None, header_style="bold")
    for column in ("ID", "Sev", "Status", "Title", "Services", "Commander", "Declared"):
        table.add_column(column)
    for item in page.items:
        table.add_row(
            item.reference,
            f"[{SEVERITY_STYLE[item.severity]}]{item.severity}[/]",
            f"[{STATUS_STYLE[item.status]}]{item.status}[/]",
            item.title,
            ", ".join(s.slug for s in item.services),
            item.incident_commander or "—",
            when(item.declared_at),
        )
    return table


def show_incident(incident: schemas.IncidentRead) -> None:
    sev = incident.severity
    console.print(
        f"[bold]{incident.reference}[/] [{SEVERITY_STYLE[sev.level]}]{sev.level} {sev.name}[/] "
        f"[{STATUS_STYLE[incident.status]}]{incident.status}[/]  {incident.title}"
    )
    if incident.summary:
        console.print(incident.summary)
    console.print(f"Services: {', '.join(s.slug for s in incident.services) or '—'}")
    console.print(
        f"Customer facing: {'yes' if incident.customer_facing else 'no'}   "
        f"Detected by: {incident.detection_source}"
    )
    if incident.user_impact:
        console.print(f"User impact: {incident.user_impact}")
    if incident.business_impact:
        console.print(f"Business impact: {incident.business_impact}")
    console.print(f"Next: {', '.join(incident.allowed_transitions)}")
    roles = Table(header_style="bold", title="Roles")
    roles.add_column("Role")
    roles.add_column("Person")
    roles.add_column("Since")
    for role in incident.roles:
        roles.add_row(role.label, f"{role.name} ({role.person})", when(role.assigned_at))
    if incident.roles:
        console.print(roles)
    stamps = Table(header_style="bold", title="Timestamps")
    for column in ("Name", "Value", "Source", "Set by"):
        stamps.add_column(column)
    for name, stamp in incident.timestamps.items():
        if stamp.value is not None:
            stamps.add_row(name, when(stamp.value), stamp.source or "", stamp.set_by or "")
    console.print(stamps)


def timeline_table(entries: list[schemas.TimelineEntryRead]) -> Table:
    table = Table(header_style="bold")
    for column in ("#", "When", "Kind", "Who", "Entry"):
        table.add_column(column)
    for entry in entries:
        text = entry.body
        if entry.corrects:
            text = f"[italic](corrects #{entry.corrects})[/] {text}"
        if entry.corrected_by:
            text += f" [dim](corrected by #{', #'.join(map(str, entry.corrected_by))})[/]"
        mark = "★ " if entry.key_moment else ""
        table.add_row(f"{mark}{entry.seq}", when(entry.occurred_at), entry.kind, entry.author, text)
    return table
