"""The one renderer of stakeholder updates, so every channel and the preview read the same."""

from __future__ import annotations

import functools
from datetime import datetime

from jinja2 import Template

from tocsin.domain.communications import UpdateFacts, UpdateTemplate, clock_time, stamp_time
from tocsin.policy.model import TEMPLATE_ENV, Policy


def render_update(
    policy: Policy,
    template: UpdateTemplate,
    facts: UpdateFacts,
    now: datetime,
    *,
    summary: str,
    actions: tuple[str, ...],
    next_update_at: datetime | None,
    closing: str,
) -> str:
    """The update's text from the policy's template; `closing` stands in for a next update."""
    source = (
        policy.templates.incident_declared
        if template is UpdateTemplate.INITIAL
        else policy.templates.incident_update
    )
    incident = {
        "reference": facts.reference,
        "severity": facts.severity,
        "title": facts.title,
        "status": facts.status,
        "services": list(facts.services),
        "user_impact": facts.user_impact,
        "customer_impact": facts.customer_impact,
        "incident_commander": facts.incident_commander,
        "war_room_url": facts.war_room_url,
        "status_page_url": facts.status_page_url,
    }
    return (
        _compiled(source)
        .render(
            incident=incident,
            now=stamp_time(now),
            summary=summary or "no change since the last update",
            next_update=clock_time(next_update_at) if next_update_at else closing,
            actions=list(actions),
        )
        .strip()
    )


@functools.lru_cache(maxsize=32)
def _compiled(source: str) -> Template:
    """A policy template compiled once: compiling costs far more than rendering."""
    return TEMPLATE_ENV.from_string(source)


def update_subject(facts: UpdateFacts, template: UpdateTemplate) -> str:
    """The subject line chat tools and mail show above the text."""
    return f"[{facts.severity}] {facts.reference} {template.label}: {facts.title}"
