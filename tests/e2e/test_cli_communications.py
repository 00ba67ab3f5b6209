"""`tocsin update …` on the database directly and against a running server."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import make_token
from tests.e2e.test_cli import Cli, cli  # noqa: F401 - the fixture
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope


def declare(cli: Cli, severity: str = "P1") -> None:  # noqa: F811
    cli("incident", "declare", "--title", "Ledger drift", "--severity", severity)


def test_preview_send_and_list(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    declare(cli)
    preview = cli(
        "update", "preview", "INC-1", "--audience", "internal", "--summary", "Rolled back",
        "--action", "Watching errors", "--action", "Paging the DBA",
    )  # fmt: skip
    assert "[P1] INC-1 Status Update: Ledger drift" in preview
    assert "Summary: Rolled back" in preview and "- Watching errors\n- Paging the DBA" in preview
    assert "No updates sent yet." in cli("update", "list", "1"), "a preview writes nothing"

    edited = tmp_path / "update.txt"
    edited.write_text(preview.split("\n", 1)[1].replace("Rolled back", "Rolled back at 00:20"))
    out = cli(
        "update", "send", "1", "--audience", "internal", "--audience", "executive",
        "--summary", "Rolled back", "--body-file", str(edited),
    )  # fmt: skip
    assert "Sent Status Update to internal, executive." in out
    listed = cli.json("update", "list", "1")
    [sent] = listed["updates"]
    assert "Summary: Rolled back at 00:20" in sent["body"]
    due = datetime.fromisoformat(sent["next_update_at"])
    assert due - datetime.fromisoformat(sent["sent_at"]) == timedelta(minutes=30)  # P1 cadence
    assert f"Next update by {due:%Y-%m-%d %H:%M:%S}Z." in out
    assert listed["next_update"]["state"] == "on-track"
    assert f"Next update due {due:%Y-%m-%d %H:%M:%S}Z" in cli("update", "list", "1")


def test_refusals_name_the_field_and_write_nothing(cli: Cli) -> None:  # noqa: F811
    declare(cli, "P3")
    assert "unknown audience 'board'" in cli("update", "send", "1", "--audience", "board", code=1)
    assert "unknown template 'memo'" in cli(
        "update", "preview", "1", "--audience", "internal", "--template", "memo", code=1
    )
    assert "No updates sent yet." in cli("update", "list", "1")
    out = cli("update", "send", "1", "--audience", "customer", "--summary", "Fixed")
    assert "No further update promised." in out  # P3 has no cadence
    assert "No update is promised." in cli("update", "list", "1")


def test_against_a_server_with_url(
    catalog: Tocsin,
    live_server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    remote = Cli(
        capsys, monkeypatch, "--url", live_server, "--token", make_token(catalog, Scope.WRITE)
    )
    declare(remote, "P2")
    assert "Next Update: 01:30 UTC" in remote(
        "update", "preview", "1", "--audience", "internal", "--summary", "Looking"
    )
    assert "Sent Status Update to internal." in remote(
        "update", "send", "1", "--audience", "internal", "--summary", "Looking"
    )
    assert remote.json("update", "list", "1")["updates"][0]["author"] == "Admin"
    assert "unknown audience 'board'" in remote(
        "update", "send", "1", "--audience", "board", code=1
    )
