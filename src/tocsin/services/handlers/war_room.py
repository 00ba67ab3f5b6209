"""War-room effects beyond the incident: copies of its messages in the team's chat tools."""

from __future__ import annotations

from tocsin.domain import events
from tocsin.domain.actors import Actor
from tocsin.domain.paging import Delivery
from tocsin.domain.timeline import EntryKind
from tocsin.domain.war_room import mirrored_text
from tocsin.services.messagebus import Context


def hush_channels(event: events.IncidentVisibilityChanged, ctx: Context) -> None:
    """An incident made private: what was queued for chat and stakeholder channels stays unsent."""
    if not event.private:
        return
    cancelled = ctx.uow.deliveries.cancel_to_channels(event.incident_id)
    if cancelled:
        ctx.uow.incidents.get(event.incident_id).log(
            EntryKind.VISIBILITY_CHANGED,
            f"Cancelled {cancelled} queued message(s) to channels: the incident is now private",
            Actor.system(),
            ctx.clock.now(),
            data={"cancelled": cancelled},
        )


def mirror_message(event: events.WarRoomMessagePosted, ctx: Context) -> None:
    """Queue a copy of a message for each mirror destination, through the paging outbox.

    Messages that came from chat are not sent back out, and private incidents stay out of chat.
    """
    destinations = ctx.policy.channels.war_room.mirror
    if event.via is not None or not destinations:
        return
    incident = ctx.uow.incidents.get(event.incident_id)
    if incident.private:
        return
    text = mirrored_text(incident.reference, event.author, event.body)
    now = ctx.clock.now()
    for name in destinations:
        ctx.uow.deliveries.queue(
            Delivery.to_channel(
                incident.id,
                name,
                f"{incident.reference} war room",
                text,
                now,
                event="message",
                key=("message", event.posted_at.isoformat(), event.author, text),
            )
        )
    ctx.uow.wake_paging()
