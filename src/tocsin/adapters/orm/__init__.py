"""Table definitions: the one description of the schema, used by repositories, views and Alembic.

One module per part of the product; everything is reachable as `orm.<name>`.
"""

from __future__ import annotations

from tocsin.adapters.orm.accounts import (
    api_tokens,
    users,
    web_sessions,
)
from tocsin.adapters.orm.alerts import (
    alert_groups,
    alert_inbox,
    alerts,
    change_events,
    heartbeats,
    integrations,
    silences,
)
from tocsin.adapters.orm.base import DEFERRED, JsonDocument, UtcDateTime, metadata
from tocsin.adapters.orm.core import (
    MILESTONE_COLUMNS,
    POSTGRES_SEARCH_INDEXES,
    SQLITE_SEARCH_TABLE,
    incident_roles,
    incident_services,
    incidents,
    modelled,
    people,
    service_dependencies,
    services,
    team_members,
    teams,
    timeline_entries,
)
from tocsin.adapters.orm.paging import (
    ack_links,
    deliveries,
    escalations,
    schedules,
)
from tocsin.adapters.orm.war_room import (
    action_runs,
    actions,
    incident_participants,
    incident_runbooks,
    incident_tasks,
    incident_workflows,
    runbooks,
    scheduled_updates,
    stakeholder_updates,
    update_promises,
    war_room_messages,
)

__all__ = [
    "DEFERRED",
    "MILESTONE_COLUMNS",
    "POSTGRES_SEARCH_INDEXES",
    "SQLITE_SEARCH_TABLE",
    "JsonDocument",
    "UtcDateTime",
    "ack_links",
    "action_runs",
    "actions",
    "alert_groups",
    "alert_inbox",
    "alerts",
    "api_tokens",
    "change_events",
    "deliveries",
    "escalations",
    "heartbeats",
    "incident_participants",
    "incident_roles",
    "incident_runbooks",
    "incident_services",
    "incident_tasks",
    "incident_workflows",
    "incidents",
    "integrations",
    "metadata",
    "modelled",
    "people",
    "runbooks",
    "scheduled_updates",
    "schedules",
    "service_dependencies",
    "services",
    "silences",
    "stakeholder_updates",
    "team_members",
    "teams",
    "timeline_entries",
    "update_promises",
    "users",
    "war_room_messages",
    "web_sessions",
]
