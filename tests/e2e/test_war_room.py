"""The war room over every interface: authority refusals, private incidents, the conversation."""

from __future__ import annotations

import sys

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_cli import Cli
from tests.e2e.test_web_pages import PASSWORD, browser_for, sign_in, text_of
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.domain.actors import Actor
from tocsin.entrypoints.app import create_app
from tocsin.runbookfile import builtin_runbooks, parse_runbook


def user(core: Tocsin, username: str, role: OrgRole, person: str | None) -> str:
    """Create a user (linked to a catalog person) and return a write-capable token."""
    core.handle(commands.CreateUser(username, PASSWORD, role, username.title(), person))
    scope = Scope.ADMIN if role is OrgRole.ADMIN else Scope.WRITE
    return str(core.handle(commands.CreateApiToken(username, "t", scope)).secret)


class Clients:
    def __init__(self, core: Tocsin) -> None:
        self.app = create_app(core)
        self.core = core
        self.tokens = {
            "alice": user(core, "alice", OrgRole.RESPONDER, "alice"),
            "bob": user(core, "bob", OrgRole.RESPONDER, "bob"),
            "ada": user(core, "ada", OrgRole.ADMIN, None),
        }

    def __call__(self, name: str) -> TestClient:
        return TestClient(self.app, headers={"Authorization": f"Bearer {self.tokens[name]}"})


@pytest.fixture
def clients(catalog: Tocsin) -> Clients:
    return Clients(catalog)


def declare(client: TestClient, **fields: object) -> dict[str, object]:
    body = {"title": "Credentials leaked", "severity": "P1", "services": ["checkout"], **fields}
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def declare_private(client: TestClient) -> dict[str, object]:
    """A private P3 on checkout: declaring pages only its on-call engineer, Alice, so Bob (the
    team's lead, paged from P2 up) stays an outsider."""
    return declare(client, severity="P3", private=True)


def test_a_private_incident_exists_only_for_participants_and_admins(clients: Clients) -> None:
    alice, bob, ada = clients("alice"), clients("bob"), clients("ada")
    declare_private(alice)
    declare(alice, title="Public one", private=False)
    assert [i["title"] for i in bob.get("/api/v1/incidents").json()["items"]] == ["Public one"]
    assert [i["reference"] for i in ada.get("/api/v1/incidents").json()["items"]] == [
        "INC-2",
        "INC-1",
    ]
    timeline = ada.get("/api/v1/incidents/1/timeline").json()
    for method, path, body in (
        ("GET", "/api/v1/incidents/1", None),
        ("GET", "/api/v1/incidents/1/timeline", None),
        ("GET", "/api/v1/incidents/1/messages", None),
        ("GET", "/api/v1/incidents/1/participants", None),
        ("GET", "/api/v1/incidents/1/paging", None),
        ("GET", "/api/v1/incidents/1/changes", None),
        ("GET", "/api/v1/incidents/1/workflow", None),
        ("GET", "/api/v1/incidents/1/tasks", None),
        ("GET", "/api/v1/incidents/1/updates", None),
        ("GET", "/api/v1/incidents/1/runbooks", None),
        ("GET", "/api/v1/incidents/1/runs", None),
        ("GET", "/api/v1/incidents/1/clearance", None),
        ("GET", "/api/v1/incidents/1/alerts", None),
        ("POST", "/api/v1/incidents/1/tasks/initial_assessment/start", {}),
        (
            "POST",
            "/api/v1/incidents/1/updates/preview",
            {"template": "status", "audiences": ["internal"]},
        ),
        ("POST", "/api/v1/incidents/1/timeline", {"kind": "observation", "body": "peek"}),
        ("POST", "/api/v1/incidents/1/messages", {"body": "hello?"}),
        ("POST", "/api/v1/incidents/1/acknowledge", None),
        ("POST", "/api/v1/incidents/1/status", {"status": "resolved"}),
    ):
        refused = bob.request(method, path, json=body)
        assert refused.status_code == 404, (method, path, refused.text)
        assert refused.json()["detail"] == "no incident INC-1", "the same answer as a missing one"
    assert ada.get("/api/v1/incidents/1/timeline").json() == timeline, (
        "bob's attempts wrote nothing"
    )
    assert {p["person"] for p in alice.get("/api/v1/incidents/1/participants").json()} == {"alice"}
    # Alice brings Bob in: now he sees it, and can talk in the war room.
    invited = alice.post("/api/v1/incidents/1/participants", json={"person": "bob"})
    assert [(p["person"], p["reason"]) for p in invited.json()] == [
        ("alice", "declared"),
        ("bob", "invited"),
    ]
    assert bob.get("/api/v1/incidents/1").json()["private"] is True
    bob.post("/api/v1/incidents/1/messages", json={"body": "looking at the auth logs"})
    said = alice.get("/api/v1/incidents/1/messages").json()
    assert [(m["author"], m["body"]) for m in said] == [("Bob", "looking at the auth logs")]
    timeline = [e["body"] for e in alice.get("/api/v1/incidents/1/timeline").json()]
    assert "Bob Chen was invited to the war room" in timeline


