"""The workflow: stages and checklists, task gating and overrides, overdue tasks, critical path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.actors import Actor
from tocsin.domain.errors import InvalidInput, InvalidTransition, NoChange, PermissionDenied
from tocsin.domain.incidents import Incident
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.tasks import Priority, TaskBlocked, TaskStatus
from tocsin.domain.timeline import EntryKind
from tocsin.domain.war_room import PersonRef
from tocsin.domain.workflows import IncidentWorkflow
from tocsin.policy import PolicyError, load_default_policy, load_policy
from tocsin.policy.loader import default_policy_text

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
IC = Actor("Ivy", user_id=1, person_id=1)
TL = Actor("Tom", user_id=2, person_id=2)
SCRIBE = Actor("Sam", user_id=3, person_id=3)
SME = Actor("Eve", user_id=4, person_id=4)
POLICY = load_default_policy()


def war_room(severity: Severity = Severity.P1) -> tuple[Incident, IncidentWorkflow]:
    """An incident with an IC, a TL and a Scribe, running the standard workflow."""
    incident = Incident.declare(id=7, title="Checkout down", severity=severity, actor=IC, now=T0)
    for role, actor in (
        (Role.INCIDENT_COMMANDER, IC),
        (Role.TECHNICAL_LEAD, TL),
        (Role.SCRIBE, SCRIBE),
        (Role.SUBJECT_MATTER_EXPERT, SME),
    ):
        assert actor.person_id is not None
        incident.assign_role(role, PersonRef(actor.person_id, actor.name), IC, T0)
    plan = POLICY.workflow_plan(None)
    assert plan is not None
    return incident, IncidentWorkflow.start(7, plan, severity)


def bodies(incident: Incident, kind: EntryKind) -> list[str]:
    return [e.body for e in incident.new_entries if e.kind is kind]


# ----- the shipped policy ---------------------------------------------------------------------
def test_the_default_workflow_is_the_specs_six_stages_tasks_and_workstreams() -> None:
    _, workflow = war_room(Severity.P1)
    assert [(s.key, s.name, s.role) for s in workflow.stages] == [
        ("detection", "Detection & Assessment", Role.INCIDENT_COMMANDER),
        ("triage", "Triage & War Room Setup", Role.INCIDENT_COMMANDER),
        ("containment", "Containment & Mitigation", Role.TECHNICAL_LEAD),
        ("root_cause", "Root Cause Analysis", Role.TECHNICAL_LEAD),
        ("recovery", "Recovery & Validation", Role.TECHNICAL_LEAD),
        ("review", "Post-Incident Review", Role.SCRIBE),
    ]
    assert workflow.stages[2].checklist[0] == "Traffic diversion/throttling"
    assert workflow.stages[5].checklist[-1] == "Post-mortem within 48 hours"
    graph = [t for t in workflow.tasks if not t.is_workstream]
    assert [(t.key, t.priority, t.estimate, t.depends_on) for t in graph] == [
        ("initial_assessment", Priority.CRITICAL, timedelta(minutes=5), ()),
        ("war_room_setup", Priority.CRITICAL, timedelta(minutes=10), ("initial_assessment",)),
        ("containment_actions", Priority.CRITICAL, timedelta(minutes=15), ("war_room_setup",)),
        ("root_cause_analysis", Priority.HIGH, timedelta(minutes=30), ("containment_actions",)),
        (
            "resolution_implementation",
            Priority.HIGH,
            timedelta(minutes=45),
            ("root_cause_analysis",),
        ),
        (
            "post_incident_review",
            Priority.MEDIUM,
            timedelta(minutes=60),
            ("resolution_implementation",),
        ),
    ]
    streams = [(t.workstream, t.content) for t in workflow.tasks if t.is_workstream]
    assert streams == [
        ("Security Team", "Investigate potential security implications"),
        ("Data Team", "Verify data integrity and recovery needs"),
        ("Communications Team", "Manage stakeholder and customer updates"),
    ]
    _, p2 = war_room(Severity.P2)
    assert [t.key for t in p2.tasks if t.is_workstream] == ["data", "communications"]
    _, p3 = war_room(Severity.P3)
    assert not [t for t in p3.tasks if t.is_workstream]


# ----- tasks ----------------------------------------------------------------------------------
def test_a_task_waits_for_its_dependencies_unless_the_ic_overrides() -> None:
    incident, workflow = war_room()
    with pytest.raises(TaskBlocked, match=r"waits for war_room_setup \(pending\)"):
        workflow.start_task(incident, "containment_actions", TL, T0)
    with pytest.raises(PermissionDenied, match="Incident Commander"):
        workflow.start_task(incident, "containment_actions", TL, T0, override=True)
    assert workflow.task("containment_actions").status is TaskStatus.PENDING
    workflow.start_task(incident, "containment_actions", IC, T0, override=True)
    assert workflow.task("containment_actions").status is TaskStatus.IN_PROGRESS
    assert bodies(incident, EntryKind.TASK) == [
        "Task started: containment_actions — Contain and mitigate customer impact "
        "(override: started before war_room_setup finished)"
    ]


def test_who_may_start_and_finish_tasks() -> None:
    incident, workflow = war_room()
    with pytest.raises(PermissionDenied, match="needs the Incident Commander"):
        workflow.start_task(incident, "initial_assessment", SCRIBE, T0)
    workflow.start_task(incident, "initial_assessment", TL, T0)  # TECHNICAL power
    workflow.complete_task(incident, "initial_assessment", TL, T0 + timedelta(minutes=7))
    assert bodies(incident, EntryKind.TASK)[-1] == (
        "Task done: initial_assessment — Assess impact and classify severity (took 7m, estimate 5m)"
    )
    # The owner may always finish their own task, whatever their role.
    workflow.assign_task(incident, "war_room_setup", PersonRef(4, "Eve"), TL, T0)
    with pytest.raises(PermissionDenied):
        workflow.start_task(incident, "war_room_setup", SME, T0)
    workflow.start_task(incident, "war_room_setup", IC, T0)
    workflow.complete_task(incident, "war_room_setup", SME, T0 + timedelta(minutes=3))
    assert workflow.task("war_room_setup").status is TaskStatus.DONE
    # Skipping is a decision.
    with pytest.raises(PermissionDenied):
        workflow.skip_task(incident, "containment_actions", "not needed", TL, T0)
    workflow.skip_task(incident, "containment_actions", "nothing to contain", IC, T0)
    assert workflow.blocked_by(workflow.task("root_cause_analysis")) == []
    with pytest.raises(InvalidTransition, match="it is skipped"):
        workflow.start_task(incident, "containment_actions", IC, T0)


def test_a_task_in_progress_longer_than_its_estimate_is_overdue() -> None:
    incident, workflow = war_room()
    task = workflow.start_task(incident, "initial_assessment", IC, T0)
    assert task.overdue_by(T0 + timedelta(minutes=5)) is None
    assert task.overdue_by(T0 + timedelta(minutes=6)) == timedelta(minutes=1)
    workflow.complete_task(incident, "initial_assessment", IC, T0 + timedelta(minutes=9))
    assert task.overdue_by(T0 + timedelta(hours=1)) is None
    assert workflow.task("security").overdue_by(T0 + timedelta(days=1)) is None  # no estimate


def test_the_critical_path_is_the_unfinished_chain_to_resolution() -> None:
    incident, workflow = war_room()
    path = workflow.critical_path(T0)
    assert path.keys == (
        "initial_assessment",
        "war_room_setup",
        "containment_actions",
        "root_cause_analysis",
        "resolution_implementation",
    )
    assert path.remaining == timedelta(minutes=5 + 10 + 15 + 30 + 45)
    workflow.start_task(incident, "initial_assessment", IC, T0)
    workflow.complete_task(incident, "initial_assessment", IC, T0 + timedelta(minutes=4))
    workflow.start_task(incident, "war_room_setup", IC, T0 + timedelta(minutes=4))
    path = workflow.critical_path(T0 + timedelta(minutes=8))
    assert path.keys[0] == "war_room_setup"
    assert path.remaining == timedelta(minutes=6 + 15 + 30 + 45)
    for key in ("war_room_setup", "containment_actions", "root_cause_analysis"):
        workflow.complete_task(incident, key, IC, T0 + timedelta(minutes=30))
    workflow.complete_task(incident, "resolution_implementation", TL, T0 + timedelta(hours=1))
    assert workflow.critical_path(T0 + timedelta(hours=1)).keys == ()


def test_assigning_an_owner_goes_on_the_timeline() -> None:
    incident, workflow = war_room()
    workflow.assign_task(incident, "security", PersonRef(2, "Tom"), IC, T0)
    with pytest.raises(NoChange):
        workflow.assign_task(incident, "security", PersonRef(2, "Tom"), IC, T0)
    assert bodies(incident, EntryKind.TASK) == ["Task owner: security nobody → Tom"]


# ----- stages and checklists ------------------------------------------------------------------
def test_ticking_the_checklist_needs_the_stages_specialist_or_technical_power() -> None:
    incident, workflow = war_room()
    assert workflow.tick(incident, "2", True, TL, T0) == "Initial severity classification"
    workflow.tick(incident, "impact SCOPE assessment", True, IC, T0)
    with pytest.raises(NoChange, match="already ticked"):
        workflow.tick(incident, "2", True, IC, T0)
    with pytest.raises(InvalidInput, match="no checklist item 'coffee'") as err:
        workflow.tick(incident, "coffee", True, IC, T0)
    assert err.value.field == "item"
    with pytest.raises(PermissionDenied):
        workflow.tick(incident, "1", True, SCRIBE, T0)
    workflow.tick(incident, "timeline reconstruction", True, SCRIBE, T0, stage="review")
    workflow.tick(incident, "2", False, TL, T0)
    assert [(t.stage, t.item, t.by) for t in workflow.ticks] == [
        ("detection", "Impact scope assessment", "Ivy"),
        ("review", "Timeline reconstruction", "Sam"),
    ]
    assert bodies(incident, EntryKind.CHECKLIST) == [
        "Ticked in Detection & Assessment: Initial severity classification",
        "Ticked in Detection & Assessment: Impact scope assessment",
        "Ticked in Post-Incident Review: Timeline reconstruction",
        "Unticked in Detection & Assessment: Initial severity classification",
    ]


def test_moving_the_stage_is_the_ics_decision() -> None:
    incident, workflow = war_room()
    workflow.tick(incident, "1", True, IC, T0)
    with pytest.raises(PermissionDenied, match="Incident Commander"):
        workflow.move(incident, "next", TL, T0)
    with pytest.raises(InvalidTransition, match="first stage"):
        workflow.move(incident, "back", IC, T0)
    assert workflow.move(incident, "next", IC, T0).key == "triage"
    assert workflow.move(incident, "recovery", IC, T0).name == "Recovery & Validation"
    with pytest.raises(InvalidInput, match="stages: detection, triage"):
        workflow.move(incident, "lunch", IC, T0)
    with pytest.raises(NoChange):
        workflow.move(incident, "recovery", IC, T0)
    assert bodies(incident, EntryKind.STAGE_CHANGED) == [
        "Stage: Detection & Assessment → Triage & War Room Setup (1 of 5 Detection & Assessment "
        "items ticked)",
        "Stage: Triage & War Room Setup → Recovery & Validation (0 of 5 Triage & War Room Setup "
        "items ticked)",
    ]


# ----- policy validation ----------------------------------------------------------------------
def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as err:
        load_policy(text, "p.yaml")
    return [f"{p.path}: {p.message}" for p in err.value.problems]


def with_tasks(old: str, new: str) -> str:
    text = default_policy_text()
    assert old in text
    return text.replace(old, new, 1)


def test_a_dependency_cycle_is_refused_naming_it() -> None:
    text = with_tasks(
        "        estimate: 5m\n",
        "        estimate: 5m\n        depends_on: [containment_actions]\n",
    )
    found = problems(text)
    assert any(
        "dependency cycle initial_assessment → containment_actions → war_room_setup → "
        "initial_assessment" in p
        for p in found
    ), found


def test_unknown_dependencies_roles_priorities_and_a_missing_standard_are_named() -> None:
    found = problems(with_tasks("depends_on: [war_room_setup]", "depends_on: [war_room]"))
    assert any("containment_actions.depends_on: unknown task war_room" in p for p in found), found
    found = problems(
        with_tasks("role: scribe\n        checklist", "role: janitor\n        checklist")
    )
    assert any(
        "workflows.standard.stages[5].role" in p and "unknown role 'janitor'" in p for p in found
    ), found
    found = problems(with_tasks("priority: medium", "priority: urgent"))
    assert any("unknown priority 'urgent'" in p for p in found), found
    found = problems(with_tasks("workflows:\n  standard:", "workflows:\n  database:"))
    assert any("workflows must define 'standard'" in p for p in found), found


def test_an_unknown_workflow_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="unknown workflow 'security'; known: standard") as err:
        POLICY.workflow_plan("security")
    assert err.value.field == "workflow"
