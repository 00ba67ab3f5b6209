"""Workflow rows to domain objects and back: shared by the repository and the read views."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from tocsin.adapters import orm
from tocsin.domain.roles import Role
from tocsin.domain.tasks import Priority, Task, TaskStatus
from tocsin.domain.workflows import IncidentWorkflow, StagePlan, Tick


def load_workflow(conn: Connection, incident_id: int) -> IncidentWorkflow | None:
    """The incident's workflow with its tasks, or None; views read it through here too."""
    row = (
        conn.execute(
            select(orm.incident_workflows).where(
                orm.incident_workflows.c.incident_id == incident_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    t = orm.incident_tasks
    task_rows = conn.execute(
        select(t).where(t.c.incident_id == incident_id).order_by(t.c.position)
    ).mappings()
    return IncidentWorkflow(
        incident_id=incident_id,
        name=row["workflow"],
        stages=[
            StagePlan(s["key"], s["name"], Role(s["role"]), tuple(s["checklist"]))
            for s in row["stages"]
        ],
        stage=row["stage"],
        tasks=[_task(r) for r in task_rows],
        ticks=[
            Tick(k["stage"], k["item"], k["by"], datetime.fromisoformat(k["at"]))
            for k in row["ticks"]
        ],
        resolution_task=row["resolution_task"],
        version=row["version"],
    )


def workflow_row(w: IncidentWorkflow) -> dict[str, Any]:
    return {
        "incident_id": w.incident_id,
        "workflow": w.name,
        "stage": w.stage,
        "stages": [
            {"key": s.key, "name": s.name, "role": s.role.value, "checklist": list(s.checklist)}
            for s in w.stages
        ],
        "ticks": [
            {"stage": k.stage, "item": k.item, "by": k.by, "at": k.at.isoformat()} for k in w.ticks
        ],
        "resolution_task": w.resolution_task,
        "version": w.version,
    }


def task_row(incident_id: int, task: Task) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "key": task.key,
        "position": task.position,
        "content": task.content,
        "priority": task.priority.value,
        "role": task.role.value if task.role else None,
        "estimate_seconds": int(task.estimate.total_seconds()) if task.estimate else None,
        "depends_on": list(task.depends_on),
        "workstream": task.workstream,
        "team": task.team,
        "status": task.status.value,
        "owner_id": task.owner_id,
        "owner_name": task.owner_name,
        "started_at": task.started_at,
        "done_at": task.done_at,
    }


def _task(row: Any) -> Task:
    seconds = row["estimate_seconds"]
    return Task(
        key=row["key"],
        content=row["content"],
        priority=Priority(row["priority"]),
        role=Role(row["role"]) if row["role"] else None,
        estimate=timedelta(seconds=seconds) if seconds is not None else None,
        depends_on=tuple(row["depends_on"]),
        position=row["position"],
        workstream=row["workstream"],
        team=row["team"],
        status=TaskStatus(row["status"]),
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        started_at=row["started_at"],
        done_at=row["done_at"],
    )
