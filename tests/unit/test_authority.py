"""Role authority on an incident: every role against every kind of action, overrides, vacancies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain.action_runs import ActionRun
from tocsin.domain.actions import clean_action
from tocsin.domain.actors import Actor
from tocsin.domain.authority import GRANTS, Power
from tocsin.domain.errors import NotFound, PermissionDenied
from tocsin.domain.incidents import Incident
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.domain.war_room import JoinReason, PersonRef
from tocsin.domain.workflows import IncidentWorkflow
from tocsin.policy import load_default_policy

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
IC = Actor("Ines", user_id=1, person_id=1)
HOLDER = Actor("Hana", user_id=2, person_id=2)  # holds the role under test
OUTSIDER = Actor("Otto", user_id=3, person_id=3)  # holds no role
ADMIN = Actor("Ada", user_id=4, person_id=4, admin=True)
UNLINKED = Actor("Uma", user_id=5)  # an account with no catalog person

Action = Callable[[Incident, Actor], object]

# Each incident action, with the power it needs (what a user meets in the API, CLI and UI).
ACTIONS: dict[str, tuple[Power, Action]] = {
    "change status": (
        Power.DECIDE,
        lambda i, a: i.change_status(Status.IDENTIFIED, a, T0 + timedelta(minutes=1)),
    ),
    "reclassify": (
        Power.DECIDE,
        lambda i, a: i.reclassify(Severity.P2, "smaller", a, T0 + timedelta(minutes=1)),
    ),
    "assign a role": (
        Power.DECIDE,
        lambda i, a: i.assign_role(
            Role.SUBJECT_MATTER_EXPERT, PersonRef(9, "Sam"), a, T0 + timedelta(minutes=1)
        ),
    ),
    "set a timestamp": (
        Power.DOCUMENT,
        lambda i, a: i.set_timestamp(
            Milestone.IMPACT_STARTED, T0 - timedelta(minutes=5), a, T0 + timedelta(minutes=1)
        ),
    ),
    "edit details": (
        Power.DOCUMENT,
        lambda i, a: i.update_details(a, T0 + timedelta(minutes=1), summary="new words"),
    ),
    "mark a key moment": (
        Power.DOCUMENT,
        lambda i, a: i.mark_key_moment(i.new_entries[0], True, a, T0 + timedelta(minutes=1)),
    ),
    "add a note": (
        Power.ADVISE,
        lambda i, a: i.add_note(EntryKind.OBSERVATION, "seen", a, T0 + timedelta(minutes=1)),
    ),
}


def incident_with(role: Role | None) -> Incident:
    """A P1 with Ines as Incident Commander and, if given, Hana holding `role`."""
    incident = Incident.declare(id=3, title="Checkout down", severity=Severity.P1, actor=IC, now=T0)
    incident.assign_role(Role.INCIDENT_COMMANDER, PersonRef(1, "Ines"), IC, T0)
    if role is not None and role is not Role.INCIDENT_COMMANDER:
        incident.assign_role(role, PersonRef(2, "Hana"), IC, T0)
    return incident


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r.value if r else "no_role")
def test_every_role_against_every_action(role: Role | None, action: str) -> None:
    power, act = ACTIONS[action]
    incident = incident_with(role)
    actor = IC if role is Role.INCIDENT_COMMANDER else HOLDER if role else OUTSIDER
    granted = power is Power.ADVISE or (role is not None and power in GRANTS[role])
    before = len(incident.new_entries)
    if granted:
        act(incident, actor)
        assert len(incident.new_entries) > before or action == "mark a key moment"
        assert not any(e.kind is EntryKind.OVERRIDE for e in incident.new_entries)
    else:
        with pytest.raises(PermissionDenied) as refused:
            act(incident, actor)
        assert "Incident Commander (Ines)" in refused.value.detail
        held = role.label if role else "no role"
        assert f"you hold {held} on it" in refused.value.detail


def test_the_refusal_names_every_role_that_may_act_and_its_holders() -> None:
    incident = incident_with(Role.SUBJECT_MATTER_EXPERT)
    with pytest.raises(PermissionDenied) as refused:
        ACTIONS["set a timestamp"][1](incident, HOLDER)
    assert refused.value.detail == (
        "setting impact_started_at on INC-3 needs the Incident Commander (Ines) or Scribe; "
        "you hold Subject Matter Expert on it"
    )


def test_an_admin_may_override_and_the_override_is_on_the_timeline() -> None:
    incident = incident_with(None)
    incident.reclassify(Severity.P2, "contained", ADMIN, T0 + timedelta(minutes=2))
    override, change = incident.new_entries[-2:]
    assert override.kind is EntryKind.OVERRIDE
    assert override.author == "Ada"
    assert override.body == (
        "Admin override by Ada: changing the severity needs the Incident Commander (Ines)"
    )
    assert change.body == "Severity lowered from P1 to P2: contained"


def test_before_a_commander_is_named_any_responder_may_act() -> None:
    incident = Incident.declare(id=3, title="x", severity=Severity.P1, actor=OUTSIDER, now=T0)
    assert incident.needs_commander
    incident.reclassify(Severity.P2, "smaller", OUTSIDER, T0)
    incident.assign_role(Role.INCIDENT_COMMANDER, PersonRef(3, "Otto"), OUTSIDER, T0)
    assert not incident.needs_commander
    with pytest.raises(PermissionDenied):
        incident.reclassify(Severity.P3, "smaller", HOLDER, T0)


def test_an_account_without_a_person_is_told_why_it_holds_no_role() -> None:
    incident = incident_with(None)
    with pytest.raises(PermissionDenied, match="not linked to a catalog person"):
        incident.change_status(Status.IDENTIFIED, UNLINKED, T0)


def test_a_holder_may_step_down_but_not_relieve_others() -> None:
    incident = incident_with(Role.TECHNICAL_LEAD)
    incident.assign_role(Role.SCRIBE, PersonRef(3, "Otto"), IC, T0)
    with pytest.raises(PermissionDenied):
        incident.relieve_role(Role.SCRIBE, 3, HOLDER, T0)
    incident.relieve_role(Role.TECHNICAL_LEAD, None, HOLDER, T0)
    assert incident.new_entries[-1].body == "Hana is no longer Technical Lead"


def test_tocsin_itself_and_operators_without_accounts_are_not_restricted() -> None:
    incident = incident_with(Role.TECHNICAL_LEAD)
    incident.change_status(Status.MONITORING, Actor.system(), T0 + timedelta(minutes=1))
    incident.reclassify(Severity.P3, "operator", Actor("ops"), T0 + timedelta(minutes=2))
    assert incident.severity is Severity.P3


def test_only_open_p1_and_p2_without_a_commander_are_flagged() -> None:
    for severity, flagged in ((Severity.P1, True), (Severity.P2, True), (Severity.P3, False)):
        incident = Incident.declare(id=1, title="x", severity=severity, actor=IC, now=T0)
        assert incident.needs_commander is flagged
    incident = Incident.declare(id=1, title="x", severity=Severity.P1, actor=IC, now=T0)
    incident.change_status(Status.RESOLVED, IC, T0 + timedelta(minutes=1))
    assert not incident.needs_commander


def test_correcting_someone_elses_entry_is_documentation() -> None:
    incident = incident_with(Role.SUBJECT_MATTER_EXPERT)
    mine = incident.add_note(EntryKind.OBSERVATION, "40% errors", HOLDER, T0)
    theirs = incident.add_note(EntryKind.OBSERVATION, "EU only", IC, T0)
    incident.add_note(EntryKind.OBSERVATION, "4% errors", HOLDER, T0, corrects=mine)
    with pytest.raises(PermissionDenied, match="correcting someone else's entry"):
        incident.add_note(EntryKind.OBSERVATION, "US too", HOLDER, T0, corrects=theirs)


def test_a_private_incident_is_not_found_by_outsiders_before_anything_else() -> None:
    incident = incident_with(None)
    incident.private = True
    for act in (
        lambda: incident.add_note(EntryKind.OBSERVATION, "peek", OUTSIDER, T0),
        lambda: incident.post_message("hi", OUTSIDER, T0),
        lambda: incident.acknowledge(OUTSIDER, T0),
        lambda: incident.reclassify(Severity.P1, "same", OUTSIDER, T0),
    ):
        with pytest.raises(NotFound, match="no incident INC-3"):
            act()
    incident.take_part(PersonRef(3, "Otto"), JoinReason.TASK, IC, T0)
    incident.add_note(EntryKind.OBSERVATION, "now I see it", OUTSIDER, T0)


# ----- the war room's own actions: the same matrix over workflow, tasks and actions -----------
POLICY = load_default_policy()
FLAG_OFF = replace(clean_action("flag-off", "POST", "https://flags.example/off"), id=1)
GATED = replace(FLAG_OFF, name="rollback", requires_approval=True, id=2)

WarRoomAction = Callable[[Incident, IncidentWorkflow, Actor], object]
LATER = T0 + timedelta(minutes=1)
WAR_ROOM_ACTIONS: dict[str, tuple[Power, tuple[Role, ...], WarRoomAction]] = {
    # The current stage (detection) and the first task belong to the Incident Commander.
    "tick a checklist item": (
        Power.TECHNICAL,
        (Role.INCIDENT_COMMANDER,),
        lambda i, w, a: w.tick(i, "1", True, a, LATER),
    ),
    "move to the next stage": (Power.DECIDE, (), lambda i, w, a: w.move(i, "next", a, LATER)),
    "start a task": (
        Power.TECHNICAL,
        (Role.INCIDENT_COMMANDER,),
        lambda i, w, a: w.start_task(i, "initial_assessment", a, LATER),
    ),
    "skip a task": (
        Power.DECIDE,
        (),
        lambda i, w, a: w.skip_task(i, "post_incident_review", "not needed", a, LATER),
    ),
    "run an action": (
        Power.TECHNICAL,
        (),
        lambda i, w, a: ActionRun.request(i, FLAG_OFF, a, LATER),
    ),
    "approve an action": (
        Power.DECIDE,
        (),
        lambda i, w, a: ActionRun.request(i, GATED, IC, LATER).approve(i, a, LATER),
    ),
}


@pytest.mark.parametrize("action", WAR_ROOM_ACTIONS)
@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r.value if r else "no_role")
def test_every_role_against_every_war_room_action(role: Role | None, action: str) -> None:
    power, also, act = WAR_ROOM_ACTIONS[action]
    incident = incident_with(role)
    plan = POLICY.workflow_plan(None)
    assert plan is not None
    workflow = IncidentWorkflow.start(incident.id, plan, incident.severity)
    actor = IC if role is Role.INCIDENT_COMMANDER else HOLDER if role else OUTSIDER
    if role is not None and (power in GRANTS[role] or role in also):
        act(incident, workflow, actor)
        assert not any(e.kind is EntryKind.OVERRIDE for e in incident.new_entries)
    else:
        with pytest.raises(PermissionDenied, match=r"needs the Incident Commander \(Ines\)"):
            act(incident, workflow, actor)
