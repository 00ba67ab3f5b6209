"""What the access log may show of a request's path: never a usable key or token."""

from __future__ import annotations

import logging

import pytest

from tocsin.entrypoints.access_log import QuietAcceptedAlerts, redact


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/hooks/alertmanager/6a5ba68459fc08e3", "/hooks/alertmanager/6a5b…"),
        ("/tocsin/hooks/grafana/6a5ba68459fc08e3", "/tocsin/hooks/grafana/6a5b…"),  # root path
        ("/ack/Zq8pW1secretAckToken?x=1", "/ack/Zq8p…?x=1"),
        (
            "/feeds/people/alice.ics?v=1&token=Xy7kV2secret",
            "/feeds/people/alice.ics?v=1&token=Xy7k…",
        ),
        ("/hooks/heartbeat/k3y", "/hooks/heartbeat/…"),  # too short to show any of it
        ("/api/v1/incidents/INC-7/acknowledge", "/api/v1/incidents/INC-7/acknowledge"),
        ("/api/v1/incidents?q=token", "/api/v1/incidents?q=token"),
        ("/v2/enqueue", "/v2/enqueue"),  # PagerDuty's routing key travels in the body
    ],
)
def test_secrets_in_paths_are_cut_and_the_rest_is_kept(path: str, logged: str) -> None:
    assert redact(path) == logged


@pytest.mark.parametrize(
    ("method", "path", "status", "logged"),
    [
        ("POST", "/hooks/alertmanager/6a5ba68459fc08e3", 200, False),
        ("POST", "/tocsin/v2/enqueue", 202, False),  # behind a proxy's root path
        ("POST", "/v2/change/enqueue", 202, False),
        ("POST", "/hooks/grafana/6a5ba68459fc08e3", 401, True),  # refused: worth a line
        ("POST", "/v2/enqueue", 429, True),
        ("POST", "/api/v1/incidents", 201, True),
        ("GET", "/hooks/alertmanager/6a5ba68459fc08e3", 200, True),
    ],
)
def test_accepted_alert_deliveries_are_left_out_and_the_rest_kept(
    method: str, path: str, status: int, logged: bool
) -> None:
    line = '%s - "%s %s HTTP/%s" %d'
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, line,
        ("127.0.0.1:5000", method, path, "1.1", status), None,
    )  # fmt: skip
    assert QuietAcceptedAlerts().filter(record) is logged
