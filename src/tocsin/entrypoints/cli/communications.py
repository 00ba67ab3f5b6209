"""`tocsin update …`: preview, send and list an incident's stakeholder updates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tocsin.entrypoints.api.communications import UpdateCompose, UpdateCreate, UpdatesRead
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state
from tocsin.entrypoints.cli.incidents import JsonFlag, Ref
from tocsin.entrypoints.cli.war_room_backend import war_room_backend

app = typer.Typer(
    help="Stakeholder updates: preview, send, and the next update promised.",
    no_args_is_help=True,
)

Template = Annotated[
    str, typer.Option(help="status (Status Update) or initial (Initial Incident Report).")
]
Audience = Annotated[
    list[str], typer.Option("--audience", help="internal, executive or customer; repeatable.")
]
Summary = Annotated[str, typer.Option(help="What changed since the last update.")]
Action = Annotated[
    list[str], typer.Option("--action", help="A current action, one line; repeatable.")
]


@app.command()
def preview(
    ctx: typer.Context,
    ref: Ref,
    audience: Audience,
    template: Template = "status",
    summary: Summary = "",
    action: Action = [],  # noqa: B006
    json: JsonFlag = False,
) -> None:
    """Print the text an update would carry; nothing is sent or written."""
    body = UpdateCompose(template=template, audiences=audience, summary=summary, actions=action)
    draft = war_room_backend(state(ctx)).preview_update(ref, body)
    if json:
        output.print_json(draft)
        return
    output.console.print(f"[bold]{draft.subject}[/]")
    output.console.print(draft.body, markup=False)


@app.command()
def send(
    ctx: typer.Context,
    ref: Ref,
    audience: Audience,
    template: Template = "status",
    summary: Summary = "",
    action: Action = [],  # noqa: B006
    body_file: Annotated[
        Path | None,
        typer.Option(help="Send this text (a preview, edited) instead of the rendered one."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Send an update to the audiences' channels; it promises the next one on P1/P2."""
    text = body_file.read_text(encoding="utf-8") if body_file else None
    body = UpdateCreate(
        template=template, audiences=audience, summary=summary, actions=action, body=text
    )
    sent = war_room_backend(state(ctx)).send_update(ref, body)
    if json:
        output.print_json(sent)
        return
    heard = ", ".join(sent.audiences)
    output.console.print(f"Sent {sent.template_label} to {heard}.")
    if sent.next_update_at:
        output.console.print(f"Next update by {output.when(sent.next_update_at)}.")
    else:
        output.console.print("No further update promised.")


@app.command("list")
def list_updates(ctx: typer.Context, ref: Ref, json: JsonFlag = False) -> None:
    """The updates sent, newest first, the next one due and the promises kept."""
    found = war_room_backend(state(ctx)).updates(ref)
    if json:
        output.print_json(found)
        return
    output.console.print(next_update_line(found))
    rate = found.compliance.rate
    if rate is not None:
        output.console.print(
            f"Promises kept: {found.compliance.kept} of {found.compliance.promised} ({rate:.0%})"
        )
    if not found.updates:
        output.console.print("No updates sent yet.")
        return
    table = Table(header_style="bold")
    for column in ("Sent", "Template", "Audiences", "By", "Summary", "Next by", "Promise"):
        table.add_column(column)
    for update in found.updates:
        table.add_row(
            output.when(update.sent_at),
            update.template_label,
            ", ".join(update.audiences),
            update.author,
            update.summary or "—",
            output.when(update.next_update_at),
            update.promise or "—",
        )
    output.console.print(table)


def next_update_line(found: UpdatesRead) -> str:
    """The contract in one line, red when overdue, yellow within the reminder window."""
    promise = found.next_update
    if promise is None:
        return "No update is promised."
    style = {"overdue": "bold red", "due-soon": "yellow"}.get(promise.state, "green")
    due = output.when(promise.due_at)
    if promise.state == "overdue":
        return f"[{style}]Next update OVERDUE: it was due {due}[/]"
    return f"[{style}]Next update due {due}[/]"
