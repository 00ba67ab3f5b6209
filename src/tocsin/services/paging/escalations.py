"""Escalation: start on declaration, fire due steps, stop on acknowledgement or resolution.

Each step fires in one transaction that also queues its deliveries and timeline entries, so a
crash either did the whole step or none of it; the next run finds the step still due.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from tocsin.domain import commands, events
from tocsin.domain.actors import Actor
from tocsin.domain.catalog import ContactKind, Person
from tocsin.domain.incidents import Incident
from tocsin.domain.milestones import Milestone
from tocsin.domain.paging import Delivery, Escalation, EscalationState, idempotency_key
from tocsin.domain.timeline import EntryKind
from tocsin.domain.war_room import PersonRef
from tocsin.policy.durations import format_duration
from tocsin.policy.model import EscalationStep
from tocsin.policy.paging import CONTACT_CHANNELS
from tocsin.services.messagebus import Context
from tocsin.services.paging.targets import resolve

ENGINE = Actor("Tocsin paging")
log = logging.getLogger(__name__)


# ----- event handlers: escalation follows the incident --------------------------------------
def start_escalation(event: events.IncidentDeclared, ctx: Context) -> None:
    """Steps due at once fire in the declaring transaction, so the first page waits for no
    paging cycle; later steps are left to the engine."""
    now = ctx.clock.now()
    escalation = Escalation.start(event.incident_id, event.severity, now)
    Stepper(ctx, ctx.uow.incidents.get(event.incident_id), escalation, now).run()
    ctx.uow.escalations.add(escalation)
    ctx.uow.wake_paging()


def follow_severity(event: events.IncidentSeverityChanged, ctx: Context) -> None:
    escalation = ctx.uow.escalations.for_incident(event.incident_id)
    if escalation is None or escalation.state in (
        EscalationState.ACKNOWLEDGED,
        EscalationState.RESOLVED,
    ):
        return
    escalation.switch(event.current, ctx.clock.now())
    ctx.uow.escalations.save(escalation)
    ctx.uow.wake_paging()


def follow_status(event: events.IncidentStatusChanged, ctx: Context) -> None:
    if not event.current.is_open:
        _stop(ctx, event.incident_id, EscalationState.RESOLVED, people_only=False)
    elif not event.previous.is_open:
        _resume(ctx, event.incident_id)


def _resume(ctx: Context, incident_id: int) -> None:
    """A reopened incident needs responders again: a new round of its severity's path starts
    at once (a new round, so its pages are new pages), and destinations hear it is back."""
    now = ctx.clock.now()
    incident = ctx.uow.incidents.get(incident_id)
    escalation = ctx.uow.escalations.for_incident(incident_id)
    if escalation is None:
        escalation = Escalation.start(incident_id, incident.severity, now)
        ctx.uow.escalations.add(escalation)
    else:
        escalation.reopen(incident.severity, now)
        ctx.uow.escalations.save(escalation)
    stepper = Stepper(ctx, incident, escalation, now)
    stepper.announce(("reopened", escalation.round), "Reopened: paging starts again.")
    stepper.run()
    ctx.uow.wake_paging()


def stop_on_acknowledgement(event: events.IncidentTimestampSet, ctx: Context) -> None:
    if event.milestone is Milestone.ACKNOWLEDGED:
        _stop(ctx, event.incident_id, EscalationState.ACKNOWLEDGED, people_only=True)


def _stop(ctx: Context, incident_id: int, state: EscalationState, *, people_only: bool) -> None:
    escalation = ctx.uow.escalations.for_incident(incident_id)
    if escalation is None or escalation.state is EscalationState.RESOLVED:
        return
    escalation.stop(state)
    ctx.uow.escalations.save(escalation)
    ctx.uow.deliveries.cancel_unsent(incident_id, people_only=people_only)
    _tell_destinations(ctx, ctx.uow.incidents.get(incident_id), escalation, state)


def _tell_destinations(
    ctx: Context, incident: Incident, escalation: Escalation, state: EscalationState
) -> None:
    """Destinations told the incident started hear that it was acknowledged or resolved (once
    per round: a reopened incident is acknowledged and resolved anew)."""
    if incident.private:  # never told it started, so nothing to follow up
        return
    event = "resolve" if state is EscalationState.RESOLVED else "acknowledge"
    lead = "Resolved." if event == "resolve" else "Acknowledged: paging stopped."
    now = ctx.clock.now()
    for channel in ctx.uow.deliveries.announced(incident.id):
        ctx.uow.deliveries.queue(
            Delivery.to_channel(
                incident.id,
                channel,
                page_subject(incident),
                page_body(incident, lead),
                now,
                event=event,
                key=(event,) if escalation.round == 0 else (event, escalation.round),
            )
        )
        ctx.uow.wake_paging()


def acknowledge_incident(cmd: commands.AcknowledgeIncident, ctx: Context) -> None:
    ctx.uow.incidents.get(cmd.incident_id, cmd.actor).acknowledge(cmd.actor, ctx.clock.now())


# ----- the engine --------------------------------------------------------------------------
def run_escalations(cmd: commands.RunEscalations, ctx: Context) -> int:
    now = ctx.clock.now()
    due = ctx.uow.escalations.claim_due(now, cmd.limit)
    ctx.uow.incidents.load([e.incident_id for e in due])  # all at once, not one by one
    for escalation in due:
        incident = ctx.uow.incidents.get(escalation.incident_id)
        Stepper(ctx, incident, escalation, now).run()
        ctx.uow.escalations.save(escalation)
    if due:
        ctx.uow.wake_paging()
    return len(due)


class Stepper:
    """Fires one escalation's due steps, catching up on any that a stopped worker missed."""

    def __init__(self, ctx: Context, incident: Incident, escalation: Escalation, now: datetime):
        self.ctx, self.incident, self.escalation, self.now = ctx, incident, escalation, now
        self.paging = ctx.policy.paging

    @property
    def path(self) -> list[EscalationStep]:
        return self.ctx.policy.escalation_paths[self.escalation.severity]

    def run(self) -> None:
        esc = self.escalation
        if not self.incident.status.is_open:
            esc.stop(EscalationState.RESOLVED)
            return
        if esc.round == 0 and esc.step == 0 and not esc.paged:
            self.announce(("declared",), "Paging has started.")
        falling_through = False
        while esc.is_due(self.now):
            if esc.step >= len(self.path):
                self._end_of_path()
                falling_through = False  # a new round keeps its own offsets
                continue
            due = self._due(esc.step)
            if due > self.now and not falling_through:
                esc.next_step_at = due  # e.g. a first step on the next business day
                break
            falling_through = not self._fire(esc.step, self.path[esc.step])

    def _fire(self, index: int, step: EscalationStep) -> bool:
        """Fire one step; False when its targets were nobody, so the next fires at once."""
        esc = self.escalation
        resolved = resolve(step.targets, self.incident, self.ctx.uow, self.now)
        fresh = [(p, why) for p, why in resolved.people if p.id not in esc.paged]
        label = f"Step {index + 1} ({step.offset}: {', '.join(str(t) for t in step.targets)})"
        for person, why in fresh:
            self._page(person, why, index)
            esc.paged.add(person.id or 0)
        for note in resolved.notes:
            self._log(EntryKind.ESCALATION, f"{label}: {note}")
        if not resolved.people:
            last = index + 1 >= len(self.path)  # then a repeat waits its time all the same
            then = "" if last else "; falling through at once"
            self._log(EntryKind.ESCALATION, f"{label}: nobody to page{then}")
            esc.fired(self._due(index + 1) if last else self.now)
            return False
        esc.fired(self._due(index + 1))
        return True

    def _due(self, index: int) -> datetime:
        """When step `index` fires: its offset from the round's start, or the repeat time."""
        esc = self.escalation
        if index >= len(self.path):
            if not self._repeats_left:
                return self.now
            return max(self._due(len(self.path) - 1), self.now) + self.paging.repeat_after
        offset = self.path[index].offset
        if offset.next_business_day:
            return max(self.now, self.paging.business_hours.next_opening(esc.started_at))
        return esc.started_at + offset.delay

    @property
    def _repeats_left(self) -> bool:
        return self.escalation.round < self.paging.repeat

    def _end_of_path(self) -> None:
        esc = self.escalation
        if self._repeats_left:
            esc.repeat(self.now)
            self._log(
                EntryKind.ESCALATION,
                f"Nobody acknowledged: the {esc.severity} escalation starts again "
                f"(repeat {esc.round} of {self.paging.repeat})",
            )
            return
        esc.exhaust()
        self._log(EntryKind.ESCALATION, "Every escalation step has fired; nobody acknowledged")

    # ----- deliveries ----------------------------------------------------------------------
    def _channels(self) -> list[str]:
        return self.ctx.policy.notification_channels[self.escalation.severity]

    def _page(self, person: Person, why: str, index: int) -> None:
        if person.id is not None:
            self.incident.paged(PersonRef(person.id, person.name), self.now)
        channels = self._channels()
        listed = [c for c in person.contact_methods if c.kind in channels]
        if listed:
            methods = [(c.kind.value, c.address, c.after) for c in listed]
        else:  # the person's own first choice (their profile email if they gave none)
            kind, address = contact_plan(person, channels)[0]
            methods = [(kind, address, timedelta(0))]
        shown = []
        for kind, address, after in methods:
            wanted = self.now + after
            due = self._throttled(person, kind, wanted)
            self._queue(person, why, kind, address, index, due)
            when = f"after {format_duration(after)}" if after else "now"
            if due > wanted:
                when += f", delayed to {due:%H:%M:%S} UTC by the {kind} throttle"
            shown.append(f"{kind} {when}")
        self._log(
            EntryKind.PAGED,
            f"Paged {person.name} ({why}) by {'; '.join(shown)}",
            data={"person_id": person.id, "target": why, "step": index + 1},
        )

    def _throttled(self, person: Person, kind: str, wanted: datetime) -> datetime:
        """The earliest time at or after `wanted` that the kind's throttle allows."""
        throttle = self.paging.throttle_for(kind)
        if throttle is None or person.id is None:
            return wanted
        since = wanted - throttle.per
        return throttle.slot(self.ctx.uow.deliveries.due_times(person.id, kind, since), wanted)

    def _queue(
        self, person: Person, why: str, kind: str, address: str, index: int, due: datetime
    ) -> None:
        esc, incident = self.escalation, self.incident
        key = idempotency_key(incident.id, esc.round, index, person.id, kind, address)
        self.ctx.uow.deliveries.queue(
            Delivery(
                incident_id=incident.id,
                channel=kind,
                method=kind,
                address=address,
                subject=page_subject(incident),
                body=page_body(incident, f"You are paged as {why}."),
                idempotency_key=key,
                due_at=due,
                created_at=self.now,
                person_id=person.id,
                step=index,
                round=esc.round,
            )
        )

    def announce(self, key: tuple[object, ...], lead: str) -> None:
        """Channel destinations hear about the incident once per `key`: when paging starts,
        and again when it is reopened.

        A private incident is told only to the people paged: channels reach beyond them.
        """
        destinations = self.paging.destinations
        if self.incident.private:
            told = [c for c in self._channels() if c in destinations]
            if told:
                self._log(
                    EntryKind.ESCALATION,
                    f"Not announced to {', '.join(told)}: the incident is private",
                    {"private": True},
                )
            return
        missing = []
        for channel in self._channels():
            if channel in CONTACT_CHANNELS:
                continue
            if channel not in destinations:
                missing.append(channel)
                continue
            self.ctx.uow.deliveries.queue(
                Delivery.to_channel(
                    self.incident.id,
                    channel,
                    page_subject(self.incident),
                    page_body(self.incident, lead),
                    self.now,
                    event="trigger",
                    key=key,
                )
            )
        if missing:  # a configuration gap, not news about this incident
            log.debug("no destination for channels %s", ", ".join(missing))

    def _log(self, kind: EntryKind, body: str, data: dict[str, object] | None = None) -> None:
        self.incident.log(kind, body, ENGINE, self.now, data=dict(data or {}))


def contact_plan(person: Person, channels: list[str]) -> list[tuple[str, str]]:
    """The (kind, address) pairs a page to `person` uses, in the person's order of preference.

    Contact methods of a kind the severity's channels list come first; the others follow as
    fallbacks for when those fail; the person's email is the last resort.
    """
    wanted = [(c.kind.value, c.address) for c in person.contact_methods if c.kind in channels]
    others = [(c.kind.value, c.address) for c in person.contact_methods if c.kind not in channels]
    plan = list(dict.fromkeys(wanted + others))
    if all(kind != ContactKind.EMAIL for kind, _ in plan):
        plan.append((ContactKind.EMAIL.value, person.email))
    return plan


def page_subject(incident: Incident) -> str:
    return f"[{incident.severity}] {incident.reference}: {incident.title}"


def page_body(incident: Incident, lead: str) -> str:
    services = ", ".join(s.slug for s in incident.services) or "none named"
    return (
        f"{lead}\n{incident.reference} {incident.severity} {incident.status}: {incident.title}\n"
        f"Services: {services}\n"
        f"{incident.summary}\n"
        f"Acknowledge: tocsin incident ack {incident.reference}"
    ).strip()
