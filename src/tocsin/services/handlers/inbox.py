"""The alert inbox: apply accepted deliveries in arrival order, and set aside those that fail."""

from __future__ import annotations

from functools import partial

from tocsin.domain import commands
from tocsin.domain.alerts import IntakeResult
from tocsin.domain.errors import InboxItemFailed, NotFound
from tocsin.domain.integrations import Integration
from tocsin.services.handlers.alerts import Intake
from tocsin.services.handlers.blame import blamed_on
from tocsin.services.messagebus import Context


def retry_inbox_item(cmd: commands.RetryInboxItem, ctx: Context) -> None:
    if not ctx.uow.inbox.retry(cmd.item_id):
        raise NotFound(f"no set-aside delivery {cmd.item_id}", field="item")


def process_inbox(cmd: commands.ProcessInbox, ctx: Context) -> dict[int, IntakeResult]:
    """Apply accepted deliveries in arrival order, in one transaction; their results by id."""
    inbox = ctx.uow.inbox
    if not inbox.claim():
        return {}  # another process is applying them
    now = ctx.clock.now()
    for item_id, error in cmd.quarantine:
        inbox.set_aside(item_id, error, now)
    results: dict[int, IntakeResult] = {}
    integrations: dict[int, Integration] = {}
    intake = Intake(ctx, now)
    items = inbox.pending(cmd.limit, now)
    keys_by_integration: dict[int, set[str]] = {}
    for item in items:
        keys_by_integration.setdefault(item.integration_id, set()).update(
            s.dedup_key for s in item.signals
        )
    for integration_id, keys in keys_by_integration.items():
        intake.prefetch(integration_id, keys)
    for item in items:
        with blamed_on(partial(InboxItemFailed, item.id)):
            if item.integration_id not in integrations:
                integrations[item.integration_id] = ctx.uow.integrations.get(item.integration_id)
            intake.route(integrations[item.integration_id], item.signals)
    intake.prepare()
    for item in items:
        with blamed_on(partial(InboxItemFailed, item.id)):
            intake.start(integrations[item.integration_id], item.id, item.received_at)
            for signal in item.signals:
                intake.receive(signal)
        results[item.id] = intake.result
    by_id = {item.id: item for item in items}
    for delivery, incident_id in intake.incidents.unsettled():
        with blamed_on(partial(InboxItemFailed, delivery or 0)):
            item = by_id[delivery or 0]  # settled in the name of the delivery that did it
            intake.start(integrations[item.integration_id], item.id, item.received_at)
            intake.settle(incident_id)
    inbox.remove(list(results))
    return results
