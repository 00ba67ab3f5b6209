"""Silences: create one for a time range, or end it early."""

from __future__ import annotations

from tocsin.domain import commands
from tocsin.domain.silences import Silence
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
