"""Commands of the workflow: stages, checklists, tasks."""

from __future__ import annotations

from dataclasses import dataclass

from tocsin.domain.actors import Actor
from tocsin.domain.commands.base import Command


@dataclass(frozen=True)
class MoveStage(Command):
    """Go to `target`: next, back, or a stage key."""

    incident_id: int
    target: str
    actor: Actor


@dataclass(frozen=True)
class TickChecklistItem(Command):
    """Tick (or untick) an item, by its text or number, in a stage (the current one if None)."""

    incident_id: int
    item: str
    actor: Actor
    done: bool = True
    stage: str | None = None


@dataclass(frozen=True)
class StartTask(Command):
    incident_id: int
    key: str
    actor: Actor
    override: bool = False  # start before the dependencies are done (Incident Commander)


@dataclass(frozen=True)
class CompleteTask(Command):
    incident_id: int
    key: str
    actor: Actor


@dataclass(frozen=True)
class SkipTask(Command):
    incident_id: int
    key: str
    reason: str
    actor: Actor


@dataclass(frozen=True)
class AssignTask(Command):
    """Give a task an owner (a person handle), or none."""

    incident_id: int
    key: str
    owner: str | None
    actor: Actor
