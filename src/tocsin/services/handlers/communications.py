"""Stakeholder updates: compose and send them, keep the "next update by" contract, remind.

Sending stores the update, writes it on the timeline, closes the promise the last update made
and makes the next one, and queues one outbox delivery per destination: all in the command's
transaction. The paging worker sends the deliveries and runs `run_update_reminders`.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from tocsin.domain import commands, events
from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power
from tocsin.domain.communications import (
    Draft,
    ScheduledUpdate,
    StakeholderUpdate,
    UpdateFacts,
    UpdatePromise,
    UpdateTemplate,
    clean_actions,
    clean_summary,
    clock_time,
    parse_audiences,
)
from tocsin.domain.errors import UpdateFailed
from tocsin.domain.incidents import Incident
from tocsin.domain.paging import Delivery, idempotency_key
from tocsin.domain.roles import Role
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind, clean_body
from tocsin.policy.updates import render_update, update_subject
from tocsin.services.handlers.blame import blamed_on
from tocsin.services.messagebus import Context
from tocsin.services.paging.escalations import contact_plan

TOCSIN = Actor.system()


def compose_update(cmd: commands.ComposeUpdate, ctx: Context) -> Draft:
    """The preview: the text an update would carry, nothing written."""
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    if cmd.actor is not None:
        incident.check_visible(cmd.actor)
    now = ctx.clock.now()
    return _draft(ctx, incident, cmd.template, cmd.audiences, cmd.summary, cmd.actions, now)


def send_update(cmd: commands.SendUpdate, ctx: Context) -> int:
    """Send an update to its audiences' destinations; returns the update's id."""
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    now = ctx.clock.now()
    incident.authorize(cmd.actor, Power.MESSAGING, "sending a stakeholder update", now)
    draft = _draft(ctx, incident, cmd.template, cmd.audiences, cmd.summary, cmd.actions, now)
    if cmd.body is not None:
        draft = Draft(
            draft.template,
            draft.audiences,
            draft.summary,
            draft.subject,
            clean_body(cmd.body, "body"),
            draft.next_update_at,
        )
    return _send(ctx, incident, draft, cmd.actor, now)


def announce_declaration(event: events.IncidentDeclared, ctx: Context) -> None:
    """The severity's audiences are owed the Initial Incident Report at once: a due row that
    the worker sends, as it announces paging, so declaring never waits on rendering or sending."""
    audiences = tuple(ctx.policy.communications.on_declaration[event.severity])
    if not audiences or ctx.uow.incidents.get(event.incident_id).private:
        return  # a private incident's stakeholders are told by a person who chooses them
    now = ctx.clock.now()
    report = ScheduledUpdate(event.incident_id, UpdateTemplate.INITIAL, audiences, now)
    ctx.uow.communications.schedule(report)
    ctx.uow.wake_paging()


def end_contract(event: events.IncidentStatusChanged, ctx: Context) -> None:
    """A resolved incident promises no more updates; an open promise is no longer needed."""
    if event.current not in (Status.RESOLVED, Status.CLOSED):
        return
    promise = ctx.uow.communications.open_promise(event.incident_id)
    if promise is not None:
        promise.end(ctx.clock.now())
        ctx.uow.communications.save_promise(promise)


def run_update_reminders(cmd: commands.RunUpdateReminders, ctx: Context) -> int:
    """Remind the Communications Lead of updates falling due and record missed ones. An
    incident whose updates fail raises UpdateFailed naming it, so the caller can set it aside
    and the other incidents' updates still go out."""
    now = ctx.clock.now()
    comms = ctx.uow.communications
    due = comms.due(now, cmd.limit, cmd.skip)
    # Everything the cycle reads, in one go for all its incidents: the incidents first, then
    # their rows, in the order every writer locks them.
    ctx.uow.incidents.load(due)
    reports: dict[int, list[ScheduledUpdate]] = {}
    for report in comms.scheduled_due(due, now) if due else []:
        reports.setdefault(report.incident_id, []).append(report)
    comms.load_promises(due)
    moved = 0
    for incident_id in due:
        with blamed_on(partial(UpdateFailed, incident_id)):
            moved += _run_updates_of(incident_id, reports.get(incident_id, []), ctx, now)
    return moved


