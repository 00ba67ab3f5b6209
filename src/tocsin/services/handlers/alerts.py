"""Alert intake: deduplicate, route, silence and group alerts into incidents, in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.alerts import (
    Alert,
    AlertSignal,
    AlertStatus,
    Change,
    IntakeResult,
    Route,
    SignalAction,
)
from tocsin.domain.incident_details import DetectionSource, ServiceRef
from tocsin.domain.incidents import Incident
from tocsin.domain.integrations import (
    Integration,
    IntegrationKind,
)
from tocsin.domain.milestones import Milestone, Source
from tocsin.domain.silences import Silence
from tocsin.domain.statuses import Status
from tocsin.domain.timeline import EntryKind
from tocsin.services.messagebus import Context

# Senders whose alerts carry their own start time, so a redelivery of an alert that has since
# resolved is recognised as old news instead of opening it again.
_STARTS_AT_SENDERS = (IntegrationKind.ALERTMANAGER, IntegrationKind.GRAFANA)


def receive_alerts(cmd: commands.ReceiveAlerts, ctx: Context) -> IntakeResult:
    """Apply every alert of one delivery; the sender hears back only after this commits."""
    intake = Intake(ctx, ctx.clock.now())
    integration = ctx.uow.integrations.get(cmd.integration_id)
    intake.prefetch(cmd.integration_id, [s.dedup_key for s in cmd.signals])
    intake.route(integration, cmd.signals)
    intake.prepare()
    intake.start(integration)
    for signal in cmd.signals:
        intake.receive(signal)
    intake.settle_all()
    return intake.result


SERVICE_GROUP = "service:"  # the start of the group key of a service's alerts


@dataclass
class Intake:
    """Applies deliveries within one transaction; lookups are shared by all its deliveries."""

    ctx: Context
    now: datetime
    integration: Integration = field(init=False)
    result: IntakeResult = field(default_factory=IntakeResult)
    _silences: list[Silence] | None = None
    _tiers: dict[str, int | None] = field(default_factory=dict)
    # Group rows locked by this transaction, and the incident each points at.
    _groups: dict[str, int | None] = field(default_factory=dict)
    # The newest alert of each (integration, key) seen by this transaction, or None: loaded in
    # bulk, then kept current as this transaction opens and changes alerts.
    _newest: dict[tuple[int, str], Alert | None] = field(default_factory=dict)
    # Routes worked out ahead for the deliveries being applied, by id() of their signals, and
    # the groups their alerts will join, still to lock.
    _routes: dict[int, Route] = field(default_factory=dict)
    _joining: set[str] = field(default_factory=set)
    # Incidents of open alerts the deliveries resolve or acknowledge, to load with the groups'.
    _touching: set[int] = field(default_factory=set)
    # The delivery being applied, and the incidents whose alerts it resolved: once all are
    # applied, those with every alert resolved move on (see `unsettled`), by the last one.
    _delivery: int | None = None
    _received_at: datetime | None = None
    _resolving: dict[int, int | None] = field(default_factory=dict)
    # Per service whose group has no open incident: an open incident that lists the service
    # (declared by hand, say), which its alerts join rather than open another.
    _open_on_service: dict[str, int | None] = field(default_factory=dict)

    def start(
        self,
        integration: Integration,
        delivery: int | None = None,
        received_at: datetime | None = None,
    ) -> None:
        """The next delivery, from `integration`, received at `received_at` (default: now): its
        own result starts empty."""
        self.integration = integration
        self.result = IntakeResult()
        self._delivery = delivery
        self._received_at = received_at

    @property
    def received(self) -> datetime:
        """When the delivery being applied arrived: what its alerts say they were received,
        acknowledged or ended at, however long applying it waited in the inbox (a storm)."""
        return self._received_at or self.now

    def prefetch(self, integration_id: int, dedup_keys: Iterable[str]) -> None:
        """Load the newest alert of many keys at once, before their deliveries are applied."""
        missing = {k for k in dedup_keys if (integration_id, k) not in self._newest}
        if not missing:
            return
        found = self.ctx.uow.alerts.newest(integration_id, missing)
        for key in missing:
            self._newest[(integration_id, key)] = found.get(key)

    def route(self, integration: Integration, signals: tuple[AlertSignal, ...]) -> None:
        """Before a batch of deliveries is applied (their newest alerts prefetched), route each
        delivery's new alerts and note the groups of those that will declare or join an
        incident; `prepare` then does the lookups they need for the whole batch at once."""
        self.integration = integration
        for signal in signals:
            found = self._newest.get((integration.id or 0, signal.dedup_key))
            if found is not None and found.is_open:
                if found.incident_id is not None and signal.action is not SignalAction.TRIGGER:
                    self._touching.add(found.incident_id)
                elif found.incident_id is None and found.silenced_by is not None:
                    self.expect(found)  # a repeat may declare it now its silence is over
                continue
            route = self._routes[id(signal)] = self._bare_route(signal)
            if (
                route.declare
                and signal.action is SignalAction.TRIGGER
                and not self._old_news(signal, found)
                and self._silence_matching(signal.labels, route.service) is None
            ):
                self._joining.add(group_key(integration.id or 0, route.service, signal.group_key))

    def expect(self, alert: Alert) -> None:
        """Before `prepare`: `alert`, muted and open, may declare or join an incident in this
        transaction; its group is locked with the others, in the one order everyone uses. Not
        while a silence still mutes it: an incident number drawn for it would go unused."""
        if (
            alert.declares
            and alert.status is AlertStatus.FIRING
            and self._silence_matching(alert.labels, alert.service) is None
        ):
            self._joining.add(group_key(alert.integration_id, alert.service, alert.group_key))

    def prepare(self) -> None:
        """Look up the services the routed alerts name, lock the groups they join, load the open
        incidents of those groups and draw the ids of the incidents they will declare: one
        statement each for the whole batch, rather than one per alert."""
        slugs = {r.service for r in self._routes.values() if r.service} - self._tiers.keys()
        found_services = self.ctx.uow.services.find_many(slugs)
        for slug in slugs:
            service = found_services.get(slug)
            self._tiers[slug] = service.tier if service else None
        unlocked = sorted(self._joining - self._groups.keys())  # one lock order for everyone
        self._joining.clear()
        self._groups.update(self.ctx.uow.alert_groups.lock_many(unlocked, self.now))
        joined = [i for k in unlocked if (i := self._groups[k]) is not None]
        bare = {
            k.removeprefix(SERVICE_GROUP)
            for k in unlocked
            if self._groups[k] is None and k.startswith(SERVICE_GROUP)
        }
        listing = self._find_open_on_services(bare - self._open_on_service.keys())
        self.ctx.uow.incidents.load([*joined, *self._touching, *listing])
        self._touching.clear()
        self.ctx.uow.incidents.reserve_ids(len(unlocked) - len(joined) - len(listing))

    def _old_news(self, signal: AlertSignal, latest: Alert | None) -> bool:
        """A late copy of an alert already closed, from a sender that stamps its alerts."""
        return (
            self.integration.kind in _STARTS_AT_SENDERS
            and latest is not None
            and signal.started_at is not None
            and latest.started_at == signal.started_at
        )

    def _newest_alert(self, dedup_key: str) -> Alert | None:
        integration_id = self.integration.id or 0
        self.prefetch(integration_id, (dedup_key,))
        return self._newest[(integration_id, dedup_key)]

    @property
    def actor(self) -> Actor:
        return Actor(f"{self.integration.name} ({self.integration.kind.value})")

    def receive(self, signal: AlertSignal) -> None:
        uow = self.ctx.uow
        self.result.dedup_keys.append(signal.dedup_key)
        alert = self._newest_alert(signal.dedup_key)
        if alert is None or not alert.is_open:
            self._first_report(signal, alert)
            return
        change = alert.receive(signal, self.received)
        if change is Change.UPDATED:
            self.result.updated += 1
            route = self._route(signal)
            raised = alert.raise_severity(route.severity)
            if raised and alert.incident_id is not None:
                self._raise_incident(alert)
        elif change is Change.DUPLICATE:
            self.result.duplicates += 1
        elif change is Change.RESOLVED:
            self.result.resolved += 1
        loose = alert.incident_id is None
        if change in (Change.UPDATED, Change.DUPLICATE) and loose:
            self._declare_if_due(alert)  # e.g. its silence has ended since it first fired
        uow.alerts.save(alert)
        if loose and alert.incident_id is not None:
            self._log(alert, EntryKind.ALERT_FIRED, occurred_at=alert.started)
        if change is Change.ACKNOWLEDGED and alert.incident_id is not None:
            self._log(alert, EntryKind.ALERT_ACKNOWLEDGED, occurred_at=alert.acknowledged_at)
        if change is Change.RESOLVED and alert.incident_id is not None:
            self._log(alert, EntryKind.ALERT_RESOLVED, occurred_at=alert.ended_at)
            self._resolving[alert.incident_id] = self._delivery

    def release(self, alert: Alert) -> None:
        """`alert`, still firing, was muted by a silence now over: declare or join now (unless
        another silence mutes it)."""
        self._declare_if_due(alert)
        self.ctx.uow.alerts.save(alert)
        if alert.incident_id is not None:
            self._log(alert, EntryKind.ALERT_FIRED, occurred_at=alert.started)

    def _first_report(self, signal: AlertSignal, latest: Alert | None) -> None:
        uow, integration = self.ctx.uow, self.integration
        if latest is not None and self._old_news(signal, latest):
            latest.receive(signal, self.received)  # a late copy of what we already closed
            uow.alerts.save(latest)
            self.result.duplicates += 1
            return
        if (
            signal.action is not SignalAction.TRIGGER
            and integration.kind is IntegrationKind.PAGERDUTY
        ):
            self.result.dropped += 1  # PagerDuty drops acknowledge/resolve for unknown keys
            return
        route = self._route(signal)
        alert = Alert.open(integration.id or 0, signal, route, self.received)
        alert.source_severity = alert.source_severity or self._severity_text(signal)
        self.result.opened += 1
        if alert.status is AlertStatus.RESOLVED:
            self.result.resolved += 1
        self._declare_if_due(alert)
        uow.alerts.add(alert)
        self._newest[(integration.id or 0, alert.dedup_key)] = alert
        if alert.incident_id is not None:
            self._log(alert, EntryKind.ALERT_FIRED, occurred_at=alert.started)

    def _severity_text(self, signal: AlertSignal) -> str:
        return self.ctx.policy.alerts.source_severity(signal.labels)

    def _route(self, signal: AlertSignal) -> Route:
        route = self._routes.get(id(signal)) or self._bare_route(signal)
        if route.service is not None:
            floor = self.ctx.policy.alerts.floor_for_tier(route.severity, self._tier(route.service))
            if floor is not route.severity:
                route = replace(route, severity=floor)
        return route

    def _bare_route(self, signal: AlertSignal) -> Route:
        """The route by the policy's rules alone, before the service's tier may raise it."""
        rules = self.ctx.policy.alerts
        source_severity = signal.source_severity or rules.source_severity(signal.labels)
        return rules.route(signal.labels, source_severity, self.integration.service)

    def _tier(self, slug: str) -> int | None:
        if slug not in self._tiers:
            service = self.ctx.uow.services.find(slug)
            self._tiers[slug] = service.tier if service else None
        return self._tiers[slug]

    def _silence_matching(self, labels: Mapping[str, str], service: str | None) -> Silence | None:
        if self._silences is None:
            self._silences = self.ctx.uow.silences.active(self.now)
        if not self._silences:
            return None
        if service:
            labels = {"service": service, **labels}
        return next((s for s in self._silences if s.mutes(labels, self.now)), None)

    def _declare_if_due(self, alert: Alert) -> None:
        """Join the group's incident or declare one, unless the alert is muted or alert-only."""
        if alert.status is not AlertStatus.FIRING or not alert.declares:
            return
        silence = self._silence_matching(alert.labels, alert.service)
        alert.silenced_by = silence.id if silence else None
        if silence is not None:
            return
        uow = self.ctx.uow
        key = group_key(self.integration.id or 0, alert.service, alert.group_key)
        if key not in self._groups:
            self._groups[key] = uow.alert_groups.lock(key, self.now)
        incident_id = self._groups[key]
        incident = uow.incidents.get(incident_id) if incident_id is not None else None
        if incident is not None and not self._joinable(incident):
            incident = None
        if incident is None and alert.service:
            incident = self._open_on(alert.service)
        if incident is None:
            incident = self._declare(alert)
            uow.alert_groups.point(key, incident.id, self.now)
            self._groups[key] = incident.id
        else:
            if incident.status is Status.MONITORING:  # what was done did not hold
                note = f"alert {alert.title!r} fired while monitoring"
                incident.change_status(Status.INVESTIGATING, self.actor, self.now, note)
            if alert.severity.is_more_severe_than(incident.severity):
                incident.reclassify(alert.severity, self._raise_reason(alert), self.actor, self.now)
        alert.incident_id = incident.id
        self.result.incidents.add(incident.id)

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

    def _joinable(self, incident: Incident) -> bool:
        if incident.status.is_open:
            return True
        window = self.ctx.policy.alerts.reopen_window
        resolved_at = incident.stamp(Milestone.RESOLVED)
        if incident.status is Status.RESOLVED and resolved_at and self.now - resolved_at < window:
            incident.change_status(
                Status.INVESTIGATING, self.actor, self.now, "an alert of this incident fired again"
            )
            return True
        return False

    def _declare(self, alert: Alert) -> Incident:
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
            actor=self.actor,
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

    def _raise_reason(self, alert: Alert) -> str:
        return f"alert {alert.title!r} is {alert.source_severity or alert.severity}"

    def _raise_incident(self, alert: Alert) -> None:
        incident = self.ctx.uow.incidents.get(alert.incident_id or 0)
        if incident.status.is_open and alert.severity.is_more_severe_than(incident.severity):
            incident.reclassify(alert.severity, self._raise_reason(alert), self.actor, self.now)

    def _log(self, alert: Alert, kind: EntryKind, occurred_at: datetime | None = None) -> None:
        incident = self.ctx.uow.incidents.get(alert.incident_id or 0)
        occurred = min(occurred_at, self.now) if occurred_at else None
        incident.record_alert(kind, alert.id or 0, alert.describe(), self.actor, self.now, occurred)

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

    def settle(self, incident_id: int) -> None:
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
            incident.change_status(target, self.actor, self.now, "every alert has resolved")

    def settle_all(self) -> None:
        for _, incident_id in self.unsettled():
            self.settle(incident_id)


def group_key(integration_id: int, service: str | None, sender_group: str) -> str:
    """Alerts of one group join one incident: by service, else by the sender's own grouping
    (Alertmanager's groupKey), else by integration."""
    if service:
        return SERVICE_GROUP + service
    if sender_group:
        digest = hashlib.sha256(sender_group.encode()).hexdigest()[:40]
        return f"group:{integration_id}:{digest}"
    return f"integration:{integration_id}"
