"""Turn read-side views into API bodies, adding what the policy says about them."""

from __future__ import annotations

from datetime import timedelta

from tocsin.domain.statuses import Status, allowed_from
from tocsin.entrypoints.api import schemas
from tocsin.policy import Policy
from tocsin.policy.durations import format_duration
from tocsin.views.catalog import PersonView, ServiceView, TeamView
from tocsin.views.incident_search import IncidentSummary
from tocsin.views.incidents import EntryView, IncidentDetail


def incident_read(detail: IncidentDetail, policy: Policy, public_url: str) -> schemas.IncidentRead:
    level = policy.severities[detail.severity]  # type: ignore[index]
    return schemas.IncidentRead(
        id=detail.id,
        reference=detail.reference,
        title=detail.title,
        summary=detail.summary,
        severity=schemas.SeverityInfo(
            level=detail.severity,
            name=level.name,
            response_time=format_duration(level.response_time),
        ),
        status=detail.status,
        allowed_transitions=[s.value for s in allowed_from(Status(detail.status))],
        services=[schemas.ServiceLabelRead(slug=s.slug, name=s.name) for s in detail.services],
        user_impact=detail.user_impact,
        business_impact=detail.business_impact,
        customer_facing=detail.customer_facing,
        detection_source=detail.detection_source,
        roles=[
            schemas.RoleRead(
                role=r.role,
                label=r.role_label,
                person=r.person_handle,
                name=r.person_name,
                assigned_at=r.assigned_at,
                assigned_by=r.assigned_by,
            )
            for r in detail.roles
        ],
        timestamps={
            t.name: schemas.TimestampRead(
                value=t.value, source=t.source, set_by=t.set_by, recorded_at=t.recorded_at
            )
            for t in detail.timestamps
        },
        war_room=policy.war_room(detail.id),
        created_by=detail.created_by,
        version=detail.version,
        updated_at=detail.updated_at,
        url=f"{public_url}/incidents/{detail.id}",
        private=detail.private,
        needs_incident_commander=detail.needs_commander,
    )


def summary_read(item: IncidentSummary) -> schemas.IncidentSummaryRead:
    return schemas.IncidentSummaryRead(
        id=item.id,
        reference=item.reference,
        title=item.title,
        severity=item.severity,
        status=item.status,
        customer_facing=item.customer_facing,
        declared_at=item.declared_at,
        resolved_at=item.resolved_at,
        services=[schemas.ServiceLabelRead(slug=s.slug, name=s.name) for s in item.services],
        incident_commander=item.incident_commander,
        private=item.private,
        needs_incident_commander=item.needs_commander,
    )


def entry_read(entry: EntryView) -> schemas.TimelineEntryRead:
    return schemas.TimelineEntryRead(
        seq=entry.seq,
        kind=entry.kind,
        body=entry.body,
        author=entry.author,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        corrects=entry.corrects_seq,
        corrected_by=entry.corrected_by,
        key_moment=entry.key_moment,
        key_moment_by=entry.key_moment_by,
        key_moment_at=entry.key_moment_at,
        data=entry.data,
    )


def person_read(p: PersonView) -> schemas.PersonRead:
    return schemas.PersonRead(
        handle=p.handle,
        name=p.name,
        email=p.email,
        time_zone=p.time_zone,
        title=p.title,
        contact_methods=[
            schemas.ContactMethodIO(
                kind=c.kind,
                address=c.address,
                after=_delay(c.after_seconds),
            )
            for c in p.contact_methods
        ],
    )


def team_read(t: TeamView) -> schemas.TeamRead:
    return schemas.TeamRead(
        slug=t.slug,
        name=t.name,
        description=t.description,
        members=[schemas.MemberRead(person=m.handle, name=m.name, role=m.role) for m in t.members],
        services=t.services,
    )


def service_read(s: ServiceView) -> schemas.ServiceRead:
    return schemas.ServiceRead(
        slug=s.slug,
        name=s.name,
        description=s.description,
        team=s.team,
        tier=s.tier,
        depends_on=s.depends_on,
        runbooks=s.runbooks,
        open_incidents=s.open_incidents,
    )


def _delay(seconds: int) -> str | None:
    return format_duration(timedelta(seconds=seconds)) if seconds else None
