"""Runbooks: Markdown checklists linked to services and alerts, and their steps on an incident.

A step is a Markdown task line, `- [ ] Roll back the deploy`. A step may name an action to run
with `{action: rollback}` anywhere in its text; the marker is taken out of the step's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power
from tocsin.domain.catalog import clean_slug
from tocsin.domain.errors import InvalidInput, NoChange, NotFound
from tocsin.domain.incidents import Incident
from tocsin.domain.timeline import EntryKind

TITLE_MAX = 200
BODY_MAX = 100_000
_STEP = re.compile(r"^\s*[-*+]\s+\[( |x|X)\]\s+(?P<text>.+?)\s*$")
_ACTION = re.compile(r"\{\s*action\s*:\s*(?P<name>[A-Za-z0-9][A-Za-z0-9_-]{0,62})\s*\}")


@dataclass(frozen=True)
class Step:
    """One checklist item of a runbook, with the action it runs, if any."""

    text: str
    action: str | None = None


@dataclass
class Runbook:
    """A runbook as stored: its Markdown and the services and alert names it is for."""

    slug: str
    title: str
    body: str
    services: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    private: bool = False
    actions: list[str] = field(default_factory=list)  # names of the actions it defines
    id: int | None = None

    @property
    def steps(self) -> list[Step]:
        return parse_steps(self.body)

    def matches(self, services: set[str], alert_names: set[str]) -> list[str]:
        """Why the runbook suits an incident: the services and alert names it shares with it."""
        firing = {a.lower() for a in alert_names}
        return sorted(set(self.services) & services) + [
            a for a in self.alerts if a.lower() in firing
        ]


def parse_steps(body: str) -> list[Step]:
    """The checklist items of a Markdown text, in order."""
    steps = []
    in_code = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        found = None if in_code else _STEP.match(line)
        if found is None:
            continue
        text = found.group("text")
        action = _ACTION.search(text)
        if action is None:
            steps.append(Step(text))
            continue
        name = action.group("name").lower()
        steps.append(Step(" ".join(_ACTION.sub("", text).split()) or f"Run {name}", name))
    return steps


def clean_runbook(
    slug: str,
    title: str,
    body: str,
    services: list[str],
    alerts: list[str],
    private: bool,
    actions: list[str],
) -> Runbook:
    """Validate a runbook's fields, naming the one that is wrong."""
    clean_title = " ".join(title.split())
    if not clean_title:
        raise InvalidInput("title must not be empty", field="title")
    if len(clean_title) > TITLE_MAX:
        raise InvalidInput(f"title is longer than {TITLE_MAX} characters", field="title")
    text = body.strip()
    if not text:
        raise InvalidInput("the runbook has no Markdown text", field="body")
    if len(text) > BODY_MAX:
        raise InvalidInput(f"body is longer than {BODY_MAX} characters", field="body")
    names = []
    for i, raw in enumerate(alerts):
        name = " ".join(str(raw).split())
        if not name or len(name) > 200:
            raise InvalidInput("alert names must be 1-200 characters", field=f"alerts[{i}]")
        names.append(name)
    return Runbook(
        slug=clean_slug(slug, "slug"),
        title=clean_title,
        body=text + "\n",
        services=sorted({clean_slug(s, f"services[{i}]") for i, s in enumerate(services)}),
        alerts=sorted(set(names)),
        private=private,
        actions=sorted(set(actions)),
    )


@dataclass
class StepState:
    """A step of a runbook attached to an incident, and who ticked it."""

    text: str
    action: str | None = None
    done_by: str | None = None
    done_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "action": self.action,
            "done_by": self.done_by,
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> StepState:
        done_at = raw.get("done_at")
        return cls(
            text=raw["text"],
            action=raw.get("action"),
            done_by=raw.get("done_by"),
            done_at=datetime.fromisoformat(done_at) if done_at else None,
        )


@dataclass
class AttachedRunbook:
    """A runbook followed on an incident: its steps as they were when attached, with progress."""

    incident_id: int
    runbook_id: int
    slug: str
    title: str
    steps: list[StepState]
    attached_by: str
    attached_at: datetime
    id: int | None = None

    @classmethod
    def attach(
        cls, incident: Incident, runbook: Runbook, actor: Actor, now: datetime
    ) -> AttachedRunbook:
        """Start following a runbook on an incident; the attachment goes on the timeline."""
        assert runbook.id is not None
        incident.authorize(actor, Power.TECHNICAL, f"attaching the runbook {runbook.slug}", now)
        attached = cls(
            incident_id=incident.id,
            runbook_id=runbook.id,
            slug=runbook.slug,
            title=runbook.title,
            steps=[StepState(s.text, s.action) for s in runbook.steps],
            attached_by=actor.name,
            attached_at=now,
        )
        incident.log(
            EntryKind.RUNBOOK_ATTACHED,
            f"Runbook attached: {runbook.title} ({len(attached.steps)} steps)",
            actor,
            now,
            data={"runbook": runbook.slug, "steps": len(attached.steps)},
        )
        if runbook.private:
            incident.restrict(
                f"the {runbook.title} playbook keeps its incidents private", actor, now
            )
        return attached

    def tick(
        self, incident: Incident, number: int, done: bool, actor: Actor, now: datetime
    ) -> None:
        """Check (or uncheck) step `number` (from 1); who and when land on the timeline."""
        incident.authorize(actor, Power.TECHNICAL, "checking runbook steps", now)
        if not 1 <= number <= len(self.steps):
            raise NotFound(
                f"the runbook {self.slug} has steps 1 to {len(self.steps)}, not {number}",
                field="step",
            )
        step = self.steps[number - 1]
        if (step.done_at is not None) == done:
            state = "already checked" if done else "not checked"
            raise NoChange(f"step {number} of {self.slug} is {state}", field="step")
        step.done_by, step.done_at = (actor.name, now) if done else (None, None)
        verb = "Step done" if done else "Step unchecked"
        incident.log(
            EntryKind.RUNBOOK_STEP,
            f"{verb} ({self.title}, step {number}): {step.text}",
            actor,
            now,
            data={"runbook": self.slug, "step": number, "done": done},
        )
