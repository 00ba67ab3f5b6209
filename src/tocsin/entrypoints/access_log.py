"""Access-log lines without the secrets some URLs carry.

An integration's key is the password of its webhook (`POST /hooks/alertmanager/<key>`), a
one-click acknowledgement link acknowledges for whoever holds it, and calendar feeds carry
`?token=`. uvicorn logs every request's full path, and logs travel to aggregators that more
people can read than may act on incidents; only the first characters are kept, enough to tell
two integrations apart.

Accepted alert deliveries are not logged at all: each is already a row (the alert, its
received count and last-seen time, its raw payload), and in an alert storm their lines were a
tenth of the server's work and thousands of lines a second of nothing new. Refused ones are.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

KEPT = 4  # characters of a secret left in the line
# Anywhere in the path: behind a proxy the logged path starts with its root path.
_IN_PATH = re.compile(r"(/hooks/[^/?#]+/|/ack/)([^/?#]+)")
_IN_QUERY = re.compile(r"([?&]token=)([^&#]*)")


def redact(path: str) -> str:
    """`path` (with its query) with every secret cut to its first characters."""
    path = _IN_PATH.sub(_shorten, path, count=1)
    return _IN_QUERY.sub(_shorten, path) if "token=" in path else path


def _shorten(match: re.Match[str]) -> str:
    secret = match.group(2)
    return match.group(1) + (secret[:KEPT] + "…" if len(secret) > KEPT else "…")


# Where monitoring posts alerts and change events (the PagerDuty routing key is in the body).
_ALERT_PATHS = ("/hooks/", "/v2/enqueue", "/v2/change/enqueue")


class QuietAcceptedAlerts(logging.Filter):
    """For uvicorn's access logger itself, so a dropped line is never formatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not (isinstance(args, tuple) and len(args) == 5 and args[1] == "POST"):
            return True
        accepted = isinstance(args[4], int) and 200 <= args[4] < 300
        path = args[2] if isinstance(args[2], str) else ""
        return not (accepted and any(p in path for p in _ALERT_PATHS))


class RedactSecrets(logging.Filter):
    """For uvicorn's access logger, whose arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration: accepted alert deliveries left out, and secrets cut
    from the other access lines."""
    config = copy.deepcopy(LOGGING_CONFIG)
    filters = config.setdefault("filters", {})
    filters["redact_secrets"] = {"()": RedactSecrets}
    filters["quiet_accepted_alerts"] = {"()": QuietAcceptedAlerts}
    config["handlers"]["access"]["filters"] = ["redact_secrets"]
    config["loggers"]["uvicorn.access"]["filters"] = ["quiet_accepted_alerts"]
    return config
