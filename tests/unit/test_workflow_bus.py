"""Workflow use cases through the bus with fakes: created on declaration, changed all-or-nothing."""

from __future__ import annotations

import pytest

from tests.unit.test_bus import ALICE, CATALOG, Harness
from tocsin.domain import commands as c
from tocsin.domain.errors import InvalidInput, NotFound
from tocsin.domain.severities import Severity
from tocsin.domain.tasks import TaskBlocked, TaskStatus


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.bus.handle(CATALOG)
    return harness


def test_declaring_starts_the_standard_workflow_with_the_severitys_workstreams(
    h: Harness,
) -> None:
    number = h.bus.handle(c.DeclareIncident("Checkout down", Severity.P2, ALICE))
    workflow = h.store.workflows[number]
    assert (workflow.name, workflow.stage) == ("standard", "detection")
    assert [t.key for t in workflow.tasks if t.is_workstream] == ["data", "communications"]
    assert len(h.entries(number)) == 1  # only the declaration: starting a workflow is silent


def test_an_unknown_workflow_refuses_the_declaration_and_writes_nothing(h: Harness) -> None:
    with pytest.raises(InvalidInput, match="unknown workflow 'dbfire'; known: standard") as err:
        h.bus.handle(c.DeclareIncident("x", Severity.P1, ALICE, workflow="dbfire"))
    assert err.value.field == "workflow"
    assert h.uows[-1].committed == 0
    assert h.store.incidents == {}
    assert h.store.workflows == {}


def test_raising_the_severity_adds_its_workstreams(h: Harness) -> None:
    number = h.bus.handle(c.DeclareIncident("x", Severity.P2, ALICE))
    h.bus.handle(c.ReclassifyIncident(number, Severity.P1, "worse", ALICE))
    streams = [t.key for t in h.store.workflows[number].tasks if t.is_workstream]
    assert streams == ["data", "communications", "security"]
    h.bus.handle(c.ReclassifyIncident(number, Severity.P3, "better", ALICE))
    assert len([t for t in h.store.workflows[number].tasks if t.is_workstream]) == 3


def test_task_changes_commit_with_their_timeline_entries_or_not_at_all(h: Harness) -> None:
    number = h.bus.handle(c.DeclareIncident("x", Severity.P3, ALICE))
    with pytest.raises(TaskBlocked):
        h.bus.handle(c.StartTask(number, "war_room_setup", ALICE))
    assert h.store.workflows[number].task("war_room_setup").status is TaskStatus.PENDING
    h.bus.handle(c.StartTask(number, "initial_assessment", ALICE))
    h.bus.handle(c.AssignTask(number, "initial_assessment", "bob", ALICE))
    h.bus.handle(c.CompleteTask(number, "initial_assessment", ALICE))
    h.bus.handle(c.TickChecklistItem(number, "1", ALICE))
    assert h.bus.handle(c.MoveStage(number, "next", ALICE)) == "triage"
    task = h.store.workflows[number].task("initial_assessment")
    assert (task.status, task.owner_name) == (TaskStatus.DONE, "Bob")
    assert h.entries(number)[1:] == [
        "Task started: initial_assessment — Assess impact and classify severity",
        "Task owner: initial_assessment nobody → Bob",
        "Task done: initial_assessment — Assess impact and classify severity (took 0s, "
        "estimate 5m)",
        "Ticked in Detection & Assessment: Alert validation and deduplication",
        "Stage: Detection & Assessment → Triage & War Room Setup (1 of 5 Detection & "
        "Assessment items ticked)",
    ]
    with pytest.raises(NotFound, match="no person with handle 'zed'"):
        h.bus.handle(c.AssignTask(number, "war_room_setup", "zed", ALICE))
    with pytest.raises(NotFound, match="no task 'coffee'"):
        h.bus.handle(c.StartTask(number, "coffee", ALICE))
