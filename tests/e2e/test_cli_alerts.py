"""`tocsin integration`, `alert` and `silence`, on the database and against a server."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_token
from tests.e2e.test_cli import Cli
from tests.e2e.test_hooks import AM_PAYLOAD
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope
from tocsin.entrypoints.app import create_app


@pytest.fixture
def cli(
    catalog: Tocsin, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setenv("COLUMNS", "200")
    return Cli(capsys, monkeypatch, "--database-url", catalog.settings.database_url)


def test_integrations_alerts_and_silences(catalog: Tocsin, cli: Cli) -> None:
    made = cli.json("integration", "create", "--name", "prom-prod", "--kind", "alertmanager")
    assert made["url"] == f"http://127.0.0.1:8080/hooks/alertmanager/{made['key']}"
    printed = cli(
        "integration", "create", "--name", "pd", "--kind", "pagerduty", "--service", "search"
    )
    assert "Events API v2 URL: http://127.0.0.1:8080/v2/enqueue" in printed
    assert "Routing key:" in printed
    assert [i["name"] for i in cli.json("integration", "list")] == ["pd", "prom-prod"]
    rotated = cli.json("integration", "rotate-key", "prom-prod")
    assert rotated["key"] != made["key"] and rotated["key_rotated_at"]

    with TestClient(create_app(catalog)) as client:
        assert client.post(f"/hooks/alertmanager/{made['key']}", json=AM_PAYLOAD).status_code == 404
        assert client.post(
            rotated["url"].removeprefix("http://127.0.0.1:8080"), json=AM_PAYLOAD
        ).is_success

    listed = cli.json("alert", "list", "--status", "firing")["items"]
    assert [(a["status"], a["incident"]) for a in listed] == [("firing", "INC-1")]
    table = cli("alert", "list")
    assert "p99 latency above 2s" in table and "INC-1" in table
    shown = cli("alert", "show", str(listed[0]["id"]))
    assert "instance=web-1" in shown and "Runbook: https://rb/lat" in shown

    added = cli.json("silence", "add", 'service="checkout"', 'env=~"prod.*"', "--for", "2h",
                     "--comment", "deploy window")  # fmt: skip
    assert added["state"] == "active" and added["matchers"] == [
        'service="checkout"',
        'env=~"prod.*"',
    ]
    assert "deploy window" in cli("silence", "list")
    assert "expired" in cli("silence", "expire", str(added["id"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("integration", "create", "--name", "x", "--kind", "nagios"), "unknown integration kind"),
        (("integration", "create", "--name", "x", "--kind", "change", "--service", "nope"),
         "no service named 'nope'"),
        (("integration", "create", "--name", "x", "--kind", "pagerduty", "--secret", "12345678"),
         "only Grafana"),
        (("integration", "rotate-key", "ghost"), "no integration named 'ghost'"),
        (("silence", "add", "service=checkout'", "--for", "1h", "--comment", "c"), "cannot read matcher"),
        (("silence", "add", 'a="b"', "--for", "1h", "--until", "2030-01-01T00:00:00Z",
          "--comment", "c"), "exactly one of --for and --until"),
        (("silence", "add", 'a="b"', "--for", "soon", "--comment", "c"), "--for"),
        (("silence", "add", 'a="b"', "--until", "2001-01-01T00:00:00Z", "--comment", "c"),
         "already in the past"),
        (("silence", "add", 'a=~"("', "--for", "1h", "--comment", "c"), "bad regular expression"),
        (("silence", "expire", "99"), "no silence 99"),
        (("alert", "show", "99"), "no alert 99"),
        (("alert", "list", "--status", "burning"), "unknown alert status"),
    ],
)  # fmt: skip
def test_refusals(cli: Cli, args: tuple[str, ...], message: str) -> None:
    assert message in cli(*args, code=1)
    assert cli.json("integration", "list") == [] or args[0] != "integration"
    assert cli.json("silence", "list") == []


def test_against_a_server(
    catalog: Tocsin,
    live_server: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    admin = Cli(
        capsys, monkeypatch, "--url", live_server, "--token", make_token(catalog, Scope.ADMIN)
    )
    made = admin.json("integration", "create", "--name", "graf", "--kind", "grafana",
                      "--secret", "s3cret-s3cret")  # fmt: skip
    assert made["signed"] is True and made["url"].endswith(f"/hooks/grafana/{made['key']}")
    writer = Cli(
        capsys, monkeypatch, "--url", live_server, "--token", make_token(catalog, Scope.WRITE)
    )
    assert "needs admin" in writer("integration", "list", code=1)
    assert (
        writer.json("silence", "add", 'service="search"', "--for", "30m", "--comment", "x")["id"]
        == 1
    )
    assert writer.json("alert", "list")["items"] == []


def test_generic_and_heartbeat_integrations(cli: Cli, tmp_path: Path) -> None:
    mapping = tmp_path / "nagios.yaml"
    mapping.write_text(
        "alerts: checks\ntitle: \"{{ host }}: {{ check }}\"\nresolved: state == 'OK'\n"
    )
    made = cli.json("integration", "create", "--name", "nagios", "--kind", "generic",
                    "--mapping", str(mapping))  # fmt: skip
    assert made["config"]["resolved"] == "state == 'OK'"
    assert made["url"].endswith(f"/hooks/generic/{made['key']}")
    beat = cli.json("integration", "create", "--name", "cron", "--kind", "heartbeat",
                    "--interval", "15m", "--severity", "critical")  # fmt: skip
    assert beat["config"] == {"interval_seconds": 900, "severity": "critical"}
    mapping.write_text("- not a mapping\n")
    assert "must hold a mapping" in cli("integration", "create", "--name", "x", "--kind", "generic",
                                        "--mapping", str(mapping), code=1)  # fmt: skip
    assert "interval" in cli("integration", "create", "--name", "y", "--kind", "heartbeat", code=1)
