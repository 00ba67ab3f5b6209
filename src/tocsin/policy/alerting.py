"""The policy's `alerts` section: how incoming alerts are routed, classified and grouped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, field_validator

from tocsin.domain.alerts import Route
from tocsin.domain.catalog import clean_slug
from tocsin.domain.errors import InvalidInput
from tocsin.domain.matchers import Matcher, all_match, parse_matcher
from tocsin.domain.severities import Severity
from tocsin.policy.sections import Duration, Section


def _matcher(raw: object) -> Matcher:
    if isinstance(raw, Matcher):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f'expected a matcher such as severity="critical", got {raw!r}')
    try:
        return parse_matcher(raw)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


MatcherField = Annotated[Matcher, BeforeValidator(_matcher), PlainSerializer(str)]

DEFAULT_SEVERITY_MAP = {
    "critical": Severity.P1,
    "error": Severity.P2,
    "high": Severity.P2,
    "warning": Severity.P3,
    "info": Severity.P4,
    "low": Severity.P4,
}


class AlertRule(Section):
    """The first rule whose matchers all match decides; fields it leaves out fall through."""

    name: str | None = None
    matchers: list[MatcherField] = Field(min_length=1)
    service: str | None = None
    severity: Severity | None = None
    action: Literal["declare", "alert_only"] = "declare"

    @field_validator("service")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return clean_slug(value, "service")
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None


class AlertPolicy(Section):
    # Labels (or PagerDuty payload fields) read for the sender's severity and the service.
    severity_labels: list[str] = ["severity", "priority"]
    service_labels: list[str] = ["service"]
    severity_map: dict[str, Severity] = DEFAULT_SEVERITY_MAP
    default_severity: Severity = Severity.P3
    # A service's tier may raise its alerts' severity: {1: P2} makes tier-1 alerts at least P2.
    tier_floor: dict[int, Severity] = {1: Severity.P2}
    rules: list[AlertRule] = []
    # An incident resolved less than this long ago is reopened by a new alert of its group,
    # so a flapping alert does not open a new incident each time (0: always a new one).
    reopen_window: Duration = timedelta(0)
    # When every alert of an incident that alerts declared has resolved.
    when_all_resolved: Literal["monitoring", "resolve"] = "monitoring"

    @field_validator("severity_map")
    @classmethod
    def _lowercase(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        return {k.strip().lower(): v for k, v in value.items()}

    @field_validator("tier_floor")
    @classmethod
    def _tiers(cls, value: dict[int, Severity]) -> dict[int, Severity]:
        wrong = [tier for tier in value if tier not in (1, 2, 3)]
        if wrong:
            raise ValueError(f"tiers are 1, 2 or 3, not {wrong}")
        return value

    def source_severity(self, labels: Mapping[str, str]) -> str:
        return next((labels[n] for n in self.severity_labels if labels.get(n)), "")

    def route(
        self, labels: Mapping[str, str], source_severity: str, default_service: str | None
    ) -> Route:
        """Service, severity and action for an alert with these labels."""
        rule = next((r for r in self.rules if all_match(tuple(r.matchers), labels)), None)
        service = rule.service if rule and rule.service else self._labelled_service(labels)
        severity = rule.severity if rule and rule.severity else None
        if severity is None:
            severity = self.severity_map.get(source_severity.strip().lower(), self.default_severity)
        return Route(
            severity=severity,
            service=service or default_service,
            declare=rule is None or rule.action == "declare",
            rule=(rule.name or ", ".join(str(m) for m in rule.matchers)) if rule else None,
        )

    def floor_for_tier(self, severity: Severity, tier: int | None) -> Severity:
        floor = self.tier_floor.get(tier) if tier is not None else None
        return floor if floor is not None and floor.is_more_severe_than(severity) else severity

    def _labelled_service(self, labels: Mapping[str, str]) -> str | None:
        for name in self.service_labels:
            raw = labels.get(name, "")
            if raw:
                try:
                    return clean_slug(raw, "service")
                except InvalidInput:
                    continue  # a label value that cannot be a slug names no service of ours
        return None
