"""`tocsin incident stage|check` and `tocsin task …`, on the database and against a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_token
from tests.e2e.test_cli import Cli, cli  # noqa: F401  (the fixture)
from tocsin import policy
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope


def test_stages_checklists_and_tasks_from_the_terminal(cli: Cli) -> None:  # noqa: F811
    cli("incident", "declare", "--title", "Checkout down", "--severity", "P1")
    shown = cli("incident", "stage", "1")
    assert "▶ 1. Detection & Assessment" in shown
    assert "[ ] 1. Alert validation and deduplication" in shown
    ticked = cli("incident", "check", "1", "2")
    assert "[x] 2. Initial severity classification  Dana (cli)" in ticked
    assert "1 of 5 ticked" in ticked
    assert "no checklist item 'tea'" in cli("incident", "check", "1", "tea", code=1)
    assert "▶ 2. Triage & War Room Setup" in cli("incident", "stage", "1", "next")
    listed = cli("task", "list", "1")
    assert "Security Team (security)" in listed
    assert "Critical path (1h 45m left): initial_assessment → war_room_setup" in listed
    refused = cli("task", "start", "1", "war_room_setup", code=1)
    assert "war_room_setup waits for initial_assessment (pending)" in refused
    forced = cli("task", "start", "1", "war_room_setup", "--override")
    assert "Critical path (1h 44m left): initial_assessment → war_room_setup" in forced
    cli("task", "done", "1", "initial_assessment")
    cli("task", "assign", "1", "security", "carol")
    board = cli.json("task", "list", "1")
    tasks = {t["key"]: t for t in board["tasks"] + board["workstreams"]}
    assert tasks["initial_assessment"]["status"] == "done"
    assert tasks["security"]["owner"] == "Carol Diaz"
    body = cli("incident", "timeline", "1")
    assert "override: started" in body
    checked = cli("policy", "check", str(Path(policy.__file__).parent / "default.yaml"))
    assert "workflow standard: 6 stages, 6 tasks" in checked


def test_the_workflow_commands_work_against_a_server(
    catalog: Tocsin,
    live_server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    remote = Cli(
        capsys, monkeypatch, "--url", live_server, "--token", make_token(catalog, Scope.WRITE)
    )
    remote("incident", "declare", "--title", "Disk full", "--severity", "P3")
    assert "[x] 1. Alert validation" in remote("incident", "check", "1", "1")
    assert "▶ 6. Post-Incident Review" in remote("incident", "stage", "1", "review")
    remote("task", "assign", "1", "war_room_setup", "bob")
    remote("task", "start", "1", "initial_assessment")
    board = remote.json("task", "list", "1")
    assert [(t["key"], t["status"], t["owner"]) for t in board["tasks"][:2]] == [
        ("initial_assessment", "in_progress", None),
        ("war_room_setup", "pending", "Bob Chen"),
    ]
    refused = remote("task", "skip", "1", "nope", "--reason", "x", code=1)
    assert "no task 'nope'" in refused
    unknown = remote(
        "incident", "declare", "--title", "x", "--severity", "P3", "--workflow", "db", code=1
    )
    assert "unknown workflow 'db'; known: standard" in unknown
