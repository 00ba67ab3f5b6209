"""Real senders against a real Tocsin server: Prometheus Alertmanager and the PyPI `pagerduty`
client (over TLS, as it insists on https)."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_component, serving, wait_for
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind
from tocsin.views.alerts import AlertFilter
from tocsin.views.incident_search import IncidentFilter

ADMIN = Actor("Admin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


AM_CONFIG = """
route:
  receiver: tocsin
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 3s
receivers:
  - name: tocsin
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


class Alertmanager:
    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, alerts: list[dict[str, Any]]) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200


@pytest.fixture
def alertmanager(catalog: Tocsin, live_server: str, tmp_path: Path) -> Iterator[Alertmanager]:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    require_component(
        "Prometheus Alertmanager",
        None if binary else "install the Debian package prometheus-alertmanager",
    )
    assert binary is not None
    key = catalog.handle(
        commands.CreateIntegration("prom", IntegrationKind.ALERTMANAGER, ADMIN)
    ).key
    config = tmp_path / "alertmanager.yml"
    config.write_text(AM_CONFIG.format(url=f"{live_server}/hooks/alertmanager/{key}"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={url}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return process.poll() is not None  # stop waiting if it died

    try:
        wait_for("Alertmanager to start", ready, timeout=20)
        assert process.poll() is None, (tmp_path / "alertmanager.log").read_text()
        yield Alertmanager(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def am_alert(instance: str, ends: datetime | None = None) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "labels": {
            "alertname": "HighLatency",
            "service": "checkout",
            "severity": "critical",
            "instance": instance,
        },
        "annotations": {"summary": f"p99 latency above 2s on {instance}"},
        "generatorURL": "http://prometheus.example/graph",
    }
    if ends is not None:
        alert["endsAt"] = ends.isoformat()
    return alert


def test_real_alertmanager_declares_groups_and_resolves(
    catalog: Tocsin, alertmanager: Alertmanager
) -> None:
    def alerts() -> list[Any]:
        return catalog.alerts.list(AlertFilter()).items

    alertmanager.post([am_alert("web-1"), am_alert("web-2")])
    wait_for("two firing alerts", lambda: len([a for a in alerts() if a.status == "firing"]) == 2)
    # Alertmanager sends the whole group again every repeat_interval: counted, nothing doubled.
    wait_for("a repeat", lambda: all(a.received_count >= 2 for a in alerts()), timeout=30)
    (incident,) = catalog.incidents.list(IncidentFilter()).items
    assert (incident.severity, incident.status) == ("P1", "investigating")
    assert [s.slug for s in incident.services] == ["checkout"]
    assert len(alerts()) == 2
    assert {a.incident_id for a in alerts()} == {incident.id}

    # One notification then carries web-1 resolved and web-2 still firing.
    now = datetime.now(UTC) - timedelta(seconds=1)
    alertmanager.post([am_alert("web-1", ends=now)])
    wait_for("web-1 resolved", lambda: {a.status for a in alerts()} == {"firing", "resolved"})
    time.sleep(4)  # a repeat of that notification
    assert {a.title[-5:]: a.status for a in alerts()} == {"web-1": "resolved", "web-2": "firing"}
    assert catalog.incidents.detail(incident.id).status == "investigating", "web-2 still fires"

    alertmanager.post([am_alert("web-2", ends=datetime.now(UTC) - timedelta(seconds=1))])
    wait_for("both alerts resolved", lambda: all(a.status == "resolved" for a in alerts()))
    detail = catalog.incidents.detail(incident.id)
    assert detail.status == "monitoring"
    kinds = [e.kind for e in catalog.incidents.timeline(incident.id)]
    assert kinds.count("alert_fired") == 2 and kinds.count("alert_resolved") == 2
    assert len(catalog.incidents.list(IncidentFilter()).items) == 1
    first = alerts()[0]
    assert first.title.startswith("p99 latency above 2s on web-"), "resolve kept the text"


@pytest.fixture
def tls_server(catalog: Tocsin, tmp_path: Path) -> Iterator[tuple[str, ssl.SSLContext]]:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    context = ssl.create_default_context()
    authority.configure_trust(context)
    with serving(catalog, str(cert_file), str(key_file)) as url:
        yield url, context


def test_pypi_pagerduty_client_triggers_acknowledges_resolves_and_sends_changes(
    catalog: Tocsin, tls_server: tuple[str, ssl.SSLContext]
) -> None:
    import pagerduty

    url, context = tls_server
    key = catalog.handle(
        commands.CreateIntegration("pd", IntegrationKind.PAGERDUTY, ADMIN, service="search")
    ).key
    client = pagerduty.EventsApiV2Client(key, base_url=url, verify=context)
    client.retry[429] = 1
    client.sleep_timer = 0.01

    dedup_key = client.trigger(
        "Disk 95% full on db-1",
        "db-1.prod",
        severity="error",
        custom_details={"used_pct": 95},
        links=[{"href": "https://grafana.example/d/db", "text": "Dashboard"}],
    )
    assert len(dedup_key) == 32, "a trigger without dedup_key gets one back"
    named = client.trigger("Replica lag", "db-2.prod", dedup_key="db-2/lag", severity="warning")
    assert named == "db-2/lag"
    client.acknowledge("db-2/lag")
    client.resolve("db-2/lag")
    client.resolve("never-triggered")  # accepted and dropped, as PagerDuty does

    alerts = {a.dedup_key: a for a in catalog.alerts.list(AlertFilter()).items}
    assert set(alerts) == {dedup_key, "db-2/lag"}
    lag = catalog.alerts.alert(alerts["db-2/lag"].id)
    assert (lag.status, lag.acknowledged_at is not None) == ("resolved", True)
    disk = catalog.alerts.alert(alerts[dedup_key].id)
    assert (disk.severity, disk.details, disk.links[0]["text"]) == (
        "P2",
        {"used_pct": 95},
        "Dashboard",
    )
    (incident,) = catalog.incidents.list(IncidentFilter()).items
    assert [s.slug for s in incident.services] == ["search"]

    client.send_change_event(
        payload={"summary": "Deployed search v3", "source": "ci", "custom_details": {"sha": "ab1"}},
        links=[{"href": "https://ci.example/b/7", "text": "build 7"}],
    )
    (change,) = catalog.changes.list()
    assert (change.summary, change.service, change.details) == (
        "Deployed search v3", "search", {"sha": "ab1"},
    )  # fmt: skip
    assert change.links == [{"href": "https://ci.example/b/7", "text": "build 7"}]

    with pytest.raises(pagerduty.HttpError):
        pagerduty.EventsApiV2Client("0" * 32, base_url=url, verify=context).trigger("x", "y")
