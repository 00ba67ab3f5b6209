"""The policy's `workflows` section: stages with checklists, the task graph, and workstreams.

`standard` is used unless an incident names another workflow at declaration, so a custom
workflow per incident type is just another entry.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from tocsin.domain.errors import InvalidInput
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.tasks import Priority, TaskPlan, find_cycle
from tocsin.domain.workflows import StagePlan, WorkflowPlan
from tocsin.policy.sections import Duration, Section

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_RULE = "lowercase letters, digits and '_', starting with a letter"


def _role(raw: object) -> Role:
    if isinstance(raw, Role):
        return raw
    try:
        return Role.parse(str(raw))
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


RoleName = Annotated[Role, BeforeValidator(_role)]


def _key(value: str) -> str:
    if not _KEY.match(value):
        raise ValueError(f"key {value!r} must be {KEY_RULE}")
    return value


class StageSpec(Section):
    key: str
    name: str = Field(min_length=1)
    role: RoleName
    checklist: list[str] = Field(default_factory=list)

    _check_key = field_validator("key")(_key)

    @field_validator("checklist")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        items = [" ".join(i.split()) for i in value]
        if any(not i for i in items):
            raise ValueError("checklist items must not be empty")
        doubled = sorted({i for i in items if items.count(i) > 1})
        if doubled:
            raise ValueError(f"checklist items appear twice: {', '.join(doubled)}")
        return items


class TaskSpec(Section):
    key: str
    content: str = Field(min_length=1)
    priority: Priority = Priority.MEDIUM
    role: RoleName
    estimate: Duration
    depends_on: list[str] = Field(default_factory=list)

    _check_key = field_validator("key")(_key)

    @field_validator("priority", mode="before")
    @classmethod
    def _priority(cls, value: object) -> object:
        names = [p.value for p in Priority]
        if isinstance(value, str) and value.strip().lower() not in names:
            raise ValueError(f"unknown priority {value!r}; expected one of {', '.join(names)}")
        return value.strip().lower() if isinstance(value, str) else value

    def plan(self) -> TaskPlan:
        return TaskPlan(
            self.key, self.content, self.priority, self.role, self.estimate, tuple(self.depends_on)
        )


class WorkstreamSpec(Section):
    """A team's parallel workstream, beside the main task graph, with its own owner."""

    key: str
    name: str = Field(min_length=1)
    content: str = Field(min_length=1)
    owner: str = Field(min_length=1, description="a team slug or an incident role")

    _check_key = field_validator("key")(_key)

    def plan(self) -> TaskPlan:
        try:
            role: Role | None = Role.parse(self.owner)
        except InvalidInput:
            role = None
        return TaskPlan(
            self.key,
            self.content,
            Priority.HIGH,
            role,
            None,
            (),
            workstream=self.name,
            team="" if role else self.owner,
        )


class Workflow(Section):
    """Ordered stages, the task graph, and per-severity workstreams."""

    stages: list[StageSpec] = Field(min_length=1)
    tasks: list[TaskSpec] = Field(default_factory=list)
    workstreams: dict[Severity, list[WorkstreamSpec]] = Field(default_factory=dict)
    resolution_task: str | None = Field(
        None, description="the task the critical path ends at (default resolution_implementation)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        _unique("stages", [s.key for s in self.stages])
        keys = [t.key for t in self.tasks]
        _unique("tasks", keys)
        for task in self.tasks:
            unknown = [d for d in task.depends_on if d not in keys]
            if unknown:
                raise ValueError(
                    f"tasks.{task.key}.depends_on: unknown task {', '.join(unknown)}; "
                    f"tasks: {', '.join(keys)}"
                )
            if task.key in task.depends_on:
                raise ValueError(f"tasks.{task.key}.depends_on: a task cannot depend on itself")
        cycle = find_cycle({t.key: t.depends_on for t in self.tasks})
        if cycle:
            raise ValueError(f"tasks: dependency cycle {' → '.join(cycle)}")
        for severity, streams in self.workstreams.items():
            taken = [s.key for s in streams]
            _unique(f"workstreams.{severity}", taken)
            clash = sorted(set(taken) & set(keys))
            if clash:
                raise ValueError(
                    f"workstreams.{severity}: {', '.join(clash)} is already a task key"
                )
        if self.resolution_task is not None and self.resolution_task not in keys:
            raise ValueError(
                f"resolution_task: unknown task {self.resolution_task!r}; "
                f"tasks: {', '.join(keys) or 'none'}"
            )
        return self

    def plan(self, name: str) -> WorkflowPlan:
        return WorkflowPlan(
            name=name,
            stages=tuple(StagePlan(s.key, s.name, s.role, tuple(s.checklist)) for s in self.stages),
            tasks=tuple(t.plan() for t in self.tasks),
            workstreams={sev: tuple(w.plan() for w in ws) for sev, ws in self.workstreams.items()},
            resolution_task=self.resolution_task,
        )


def _unique(section: str, keys: list[str]) -> None:
    doubled = sorted({k for k in keys if keys.count(k) > 1})
    if doubled:
        raise ValueError(f"{section}: key {', '.join(doubled)} appears more than once")


def check_workflows(workflows: dict[str, Workflow]) -> None:
    """Workflow names are keys too; when any workflow is defined, `standard` must be."""
    for name in workflows:
        if not _KEY.match(name):
            raise ValueError(f"workflows: name {name!r} must be {KEY_RULE}")
    if workflows and "standard" not in workflows:
        raise ValueError(
            "workflows must define 'standard', used unless an incident names another "
            f"(defined: {', '.join(workflows)})"
        )
