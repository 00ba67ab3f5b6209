"""Silences: create one for a time range, or end it early; once one is over, the alerts it
muted that still fire declare (or join) their incident."""

from __future__ import annotations

from tocsin.domain import commands
from tocsin.domain.integrations import Integration
from tocsin.domain.silences import Silence
from tocsin.services.handlers.alerts import Intake
from tocsin.services.messagebus import Context


def create_silence(cmd: commands.CreateSilence, ctx: Context) -> Silence:
    now = ctx.clock.now()
    silence = Silence.create(
        cmd.matchers, cmd.starts_at or now, cmd.ends_at, cmd.comment, cmd.actor.name, now
    )
    ctx.uow.silences.add(silence)
    return silence


def expire_silence(cmd: commands.ExpireSilence, ctx: Context) -> Silence:
    silence = ctx.uow.silences.get(cmd.silence_id)
    silence.expire(ctx.clock.now())
    ctx.uow.silences.save(silence)
    return silence


def release_silenced_alerts(cmd: commands.ReleaseSilencedAlerts, ctx: Context) -> list[int]:
    """The ids of the alerts that declared or joined an incident now that their silence is over.

    Senders repeat a firing alert only now and then (Alertmanager every `repeat_interval`, four
    hours by default; many PagerDuty senders never), so waiting for the next delivery would
    leave a problem that outlasted its maintenance window unpaged for hours.
    """
    now = ctx.clock.now()
    intake = Intake(ctx, now)
    integrations: dict[int, Integration] = {}
    released = []
    over = ctx.uow.alerts.silence_over(now, cmd.limit)
    for alert in over:
        intake.expect(alert)
    intake.prepare()  # their groups locked in the order the inbox's applier uses
    for alert in over:
        if alert.integration_id not in integrations:
            integrations[alert.integration_id] = ctx.uow.integrations.get(alert.integration_id)
        intake.start(integrations[alert.integration_id])
        intake.release(alert)
        if alert.incident_id is not None:
            released.append(alert.id or 0)
    return released
