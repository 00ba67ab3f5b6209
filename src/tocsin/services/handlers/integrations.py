"""Integrations and what they feed besides alerts: keys, heartbeats, change events."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tocsin.domain import commands
from tocsin.domain.alerts import AlertSignal, SignalAction
from tocsin.domain.changes import ChangeEvent
from tocsin.domain.errors import AlreadyExists, InvalidInput, NotFound
from tocsin.domain.integrations import (
    Heartbeat,
    Integration,
    IntegrationKind,
    clean_integration_name,
)
from tocsin.services.handlers.alerts import Intake
from tocsin.services.messagebus import Context


def new_integration_key() -> str:
    """32 hex characters, the shape of a PagerDuty routing key."""
    return secrets.token_hex(16)


def create_integration(cmd: commands.CreateIntegration, ctx: Context) -> Integration:
    name = clean_integration_name(cmd.name)
    if ctx.uow.integrations.find(name) is not None:
        raise AlreadyExists(f"an integration named {name!r} exists", field="name")
    service = None
    if cmd.service:
        found = ctx.uow.services.find(cmd.service.strip().lower())
        if found is None:
            raise NotFound(f"no service named {cmd.service!r}", field="service")
        service = found.slug
    if cmd.secret is not None and cmd.kind is not IntegrationKind.GRAFANA:
        raise InvalidInput("only Grafana integrations sign their requests", field="secret")
    integration = Integration(
        id=None,
        name=name,
        kind=cmd.kind,
        key=new_integration_key(),
        created_at=ctx.clock.now(),
        created_by=cmd.actor.name,
        service=service,
        secret=cmd.secret or None,
        config=dict(cmd.config),
    )
    ctx.uow.integrations.add(integration)
    if cmd.kind is IntegrationKind.HEARTBEAT:
        seconds = cmd.config.get("interval_seconds")
        if not isinstance(seconds, int):
            raise InvalidInput("a heartbeat needs an interval, e.g. 5m", field="interval")
        ctx.uow.heartbeats.add(
            Heartbeat.start(integration.id or 0, timedelta(seconds=seconds), ctx.clock.now())
        )
    return integration


def ping_heartbeat(cmd: commands.PingHeartbeat, ctx: Context) -> bool:
    """Record a ping; a missed-heartbeat alert, if one is firing, resolves."""
    now = ctx.clock.now()
    heartbeat = ctx.uow.heartbeats.get(cmd.integration_id)
    integration = ctx.uow.integrations.get(cmd.integration_id)
    since = heartbeat.last_ping_at
    ended = heartbeat.ping(now)
    ctx.uow.heartbeats.save(heartbeat)
    if ended:
        intake = Intake(ctx, now)
        intake.start(integration)
        intake.receive(_missed(integration, heartbeat, since, SignalAction.RESOLVE))
        intake.settle_all()
    return ended


def check_heartbeats(cmd: commands.CheckHeartbeats, ctx: Context) -> list[int]:
    """Fire the missed-heartbeat alert of every heartbeat past due; their integration ids."""
    now = ctx.clock.now()
    fired = []
    intake = Intake(ctx, now)
    for heartbeat in ctx.uow.heartbeats.missed(now):
        integration = ctx.uow.integrations.get(heartbeat.integration_id)
        heartbeat.miss()
        ctx.uow.heartbeats.save(heartbeat)
        intake.start(integration)
        signal = _missed(integration, heartbeat, heartbeat.last_ping_at, SignalAction.TRIGGER)
        intake.receive(signal)
        fired.append(heartbeat.integration_id)
    return fired


def _missed(
    integration: Integration,
    heartbeat: Heartbeat,
    last_ping: datetime | None,
    action: SignalAction,
) -> AlertSignal:
    """The one alert a heartbeat raises when its pings stop, and resolves when they resume."""
    since = last_ping or integration.created_at
    when = since.isoformat(timespec="seconds").replace("+00:00", "Z")
    every = int(heartbeat.interval.total_seconds())
    labels = {"alertname": "HeartbeatMissed", "integration": integration.name}
    if integration.service:
        labels["service"] = integration.service
    return AlertSignal(
        dedup_key="heartbeat",
        action=action,
        title=f"No heartbeat from {integration.name} since {when}",
        description=(
            f"{integration.name} should ping at least every {every} s; nothing arrived since "
            f"{when}. The monitoring behind it may have stopped."
        ),
        source_severity=str(integration.config.get("severity", "error")),
        labels=labels,
        started_at=heartbeat.due_at if action is SignalAction.TRIGGER else None,
    )


def rotate_integration_key(cmd: commands.RotateIntegrationKey, ctx: Context) -> Integration:
    integration = ctx.uow.integrations.find(cmd.name.strip().lower())
    if integration is None:
        raise NotFound(f"no integration named {cmd.name!r}", field="name")
    integration.rotate_key(new_integration_key(), ctx.clock.now())
    ctx.uow.integrations.save(integration)
    return integration


def record_change(cmd: commands.RecordChange, ctx: Context) -> ChangeEvent:
    integration = ctx.uow.integrations.get(cmd.integration_id)
    service = integration.service
    if cmd.service:
        found = ctx.uow.services.find(cmd.service.strip().lower())
        if found is None:
            raise NotFound(f"no service named {cmd.service!r}", field="service")
        service = found.slug
    change = ChangeEvent.record(
        cmd.integration_id,
        cmd.summary,
        ctx.clock.now(),
        occurred_at=cmd.occurred_at,
        service=service,
        source=cmd.source,
        details=cmd.details,
        links=list(cmd.links),
    )
    ctx.uow.changes.add(change)
    return change