def _run_updates_of(
    incident_id: int, reports: list[ScheduledUpdate], ctx: Context, now: datetime
) -> int:
    """Send one incident's due reports, or act on its promise; how many moved."""
    comms = ctx.uow.communications
    incident = ctx.uow.incidents.get(incident_id)
    moved = 0
    sent = False
    for report in reports:
        moved += 1
        if incident.status.is_open and not incident.private:
            names = tuple(a.value for a in report.audiences)
            draft = _draft(ctx, incident, report.template.value, names, "", (), now)
            _send(ctx, incident, draft, TOCSIN, now)
            sent = True
        report.done_at = now
        comms.done(report)
    if sent:
        return moved  # the promise that update made is checked in a later run, when due
    promise = comms.open_promise(incident_id)
    if promise is None or promise.next_check_at is None or promise.next_check_at > now:
        return moved  # another worker got there first
    moved += 1
    if not incident.status.is_open:
        promise.end(now)
    else:
        if promise.needs_reminder(now):
            _remind(ctx, incident, promise, now)
            promise.reminded(now)
        if promise.falls_overdue(now):
            incident.log(
                EntryKind.UPDATE_OVERDUE,
                "Stakeholder update overdue: the next update was promised by "
                f"{clock_time(promise.due_at)}",
                TOCSIN,
                now,
                data={"promise_id": promise.id, "due_at": promise.due_at.isoformat()},
            )
    comms.save_promise(promise)
    return moved


# ----- the contract ------------------------------------------------------------------------
def _draft(
    ctx: Context,
    incident: Incident,
    template_name: str,
    audience_names: tuple[str, ...],
    summary_text: str,
    action_lines: tuple[str, ...],
    now: datetime,
) -> Draft:
    template = UpdateTemplate.parse(template_name)
    audiences = parse_audiences(audience_names)
    summary = clean_summary(summary_text)
    actions = clean_actions(action_lines)
    cadence = ctx.policy.communications.cadence_for(incident.severity)
    next_update_at = now + cadence if cadence and incident.status.is_open else None
    closing = "none scheduled" if incident.status.is_open else "none: the incident is resolved"
    facts = _facts(ctx, incident)
    body = render_update(
        ctx.policy,
        template,
        facts,
        now,
        summary=summary,
        actions=actions,
        next_update_at=next_update_at,
        closing=closing,
    )
    return Draft(
        template, audiences, summary, update_subject(facts, template), body, next_update_at
    )


def _send(ctx: Context, incident: Incident, draft: Draft, actor: Actor, now: datetime) -> int:
    comms = ctx.uow.communications
    previous = comms.open_promise(incident.id)
    outcome = previous.fulfil(now) if previous is not None else None
    if previous is not None:
        comms.save_promise(previous)
    update = StakeholderUpdate(
        incident_id=incident.id,
        template=draft.template,
        audiences=draft.audiences,
        subject=draft.subject,
        body=draft.body,
        summary=draft.summary,
        author=actor.name,
        sent_at=now,
        next_update_at=draft.next_update_at,
        author_user_id=actor.user_id,
    )
    comms.add_update(update)
    assert update.id is not None
    if draft.next_update_at is not None:
        before = ctx.policy.communications.remind_before
        comms.add_promise(UpdatePromise.make(incident.id, update.id, draft.next_update_at, before))
    destinations = ctx.policy.communications.destinations(draft.audiences)
    for name in destinations:
        ctx.uow.deliveries.queue(
            Delivery.to_channel(
                incident.id,
                name,
                draft.subject,
                draft.body,
                now,
                event="update",
                key=("update", update.id),
            )
        )
    if destinations:
        ctx.uow.wake_paging()
    labels = ctx.policy.channels.updates
    heard = ", ".join(f"{a.value} ({getattr(labels, a.value)})" for a in draft.audiences)
    body = f"{draft.template.label} sent to {heard}"
    if draft.summary:
        body += f": {draft.summary}"
    body += (
        f". Next update by {clock_time(draft.next_update_at)}."
        if draft.next_update_at
        else ". No further update promised."
    )
    incident.log(
        EntryKind.STAKEHOLDER_UPDATE,
        body,
        actor,
        now,
        data={
            "update_id": update.id,
            "template": draft.template.value,
            "audiences": [a.value for a in draft.audiences],
            "destinations": destinations,
            "next_update_at": draft.next_update_at.isoformat() if draft.next_update_at else None,
            "previous_promise": outcome.value if outcome else None,
        },
    )
    return update.id


