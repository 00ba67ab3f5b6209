"""/api/v1/integrations, /alerts and /silences: where alerts come from, what came, what is muted."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, model_validator

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.incidents import parse_reference, reference
from tocsin.domain.integrations import IntegrationKind
from tocsin.domain.matchers import parse_matchers
from tocsin.entrypoints.api.deps import admin_access, get_tocsin, read_access, write_access
from tocsin.entrypoints.api.schemas import Input, parsed
from tocsin.entrypoints.api.senders.generic import GenericMapping
from tocsin.policy.durations import parse_duration
from tocsin.views.accounts import Principal
from tocsin.views.alerts import (
    AlertFilter,
    AlertView,
    IntegrationView,
    SilenceView,
    parse_statuses,
)

router = APIRouter(prefix="/api/v1", tags=["alerts"])

KindIn = Annotated[IntegrationKind, parsed(IntegrationKind.parse)]


# ----- integrations ---------------------------------------------------------------------------
class IntegrationCreate(Input):
    name: str = Field(min_length=1, max_length=63)
    kind: KindIn
    service: str | None = Field(None, max_length=63)
    secret: str | None = Field(
        None, min_length=8, max_length=255, description="Grafana HMAC secret"
    )
    config: dict[str, Any] = Field(
        {},
        description="generic: where each field is (title, dedup_key, severity, service, resolved, "
        "… as JMESPath or Jinja); heartbeat: interval (e.g. 5m) and severity",
    )

    @model_validator(mode="after")
    def _config_fits_the_kind(self) -> IntegrationCreate:
        object.__setattr__(self, "config", stored_config(self.kind, self.config))
        return self


def stored_config(kind: IntegrationKind, config: dict[str, Any]) -> dict[str, Any]:
    """The config as stored: a generic mapping with every expression compiled, a heartbeat's
    interval in seconds; other kinds take none. ValueError says what is wrong."""
    if kind is IntegrationKind.GENERIC:
        return GenericMapping.model_validate(config).model_dump(exclude_none=True)
    if kind is IntegrationKind.HEARTBEAT:
        return HeartbeatConfig.model_validate(config).stored()
    if config:
        raise ValueError(f"a {kind.value} integration takes no config")
    return {}


class HeartbeatConfig(Input):
    interval: Annotated[timedelta, BeforeValidator(parse_duration)] = Field(
        description="ping at least this often: 30s, 5m, 1h"
    )
    severity: str = Field("error", description="severity of the missed-heartbeat alert")

    def stored(self) -> dict[str, Any]:
        return {"interval_seconds": int(self.interval.total_seconds()), "severity": self.severity}


class IntegrationRead(BaseModel):
    name: str
    kind: str
    service: str | None
    signed: bool
    key: str
    url: str = Field(description="What to configure in the sender")
    config: dict[str, Any] = Field(description="generic: its mapping; heartbeat: its interval")
    created_at: datetime
    created_by: str
    key_rotated_at: datetime | None


def endpoint_url(base: str, kind: str, key: str) -> str:
    """The address a sender posts to; PagerDuty senders use the base URL and the key apart."""
    if kind == IntegrationKind.PAGERDUTY.value:
        return f"{base}/v2/enqueue"
    return f"{base}/hooks/{kind}/{key}"


def _integration_read(tocsin: Tocsin, view: IntegrationView) -> IntegrationRead:
    return IntegrationRead(
        name=view.name,
        kind=view.kind,
        service=view.service,
        signed=view.signed,
        key=view.key,
        url=endpoint_url(tocsin.settings.public_url(), view.kind, view.key),
        config=view.config,
        created_at=view.created_at,
        created_by=view.created_by,
        key_rotated_at=view.key_rotated_at,
    )


@router.get("/integrations", response_model=list[IntegrationRead])
def list_integrations(
    _: Principal = Depends(admin_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[IntegrationRead]:
    return [_integration_read(tocsin, i) for i in tocsin.alerts.integrations()]


@router.post("/integrations", status_code=201, response_model=IntegrationRead)
def create_integration(
    body: IntegrationCreate,
    principal: Principal = Depends(admin_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> IntegrationRead:
    made = tocsin.handle(
        commands.CreateIntegration(
            body.name, body.kind, principal.actor, body.service, body.secret, body.config
        )
    )
    return _integration_read(tocsin, tocsin.alerts.integration(made.name))


@router.post("/integrations/{name}/rotate-key", response_model=IntegrationRead)
def rotate_integration_key(
    name: str, principal: Principal = Depends(admin_access), tocsin: Tocsin = Depends(get_tocsin)
) -> IntegrationRead:
    """A new key; the old one stops working at once."""
    tocsin.handle(commands.RotateIntegrationKey(name, principal.actor))
    return _integration_read(tocsin, tocsin.alerts.integration(name))


# ----- alerts ---------------------------------------------------------------------------------
class AlertSummaryRead(BaseModel):
    id: int
    integration: str
    status: str
    title: str
    severity: str
    source_severity: str
    service: str | None
    incident: str | None
    silenced_by: int | None
    started_at: datetime | None
    ended_at: datetime | None
    first_received_at: datetime
    last_received_at: datetime
    received_count: int


class AlertRead(AlertSummaryRead):
    integration_kind: str
    dedup_key: str
    declares: bool
    rule: str | None
    acknowledged_at: datetime | None
    description: str
    labels: dict[str, str]
    annotations: dict[str, str]
    details: dict[str, Any]
    links: list[dict[str, str]]
    source: str
    raw: dict[str, Any] = Field(description="The alert as its sender last sent it")


class AlertPage(BaseModel):
    items: list[AlertSummaryRead]
    next_cursor: str | None


def _fields(view: AlertView) -> dict[str, Any]:
    data = asdict(view)
    data["incident"] = reference(view.incident_id) if view.incident_id else None
    return data


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    status: list[str] = Query(
        [], description="firing, acknowledged, resolved, open, or silenced (muted by a silence)"
    ),
    integration: str | None = None,
    service: str | None = None,
    incident: str | None = Query(None, description="INC-12 or 12"),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = None,
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> AlertPage:
    statuses, silenced = parse_statuses(s for value in status for s in value.split(","))
    filters = AlertFilter(
        statuses=statuses,
        silenced=silenced,
        integration=integration.strip().lower() if integration else None,
        service=service.strip().lower() if service else None,
        incident_id=parse_reference(incident) if incident else None,
        viewer=principal,
    )
    page = tocsin.alerts.list(filters, limit=limit, cursor=cursor)
    return AlertPage(
        items=[AlertSummaryRead(**_fields(a)) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/alerts/{alert_id}", response_model=AlertRead)
def get_alert(
    alert_id: int, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> AlertRead:
    return AlertRead(**_fields(tocsin.alerts.alert(alert_id, principal)))


# ----- silences -------------------------------------------------------------------------------
class SilenceCreate(Input):
    matchers: list[str] = Field(
        min_length=1, description='Alertmanager syntax: name="value", !=, =~ or !~'
    )
    ends_at: AwareDatetime
    starts_at: AwareDatetime | None = None
    comment: str = Field(min_length=1, max_length=1_000)


class SilenceRead(BaseModel):
    id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    state: str
    comment: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None


def _silence_read(tocsin: Tocsin, view: SilenceView) -> SilenceRead:
    return SilenceRead(**asdict(view), state=view.state(tocsin.clock.now()))


@router.get("/silences", response_model=list[SilenceRead])
def list_silences(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[SilenceRead]:
    return [_silence_read(tocsin, s) for s in tocsin.alerts.silences()]


@router.post("/silences", status_code=201, response_model=SilenceRead)
def create_silence(
    body: SilenceCreate,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> SilenceRead:
    made = tocsin.handle(
        commands.CreateSilence(
            parse_matchers(body.matchers),
            body.ends_at,
            body.comment,
            principal.actor,
            body.starts_at,
        )
    )
    return _silence_read(tocsin, tocsin.alerts.silence(made.id))


@router.delete("/silences/{silence_id}", response_model=SilenceRead)
def expire_silence(
    silence_id: int,
    principal: Principal = Depends(write_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> SilenceRead:
    """End a silence now; it stays listed as expired."""
    tocsin.handle(commands.ExpireSilence(silence_id, principal.actor))
    return _silence_read(tocsin, tocsin.alerts.silence(silence_id))


# ----- changes --------------------------------------------------------------------------------
class ChangeRead(BaseModel):
    id: int
    integration: str
    summary: str
    service: str | None
    source: str
    occurred_at: datetime
    received_at: datetime
    details: dict[str, Any]
    links: list[dict[str, str]]


class SetAsideRead(BaseModel):
    id: int
    integration: str
    received_at: datetime
    failed_at: datetime
    error: str
    alerts: int


@router.get("/inbox/set-aside", response_model=list[SetAsideRead])
def set_aside_deliveries(
    _: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[SetAsideRead]:
    """Accepted deliveries that could not be applied; kept until retried."""
    return [SetAsideRead(**asdict(item)) for item in tocsin.alerts.set_aside()]


@router.post("/inbox/{item_id}/retry", status_code=204)
def retry_set_aside(
    item_id: int, _: Principal = Depends(write_access), tocsin: Tocsin = Depends(get_tocsin)
) -> None:
    """Put a set-aside delivery back in line, after fixing what made it fail."""
    tocsin.handle(commands.RetryInboxItem(item_id))


@router.get("/changes", response_model=list[ChangeRead])
def list_changes(
    service: list[str] = Query([], description="service slugs"),
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: int = Query(100, ge=1, le=500),
    _: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[ChangeRead]:
    """Deploys and configuration changes, newest first."""
    slugs = tuple(s.strip().lower() for value in service for s in value.split(",") if s.strip())
    found = tocsin.changes.list(services=slugs, since=since, until=until, limit=limit)
    return [ChangeRead(**asdict(c)) for c in found]


@router.get("/incidents/{ref}/changes", response_model=list[ChangeRead], tags=["incidents"])
def incident_changes(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> list[ChangeRead]:
    """Changes to the incident's services from an hour before it started until it was declared."""
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)
    found = tocsin.changes.before_incident(incident_id)
    return [ChangeRead(**asdict(c)) for c in found]


@router.get("/incidents/{ref}/alerts", response_model=AlertPage, tags=["incidents"])
def incident_alerts(
    ref: str,
    limit: int = Query(200, ge=1, le=200),
    cursor: str | None = None,
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> AlertPage:
    """The alerts that declared or joined the incident."""
    tocsin.incidents.require(parse_reference(ref), principal)
    return list_alerts(
        status=[], integration=None, service=None, incident=ref, limit=limit, cursor=cursor,
        principal=principal, tocsin=tocsin,
    )  # fmt: skip
