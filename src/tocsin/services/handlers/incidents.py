"""Incident use cases: each loads the aggregate, calls one domain method, and returns."""

from __future__ import annotations

from tocsin.domain import commands, events
from tocsin.domain.errors import NotFound
from tocsin.domain.incident_details import ServiceRef
from tocsin.domain.incidents import Incident
from tocsin.services.handlers.people import person_ref
from tocsin.services.messagebus import Context
from tocsin.services.ports import UnitOfWork


def declare_incident(cmd: commands.DeclareIncident, ctx: Context) -> int:
    """Open an incident and return its number."""
    services = _service_refs(ctx.uow, cmd.services)
    incident = Incident.declare(
        id=ctx.uow.incidents.next_id(),
        title=cmd.title,
        severity=cmd.severity,
        actor=cmd.actor,
        now=ctx.clock.now(),
        summary=cmd.summary,
        services=services,
        user_impact=cmd.user_impact,
        business_impact=cmd.business_impact,
        customer_facing=cmd.customer_facing,
        detection_source=cmd.detection_source,
        detected_at=cmd.detected_at,
        impact_started_at=cmd.impact_started_at,
        private=cmd.private,
        workflow=cmd.workflow,
    )
    ctx.uow.incidents.add(incident)
    return incident.id


def change_status(cmd: commands.ChangeStatus, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    incident.change_status(cmd.status, cmd.actor, ctx.clock.now(), cmd.note)


def reclassify_incident(cmd: commands.ReclassifyIncident, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    incident.reclassify(cmd.severity, cmd.reason, cmd.actor, ctx.clock.now())


def assign_role(cmd: commands.AssignRole, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    person = person_ref(ctx.uow, cmd.person)
    incident.assign_role(cmd.role, person, cmd.actor, ctx.clock.now())


def relieve_role(cmd: commands.RelieveRole, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    person_id = person_ref(ctx.uow, cmd.person).id if cmd.person else None
    incident.relieve_role(cmd.role, person_id, cmd.actor, ctx.clock.now())


def set_timestamp(cmd: commands.SetTimestamp, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    incident.set_timestamp(cmd.milestone, cmd.value, cmd.actor, ctx.clock.now())


def update_incident(cmd: commands.UpdateIncident, ctx: Context) -> list[str]:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    services = _service_refs(ctx.uow, cmd.services) if cmd.services is not None else None
    return incident.update_details(
        cmd.actor,
        ctx.clock.now(),
        title=cmd.title,
        summary=cmd.summary,
        user_impact=cmd.user_impact,
        business_impact=cmd.business_impact,
        customer_facing=cmd.customer_facing,
        detection_source=cmd.detection_source,
        services=services,
    )


def add_timeline_entry(cmd: commands.AddTimelineEntry, ctx: Context) -> int:
    """Append a person's entry and return its sequence number."""
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    corrects = None
    if cmd.corrects_seq is not None:
        corrects = ctx.uow.timeline.get(cmd.incident_id, cmd.corrects_seq)
    entry = incident.add_note(
        cmd.kind,
        cmd.body,
        cmd.actor,
        ctx.clock.now(),
        occurred_at=cmd.occurred_at,
        corrects=corrects,
    )
    return entry.seq


def mark_key_moment(cmd: commands.MarkKeyMoment, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    entry = ctx.uow.timeline.get(cmd.incident_id, cmd.seq)
    incident.mark_key_moment(entry, cmd.key_moment, cmd.actor, ctx.clock.now())


def announce_change(event: events.Event, ctx: Context) -> None:
    """Every incident event wakes the live views of that incident once the change commits."""
    ctx.uow.announce(event.incident_id)


def _service_refs(uow: UnitOfWork, slugs: tuple[str, ...]) -> list[ServiceRef]:
    refs = []
    for slug in slugs:
        service = uow.services.find(slug.strip().lower())
        if service is None or service.id is None:
            raise NotFound(f"no service named {slug!r}", field="services")
        refs.append(ServiceRef(service.id, service.slug))
    return refs


def set_incident_privacy(cmd: commands.SetIncidentPrivacy, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    incident.set_private(cmd.private, cmd.actor, ctx.clock.now())


def invite_participant(cmd: commands.InviteParticipant, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    incident.invite(person_ref(ctx.uow, cmd.person), cmd.actor, ctx.clock.now())


def post_message(cmd: commands.PostMessage, ctx: Context) -> None:
    incident = ctx.uow.incidents.get(cmd.incident_id, cmd.actor)
    incident.post_message(cmd.body, cmd.actor, ctx.clock.now(), cmd.via)
