"""`tocsin incident say|messages|invite|participants|private`: the war room from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state
from tocsin.entrypoints.cli.incidents import JsonFlag, Ref
from tocsin.entrypoints.cli.war_room_backend import war_room_backend


def say(
    ctx: typer.Context,
    ref: Ref,
    message: Annotated[str, typer.Argument(help="What to tell the war room.")],
) -> None:
    """Post a message to the war room; everyone on the incident page sees it at once."""
    war_room_backend(state(ctx)).post_message(ref, message)
    output.console.print("Posted")


def messages(ctx: typer.Context, ref: Ref, json: JsonFlag = False) -> None:
    """Print the war room's latest messages, oldest first."""
    found = war_room_backend(state(ctx)).messages(ref)
    if json:
        output.print_json(found)
        return
    table = Table("Time (UTC)", "Who", "Message", box=None)
    for m in found:
        table.add_row(f"{m.posted_at:%Y-%m-%d %H:%M:%S}", m.author, m.body)
    output.console.print(table)


def invite(
    ctx: typer.Context,
    ref: Ref,
    person: Annotated[str, typer.Argument(help="Person handle.")],
) -> None:
    """Bring a person into the war room (for a private incident, into the secret)."""
    war_room_backend(state(ctx)).invite(ref, person)
    output.console.print(f"{person} now takes part in {ref}")


def participants(ctx: typer.Context, ref: Ref, json: JsonFlag = False) -> None:
    """List who takes part: role holders, people paged or invited, and the declarer."""
    found = war_room_backend(state(ctx)).participants(ref)
    if json:
        output.print_json(found)
        return
    table = Table("Handle", "Name", "Why", "Since (UTC)", box=None)
    for p in found:
        table.add_row(p.person, p.name, p.reason, f"{p.added_at:%Y-%m-%d %H:%M}")
    output.console.print(table)


def private(
    ctx: typer.Context,
    ref: Ref,
    off: Annotated[bool, typer.Option("--off", help="Make it visible to everyone again.")] = False,
) -> None:
    """Make an incident private: only its participants and admins can see it, anywhere."""
    incident = war_room_backend(state(ctx)).visibility(ref, not off)
    state_text = "private" if incident.private else "visible to everyone"
    output.console.print(f"{incident.reference} is now {state_text}")


def register(app: typer.Typer) -> None:
    """Add the war-room commands to `tocsin incident`."""
    for command in (say, messages, invite, participants, private):
        app.command()(command)
