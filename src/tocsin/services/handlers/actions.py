"""Action and check use cases: request, approve, start and record runs on an incident."""

from __future__ import annotations

from tocsin.domain import commands
from tocsin.domain.action_runs import ActionRun
from tocsin.domain.actions import CheckSpec, HttpCall
from tocsin.domain.errors import NotFound
from tocsin.services.messagebus import Context


def request_action_run(cmd: commands.RequestActionRun, ctx: Context) -> int:
    """Create a run; the caller starts it unless it awaits approval."""
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    name = cmd.action.strip().lower()
    action = ctx.uow.actions.find(name)
    if action is None:
        raise NotFound(f"no action named {cmd.action!r}", field="action")
    run = ActionRun.request(incident, action, cmd.actor, ctx.clock.now())
    ctx.uow.actions.add_run(run)
    assert run.id is not None
    return run.id


def approve_action_run(cmd: commands.ApproveActionRun, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    run = ctx.uow.actions.get_run(incident.id, cmd.run_id)
    run.approve(incident, cmd.actor, ctx.clock.now())
    ctx.uow.actions.save_run(run)


def start_action_run(cmd: commands.StartActionRun, ctx: Context) -> HttpCall:
    incident = ctx.uow.incidents.get(cmd.incident_id)  # already requested and approved
    run = ctx.uow.actions.get_run(incident.id, cmd.run_id)
    call = run.start(incident, ctx.clock.now())
    ctx.uow.actions.save_run(run)
    return call


def record_action_run(cmd: commands.RecordActionRun, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id)  # the outcome of a run already allowed
    run = ctx.uow.actions.get_run(incident.id, cmd.run_id)
    run.record(incident, cmd.outcome, cmd.actor, ctx.clock.now())
    ctx.uow.actions.save_run(run)


def start_check(cmd: commands.StartCheck, ctx: Context) -> tuple[int, HttpCall]:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    spec = CheckSpec(
        url=cmd.url.strip(),
        expect_status=cmd.expect_status,
        expect_body=cmd.expect_body,
        max_latency_ms=cmd.max_latency_ms,
        repeat=cmd.repeat,
        interval=cmd.interval,
        timeout=cmd.timeout,
    )
    run = ActionRun.start_check(incident, spec, cmd.actor, ctx.clock.now())
    ctx.uow.actions.add_run(run)
    assert run.id is not None
    return run.id, run.call(incident)


def record_check_attempt(cmd: commands.RecordCheckAttempt, ctx: Context) -> bool:
    incident = ctx.uow.incidents.get(cmd.incident_id)  # an attempt of a check already allowed
    run = ctx.uow.actions.get_run(incident.id, cmd.run_id)
    more = run.record_attempt(incident, cmd.outcome, cmd.actor, ctx.clock.now())
    ctx.uow.actions.save_run(run)
    return more
