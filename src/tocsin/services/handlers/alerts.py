"""Alert intake: deduplicate, route, silence and group alerts into incidents, in one transaction."""

from __future__ import annotations

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
from tocsin.domain.integrations import (
    Integration,
    IntegrationKind,
)
from tocsin.domain.silences import Silence
from tocsin.domain.timeline import EntryKind
from tocsin.services.handlers.alert_incidents import AlertIncidents, group_key
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


@dataclass
class Intake:
    """Applies deliveries within one transaction; lookups are shared by all its deliveries."""

    ctx: Context
    now: datetime
    integration: Integration = field(init=False)
    result: IntakeResult = field(default_factory=IntakeResult)
    _silences: list[Silence] | None = None
    _tiers: dict[str, int | None] = field(default_factory=dict)
    # The newest alert of each (integration, key) seen by this transaction, or None: loaded in
    # bulk, then kept current as this transaction opens and changes alerts.
    _newest: dict[tuple[int, str], Alert | None] = field(default_factory=dict)
    # Routes worked out ahead for the deliveries being applied, by id() of their signals.
    _routes: dict[int, Route] = field(default_factory=dict)
    # The delivery being applied, and when it arrived.
    _delivery: int | None = None
    _received_at: datetime | None = None
    _actors: dict[int | None, Actor] = field(default_factory=dict)
    incidents: AlertIncidents = field(init=False)

    def __post_init__(self) -> None:
        self.incidents = AlertIncidents(self.ctx, self.now)

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
                    self.incidents.will_touch(found.incident_id)
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
                self.incidents.will_join(
                    group_key(integration.id or 0, route.service, signal.group_key)
                )

    def expect(self, alert: Alert) -> None:
        """Before `prepare`: `alert`, muted and open, may declare or join an incident in this
        transaction; its group is locked with the others, in the one order everyone uses. Not
        while a silence still mutes it: an incident number drawn for it would go unused."""
        if (
            alert.declares
            and alert.status is AlertStatus.FIRING
            and self._silence_matching(alert.labels, alert.service) is None
        ):
            self.incidents.will_join(
                group_key(alert.integration_id, alert.service, alert.group_key)
            )

    def prepare(self) -> None:
        """Look up the services the routed alerts name, then lock the groups they join and load
        their incidents: one statement each for the whole batch, rather than one per alert."""
        slugs = {r.service for r in self._routes.values() if r.service} - self._tiers.keys()
        found_services = self.ctx.uow.services.find_many(slugs)
        for slug in slugs:
            service = found_services.get(slug)
            self._tiers[slug] = service.tier if service else None
        self.incidents.prepare()

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
        """The integration, as the timeline names who did what (one object per integration)."""
        integration = self.integration
        actor = self._actors.get(integration.id)
        if actor is None:
            actor = self._actors[integration.id] = Actor(
                f"{integration.name} ({integration.kind.value})"
            )
        return actor

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
                incident = self.ctx.uow.incidents.get(alert.incident_id)
                self.incidents.raise_for(alert, incident, self.actor)
        elif change is Change.DUPLICATE:
            self.result.duplicates += 1
        elif change is Change.RESOLVED:
            self.result.resolved += 1
        loose = alert.incident_id is None
        if change in (Change.UPDATED, Change.DUPLICATE) and loose:
            self._declare_if_due(alert)  # e.g. its silence has ended since it first fired
        uow.alerts.save(alert)
        if loose and alert.incident_id is not None:
            self.incidents.log(alert, EntryKind.ALERT_FIRED, self.actor, alert.started)
        if change is Change.ACKNOWLEDGED and alert.incident_id is not None:
            self.incidents.log(
                alert, EntryKind.ALERT_ACKNOWLEDGED, self.actor, alert.acknowledged_at
            )
        if change is Change.RESOLVED and alert.incident_id is not None:
            self.incidents.log(alert, EntryKind.ALERT_RESOLVED, self.actor, alert.ended_at)
            self.incidents.resolved(alert.incident_id, self._delivery)

    def release(self, alert: Alert) -> None:
        """`alert`, still firing, was muted by a silence now over: declare or join now (unless
        another silence mutes it)."""
        self._declare_if_due(alert)
        self.ctx.uow.alerts.save(alert)
        if alert.incident_id is not None:
            self.incidents.log(alert, EntryKind.ALERT_FIRED, self.actor, alert.started)

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
            self.incidents.log(alert, EntryKind.ALERT_FIRED, self.actor, alert.started)

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
        key = group_key(self.integration.id or 0, alert.service, alert.group_key)
        incident = self.incidents.link(alert, key, self.actor)
        alert.incident_id = incident.id
        self.result.incidents.add(incident.id)

    def settle(self, incident_id: int) -> None:
        self.incidents.settle(incident_id, self.actor)

    def settle_all(self) -> None:
        """Move on the incidents whose last alert this delivery resolved."""
        for _, incident_id in self.incidents.unsettled():
            self.settle(incident_id)
