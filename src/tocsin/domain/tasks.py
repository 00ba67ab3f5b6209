"""Incident tasks and their graph: what blocks what, what is overdue, and the critical path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tocsin.domain.errors import InvalidInput, InvalidTransition
from tocsin.domain.roles import Role


class Priority(StrEnum):
    """How urgent a task is; the spec's four levels."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def parse(cls, raw: str) -> Priority:
        try:
            return cls(raw.strip().lower())
        except ValueError:
            names = ", ".join(p.value for p in cls)
            raise InvalidInput(
                f"unknown priority {raw!r}; expected one of {names}", field="priority"
            ) from None


class TaskStatus(StrEnum):
    """pending → in_progress → done; or skipped by the Incident Commander."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.SKIPPED)


class TaskBlocked(InvalidTransition):
    """A task was started before the tasks it depends on were done."""

    title = "Task is waiting for its dependencies"


@dataclass(frozen=True)
class TaskPlan:
    """A task as a workflow defines it; `workstream` names the team of a parallel workstream."""

    key: str
    content: str
    priority: Priority = Priority.MEDIUM
    role: Role | None = None
    estimate: timedelta | None = None
    depends_on: tuple[str, ...] = ()
    workstream: str = ""
    team: str = ""


@dataclass
class Task:
    """One task of one incident, with who owns it and when it started and finished."""

    key: str
    content: str
    priority: Priority
    role: Role | None
    estimate: timedelta | None
    depends_on: tuple[str, ...]
    position: int
    workstream: str = ""
    team: str = ""
    status: TaskStatus = TaskStatus.PENDING
    owner_id: int | None = None
    owner_name: str | None = None
    started_at: datetime | None = None
    done_at: datetime | None = None

    @classmethod
    def planned(cls, plan: TaskPlan, position: int) -> Task:
        return cls(
            key=plan.key,
            content=plan.content,
            priority=plan.priority,
            role=plan.role,
            estimate=plan.estimate,
            depends_on=plan.depends_on,
            position=position,
            workstream=plan.workstream,
            team=plan.team,
        )

    @property
    def is_workstream(self) -> bool:
        return bool(self.workstream)

    def overdue_by(self, now: datetime) -> timedelta | None:
        """How far past its estimate a task in progress is; None when it is not overdue."""
        if self.status is not TaskStatus.IN_PROGRESS or self.estimate is None:
            return None
        assert self.started_at is not None
        late = now - self.started_at - self.estimate
        return late if late > timedelta(0) else None

    def remaining(self, now: datetime) -> timedelta:
        """The estimate still to run: all of it when pending, none when finished or late."""
        if self.status.finished or self.estimate is None:
            return timedelta(0)
        if self.status is TaskStatus.PENDING or self.started_at is None:
            return self.estimate
        return max(self.estimate - (now - self.started_at), timedelta(0))

    def require_status(self, *allowed: TaskStatus, doing: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(
                f"cannot {doing} {self.key}: it is {self.status.value.replace('_', ' ')}",
                field="task",
            )


@dataclass(frozen=True)
class CriticalPath:
    """The unfinished chain of tasks that ends at resolution, and the estimates left on it."""

    keys: tuple[str, ...]
    remaining: timedelta


def blocked_by(task: Task, tasks: Mapping[str, Task]) -> list[str]:
    """The task's dependencies that are neither done nor skipped, in the order it lists them."""
    return [key for key in task.depends_on if key in tasks and not tasks[key].status.finished]


def critical_path(tasks: Mapping[str, Task], goal: str | None, now: datetime) -> CriticalPath:
    """The longest unfinished dependency chain (by remaining estimate) that ends at `goal`."""
    if goal is None or goal not in tasks or tasks[goal].status.finished:
        return CriticalPath((), timedelta(0))
    memo: dict[str, tuple[timedelta, tuple[str, ...]]] = {}

    def longest(key: str) -> tuple[timedelta, tuple[str, ...]]:
        if key not in memo:
            task = tasks[key]
            best: tuple[timedelta, tuple[str, ...]] = (timedelta(0), ())
            for dep in blocked_by(task, tasks):
                candidate = longest(dep)
                if candidate[0] > best[0] or (candidate[0] == best[0] and not best[1]):
                    best = candidate
            memo[key] = (best[0] + task.remaining(now), (*best[1], key))
        return memo[key]

    total, keys = longest(goal)
    return CriticalPath(keys, total)


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A dependency cycle as [a, b, …, a], or None; unknown keys are ignored here."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    trail: list[str] = []

    def visit(key: str) -> list[str] | None:
        state[key] = 1
        trail.append(key)
        for dep in graph.get(key, ()):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                return [*trail[trail.index(dep) :], dep]
            if dep not in state and (found := visit(dep)) is not None:
                return found
        trail.pop()
        state[key] = 2
        return None

    for key in graph:
        if key not in state and (found := visit(key)) is not None:
            return found
    return None


def describe(duration: timedelta) -> str:
    """A duration as people read it on a timeline: 1h 05m, 45m, 30s."""
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
