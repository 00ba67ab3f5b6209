"""Alertmanager (webhook version 4) and Grafana (unified alerting, version 1) notifications.

Both carry the whole alert group on every notification; each alert's fingerprint (a hash of its
labels) identifies it. Unknown fields are ignored: both senders add fields between versions.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tocsin.domain.alerts import AlertSignal, Link, SignalAction

log = logging.getLogger(__name__)

MAX_LABEL_VALUE = 10_000


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NotifiedAlert(_Lenient):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = {}
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = ""
    # Grafana's additions
    silence_url: str = Field("", alias="silenceURL")
    dashboard_url: str = Field("", alias="dashboardURL")
    panel_url: str = Field("", alias="panelURL")
    values: dict[str, float | None] | None = None
    value_string: str = Field("", alias="valueString")


class Notification(_Lenient):
    version: str
    group_key: str = Field("", alias="groupKey")
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_labels: dict[str, str] = Field({}, alias="groupLabels")
    common_labels: dict[str, str] = Field({}, alias="commonLabels")
    common_annotations: dict[str, str] = Field({}, alias="commonAnnotations")
    external_url: str = Field("", alias="externalURL")
    truncated_alerts: int = Field(0, alias="truncatedAlerts")
    alerts: list[NotifiedAlert]
    org_id: int | None = Field(None, alias="orgId")  # Grafana


def fingerprint(labels: dict[str, str]) -> str:
    """For senders that omit it: stable over label order, like Alertmanager's own."""
    text = "\x00".join(f"{k}\x00{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def signals(notification: Notification, raw_alerts: list[Any]) -> tuple[AlertSignal, ...]:
    if notification.truncated_alerts:
        log.warning(
            "the sender left %d alerts of group %s out of this notification (its receiver's "
            "max_alerts); only those sent are known here",
            notification.truncated_alerts,
            notification.group_key or "(none)",
        )
    return tuple(
        _signal(alert, notification.group_key, raw)
        for alert, raw in zip(notification.alerts, raw_alerts, strict=True)
    )


def _signal(alert: NotifiedAlert, group_key: str, raw: Any) -> AlertSignal:
    firing = alert.status == "firing"
    links = [
        Link(url, text)
        for url, text in (
            (alert.generator_url, "Source"),
            (alert.dashboard_url, "Dashboard"),
            (alert.panel_url, "Panel"),
            (alert.annotations.get("runbook_url", ""), "Runbook"),
            (alert.silence_url, "Silence"),
        )
        if url
    ]
    details: dict[str, Any] = {}
    if alert.values:
        details["values"] = alert.values
    if alert.value_string:
        details["value_string"] = alert.value_string
    return AlertSignal(
        dedup_key=alert.fingerprint or fingerprint(alert.labels),
        action=SignalAction.TRIGGER if firing else SignalAction.RESOLVE,
        title=alert.annotations.get("summary", ""),
        description=alert.annotations.get("description", ""),
        labels=alert.labels,
        annotations=alert.annotations,
        details=details,
        links=tuple(links),
        source=alert.labels.get("instance", "") or alert.labels.get("job", ""),
        group_key=group_key,
        started_at=alert.starts_at,
        ended_at=None if firing else _real(alert.ends_at),
        raw=raw if isinstance(raw, dict) else {},
    )


def _real(value: datetime | None) -> datetime | None:
    """Alertmanager writes year 1 for "no end yet"."""
    return value if value is not None and value.year > 1 else None
