"""The `tocsin` command, on the database directly and against a running server with --url."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope
from tocsin.entrypoints.cli import main


class Cli:
    def __init__(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *base: str
    ) -> None:
        self.capsys, self.monkeypatch, self.base = capsys, monkeypatch, list(base)

    def __call__(self, *args: str, code: int = 0) -> str:
        self.monkeypatch.setattr(sys, "argv", ["tocsin", *self.base, *args])
        try:
            main()
            exit_code = 0
        except SystemExit as exc:
            exit_code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        assert exit_code == code, f"exit {exit_code}\nstdout:\n{out}\nstderr:\n{err}"
        return out if code == 0 else err

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json"))


@pytest.fixture
def cli(
    catalog: Tocsin, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setenv("COLUMNS", "200")
    return Cli(
        capsys,
        monkeypatch,
        "--database-url",
        catalog.settings.database_url,
        "--actor",
        "Dana (cli)",
    )


def test_declare_work_and_read_an_incident(cli: Cli) -> None:
    out = cli(
        "incident",
        "declare",
        "--title",
        "Checkout down",
        "--severity",
        "P2",
        "--service",
        "checkout",
        "--customer-facing",
    )
    assert "Declared INC-1: Checkout down" in out
    assert "#incident-1" in out
    cli("incident", "status", "INC-1", "identified", "--note", "bad deploy")
    cli("incident", "severity", "1", "p1", "--reason", "all regions")
    cli("incident", "role", "1", "ic", "alice")
    assert "Incident Commander: Bob Chen" in cli(
        "incident", "role", "1", "incident commander", "bob"
    )
    cli("incident", "role", "1", "sme", "carol")
    assert "Subject Matter Expert" not in cli("incident", "role", "1", "sme", "--relieve")
    added = cli("incident", "note", "1", "Roll back now", "--kind", "decision", "--key-moment")
    found = re.search(r"Added #(\d+) \(decision\) ★", added)
    assert found, added
    seq = int(found[1])
    fixed = cli(
        "incident",
        "note",
        "1",
        "Actually roll forward",
        "--kind",
        "decision",
        "--corrects",
        str(seq),
    )
    assert f"Added #{seq + 1} (decision)" in fixed
    cli("incident", "timestamp", "1", "impact_started", "2026-03-29T00:00:00+01:00")
    cli(
        "incident",
        "update",
        "1",
        "--user-impact",
        "cannot pay",
        "--service",
        "checkout",
        "--service",
        "payments",
    )

    shown = cli.json("incident", "show", "INC-1")
    assert shown["severity"]["level"] == "P1"
    assert shown["status"] == "identified"
    assert [r["person"] for r in shown["roles"]] == ["bob"]
    assert shown["timestamps"]["impact_started_at"]["value"] == "2026-03-28T23:00:00Z"
    assert [s["slug"] for s in shown["services"]] == ["checkout", "payments"]
    bodies = [e["body"] for e in shown["timeline"]]
    assert "Incident Commander handed over from Alice Martin to Bob Chen" in bodies
    # Declaring paged the team at once; everything else is Dana's.
    assert {e["author"] for e in shown["timeline"]} == {"Dana (cli)", "Tocsin paging"}
    assert [e["seq"] for e in cli.json("incident", "timeline", "1", "--key-moments")] == [seq]
    text = cli("incident", "show", "1")
    assert f"corrected by #{seq + 1}" in text and "Bob Chen (bob)" in text


def test_list_filters_and_json(cli: Cli) -> None:
    cli("incident", "declare", "--title", "Search slow", "--severity", "P3", "--service", "search")
    cli(
        "incident",
        "declare",
        "--title",
        "Payments down",
        "--severity",
        "P1",
        "--service",
        "payments",
    )
    cli("incident", "status", "2", "resolved")
    assert [i["reference"] for i in cli.json("incident", "list")["items"]] == ["INC-2", "INC-1"]
    assert [i["reference"] for i in cli.json("incident", "list", "--status", "open")["items"]] == [
        "INC-1"
    ]
    assert [i["reference"] for i in cli.json("incident", "list", "--severity", "P1")["items"]] == [
        "INC-2"
    ]
    assert [i["reference"] for i in cli.json("incident", "list", "-q", "search")["items"]] == [
        "INC-1"
    ]
    assert "No incidents match." in cli("incident", "list", "--service", "checkout")
    assert "INC-2" in cli("incident", "list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("incident", "declare", "--title", "x", "--severity", "P9"),
            "severity: unknown severity 'P9'",
        ),
        (
            ("incident", "declare", "--title", "x", "--severity", "P1", "--service", "nope"),
            "no service named 'nope'",
        ),
        (
            (
                "incident",
                "declare",
                "--title",
                "x",
                "--severity",
                "P1",
                "--detected-at",
                "2026-01-01T00:00",
            ),
            "has no time zone",
        ),
        (("incident", "status", "INC-9", "resolved"), "no incident INC-9"),
        (("incident", "severity", "1", "P1", "--reason", ""), "reason"),
        (("incident", "role", "1", "boss", "alice"), "unknown role 'boss'"),
        (("incident", "note", "1", "x", "--kind", "declared"), "unknown entry kind 'declared'"),
    ],
)
def test_refusals_exit_1_with_one_clear_line_and_write_nothing(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    if args[1] != "declare":
        cli("incident", "declare", "--title", "Existing", "--severity", "P2")
    before = cli.json("incident", "list")
    err = cli(*args, code=1)
    assert err.startswith("Error: ")
    assert message in err
    assert cli.json("incident", "list") == before


def test_invalid_transition_message(cli: Cli) -> None:
    cli("incident", "declare", "--title", "x", "--severity", "P2")
    err = cli("incident", "status", "1", "closed", code=1)
    assert err.strip() == (
        "Error: cannot move INC-1 from Investigating to Closed; "
        "allowed from Investigating: Identified, Monitoring, Resolved"
    )


def test_catalog_import_is_idempotent(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "catalog.yaml"
    file.write_text(
        "people:\n  - {handle: zoe, name: Zoe, email: zoe@example.com, title: CEO}\n"
        "services:\n  - {slug: web, name: Web, depends_on: [search]}\n"
    )
    assert "people: 1 created, 0 updated, 0 unchanged" in cli("catalog", "import", str(file))
    again = cli("catalog", "import", str(file))
    assert "people: 0 created, 0 updated, 1 unchanged" in again
    assert "services: 0 created, 0 updated, 1 unchanged" in again
    assert any(p["handle"] == "zoe" and p["title"] == "ceo" for p in cli.json("catalog", "people"))
    file.write_text("services:\n  - {slug: web, name: Web, tier: 9}\n")
    assert "tier must be 1, 2 or 3" in cli("catalog", "import", str(file), code=1)
    assert "cannot read" in cli("catalog", "import", str(tmp_path / "missing.yaml"), code=1)


def test_catalog_add_and_list(cli: Cli) -> None:
    cli("catalog", "add-person", "ivan", "--name", "Ivan", "--email", "ivan@example.com")
    cli("catalog", "add-team", "data", "--name", "Data", "--member", "ivan:team lead")
    cli(
        "catalog",
        "add-service",
        "warehouse",
        "--name",
        "Warehouse",
        "--team",
        "data",
        "--tier",
        "3",
    )
    teams = {t["slug"]: t for t in cli.json("catalog", "teams")}
    assert teams["data"]["members"] == [{"person": "ivan", "name": "Ivan", "role": "team lead"}]
    services = {s["slug"]: s for s in cli.json("catalog", "services")}
    assert services["warehouse"]["team"] == "data"


def test_policy_check(cli: Cli, tmp_path: Path) -> None:
    good = tmp_path / "policy.yaml"
    good.write_text(cli("policy", "default"))
    checked = cli("policy", "check", str(good))
    assert "OK — 4 severities, 5 roles, 9 escalation steps" in checked
    assert (
        "note: channels jira, pagerduty, slack-incidents, slack-team have no entry in "
        "paging.destinations; nothing is sent there until they do"
    ) in " ".join(checked.split())
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        good.read_text().replace("15_minutes:", "15_minutez:").replace("version: 1", "version: 3")
    )
    err = cli("policy", "check", str(bad), code=1)
    line = (
        bad.read_text()
        .splitlines()
        .index('    15_minutez: ["director of engineering", "VP engineering"]')
        + 1
    )
    assert f"{bad}:{line}: escalation_paths.P1.15_minutez: expected a duration" in err
    assert "version: this Tocsin reads policy version 1" in err
    assert "2 problem(s)" in err


def test_tokens_and_users(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_NEW_PASSWORD", "a long password")
    cli("user", "create", "root-admin", "--role", "admin")
    token = cli("token", "create", "--scope", "read", "--user", "root-admin").strip()
    assert token.startswith("tsn_")
    listed = cli("token", "list")
    assert token not in listed and "root-admin" in listed
    monkeypatch.setenv("TOCSIN_NEW_PASSWORD", "short")
    assert "password must be at least 10 characters" in cli("user", "create", "x2", code=1)
    assert "no active user named 'ghost'" in cli(
        "token", "create", "--scope", "read", "--user", "ghost", code=1
    )


def test_against_a_server_with_url(
    catalog: Tocsin,
    live_server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = make_token(catalog, Scope.WRITE)
    monkeypatch.setenv("COLUMNS", "200")
    remote = Cli(capsys, monkeypatch, "--url", live_server, "--token", token)
    assert "Declared INC-1" in remote(
        "incident", "declare", "--title", "Remote", "--severity", "P2", "--service", "checkout"
    )
    remote("incident", "role", "1", "ic", "alice")
    remote("incident", "note", "1", "from afar")
    shown = remote.json("incident", "show", "1")
    assert shown["timeline"][-1]["author"] == "Admin", "the token's owner is the author"
    assert remote.json("incident", "list")["items"][0]["incident_commander"] == "Alice Martin"
    assert "allowed from Investigating" in remote("incident", "status", "1", "closed", code=1)
    reader = Cli(
        capsys, monkeypatch, "--url", live_server, "--token", make_token(catalog, Scope.READ)
    )
    assert "needs write" in reader("incident", "note", "1", "nope", code=1)
    nobody = Cli(capsys, monkeypatch, "--url", "http://127.0.0.1:9", "--token", token)
    assert "cannot reach the server" in nobody("incident", "list", code=1)


def test_a_bad_policy_stops_tocsin_with_its_problems(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(cli("policy", "default").replace("response_time: 15m", "response_time: quickly"))
    monkeypatch.setenv("TOCSIN_POLICY", str(bad))
    err = cli("incident", "list", code=1)
    assert "severities.P1.response_time" in err and "quickly" in err


def test_acknowledging_stops_paging_from_the_cli_and_the_api(cli: Cli, api: TestClient) -> None:
    cli(
        "incident",
        "declare",
        "--title",
        "Checkout down",
        "--severity",
        "P1",
        "--service",
        "checkout",
    )
    assert "INC-1 acknowledged; paging stops" in cli("incident", "ack", "INC-1")
    again = api.post("/api/v1/incidents/INC-1/acknowledge")
    assert again.status_code == 409, again.text
    assert "already acknowledged" in again.text
    entries = api.get("/api/v1/incidents/INC-1/timeline").json()
    assert [e["kind"] for e in entries].count("acknowledged") == 1
