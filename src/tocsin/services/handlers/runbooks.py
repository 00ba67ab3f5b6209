"""Runbook use cases: import (idempotent), attach to an incident, tick a step."""

from __future__ import annotations

from typing import Literal

from tocsin.domain import commands
from tocsin.domain.actions import Action, clean_action
from tocsin.domain.actors import Actor
from tocsin.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from tocsin.domain.runbooks import AttachedRunbook, Runbook, clean_runbook
from tocsin.services.messagebus import Context
from tocsin.services.ports import UnitOfWork

Outcome = Literal["created", "updated", "unchanged"]
Report = dict[str, dict[str, list[str]]]


def import_runbooks(cmd: commands.ImportRunbooks, ctx: Context) -> Report:
    """Upsert every runbook and its actions in one transaction; returns slugs by outcome."""
    if any(spec.actions for spec in cmd.runbooks):
        _may_define_actions(cmd.actor)
    report: Report = {
        kind: {"created": [], "updated": [], "unchanged": []} for kind in ("runbooks", "actions")
    }
    seen: dict[str, str] = {}
    for spec in cmd.runbooks:
        where = spec.source or spec.slug
        try:
            actions = [action_from_spec(a, runbook=spec.slug) for a in spec.actions or ()]
            names = [a.name for a in actions]
            if spec.actions is None:
                existing = ctx.uow.runbooks.find(spec.slug.strip().lower())
                names = existing.actions if existing else []
            runbook = clean_runbook(
                spec.slug,
                spec.title,
                spec.body,
                list(spec.services),
                list(spec.alerts),
                spec.private,
                names,
            )
            if runbook.slug in seen:
                raise AlreadyExists(
                    f"slug {runbook.slug!r} is also used by {seen[runbook.slug]}", field="slug"
                )
            seen[runbook.slug] = where
            for action in actions:
                outcome = _save_action(ctx.uow, action, cmd.dry_run)
                report["actions"][outcome].append(action.name)
            report["runbooks"][_save_runbook(ctx.uow, runbook, cmd.dry_run)].append(runbook.slug)
        except DomainError as exc:
            raise type(exc)(f"{where}: {exc.detail}", field=exc.field) from None
    return report


def action_from_spec(spec: commands.ActionSpec, runbook: str | None = None) -> Action:
    """Validate an action definition as given; a bad field is named with the action's name."""
    try:
        return clean_action(
            spec.name,
            spec.method,
            spec.url,
            title=spec.title,
            headers=dict(spec.headers),
            body=spec.body,
            timeout=spec.timeout,
            requires_approval=spec.requires_approval,
            expect_status=spec.expect_status,
            runbook=runbook,
        )
    except InvalidInput as exc:
        if runbook is None:
            raise
        detail = f"action {spec.name!r}: {exc.detail}"
        raise InvalidInput(detail, field=f"actions.{exc.field}") from None


def save_action(cmd: commands.SaveAction, ctx: Context) -> Outcome:
    """Create or update a standalone action definition."""
    _may_define_actions(cmd.actor)
    return _save_action(ctx.uow, action_from_spec(cmd.action), dry_run=False)


def _may_define_actions(actor: Actor) -> None:
    """Actions are HTTP calls Tocsin makes with its secrets, and whether they need approval:
    defining them is an admin's job, like the policy, not any responder's."""
    if actor.user_id is not None and not actor.admin:
        raise PermissionDenied(
            "defining actions (the HTTP calls Tocsin makes, and whether they need approval) "
            "needs an admin; import the runbook without `actions:` or ask an admin",
            field="actions",
        )


def _save_action(uow: UnitOfWork, action: Action, dry_run: bool) -> Outcome:
    existing = uow.actions.find(action.name)
    if existing is not None and existing.runbook not in (None, action.runbook):
        raise AlreadyExists(
            f"the action {action.name!r} is defined by the runbook {existing.runbook}; "
            "change it there",
            field="actions.name" if action.runbook else "name",
        )
    if existing is not None:
        action.id = existing.id
        if existing == action:
            return "unchanged"
    if not dry_run:
        uow.actions.save(action)
    return "created" if existing is None else "updated"


def _save_runbook(uow: UnitOfWork, runbook: Runbook, dry_run: bool) -> Outcome:
    existing = uow.runbooks.find(runbook.slug)
    if existing is not None:
        runbook.id = existing.id
        if existing == runbook:
            return "unchanged"
    if not dry_run:
        uow.runbooks.save(runbook)
    return "created" if existing is None else "updated"


def attach_runbook(cmd: commands.AttachRunbook, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    runbook = _runbook(ctx.uow, cmd.slug)
    if ctx.uow.runbooks.attached(incident.id, runbook.slug) is not None:
        raise AlreadyExists(
            f"the runbook {runbook.slug} is already attached to {incident.reference}",
            field="runbook",
        )
    ctx.uow.runbooks.attach(AttachedRunbook.attach(incident, runbook, cmd.actor, ctx.clock.now()))


def tick_runbook_step(cmd: commands.TickRunbookStep, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    slug = cmd.slug.strip().lower()
    attached = ctx.uow.runbooks.attached(incident.id, slug)
    if attached is None:
        raise NotFound(
            f"the runbook {slug!r} is not attached to {incident.reference}", field="runbook"
        )
    attached.tick(incident, cmd.step, cmd.done, cmd.actor, ctx.clock.now())
    ctx.uow.runbooks.save_attached(attached)


def _runbook(uow: UnitOfWork, slug: str) -> Runbook:
    runbook = uow.runbooks.find(slug.strip().lower())
    if runbook is None:
        raise NotFound(f"no runbook {slug!r}", field="runbook")
    return runbook
