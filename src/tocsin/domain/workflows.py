"""The incident's workflow: its stages and checklists, and its task graph with workstreams.

Every change is authorised by the incident's roles and written to its timeline, so the war
room sees who ticked what, who moved the stage and who started or finished which task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power
from tocsin.domain.errors import InvalidInput, InvalidTransition, NoChange, NotFound
from tocsin.domain.incidents import Incident
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.tasks import (
    CriticalPath,
    Task,
    TaskBlocked,
    TaskPlan,
    TaskStatus,
    blocked_by,
    critical_path,
    describe,
)
from tocsin.domain.timeline import EntryKind, clean_body
from tocsin.domain.war_room import JoinReason, PersonRef

DEFAULT_WORKFLOW = "standard"
RESOLUTION_TASK = "resolution_implementation"


@dataclass(frozen=True)
class StagePlan:
    """One stage of a workflow: its specialist role and its activity checklist."""

    key: str
    name: str
    role: Role
    checklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkflowPlan:
    """A workflow as the policy defines it, turned into domain values."""

    name: str
    stages: tuple[StagePlan, ...]
    tasks: tuple[TaskPlan, ...] = ()
    workstreams: Mapping[Severity, tuple[TaskPlan, ...]] = field(default_factory=dict)
    resolution_task: str | None = None


@dataclass(frozen=True)
class Tick:
    """A checklist item ticked off, by whom and when."""

    stage: str
    item: str
    by: str
    at: datetime


@dataclass
class IncidentWorkflow:
    """Where one incident stands in its workflow, and its tasks."""

    incident_id: int
    name: str
    stages: list[StagePlan]
    stage: str
    tasks: list[Task] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    resolution_task: str | None = None
    version: int = 0

    # ----- creation ---------------------------------------------------------------------------
    @classmethod
    def start(cls, incident_id: int, plan: WorkflowPlan, severity: Severity) -> IncidentWorkflow:
        """The workflow at its first stage, with the task graph and the severity's workstreams."""
        if not plan.stages:
            raise InvalidInput(f"workflow {plan.name!r} has no stages", field="workflow")
        tasks = [Task.planned(p, i) for i, p in enumerate(plan.tasks)]
        goal = plan.resolution_task
        if goal is None and tasks:
            goal = (
                RESOLUTION_TASK if any(t.key == RESOLUTION_TASK for t in tasks) else tasks[-1].key
            )
        workflow = cls(incident_id, plan.name, list(plan.stages), plan.stages[0].key, tasks)
        workflow.resolution_task = goal
        workflow.add_workstreams(plan, severity)
        return workflow

    def add_workstreams(self, plan: WorkflowPlan, severity: Severity) -> list[Task]:
        """Add the severity's workstreams not yet running (a raised severity brings more)."""
        have = {t.key for t in self.tasks}
        added: list[Task] = []
        for spec in plan.workstreams.get(severity, ()):
            if spec.key not in have:
                added.append(Task.planned(spec, len(self.tasks) + len(added)))
        self.tasks.extend(added)
        return added

    # ----- stages -----------------------------------------------------------------------------
    @property
    def current(self) -> StagePlan:
        return self.stage_plan(self.stage)

    def stage_plan(self, key: str) -> StagePlan:
        for plan in self.stages:
            if plan.key == key:
                return plan
        keys = ", ".join(s.key for s in self.stages)
        raise InvalidInput(f"no stage {key!r} in this workflow; stages: {keys}", field="stage")

    def ticked(self, stage: str) -> dict[str, Tick]:
        return {t.item: t for t in self.ticks if t.stage == stage}

    def move(self, incident: Incident, target: str, actor: Actor, now: datetime) -> StagePlan:
        """Go to the next stage, back one, or to a named stage; a decision for the IC."""
        keys = [s.key for s in self.stages]
        index = keys.index(self.stage)
        wanted = target.strip().lower()
        if wanted in ("next", "advance", "forward"):
            if index == len(keys) - 1:
                raise InvalidTransition(
                    f"{self.current.name} is the last stage of {self.name}", field="stage"
                )
            plan = self.stages[index + 1]
        elif wanted in ("back", "previous", "prev"):
            if index == 0:
                raise InvalidTransition(
                    f"{self.current.name} is the first stage of {self.name}", field="stage"
                )
            plan = self.stages[index - 1]
        else:
            plan = self.stage_plan(wanted)
        incident.authorize(actor, Power.DECIDE, "moving the workflow stage", now)
        if plan.key == self.stage:
            raise NoChange(f"{incident.reference} is already at {plan.name}", field="stage")
        previous = self.current
        done = len(self.ticked(previous.key))
        body = f"Stage: {previous.name} → {plan.name}"
        if previous.checklist:
            body += f" ({done} of {len(previous.checklist)} {previous.name} items ticked)"
        self.stage = plan.key
        incident.log(
            EntryKind.STAGE_CHANGED,
            body,
            actor,
            now,
            data={"from": previous.key, "to": plan.key, "workflow": self.name},
        )
        return plan

    def tick(
        self,
        incident: Incident,
        item: str,
        done: bool,
        actor: Actor,
        now: datetime,
        stage: str | None = None,
    ) -> str:
        """Tick (or untick) a checklist item of a stage (the current one unless named)."""
        plan = self.stage_plan(stage.strip().lower()) if stage else self.current
        text = _checklist_item(plan, item)
        incident.authorize(
            actor, Power.TECHNICAL, f"ticking the {plan.name} checklist", now, also=(plan.role,)
        )
        ticked = self.ticked(plan.key)
        if done == (text in ticked):
            state = "already ticked" if done else "not ticked"
            raise NoChange(f"{text!r} is {state} in {plan.name}", field="item")
        if done:
            self.ticks.append(Tick(plan.key, text, actor.name, now))
        else:
            self.ticks = [t for t in self.ticks if not (t.stage == plan.key and t.item == text)]
        verb = "Ticked" if done else "Unticked"
        incident.log(
            EntryKind.CHECKLIST,
            f"{verb} in {plan.name}: {text}",
            actor,
            now,
            data={"stage": plan.key, "item": text, "done": done},
        )
        return text

    # ----- tasks ------------------------------------------------------------------------------
    @property
    def by_key(self) -> dict[str, Task]:
        return {t.key: t for t in self.tasks}

    def task(self, key: str) -> Task:
        found = self.by_key.get(key.strip().lower())
        if found is None:
            keys = ", ".join(t.key for t in self.tasks) or "none"
            raise NotFound(f"no task {key!r}; tasks: {keys}", field="task")
        return found

    def blocked_by(self, task: Task) -> list[str]:
        return blocked_by(task, self.by_key)

    def critical_path(self, now: datetime) -> CriticalPath:
        return critical_path(self.by_key, self.resolution_task, now)

    def start_task(
        self, incident: Incident, key: str, actor: Actor, now: datetime, override: bool = False
    ) -> Task:
        """Start a task whose dependencies are done; the IC may override, on the timeline."""
        task = self.task(key)
        self._authorize_work(incident, task, actor, now, f"starting {task.key}")
        task.require_status(TaskStatus.PENDING, doing="start")
        self._begin(incident, task, actor, now, override)
        return task

    def complete_task(self, incident: Incident, key: str, actor: Actor, now: datetime) -> Task:
        """Finish a task; its owner may always finish it. A pending task starts and ends at once."""
        task = self.task(key)
        if actor.person_id is None or actor.person_id != task.owner_id:
            self._authorize_work(incident, task, actor, now, f"completing {task.key}")
        task.require_status(TaskStatus.PENDING, TaskStatus.IN_PROGRESS, doing="complete")
        if task.status is TaskStatus.PENDING:
            self._gate(task)
            task.started_at = now
        task.status, task.done_at = TaskStatus.DONE, now
        assert task.started_at is not None
        took = describe(now - task.started_at)
        estimate = f", estimate {describe(task.estimate)}" if task.estimate else ""
        incident.log(
            EntryKind.TASK,
            f"Task done: {task.key} — {task.content} (took {took}{estimate})",
            actor,
            now,
            data={"task": task.key, "status": task.status.value},
        )
        return task

    def skip_task(
        self, incident: Incident, key: str, reason: str, actor: Actor, now: datetime
    ) -> Task:
        """Leave a task out, with a reason: a decision for the IC."""
        task = self.task(key)
        incident.authorize(actor, Power.DECIDE, f"skipping {task.key}", now)
        why = clean_body(reason, "reason")
        task.require_status(TaskStatus.PENDING, TaskStatus.IN_PROGRESS, doing="skip")
        task.status, task.done_at = TaskStatus.SKIPPED, now
        incident.log(
            EntryKind.TASK,
            f"Task skipped: {task.key} — {why}",
            actor,
            now,
            data={"task": task.key, "status": task.status.value, "reason": why},
        )
        return task

    def assign_task(
        self, incident: Incident, key: str, person: PersonRef | None, actor: Actor, now: datetime
    ) -> Task:
        """Give a task (or workstream) an owner, or take it away with None."""
        task = self.task(key)
        self._authorize_work(incident, task, actor, now, f"assigning {task.key}")
        new_id = person.id if person else None
        if new_id == task.owner_id:
            who = person.name if person else "nobody"
            raise NoChange(f"{task.key} is already owned by {who}", field="owner")
        previous = task.owner_name or "nobody"
        task.owner_id, task.owner_name = new_id, person.name if person else None
        if person is not None:
            incident.take_part(person, JoinReason.TASK, actor, now)
        incident.log(
            EntryKind.TASK,
            f"Task owner: {task.key} {previous} → {task.owner_name or 'nobody'}",
            actor,
            now,
            data={"task": task.key, "owner_id": new_id},
        )
        return task

    def _authorize_work(
        self, incident: Incident, task: Task, actor: Actor, now: datetime, action: str
    ) -> None:
        also = (task.role,) if task.role else ()
        incident.authorize(actor, Power.TECHNICAL, action, now, also=also)

    def _gate(self, task: Task) -> None:
        waiting = self.blocked_by(task)
        if waiting:
            states = ", ".join(f"{k} ({self.by_key[k].status.value})" for k in waiting)
            raise TaskBlocked(
                f"{task.key} waits for {states}; the Incident Commander may override",
                field="task",
            )

    def _begin(
        self, incident: Incident, task: Task, actor: Actor, now: datetime, override: bool
    ) -> None:
        waiting = self.blocked_by(task)
        if waiting and not override:
            self._gate(task)
        body = f"Task started: {task.key} — {task.content}"
        if waiting:
            incident.authorize(
                actor, Power.DECIDE, "starting a task before its dependencies are done", now
            )
            body += f" (override: started before {', '.join(waiting)} finished)"
        task.status, task.started_at = TaskStatus.IN_PROGRESS, now
        incident.log(
            EntryKind.TASK,
            body,
            actor,
            now,
            data={
                "task": task.key,
                "status": task.status.value,
                "override": bool(waiting),
                "blocked_by": waiting,
            },
        )


def _checklist_item(plan: StagePlan, raw: str) -> str:
    """An item by its number (1 = first) or its text, ignoring case."""
    wanted = " ".join(raw.split())
    if wanted.isdigit() and 1 <= int(wanted) <= len(plan.checklist):
        return plan.checklist[int(wanted) - 1]
    for item in plan.checklist:
        if item.lower() == wanted.lower():
            return item
    items = "; ".join(f"{i}. {text}" for i, text in enumerate(plan.checklist, 1)) or "none"
    raise InvalidInput(
        f"{plan.name} has no checklist item {raw!r}; its items: {items}", field="item"
    )
