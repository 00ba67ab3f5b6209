"""`tocsin serve --demo` (what `make run` starts) on a fresh SQLite file, as a real process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_hooks import AM_PAYLOAD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, db: Path, port: int, *args: str) -> None:
        env = {**os.environ, "TOCSIN_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "200"}
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--demo", "--port", str(port), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.stop()}")
            time.sleep(0.1)

    def stop(self) -> str:
        self.process.terminate()
        output, _ = self.process.communicate(timeout=10)
        return output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "var" / "tocsin.db"


def tocsin_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tocsin", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_first_start_migrates_loads_demo_and_prints_the_admin_login(db: Path) -> None:
    server = Server(db, free_port())
    try:
        token = tocsin_cli(server.env, "token", "create", "--scope", "read").strip()
        listed = httpx.get(
            server.url + "/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}
        ).json()
        statuses = sorted(i["status"] for i in listed["items"])
        assert statuses == ["closed", "identified", "investigating", "resolved"], (
            "two open and two resolved incidents"
        )
        assert [i["private"] for i in listed["items"]].count(True) == 1, "the admin sees it"
        demo = httpx.get(
            server.url + "/api/v1/incidents/INC-2/timeline",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert any(e["key_moment"] for e in demo)
        assert (
            len(
                httpx.get(
                    server.url + "/api/v1/services", headers={"Authorization": f"Bearer {token}"}
                ).json()
            )
            == 5
        )
    finally:
        output = server.stop()
    assert db.exists(), "the database folder is created"
    assert re.search(r"user: admin\s+password: \S{12,}", output), output
    assert "Loaded the demo" in output

    again = Server(db, free_port())
    output = again.stop()
    assert "Loaded the demo" not in output, "the demo loads only into an empty database"
    assert "password:" not in output, "the admin login is created once"


def test_several_worker_processes_serve_one_port(db: Path) -> None:
    server = Server(db, free_port(), "--workers", "2")
    try:
        pids = set()
        for _ in range(40):  # connections land on either worker
            response = httpx.get(server.url + "/readyz", headers={"Connection": "close"}, timeout=5)
            assert response.status_code == 200
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(server.process.pid)],
            capture_output=True, text=True, check=False,
        ).stdout.split()  # fmt: skip
        pids.update(children)
        assert len(pids) >= 2, "two worker processes under the one `tocsin serve`"
        page = httpx.get(server.url + "/login", timeout=5)
        assert page.status_code == 200 and "Sign in" in page.text
    finally:
        output = server.stop()
    assert "Loaded the demo" in output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_access_log_keeps_integration_keys_and_link_tokens_out(db: Path, workers: str) -> None:
    """A webhook's key is its password and an acknowledgement link acts for whoever holds it:
    the log shows which integration or link was used, never enough of it to use it again."""
    server = Server(db, free_port(), "--workers", workers)
    try:
        made = tocsin_cli(
            server.env, "integration", "create", "--kind", "alertmanager", "--name", "prom",
            "--json",
        )  # fmt: skip
        key = re.search(r'"key":\s*"([^"]+)"', made)
        assert key, made
        hook = httpx.post(f"{server.url}/hooks/alertmanager/{key[1]}", json={"version": "3"})
        assert hook.status_code == 422, "refused, and logged all the same"
        accepted = httpx.post(f"{server.url}/hooks/alertmanager/{key[1]}", json=AM_PAYLOAD)
        assert accepted.status_code == 200, "accepted: its record is the alert, not a log line"
        ack_token, feed_token = "Zq8pW1secretAckToken", "Xy7kV2secretFeedToken"
        httpx.get(f"{server.url}/ack/{ack_token}")  # a page that offers to acknowledge
        httpx.get(f"{server.url}/feeds/people/admin.ics?token={feed_token}&v=1")
    finally:
        output = server.stop()
    assert f'"POST /hooks/alertmanager/{key[1][:4]}… HTTP/1.1" 422' in output, output
    assert f'"POST /hooks/alertmanager/{key[1][:4]}… HTTP/1.1" 200' not in output, output
    assert f'"GET /ack/{ack_token[:4]}… HTTP/1.1"' in output
    assert f'"GET /feeds/people/admin.ics?token={feed_token[:4]}…&v=1 HTTP/1.1"' in output
    access = "\n".join(line for line in output.splitlines() if ' - "' in line)
    for secret in (key[1], ack_token, feed_token):
        assert secret[:5] not in access