def _facts(ctx: Context, incident: Incident) -> UpdateFacts:
    commanders = incident.holders(Role.INCIDENT_COMMANDER)
    base = ctx.public_url.rstrip("/")
    chat = ctx.policy.war_room(incident.id)["chat"]
    war_room = f"{base}/incidents/{incident.id}" if base else chat
    return UpdateFacts(
        reference=incident.reference,
        severity=incident.severity.value,
        title=incident.title,
        status=incident.status.label,
        services=tuple(s.slug for s in incident.services),
        user_impact=incident.user_impact,
        customer_impact=_customer_impact(incident),
        incident_commander=commanders[0].person_name if commanders else "",
        war_room_url=war_room,
        status_page_url=ctx.policy.channels.updates.customer,
    )


def _customer_impact(incident: Incident) -> str:
    if not incident.customer_facing:
        return ""
    return incident.user_impact or "customers are affected"


# ----- reminders -----------------------------------------------------------------------------
def _remind(ctx: Context, incident: Incident, promise: UpdatePromise, now: datetime) -> None:
    """Page the Communications Lead (or the Incident Commander) that an update is due."""
    due = clock_time(promise.due_at)
    holders = incident.holders(Role.COMMUNICATIONS_LEAD) or incident.holders(
        Role.INCIDENT_COMMANDER
    )
    if not holders:
        incident.log(
            EntryKind.PAGED,
            f"Update for {incident.reference} due at {due}: nobody is Communications Lead or "
            "Incident Commander to remind",
            TOCSIN,
            now,
            data={"promise_id": promise.id},
        )
        return
    holder = holders[0]
    person = ctx.uow.people.get_many([holder.person_id]).get(holder.person_id)
    if person is None:
        return
    kind, address = contact_plan(person, ctx.policy.notification_channels[incident.severity])[0]
    facts = _facts(ctx, incident)
    ctx.uow.deliveries.queue(
        Delivery(
            incident_id=incident.id,
            channel=kind,
            method=kind,
            address=address,
            subject=f"[{incident.severity}] {incident.reference}: stakeholder update due at {due}",
            body=(
                f"Update for {incident.reference} due at {due}.\n"
                f"{incident.reference} {incident.severity} {incident.status}: {incident.title}\n"
                f"Send it from the war room: {facts.war_room_url}\n"
                f"or: tocsin update send {incident.reference} --template status "
                "--summary '…' --audience internal"
            ),
            idempotency_key=idempotency_key(
                incident.id, "update-reminder", promise.id, person.id, kind, address
            ),
            due_at=now,
            created_at=now,
            person_id=person.id,
        )
    )
    ctx.uow.wake_paging()
    incident.log(
        EntryKind.PAGED,
        f"Reminded {person.name} ({holder.role.label}) by {kind}: "
        f"update for {incident.reference} due at {due}",
        TOCSIN,
        now,
        data={"person_id": person.id, "promise_id": promise.id},
    )
