"""The outbox's use cases: claim due deliveries under a lease, and record how sending went.

Sending itself happens outside any transaction (entrypoints/paging.py), between a claim and its
record; the fence makes a worker whose lease ran out unable to overwrite the newer claim's result.
"""

from __future__ import annotations

from datetime import timedelta

from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.errors import NotFound
from tocsin.domain.paging import (
    AckLink,
    Delivery,
    DeliveryFailure,
    DeliveryStatus,
    hash_token,
    idempotency_key,
)
from tocsin.domain.severities import Severity
from tocsin.domain.timeline import EntryKind
from tocsin.services.messagebus import Context
from tocsin.services.paging.escalations import ENGINE, contact_plan


def claim_deliveries(cmd: commands.ClaimDeliveries, ctx: Context) -> list[Delivery]:
    """Due deliveries under a lease; each page to a person carries a fresh acknowledgement link."""
    now = ctx.clock.now()
    claimed = ctx.uow.deliveries.claim(now, timedelta(seconds=cmd.lease_seconds), cmd.limit)
    claimed = [d for d in claimed if not _lost_too_often(d, ctx)]
    links = []
    for delivery in claimed:
        if delivery.person_id is not None and delivery.step is not None:  # pages, not reminders
            token, link = AckLink.mint(delivery.incident_id, delivery.person_id, now)
            links.append(link)
            delivery.ack_token = token
    ctx.uow.ack_links.add_all(links)
    return claimed


def acknowledge_by_link(cmd: commands.AcknowledgeByLink, ctx: Context) -> int:
    """Acknowledge the incident a page was about; returns its id."""
    link = ctx.uow.ack_links.get(hash_token(cmd.token))
    if link is None:
        raise NotFound("this acknowledgement link is not valid", field="token")
    now = ctx.clock.now()
    link.use(now)
    ctx.uow.ack_links.save(link)
    people = ctx.uow.people.get_many([link.person_id]) if link.person_id else {}
    person = people.get(link.person_id or 0)
    actor = Actor(f"{person.name if person else 'someone'} (page link)")
    ctx.uow.incidents.get(link.incident_id).acknowledge(actor, now)
    return link.incident_id


def record_deliveries(cmd: commands.RecordDeliveries, ctx: Context) -> list[DeliveryStatus | None]:
    found = ctx.uow.deliveries.get_many([outcome.delivery_id for outcome in cmd.outcomes])
    missing = [o.delivery_id for o in cmd.outcomes if o.delivery_id not in found]
    if missing:
        raise NotFound(f"no delivery {missing[0]}", field="delivery")
    # A failure may touch its incident: lock those first, as acknowledging does, then the rows.
    ctx.uow.incidents.load([found[o.delivery_id].incident_id for o in cmd.outcomes if o.error])
    return [_record(outcome, found[outcome.delivery_id], ctx) for outcome in cmd.outcomes]


def _record(
    cmd: commands.DeliveryOutcome, delivery: Delivery, ctx: Context
) -> DeliveryStatus | None:
    """The delivery's new status, or None when this worker's claim had gone stale."""
    now = ctx.clock.now()
    if delivery.fence != cmd.fence or delivery.status is not DeliveryStatus.SENDING:
        return None
    if not cmd.error:
        delivery.sent(now)
        ctx.uow.deliveries.record(delivery)
        return delivery.status
    failure = DeliveryFailure.PERMANENT if cmd.permanent else DeliveryFailure.TRANSIENT
    retrying = delivery.failed(failure, cmd.error, now, ctx.policy.paging.retry)
    ctx.uow.deliveries.record(delivery)
    if retrying:
        ctx.uow.wake_paging()
    else:
        _give_up(delivery, cmd.error, ctx)
    return delivery.status


def _lost_too_often(delivery: Delivery, ctx: Context) -> bool:
    """A page claimed again after more attempts than retries allow: every worker sending it
    vanished before recording how it went (a send that crashes the process, say). It is given
    up, and the person's next contact method tried, instead of being claimed forever."""
    if delivery.attempts <= ctx.policy.paging.retry.attempts:
        return False
    error = f"no worker reported how sending went, {delivery.attempts - 1} time(s)"
    delivery.failed(DeliveryFailure.PERMANENT, error, ctx.clock.now(), ctx.policy.paging.retry)
    ctx.uow.deliveries.record(delivery)
    _give_up(delivery, error, ctx)
    return True


def _give_up(delivery: Delivery, error: str, ctx: Context) -> None:
    """A dead delivery: on the incident's timeline, with the fallback tried instead."""
    incident = ctx.uow.incidents.get(delivery.incident_id)
    fallback = _fallback(delivery, ctx)
    what = f"{delivery.method} to {delivery.address}"
    then = f"; trying {fallback.method} to {fallback.address}" if fallback else ""
    incident.log(
        EntryKind.DELIVERY_FAILED,
        f"Giving up on {what} after {delivery.attempts} attempt(s): {error}{then}",
        ENGINE,
        ctx.clock.now(),
        data={"delivery_id": delivery.id, "person_id": delivery.person_id},
    )


def _fallback(failed: Delivery, ctx: Context) -> Delivery | None:
    """The person's next contact method after the one that failed, queued now; None if none."""
    if failed.person_id is None:
        return None
    person = ctx.uow.people.get_many([failed.person_id]).get(failed.person_id)
    if person is None:
        return None
    plan = contact_plan(person, ctx.policy.notification_channels[_severity(failed, ctx)])
    tried = (failed.method, failed.address)
    later = plan[plan.index(tried) + 1 :] if tried in plan else []
    now = ctx.clock.now()
    for kind, address in later:
        key = idempotency_key(
            failed.incident_id, failed.round, failed.step, failed.person_id, kind, address
        )
        fallback = Delivery(
            incident_id=failed.incident_id,
            channel=kind,
            method=kind,
            address=address,
            subject=failed.subject,
            body=failed.body,
            idempotency_key=key,
            due_at=now,
            created_at=now,
            person_id=failed.person_id,
            step=failed.step,
            round=failed.round,
        )
        if ctx.uow.deliveries.add(fallback):  # already queued by the step: try the one after
            ctx.uow.wake_paging()
            return fallback
    return None


def _severity(delivery: Delivery, ctx: Context) -> Severity:
    escalation = ctx.uow.escalations.for_incident(delivery.incident_id)
    if escalation is not None:
        return escalation.severity
    return ctx.uow.incidents.get(delivery.incident_id).severity
