"""The incident page's Communications panel over HTTP, with and without htmx, on both dialects."""

from __future__ import annotations

from tests.e2e.test_web_pages import (
    HTMX,
    Browser,
    browser_for,
    create_user,
    declare,
    text_of,
    web,  # noqa: F401 - the fixture
)
from tests.fakes import FakeClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole
from tocsin.domain.actors import Actor
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity

FORM: dict[str, object] = {
    "template": "status",
    "audiences": ["internal", "executive"],
    "summary": "Rolled back",
    "actions": "Watching errors\n\nDraining the queue",
}


def test_preview_edit_and_send_with_htmx(web: Browser, clock: FakeClock) -> None:  # noqa: F811
    incident = declare(web.core, severity=Severity.P1)
    page = web.read(f"/incidents/{incident}")
    assert "Communications" in page and "Compose a stakeholder update" in page
    assert "No stakeholder updates sent yet." in page
    assert "Internal #incidents-status" in page and "Executive #exec-incidents" in page

    preview = web.post(f"/incidents/{incident}/updates/preview", FORM, headers=HTMX)
    assert preview.status_code == 200
    assert "**INCIDENT UPDATE - INC-1**" in preview.text
    assert "- Watching errors\n- Draining the queue" in preview.text
    assert "Next Update: 01:00 UTC" in preview.text  # P1: every 30 minutes
    assert web.core.communications.for_incident(incident).updates == []

    body = "**INCIDENT UPDATE - INC-1**\nSummary: Rolled back, edited by hand"
    sent = web.post(f"/incidents/{incident}/updates", {**FORM, "body": body}, headers=HTMX)
    assert sent.status_code == 200 and "incident-changed" in sent.headers["HX-Trigger-After-Settle"]
    [update] = web.core.communications.for_incident(incident).updates
    assert update.body == body and update.audiences == ["internal", "executive"]
    panel = text_of(web.client.get(f"/incidents/{incident}/panels/communications").text)
    assert "Next update by 01:00 UTC" in panel
    assert "Status Update to internal, executive" in panel and "Alice Martin" in panel


def test_the_next_update_turns_amber_then_red(web: Browser, clock: FakeClock) -> None:  # noqa: F811
    incident = declare(web.core, severity=Severity.P2)
    web.post(f"/incidents/{incident}/updates", FORM, follow_redirects=False)
    panel = f"/incidents/{incident}/panels/communications"
    assert 'class="next-update on-track"' in web.client.get(panel).text
    clock.advance(minutes=51)
    shown = web.client.get(panel).text
    assert 'class="next-update due-soon"' in shown
    assert "Next update due in 9 min" in text_of(shown)
    clock.advance(minutes=10)
    shown = web.client.get(panel).text
    assert 'class="next-update overdue"' in shown
    assert "Stakeholder update overdue — it was due 01:30 UTC (1 min ago)" in text_of(shown)


def test_refusals_keep_the_form_and_write_nothing(web: Browser) -> None:  # noqa: F811
    incident = declare(web.core)
    web.core.handle(commands.AssignRole(incident, Role.INCIDENT_COMMANDER, "bob", Actor("Pager")))
    web.core.handle(commands.AssignRole(incident, Role.SCRIBE, "alice", Actor("Pager")))
    refused = web.post(f"/incidents/{incident}/updates", FORM, headers=HTMX)
    assert refused.status_code == 403
    shown = text_of(refused.text)
    assert "needs the Incident Commander (Bob Chen) or Communications Lead" in shown
    assert "Nothing was changed." in shown and "Rolled back" in shown
    nobody = web.post(
        f"/incidents/{incident}/updates/preview", {**FORM, "audiences": []}, headers=HTMX
    )
    assert nobody.status_code == 422 and "choose at least one audience" in nobody.text
    without_js = web.post(f"/incidents/{incident}/updates/preview", {**FORM, "template": "memo"})
    assert without_js.status_code == 422 and "unknown template" in text_of(without_js.text)
    assert web.core.communications.for_incident(incident).updates == []


def test_without_javascript_a_sent_update_redirects_to_the_page(catalog: Tocsin) -> None:
    create_user(catalog, "carol", OrgRole.RESPONDER, "Carol Diaz", person="carol")
    incident = declare(catalog, severity=Severity.P3)
    with browser_for(catalog, "carol") as carol:
        sent = carol.post(f"/incidents/{incident}/updates", FORM, follow_redirects=False)
        assert sent.status_code == 303
        assert sent.headers["location"] == f"/incidents/{incident}#panel-compose"
        page = carol.read(f"/incidents/{incident}")
        assert "No update is promised for a P3 incident." in page
        assert "Status Update to internal, executive" in page
