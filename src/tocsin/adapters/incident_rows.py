"""Incident rows to domain objects and back, for the incident repository."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.domain.incident_details import DetectionSource, ServiceRef
from tocsin.domain.incidents import Incident
from tocsin.domain.milestones import Milestone, Source, Stamp
from tocsin.domain.roles import RoleAssignment
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import TimelineEntry
from tocsin.domain.war_room import Participant


def incident_row(incident: Incident, now: datetime) -> dict[str, Any]:
    """The columns to write, but not the id: with it in an UPDATE's SET, SQLite looked for
    rows pointing at the incident in every table that does, scanning the unindexed ones
    (2 ms an incident with 10,000 of them, and growing)."""
    row: dict[str, Any] = {
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "user_impact": incident.user_impact,
        "business_impact": incident.business_impact,
        "customer_facing": incident.customer_facing,
        "private": incident.private,
        "detection_source": incident.detection_source.value,
        "created_by": incident.created_by,
        "version": incident.version,
        "timeline_seq": incident.timeline_seq,
        "updated_at": now,
        "timestamp_provenance": {
            m.value: {
                "source": s.source.value,
                "set_by": s.set_by,
                "recorded_at": s.recorded_at.isoformat(),
            }
            for m, s in incident.stamps.items()
        },
    }
    for milestone in Milestone:
        row[milestone.field] = incident.stamp(milestone)
    return row


def incident_from_row(
    row: Any,
    services: list[ServiceRef],
    roles: list[RoleAssignment],
    participants: dict[int, Participant],
) -> Incident:
    return Incident(
        id=row["id"],
        title=row["title"],
        severity=Severity(row["severity"]),
        status=Status(row["status"]),
        created_by=row["created_by"],
        summary=row["summary"],
        services=services,
        user_impact=row["user_impact"],
        business_impact=row["business_impact"],
        customer_facing=row["customer_facing"],
        detection_source=DetectionSource(row["detection_source"]),
        stamps=stamps_from_row(row),
        roles=roles,
        private=row["private"],
        participants=participants,
        version=row["version"],
        timeline_seq=row["timeline_seq"],
    )


def stamps_from_row(row: Any) -> dict[Milestone, Stamp]:
    provenance = row["timestamp_provenance"]
    stamps = {}
    for milestone in Milestone:
        value = row[milestone.field]
        if value is None:
            continue
        meta = provenance.get(milestone.value, {})
        stamps[milestone] = Stamp(
            value=value,
            source=Source(meta.get("source", Source.SYSTEM.value)),
            set_by=meta.get("set_by", ""),
            recorded_at=datetime.fromisoformat(meta["recorded_at"])
            if "recorded_at" in meta
            else value,
        )
    return stamps


def entry_row(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "incident_id": entry.incident_id,
        "seq": entry.seq,
        "kind": entry.kind.value,
        "body": entry.body,
        "author": entry.author,
        "author_user_id": entry.author_user_id,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.recorded_at,
        "corrects_seq": entry.corrects_seq,
        "data": entry.data,
        "key_moment": entry.key_moment,
        "key_moment_by": entry.key_moment_by,
        "key_moment_at": entry.key_moment_at,
    }
