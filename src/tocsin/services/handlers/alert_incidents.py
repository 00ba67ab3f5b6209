"""The incidents alerts declare, join and settle, within one intake transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from tocsin.domain.actors import Actor
from tocsin.domain.alerts import Alert
from tocsin.domain.incident_details import DetectionSource, ServiceRef
from tocsin.domain.incidents import Incident
from tocsin.domain.milestones import Milestone, Source
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.services.messagebus import Context

SERVICE_GROUP = "service:"  # the start of the group key of a service's alerts


def group_key(integration_id: int, service: str | None, sender_group: str) -> str:
    """Alerts of one group join one incident: by service, else by the sender's own grouping
    (Alertmanager's groupKey), else by integration."""
    if service:
        return SERVICE_GROUP + service
    if sender_group:
        digest = hashlib.sha256(sender_group.encode()).hexdigest()[:40]
        return f"group:{integration_id}:{digest}"
    return f"integration:{integration_id}"


@dataclass
class AlertIncidents:
    """Locks alert groups, links alerts to their group's incident (declaring one if need be)
    and moves alert-declared incidents on once all their alerts have resolved."""

    ctx: Context
    now: datetime
    # Group rows locked by this transaction, and the incident each points at.
    _groups: dict[str, int | None] = field(default_factory=dict)
    # Groups whose alerts will declare or join, and incidents of open alerts being resolved or
    # acknowledged: locked and loaded together by `prepare`.
    _joining: set[str] = field(default_factory=set)
    _touching: set[int] = field(default_factory=set)
    # Per service whose group has no open incident: an open incident that lists the service
    # (declared by hand, say), which its alerts join rather than open another.
    _open_on_service: dict[str, int | None] = field(default_factory=dict)
    # Incidents whose alerts were resolved, by the delivery that resolved the last of them.
    _resolving: dict[int, int | None] = field(default_factory=dict)

    def will_join(self, key: str) -> None:
        self._joining.add(key)

    def will_touch(self, incident_id: int) -> None:
        self._touching.add(incident_id)

    def prepare(self) -> None:
        """Lock the groups alerts will join, load their open incidents and those of the alerts
        being resolved, and draw the ids of the incidents they will declare: one statement each
        for the whole batch, rather than one per alert."""
        uow = self.ctx.uow
        unlocked = sorted(self._joining - self._groups.keys())  # one lock order for everyone
        self._joining.clear()
        self._groups.update(uow.alert_groups.lock_many(unlocked, self.now))
        joined = [i for k in unlocked if (i := self._groups[k]) is not None]
        bare = {
            k.removeprefix(SERVICE_GROUP)
            for k in unlocked
            if self._groups[k] is None and k.startswith(SERVICE_GROUP)
        }
        listing = self._find_open_on_services(bare - self._open_on_service.keys())
        uow.incidents.load([*joined, *self._touching, *listing])
        self._touching.clear()
        uow.incidents.reserve_ids(len(unlocked) - len(joined) - len(listing))

    def link(self, alert: Alert, key: str, actor: Actor) -> Incident:
        """The incident `alert` (firing, unmuted) joins: its group's, an open one listing its
        service, or a new one declared for it."""
        uow = self.ctx.uow
        if key not in self._groups:
            self._groups[key] = uow.alert_groups.lock(key, self.now)
        incident_id = self._groups[key]
        incident = uow.incidents.get(incident_id) if incident_id is not None else None
        if incident is not None and not self._joinable(incident, actor):
            incident = None
        if incident is None and alert.service:
            incident = self._open_on(alert.service)
        if incident is None:
            incident = self._declare(alert, actor)
            uow.alert_groups.point(key, incident.id, self.now)
            self._groups[key] = incident.id
            return incident
        if incident.status is Status.MONITORING:  # what was done did not hold
            note = f"alert {alert.title!r} fired while monitoring"
            incident.change_status(Status.INVESTIGATING, actor, self.now, note)
        self.raise_for(alert, incident, actor)
        return incident

    def raise_for(self, alert: Alert, incident: Incident, actor: Actor) -> None:
        """An open incident becomes as severe as its most severe alert."""
        if incident.status.is_open and alert.severity.is_more_severe_than(incident.severity):
            reason = f"alert {alert.title!r} is {alert.source_severity or alert.severity}"
            incident.reclassify(alert.severity, reason, actor, self.now)

    def log(
        self, alert: Alert, kind: EntryKind, actor: Actor, occurred_at: datetime | None = None
    ) -> None:
        incident = self.ctx.uow.incidents.get(alert.incident_id or 0)
        occurred = min(occurred_at, self.now) if occurred_at else None
        incident.record_alert(kind, alert.id or 0, alert.describe(), actor, self.now, occurred)

    def resolved(self, incident_id: int, delivery: int | None) -> None:
        """An alert of `incident_id` resolved, in `delivery`: see `unsettled`."""
        self._resolving[incident_id] = delivery

    def _find_open_on_services(self, slugs: set[str]) -> list[int]:
        """Look up (one query) the open incidents listing these services; their ids."""
        found = self.ctx.uow.incidents.open_on_services(slugs) if slugs else {}
        self._open_on_service.update({slug: found.get(slug) for slug in slugs})
        return list(found.values())

    def _open_on(self, service: str) -> Incident | None:
        """An open incident listing `service`, for an alert whose group has none. The group is
        not pointed at it: the incident is not the alerts' own, so it does not move to
        Monitoring when they resolve."""
        if service not in self._open_on_service:
            self._find_open_on_services({service})
        found = self._open_on_service[service]
        incident = self.ctx.uow.incidents.get(found) if found is not None else None
        return incident if incident is not None and incident.status.is_open else None

    def _joinable(self, incident: Incident, actor: Actor) -> bool:
        if incident.status.is_open:
            return True
        window = self.ctx.policy.alerts.reopen_window
        resolved_at = incident.stamp(Milestone.RESOLVED)
        if incident.status is Status.RESOLVED and resolved_at and self.now - resolved_at < window:
            note = "an alert of this incident fired again"
            incident.change_status(Status.INVESTIGATING, actor, self.now, note)
            return True
        return False

    def _declare(self, alert: Alert, actor: Actor) -> Incident:
        uow = self.ctx.uow
        stated = alert.started_at
        services = []
        if alert.service:
            service = uow.services.find(alert.service)
            if service is not None and service.id is not None:
                services.append(ServiceRef(service.id, service.slug))
        incident = Incident.declare(
            id=uow.incidents.next_id(),
            title=alert.title,
            severity=alert.severity,
            actor=actor,
            now=self.now,
            summary=alert.description,
            services=services,
            detection_source=DetectionSource.ALERT,
            detected_at=min(alert.started, self.now),
            # Only a start the sender stated (and not in the future) is the alert's word.
            timestamp_source=Source.ALERT if stated and stated <= self.now else Source.SYSTEM,
        )
        uow.incidents.add(incident)
        return incident

    def unsettled(self) -> list[tuple[int | None, int]]:
        """(delivery, incident) for each incident whose alerts the deliveries applied so far
        resolved, that alerts declared, and that has no alert open any more: two queries for
        them all. Checked once every delivery is in, an alert that fired again meanwhile keeps
        its incident where it is."""
        resolving, self._resolving = self._resolving, {}
        if not resolving:
            return []
        uow = self.ctx.uow
        still_open = uow.alerts.open_counts(resolving)
        declared = uow.alert_groups.declared_among(resolving)
        return [
            (d, i) for i, d in sorted(resolving.items()) if i in declared and i not in still_open
        ]

    def settle(self, incident_id: int, actor: Actor) -> None:
        """Every alert of an alert-declared incident resolved: to Monitoring (or Resolved)."""
        incident = self.ctx.uow.incidents.get(incident_id)
        target = (
            Status.RESOLVED
            if self.ctx.policy.alerts.when_all_resolved == "resolve"
            else Status.MONITORING
        )
        before_target = (
            (Status.INVESTIGATING, Status.IDENTIFIED)
            if target is Status.MONITORING
            else (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)
        )
        if incident.status in before_target:
            incident.change_status(target, actor, self.now, "every alert has resolved")
