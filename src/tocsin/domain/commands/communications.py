"""Commands for stakeholder updates."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.domain.actors import Actor
from tocsin.domain.commands.base import Command


@dataclass(frozen=True)
class ComposeUpdate(Command):
    """Render an update without sending it (the preview); returns the text and next-update time."""

    incident_id: int
    template: str
    audiences: tuple[str, ...]
    summary: str = ""
    actions: tuple[str, ...] = ()
    actor: Actor | None = None  # who previews: a private incident exists only for participants


@dataclass(frozen=True)
class SendUpdate(Command):
    """Send an update to its audiences; `body`, when given, is the previewed text as edited."""

    incident_id: int
    template: str
    audiences: tuple[str, ...]
    actor: Actor
    summary: str = ""
    actions: tuple[str, ...] = ()
    body: str | None = None


@dataclass(frozen=True)
class RunUpdateReminders(Command):
    """Remind of updates falling due and record missed ones; returns how many promises moved.
    Incidents in `skip` are left alone (their updates failed and are set aside for a while)."""

    limit: int = 100
    skip: tuple[int, ...] = ()