def test_making_an_incident_private_hides_it_and_is_on_the_timeline(clients: Clients) -> None:
    alice, bob = clients("alice"), clients("bob")
    declare(alice, severity="P3")
    assert bob.get("/api/v1/incidents/1").status_code == 200
    alice.post("/api/v1/incidents/1/roles", json={"role": "ic", "person": "alice"})
    refused = bob.put("/api/v1/incidents/1/visibility", json={"private": True})
    assert refused.status_code == 403
    assert "needs the Incident Commander (Alice Martin)" in refused.json()["detail"]
    made = alice.put("/api/v1/incidents/1/visibility", json={"private": True})
    assert made.json()["private"] is True
    assert bob.get("/api/v1/incidents/1").status_code == 404
    entries = [e["body"] for e in alice.get("/api/v1/incidents/1/timeline").json()]
    assert entries[-1] == "Made private: only participants and admins can see it"
    again = alice.put("/api/v1/incidents/1/visibility", json={"private": True})
    assert again.status_code == 409


def test_roles_are_enforced_over_the_api_and_admins_override_on_the_record(
    clients: Clients,
) -> None:
    alice, bob, ada = clients("alice"), clients("bob"), clients("ada")
    created = declare(alice)
    detected = created["timestamps"]["detected_at"]["value"]  # type: ignore[index]
    alice.post("/api/v1/incidents/1/roles", json={"role": "ic", "person": "alice"})
    alice.post("/api/v1/incidents/1/roles", json={"role": "scribe", "person": "bob"})
    refused = bob.post("/api/v1/incidents/1/severity", json={"severity": "P2", "reason": "x"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "changing the severity on INC-1 needs the Incident Commander (Alice Martin); "
        "you hold Scribe on it"
    )
    scribed = bob.put(
        "/api/v1/incidents/1/timestamps/impact_started_at",
        json={"value": detected},
    )
    assert scribed.status_code == 200, "documentation is the Scribe's job"
    assert (
        bob.post("/api/v1/incidents/1/messages", json={"body": "anyone may talk"}).status_code
        == 201
    )
    overridden = ada.post("/api/v1/incidents/1/severity", json={"severity": "P2", "reason": "y"})
    assert overridden.status_code == 200
    bodies = [e["body"] for e in ada.get("/api/v1/incidents/1/timeline").json()]
    assert bodies[-2:] == [
        "Admin override by Ada: changing the severity needs the Incident Commander (Alice Martin)",
        "Severity lowered from P1 to P2: y",
    ]


def test_a_p1_without_commander_is_flagged_and_the_acknowledger_offered_command(
    clients: Clients,
) -> None:
    alice = clients("alice")
    created = declare(alice)
    assert created["needs_incident_commander"] is True
    assert alice.get("/api/v1/incidents").json()["items"][0]["needs_incident_commander"]
    with browser_for(clients.core, "alice") as web:
        page = web.read("/incidents/1")
        assert "No Incident Commander" in page and "Take command" in page
        assert "No Incident Commander" in web.read("/incidents")
        taken = web.post("/incidents/1/take-command", headers={"HX-Request": "true"})
        assert taken.status_code == 204
        page = web.read("/incidents/1")
        assert "Take command" not in page
        assert "Alice Martin is now Incident Commander" in page
    assert alice.get("/api/v1/incidents/1").json()["needs_incident_commander"] is False


def test_the_web_war_room_conversation_and_private_pages(clients: Clients) -> None:
    declare_private(clients("alice"))
    with browser_for(clients.core, "alice") as alice, browser_for(clients.core, "bob") as bob:
        assert bob.client.get("/incidents/1").status_code == 404
        assert "Credentials leaked" not in bob.read("/incidents")
        assert bob.client.get("/incidents/1/events").status_code == 404
        assert bob.client.get("/incidents/1/panels/messages").status_code == 404
        posted = alice.post(
            "/incidents/1/messages", {"body": "rotate the keys"}, headers={"HX-Request": "true"}
        )
        assert posted.status_code == 200
        assert "rotate the keys" in alice.read("/incidents/1/panels/messages")
        empty = alice.post("/incidents/1/messages", {"body": "  "}, headers={"HX-Request": "true"})
        assert empty.status_code == 422
        assert "message must not be empty" in text_of(empty.text)
        alice.post("/incidents/1/participants", {"person": "bob"})
        page = bob.read("/incidents/1")
        assert "rotate the keys" in page and "Private" in page


def test_the_cli_talks_invites_and_hides(
    catalog: Tocsin, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    cli = Cli(capsys, monkeypatch, "--database-url", catalog.settings.database_url)
    cli("incident", "declare", "--title", "Breach", "--severity", "P3", "--private")
    cli("incident", "say", "1", "isolating the host")
    cli("incident", "invite", "1", "carol")
    assert "isolating the host" in cli("incident", "messages", "1")
    assert [p["person"] for p in cli.json("incident", "participants", "1")] == ["carol"]
    assert "INC-1 is now visible to everyone" in cli("incident", "private", "1", "--off")
    assert "no person with handle 'zed'" in cli("incident", "invite", "1", "zed", code=1)
    assert sys.argv[0] == "tocsin"


def test_signing_in_as_someone_not_invited_never_shows_a_private_title(clients: Clients) -> None:
    declare_private(clients("alice"))
    with TestClient(clients.app) as client:
        assert sign_in(client, "bob").status_code == 303
        assert "Credentials leaked" not in client.get("/incidents").text
        assert "Credentials leaked" not in client.get("/deliveries").text


def test_an_admin_links_an_existing_user_to_their_person(clients: Clients) -> None:
    ada, alice = clients("ada"), clients("alice")
    clients.core.handle(commands.CreateUser("carol", PASSWORD, OrgRole.RESPONDER, "Carol"))
    carol_token = clients.core.handle(commands.CreateApiToken("carol", "t", Scope.WRITE)).secret
    carol = TestClient(clients.app, headers={"Authorization": f"Bearer {carol_token}"})
    declare(alice)
    alice.post("/api/v1/incidents/1/roles", json={"role": "ic", "person": "alice"})
    alice.post("/api/v1/incidents/1/roles", json={"role": "tl", "person": "carol"})
    before = carol.post("/api/v1/incidents/1/status", json={"status": "identified"})
    assert "not linked to a catalog person" in before.json()["detail"]
    assert alice.put("/api/v1/users/carol/person", json={"person": "carol"}).status_code == 403
    assert ada.put("/api/v1/users/carol/person", json={"person": "carol"}).status_code == 204
    assert ada.put("/api/v1/users/carol/person", json={"person": "zed"}).status_code == 404
    after = carol.post("/api/v1/incidents/1/status", json={"status": "identified"})
    assert after.status_code == 403
    assert "you hold Technical Lead on it" in after.json()["detail"]


def test_following_the_security_breach_playbook_makes_the_incident_private(
    clients: Clients,
) -> None:
    playbooks = tuple(parse_runbook(text, name) for name, text in builtin_runbooks())
    clients.core.handle(commands.ImportRunbooks(playbooks, Actor("ops")))
    alice, bob = clients("alice"), clients("bob")
    declare(alice, title="Odd sign-ins", severity="P3")  # pages only Alice
    assert bob.get("/api/v1/incidents/1").status_code == 200
    attached = alice.post("/api/v1/incidents/1/runbooks", json={"runbook": "security-breach"})
    assert attached.status_code == 201, attached.text
    assert bob.get("/api/v1/incidents/1").status_code == 404
    assert alice.get("/api/v1/incidents/1").json()["private"] is True
    bodies = [e["body"] for e in alice.get("/api/v1/incidents/1/timeline").json()]
    assert (
        bodies[-1].startswith("Made private: the ") and "playbook keeps its incidents" in bodies[-1]
    )


def test_a_refused_form_never_shows_an_outsider_a_private_incidents_panel(
    clients: Clients,
) -> None:
    declare_private(clients("alice"))
    with browser_for(clients.core, "bob") as bob:
        forms: tuple[tuple[str, dict[str, object]], ...] = (
            ("/incidents/1/tasks/initial_assessment/start", {}),
            ("/incidents/1/workflow/checklist", {"item": "1"}),
            ("/incidents/1/runbooks", {"runbook": "nope"}),
            ("/incidents/1/updates/preview", {"template": "status", "audiences": "internal"}),
            ("/incidents/1/messages", {"body": "hi"}),
        )
        for path, form in forms:
            for headers in ({"HX-Request": "true"}, {}):
                refused = bob.post(path, form, headers=headers)
                assert refused.status_code == 404, (path, refused.status_code)
                page = text_of(refused.text)
                assert "Assess impact" not in page and "Credentials leaked" not in page, path
