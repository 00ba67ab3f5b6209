"""The Incident aggregate: status, severity, roles, alerts and lifecycle timestamps (its details
and its war room are parts of it in `incident_details` and `war_room`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tocsin.domain import events
from tocsin.domain.actors import Actor
from tocsin.domain.authority import Power
from tocsin.domain.errors import InvalidInput, InvalidTransition, NoChange, NotFound
from tocsin.domain.incident_details import (
    DetectionSource,
    IncidentDetails,
    ServiceRef,
    clean_text,
    clean_title,
    unique_services,
)
from tocsin.domain.milestones import (
    FUTURE_TOLERANCE,
    Milestone,
    Source,
    Stamp,
    check_chronology,
    require_aware,
)
from tocsin.domain.roles import RoleAssignment
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status, allowed_from
from tocsin.domain.timeline import EntryKind, TimelineEntry, clean_body
from tocsin.domain.war_room import JoinReason, Message, Participant


def reference(incident_id: int) -> str:
    """The human reference used in channels and messages, e.g. INC-42."""
    return f"INC-{incident_id}"


def parse_reference(raw: str) -> int:
    """Accept `42`, `INC-42` or `inc-42`."""
    text = raw.strip().upper().removeprefix("INC-")
    if not text.isdigit() or int(text) < 1:
        raise NotFound(f"{raw!r} is not an incident reference like INC-42 or 42", field="incident")
    return int(text)


def _utc(value: datetime, field_name: str) -> datetime:
    return require_aware(value, field_name).astimezone(UTC)


def _fmt(value: datetime | None) -> str:
    if value is None:
        return "unset"
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Incident(IncidentDetails):
    """One incident. Methods enforce the rules, log to the timeline and record events."""

    id: int
    title: str
    severity: Severity
    status: Status
    created_by: str
    summary: str = ""
    services: list[ServiceRef] = field(default_factory=list)
    user_impact: str = ""
    business_impact: str = ""
    customer_facing: bool = False
    detection_source: DetectionSource = DetectionSource.EMPLOYEE
    stamps: dict[Milestone, Stamp] = field(default_factory=dict)
    roles: list[RoleAssignment] = field(default_factory=list)
    private: bool = False
    participants: dict[int, Participant] = field(default_factory=dict)
    version: int = 0
    timeline_seq: int = 0
    events: list[events.Event] = field(default_factory=list, compare=False, repr=False)
    new_entries: list[TimelineEntry] = field(default_factory=list, compare=False, repr=False)
    new_participants: list[Participant] = field(default_factory=list, compare=False, repr=False)
    new_messages: list[Message] = field(default_factory=list, compare=False, repr=False)

    # ----- creation -------------------------------------------------------------------------
    @classmethod
    def declare(
        cls,
        *,
        id: int,
        title: str,
        severity: Severity,
        actor: Actor,
        now: datetime,
        summary: str = "",
        services: list[ServiceRef] | None = None,
        user_impact: str = "",
        business_impact: str = "",
        customer_facing: bool = False,
        detection_source: DetectionSource = DetectionSource.EMPLOYEE,
        detected_at: datetime | None = None,
        impact_started_at: datetime | None = None,
        timestamp_source: Source = Source.PERSON,
        private: bool = False,
        workflow: str | None = None,
    ) -> Incident:
        """Open a new incident in Investigating; detected_at defaults to now."""
        incident = cls(
            id=id,
            title=clean_title(title),
            severity=severity,
            status=Status.INVESTIGATING,
            created_by=actor.name,
            summary=clean_text(summary, "summary"),
            services=unique_services(services or []),
            user_impact=clean_text(user_impact, "user_impact"),
            business_impact=clean_text(business_impact, "business_impact"),
            customer_facing=customer_facing,
            detection_source=detection_source,
            private=private,
        )
        stamps = {Milestone.DECLARED: Stamp(now, Source.SYSTEM, actor.name, now)}
        if detected_at is not None:
            stamps[Milestone.DETECTED] = Stamp(
                _utc(detected_at, "detected_at"), timestamp_source, actor.name, now
            )
        else:
            stamps[Milestone.DETECTED] = Stamp(now, Source.SYSTEM, actor.name, now)
        if impact_started_at is not None:
            stamps[Milestone.IMPACT_STARTED] = Stamp(
                _utc(impact_started_at, "impact_started_at"), timestamp_source, actor.name, now
            )
        check_chronology(stamps, now)
        incident.stamps = stamps
        services_text = ", ".join(s.slug for s in incident.services) or "no service named"
        incident.log(
            EntryKind.DECLARED,
            f"Declared {severity} incident: {incident.title} ({services_text})",
            actor,
            now,
            data={
                "severity": severity.value,
                "services": [s.slug for s in incident.services],
                "private": private,
            },
        )
        if actor.person_id is not None:
            incident._join(actor.person_id, JoinReason.DECLARED, actor, now)
        incident.events.append(
            events.IncidentDeclared(id, severity, incident.title, customer_facing, workflow)
        )
        return incident

    @property
    def reference(self) -> str:
        return reference(self.id)

    def stamp(self, milestone: Milestone) -> datetime | None:
        found = self.stamps.get(milestone)
        return found.value if found else None

    # ----- timeline -------------------------------------------------------------------------
    def log(
        self,
        kind: EntryKind,
        body: str,
        actor: Actor,
        now: datetime,
        *,
        occurred_at: datetime | None = None,
        data: dict[str, Any] | None = None,
        corrects_seq: int | None = None,
    ) -> TimelineEntry:
        """Append an entry; its sequence number orders the timeline as it was written."""
        self.timeline_seq += 1
        entry = TimelineEntry(
            incident_id=self.id,
            seq=self.timeline_seq,
            kind=kind,
            body=body,
            author=actor.name,
            author_user_id=actor.user_id,
            occurred_at=occurred_at or now,
            recorded_at=now,
            corrects_seq=corrects_seq,
            data=data or {},
        )
        self.new_entries.append(entry)
        self.events.append(events.TimelineEntryAdded(self.id, entry.seq))
        return entry

    def add_note(
        self,
        kind: EntryKind,
        body: str,
        actor: Actor,
        now: datetime,
        *,
        occurred_at: datetime | None = None,
        corrects: TimelineEntry | None = None,
    ) -> TimelineEntry:
        """A person's observation, action, decision or communication; may correct an entry."""
        self.authorize(actor, Power.ADVISE, "adding notes", now)
        if not kind.is_manual:
            raise InvalidInput(f"{kind.value} entries are written by Tocsin only", field="kind")
        text = clean_body(body)
        when = now
        if occurred_at is not None:
            when = _utc(occurred_at, "occurred_at")
            if when > now + FUTURE_TOLERANCE:
                raise InvalidInput(
                    f"occurred_at ({_fmt(when)}) is in the future (now {_fmt(now)})",
                    field="occurred_at",
                )
        if corrects is not None and corrects.incident_id != self.id:
            raise NotFound(
                f"entry #{corrects.seq} is not on {self.reference}'s timeline", field="corrects"
            )
        if corrects is not None and (
            corrects.author_user_id is None or corrects.author_user_id != actor.user_id
        ):
            self.authorize(actor, Power.DOCUMENT, "correcting someone else's entry", now)
        return self.log(
            kind,
            text,
            actor,
            now,
            occurred_at=when,
            corrects_seq=corrects.seq if corrects else None,
        )

    def mark_key_moment(
        self, entry: TimelineEntry, key_moment: bool, actor: Actor, now: datetime
    ) -> None:
        """Flag (or unflag) an entry as a key moment; the entry's content stays untouched."""
        self.authorize(actor, Power.DOCUMENT, "marking key moments", now)
        if entry.incident_id != self.id:
            raise NotFound(f"entry #{entry.seq} is not on {self.reference}'s timeline", field="seq")
        if entry.key_moment == key_moment:
            state = "already" if key_moment else "not"
            raise NoChange(f"entry #{entry.seq} is {state} a key moment", field="key_moment")
        entry.key_moment = key_moment
        entry.key_moment_by = actor.name if key_moment else None
        entry.key_moment_at = now if key_moment else None
        self.events.append(events.KeyMomentChanged(self.id, entry.seq, key_moment))

    # ----- status -----------------------------------------------------------------------------
    def change_status(self, target: Status, actor: Actor, now: datetime, note: str = "") -> None:
        """Move along the lifecycle, setting mitigated/resolved/closed times as they happen."""
        self.authorize(actor, Power.DECIDE, f"changing the status to {target.label}", now)
        if target == self.status:
            raise NoChange(f"{self.reference} is already {target.label}", field="status")
        allowed = allowed_from(self.status)
        if target not in allowed:
            names = ", ".join(s.label for s in allowed)
            raise InvalidTransition(
                f"cannot move {self.reference} from {self.status.label} to {target.label}; "
                f"allowed from {self.status.label}: {names}",
                field="status",
            )
        previous = self.status
        stamps = dict(self.stamps)
        reopened = not previous.is_open and target.is_open
        cleared: list[str] = []
        if reopened:  # it needs responders again: paging restarts and waits for a new ack
            for milestone in (Milestone.ACKNOWLEDGED, Milestone.RESOLVED, Milestone.CLOSED):
                if stamps.pop(milestone, None) is not None:
                    cleared.append(f"{milestone.field} was {_fmt(self.stamp(milestone))}")
        system = Stamp(now, Source.SYSTEM, actor.name, now)
        if target in (Status.MONITORING, Status.RESOLVED):
            stamps.setdefault(Milestone.MITIGATED, system)
        if target is Status.RESOLVED:
            stamps[Milestone.RESOLVED] = system
        if target is Status.CLOSED:
            stamps[Milestone.CLOSED] = system
        check_chronology(stamps, now)
        self.status, self.stamps = target, stamps
        verb = "Reopened" if reopened else "Status changed"
        body = f"{verb}: {previous.label} → {target.label}"
        if cleared:
            body += f" ({'; '.join(cleared)})"
        note_text = note.strip()
        if note_text:
            body += f" — {clean_body(note_text, 'note')}"
        self.log(
            EntryKind.STATUS_CHANGED,
            body,
            actor,
            now,
            data={"from": previous.value, "to": target.value, "note": note_text},
        )
        self.events.append(events.IncidentStatusChanged(self.id, previous, target))

    # ----- severity ---------------------------------------------------------------------------
    def reclassify(self, target: Severity, reason: str, actor: Actor, now: datetime) -> None:
        """Change the severity; a reason is required and goes on the timeline."""
        self.authorize(actor, Power.DECIDE, "changing the severity", now)
        why = clean_body(reason, "reason")
        if target == self.severity:
            raise NoChange(f"{self.reference} is already {target}", field="severity")
        previous = self.severity
        direction = "raised" if target.is_more_severe_than(previous) else "lowered"
        self.severity = target
        self.log(
            EntryKind.SEVERITY_CHANGED,
            f"Severity {direction} from {previous} to {target}: {why}",
            actor,
            now,
            data={"from": previous.value, "to": target.value, "reason": why},
        )
        self.events.append(events.IncidentSeverityChanged(self.id, previous, target, why))

    # ----- alerts -----------------------------------------------------------------------------
    def record_alert(
        self,
        kind: EntryKind,
        alert_id: int,
        text: str,
        actor: Actor,
        now: datetime,
        occurred_at: datetime | None = None,
    ) -> None:
        """An alert of this incident fired, was acknowledged at its source, or resolved."""
        verb = _ALERT_VERBS[kind]
        self.log(
            kind,
            f"{verb}: {text}",
            actor,
            now,
            occurred_at=occurred_at,
            data={"alert_id": alert_id},
        )

    # ----- timestamps -------------------------------------------------------------------------
    def set_timestamp(
        self,
        milestone: Milestone,
        value: datetime,
        actor: Actor,
        now: datetime,
        source: Source = Source.PERSON,
    ) -> None:
        """Enter or correct a lifecycle timestamp; the whole set must stay chronological."""
        self.authorize(actor, Power.DOCUMENT, f"setting {milestone.field}", now)
        when = _utc(value, milestone.field)
        previous = self.stamp(milestone)
        if previous == when:
            raise NoChange(f"{milestone.field} is already {_fmt(when)}", field=milestone.field)
        stamps = dict(self.stamps)
        stamps[milestone] = Stamp(when, source, actor.name, now)
        check_chronology(stamps, now)
        self.stamps = stamps
        self.log(
            EntryKind.TIMESTAMP_SET,
            f"{milestone.field} set to {_fmt(when)} (was {_fmt(previous)})",
            actor,
            now,
            data={
                "name": milestone.field,
                "value": _fmt(when),
                "previous": _fmt(previous) if previous else None,
                "source": source.value,
            },
        )
        self.events.append(events.IncidentTimestampSet(self.id, milestone))

    def acknowledge(self, actor: Actor, now: datetime) -> None:
        """Someone has the incident in hand: paging stops, and the time is kept for metrics."""
        self.check_visible(actor)
        if not self.status.is_open:
            raise InvalidInput(f"{self.reference} is {self.status}; only open incidents page")
        if (already := self.stamp(Milestone.ACKNOWLEDGED)) is not None:
            raise NoChange(f"{self.reference} was already acknowledged at {_fmt(already)}")
        stamps = dict(self.stamps)
        stamps[Milestone.ACKNOWLEDGED] = Stamp(now, Source.SYSTEM, actor.name, now)
        self.stamps = stamps
        self.log(EntryKind.ACKNOWLEDGED, f"Acknowledged by {actor.name}; paging stops", actor, now)
        if actor.person_id is not None:
            self._join(actor.person_id, JoinReason.PAGED, actor, now)
        self.events.append(events.IncidentTimestampSet(self.id, Milestone.ACKNOWLEDGED))


_ALERT_VERBS = {
    EntryKind.ALERT_FIRED: "Alert firing",
    EntryKind.ALERT_ACKNOWLEDGED: "Alert acknowledged at its source",
    EntryKind.ALERT_RESOLVED: "Alert resolved",
}
