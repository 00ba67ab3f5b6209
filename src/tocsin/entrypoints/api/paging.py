"""Paging over HTTP: an incident's escalation and pages, and the delivery outbox."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from tocsin.bootstrap import Tocsin
from tocsin.domain.incidents import parse_reference, reference
from tocsin.entrypoints.api.deps import get_tocsin, read_access
from tocsin.views.accounts import Principal
from tocsin.views.paging import DeliveryView

router = APIRouter(prefix="/api/v1", tags=["paging"])
DeliveryStatus = Literal["pending", "sending", "sent", "dead", "cancelled"]


class EscalationRead(BaseModel):
    severity: str
    state: str
    step: int
    round: int
    started_at: datetime
    next_step_at: datetime | None


class DeliveryRead(BaseModel):
    id: int
    incident: str
    person: str | None
    channel: str
    method: str
    address: str
    status: str
    step: int | None
    round: int
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    last_error: str
    created_at: datetime


class PagingRead(BaseModel):
    escalation: EscalationRead | None
    deliveries: list[DeliveryRead]


def _delivery(view: DeliveryView) -> DeliveryRead:
    fields = asdict(view)
    fields["incident"] = reference(fields.pop("incident_id"))
    return DeliveryRead(**fields)


@router.get("/incidents/{ref}/paging", response_model=PagingRead, tags=["incidents"])
def incident_paging(
    ref: str, principal: Principal = Depends(read_access), tocsin: Tocsin = Depends(get_tocsin)
) -> PagingRead:
    """Where the incident's escalation stands and every page it sent, waits to send or gave up."""
    incident_id = parse_reference(ref)
    tocsin.incidents.require(incident_id, principal)
    found = tocsin.paging.for_incident(incident_id)
    escalation = EscalationRead(**asdict(found.escalation)) if found.escalation else None
    return PagingRead(escalation=escalation, deliveries=[_delivery(d) for d in found.deliveries])


@router.get("/deliveries", response_model=list[DeliveryRead])
def deliveries(
    status: DeliveryStatus | None = None,
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(read_access),
    tocsin: Tocsin = Depends(get_tocsin),
) -> list[DeliveryRead]:
    """The newest deliveries; `status=dead` lists the pages Tocsin gave up on."""
    found = tocsin.paging.deliveries(status=status, limit=limit, viewer=principal)
    return [_delivery(d) for d in found]
