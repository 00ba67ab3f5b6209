"""The Workflow and Tasks panels of the incident page, as a browser uses them, on both dialects."""

from __future__ import annotations

from tests.e2e.test_web_pages import HTMX, Browser, declare, text_of, web  # noqa: F401
from tests.fakes import FakeClock
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity


def test_ticking_a_checklist_item_shows_who_and_when_on_the_panel_and_timeline(
    web: Browser,  # noqa: F811
    clock: FakeClock,
) -> None:
    incident_id = declare(web.core)
    page = web.read(f"/incidents/{incident_id}")
    assert "Workflow standard" in page
    assert "Now: Detection & Assessment specialist: Incident Commander" in page
    assert "Critical path to resolution (1h 45m of estimates left)" in page
    clock.advance(minutes=3)
    answer = web.post(
        f"/incidents/{incident_id}/workflow/checklist",
        {"stage": "detection", "item": "Impact scope assessment", "done": "true"},
        headers=HTMX,
    )
    assert answer.status_code == 200, answer.text
    assert "incident-changed" in answer.headers["HX-Trigger-After-Settle"]
    panel = text_of(answer.text)
    assert "Impact scope assessment ticked by Alice Martin" in panel
    assert "1/5" in panel
    timeline = web.read(f"/incidents/{incident_id}/panels/timeline")
    assert "Ticked in Detection & Assessment: Impact scope assessment" in timeline
    # Unticking and moving on, without JavaScript: back to the page.
    plain = web.post(
        f"/incidents/{incident_id}/workflow/stage", {"stage": "next"}, follow_redirects=False
    )
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/incidents/{incident_id}#panel-workflow"
    assert "Now: Triage & War Room Setup" in web.read(f"/incidents/{incident_id}/panels/workflow")


def test_the_tasks_panel_greys_waiting_tasks_and_reddens_overdue_ones(
    web: Browser,  # noqa: F811
    clock: FakeClock,
) -> None:
    incident_id = declare(web.core, severity=Severity.P1)
    panel = web.client.get(f"/incidents/{incident_id}/panels/tasks").text
    assert 'class="task task-pending is-waiting is-critical" id="task-war_room_setup"' in panel
    assert "waiting for initial_assessment" in text_of(panel)
    assert "Security Team: Investigate potential security implications" in text_of(panel)
    started = web.post(f"/incidents/{incident_id}/tasks/initial_assessment/start", headers=HTMX)
    assert started.status_code == 200, started.text
    assert "is-overdue" not in started.text
    clock.advance(minutes=7)
    panel = web.client.get(f"/incidents/{incident_id}/panels/tasks").text
    assert (
        'class="task task-in_progress is-overdue is-critical" id="task-initial_assessment"' in panel
    )
    assert "Overdue by 2m" in text_of(panel)
    web.post(f"/incidents/{incident_id}/tasks/initial_assessment/done", headers=HTMX)
    owner = web.post(
        f"/incidents/{incident_id}/tasks/security/owner", {"owner": "bob"}, headers=HTMX
    )
    assert "owner: Bob Chen" in text_of(owner.text)
    assert 'class="task task-pending is-critical" id="task-war_room_setup"' in owner.text


def test_a_refused_task_change_names_the_role_and_changes_nothing(
    web: Browser,  # noqa: F811
) -> None:
    incident_id = declare(web.core)
    admin = Actor("Admin", admin=True)
    web.core.handle(commands.AssignRole(incident_id, Role.INCIDENT_COMMANDER, "bob", admin))
    web.core.handle(commands.AssignRole(incident_id, Role.SUBJECT_MATTER_EXPERT, "alice", admin))
    before = web.entries(incident_id)
    refused = web.post(f"/incidents/{incident_id}/tasks/initial_assessment/start", headers=HTMX)
    assert refused.status_code == 403
    assert "needs the Incident Commander (Bob Chen) or Technical Lead" in text_of(refused.text)
    assert "Nothing was changed" in text_of(refused.text)
    tick = web.post(f"/incidents/{incident_id}/workflow/checklist", {"item": "1"}, headers=HTMX)
    assert tick.status_code == 403
    assert web.entries(incident_id) == before


def test_declaring_names_the_workflow_and_an_unknown_one_is_refused(
    web: Browser,  # noqa: F811
) -> None:
    form = web.read("/incidents/new")
    assert "Workflow (stages, checklists and tasks) Standard" in form
    refused = web.post("/incidents", {"title": "Disk full", "severity": "P3", "workflow": "dbfire"})
    assert refused.status_code == 422
    assert "unknown workflow 'dbfire'; known: standard" in text_of(refused.text)
    assert "Disk full" not in web.read("/incidents")
