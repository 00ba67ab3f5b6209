"""Workflow use cases: start the workflow on declaration; stages, checklists and tasks after."""

from __future__ import annotations

from tocsin.domain import commands, events
from tocsin.domain.workflows import IncidentWorkflow
from tocsin.services.handlers.people import person_ref
from tocsin.services.messagebus import Context


# ----- event handlers -----------------------------------------------------------------------
def start_workflow(event: events.IncidentDeclared, ctx: Context) -> None:
    """Every new incident runs the policy's workflow (the named one, or `standard`).

    An unknown name raises here, inside the declaration's transaction, so nothing is written.
    """
    plan = ctx.policy.workflow_plan(event.workflow)
    if plan is not None:
        ctx.uow.workflows.add(IncidentWorkflow.start(event.incident_id, plan, event.severity))


def add_severity_workstreams(event: events.IncidentSeverityChanged, ctx: Context) -> None:
    """A raised severity brings its workstreams; a lowered one keeps those already running."""
    workflow = ctx.uow.workflows.find(event.incident_id)
    if workflow is None or workflow.name not in ctx.policy.workflows:
        return
    plan = ctx.policy.workflows[workflow.name].plan(workflow.name)
    if workflow.add_workstreams(plan, event.current):
        ctx.uow.workflows.save(workflow)


# ----- commands -----------------------------------------------------------------------------
def move_stage(cmd: commands.MoveStage, ctx: Context) -> str:
    """Returns the key of the stage the incident is now at."""
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    workflow = ctx.uow.workflows.get(cmd.incident_id)
    stage = workflow.move(incident, cmd.target, cmd.actor, ctx.clock.now())
    ctx.uow.workflows.save(workflow)
    return stage.key


def tick_checklist_item(cmd: commands.TickChecklistItem, ctx: Context) -> str:
    """Returns the item's text as the checklist words it."""
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    workflow = ctx.uow.workflows.get(cmd.incident_id)
    item = workflow.tick(incident, cmd.item, cmd.done, cmd.actor, ctx.clock.now(), cmd.stage)
    ctx.uow.workflows.save(workflow)
    return item


def start_task(cmd: commands.StartTask, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    workflow = ctx.uow.workflows.get(cmd.incident_id)
    workflow.start_task(incident, cmd.key, cmd.actor, ctx.clock.now(), cmd.override)
    ctx.uow.workflows.save(workflow)


def complete_task(cmd: commands.CompleteTask, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    workflow = ctx.uow.workflows.get(cmd.incident_id)
    workflow.complete_task(incident, cmd.key, cmd.actor, ctx.clock.now())
    ctx.uow.workflows.save(workflow)


def skip_task(cmd: commands.SkipTask, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    workflow = ctx.uow.workflows.get(cmd.incident_id)
    workflow.skip_task(incident, cmd.key, cmd.reason, cmd.actor, ctx.clock.now())
    ctx.uow.workflows.save(workflow)


def assign_task(cmd: commands.AssignTask, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    workflow = ctx.uow.workflows.get(cmd.incident_id)
    owner = None
    if cmd.owner:
        owner = person_ref(ctx.uow, cmd.owner, "owner")
    workflow.assign_task(incident, cmd.key, owner, cmd.actor, ctx.clock.now())
    ctx.uow.workflows.save(workflow)
