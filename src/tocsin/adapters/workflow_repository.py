"""Incident workflows and their tasks in SQL.

New workflows stay in memory (reads and saves of them are served there) and are inserted at
commit, all together: one statement per table for a pass of the alert inbox that declares
many incidents, instead of two per incident. Changes to loaded ones go straight in.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, insert, update

from tocsin.adapters import orm
from tocsin.adapters.bulk import insert_many
from tocsin.adapters.workflow_rows import load_workflow, task_row, workflow_row
from tocsin.domain.errors import ConcurrencyConflict, NotFound
from tocsin.domain.incidents import reference
from tocsin.domain.tasks import Task
from tocsin.domain.workflows import IncidentWorkflow


class SqlAlchemyWorkflowRepository:
    """Each save checks the version it loaded; the incident's row lock already orders writers."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._loaded: dict[int, list[Task]] = {}
        self._new: dict[int, IncidentWorkflow] = {}  # inserted, as they then stand, by flush

    def add(self, workflow: IncidentWorkflow) -> None:
        workflow.version = 1
        self._new[workflow.incident_id] = workflow

    def flush(self) -> None:
        """Insert the new workflows; runs once, at commit, the repository's last use (so they
        need no snapshot for a later save: copying nine tasks an incident cost ~10% of a pass
        of the inbox)."""
        if not self._new:
            return
        workflows = list(self._new.values())
        self._new.clear()
        insert_many(self._conn, orm.incident_workflows, [workflow_row(w) for w in workflows])
        tasks = [task_row(w.incident_id, t) for w in workflows for t in w.tasks]
        insert_many(self._conn, orm.incident_tasks, tasks)

    def find(self, incident_id: int) -> IncidentWorkflow | None:
        if incident_id in self._new:
            return self._new[incident_id]
        found = load_workflow(self._conn, incident_id)
        if found is not None:
            self._remember(found)
        return found

    def get(self, incident_id: int) -> IncidentWorkflow:
        found = self.find(incident_id)
        if found is None:
            raise NotFound(
                f"{reference(incident_id)} has no workflow (the policy defined none when it was "
                "declared)",
                field="incident",
            )
        return found

    def save(self, workflow: IncidentWorkflow) -> None:
        if self._new.get(workflow.incident_id) is workflow:
            return  # not inserted yet: flush writes it as it then stands
        w = orm.incident_workflows
        previous = workflow.version
        workflow.version += 1
        result = self._conn.execute(
            update(w)
            .where(w.c.incident_id == workflow.incident_id, w.c.version == previous)
            .values(**workflow_row(workflow))
        )
        if result.rowcount != 1:
            raise ConcurrencyConflict(
                f"{reference(workflow.incident_id)}'s workflow changed meanwhile; trying again"
            )
        before = {t.key: t for t in self._loaded.get(workflow.incident_id, [])}
        t = orm.incident_tasks
        for task in workflow.tasks:
            row = task_row(workflow.incident_id, task)
            if task.key not in before:
                self._conn.execute(insert(t).values(**row))
            elif before[task.key] != task:
                self._conn.execute(
                    update(t)
                    .where(t.c.incident_id == workflow.incident_id, t.c.key == task.key)
                    .values(**row)
                )
        self._remember(workflow)

    def _remember(self, workflow: IncidentWorkflow) -> None:
        self._loaded[workflow.incident_id] = [replace(t) for t in workflow.tasks]
