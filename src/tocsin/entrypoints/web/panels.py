"""The incident page as data, loaded lazily per panel so a live refresh reads only what it shows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from fastapi import Request
from fastapi.responses import HTMLResponse

from tocsin.bootstrap import Tocsin
from tocsin.domain.errors import NotFound
from tocsin.domain.incident_details import DetectionSource
from tocsin.domain.milestones import Milestone
from tocsin.domain.roles import Role
from tocsin.domain.severities import Severity
from tocsin.domain.statuses import Status, allowed_from
from tocsin.domain.timeline import MANUAL_KINDS
from tocsin.entrypoints.web.communication_panel import CommunicationsPanel
from tocsin.entrypoints.web.forms import EMPTY, FormState
from tocsin.entrypoints.web.templating import render
from tocsin.policy.durations import format_duration
from tocsin.policy.model import SeverityLevel
from tocsin.views.accounts import Principal
from tocsin.views.alerts import AlertFilter, AlertView
from tocsin.views.catalog import PersonView, ServiceView
from tocsin.views.changes import ChangeView
from tocsin.views.incidents import EntryView, IncidentDetail
from tocsin.views.pagination import Page
from tocsin.views.paging import IncidentPaging
from tocsin.views.runbooks import IncidentRunbooks
from tocsin.views.war_room import MessageView, ParticipantView
from tocsin.views.workflows import WorkflowBoard

# Panels re-fetched when the incident changes; the others hold forms whose choices never depend
# on the incident's state, so a live refresh would only risk losing what someone is typing.
LIVE_PANELS: tuple[str, ...] = (
    "details",
    "timeline",
    "status",
    "severity",
    "edit",
    "alerts",
    "changes",
    "paging",
    "messages",
    "participants",
    "workflow",  # the stage stepper and its checklist
    "tasks",  # the task graph
    "communications",  # the "next update by" contract and the updates sent
    "runbooks",  # runbooks, actions and their runs, alert clearance
)
# Forms are not live: a refresh would lose what someone is writing.
PANELS = (*LIVE_PANELS, "roles", "note", "timestamp", "message", "compose", "checks")
# The alerts panel lists this many; the rest are a link to the filtered alert list away.
ALERTS_SHOWN = 20


@dataclass(frozen=True)
class SeverityChoice:
    """A severity level as the forms offer it, with the policy's name and response time."""

    level: Severity
    name: str
    impact: str
    response_time: str


def severity_choices(tocsin: Tocsin) -> list[SeverityChoice]:
    """P1 to P4 as the policy describes them."""
    return [
        SeverityChoice(s, lvl.name, lvl.impact, format_duration(lvl.response_time))
        for s, lvl in sorted(tocsin.policy.severities.items(), key=lambda kv: kv[0].rank)
    ]


class IncidentPage:
    """Everything the incident page and its panels show; each query runs only when used."""

    milestones = tuple(Milestone)
    roles = tuple(Role)
    entry_kinds = MANUAL_KINDS
    detection_sources = tuple(DetectionSource)

    def __init__(
        self,
        tocsin: Tocsin,
        incident_id: int,
        viewer: Principal,
        forms: Mapping[str, FormState] | None = None,
    ) -> None:
        self._tocsin = tocsin
        self.id = incident_id
        self.viewer = viewer
        self._forms = dict(forms or {})

    def check_visible(self) -> None:
        """NotFound unless the incident exists and the viewer may see it."""
        self._tocsin.incidents.require(self.id, self.viewer)

    def form(self, name: str) -> FormState:
        return self._forms.get(name, EMPTY)

    @cached_property
    def detail(self) -> IncidentDetail:
        return self._tocsin.incidents.detail(self.id, self.viewer)

    @cached_property
    def timeline(self) -> list[EntryView]:
        return self._tocsin.incidents.timeline(self.id, viewer=self.viewer)

    @cached_property
    def alerts(self) -> Page[AlertView]:
        """The alerts that declared or joined the incident, newest first."""
        return self._tocsin.alerts.list(
            AlertFilter(incident_id=self.id, viewer=self.viewer), limit=ALERTS_SHOWN
        )

    @cached_property
    def changes(self) -> list[ChangeView]:
        """Deploys and changes to its services in the hour before it started: the suspects."""
        return self._tocsin.changes.before_incident(self.id)

    @cached_property
    def paging(self) -> IncidentPaging:
        """Its escalation and the pages it sent, waiting or given up on."""
        return self._tocsin.paging.for_incident(self.id)

    @cached_property
    def messages(self) -> list[MessageView]:
        """The war room's conversation, oldest first."""
        return self._tocsin.war_room.messages(self.id, self.viewer)

    @cached_property
    def participants(self) -> list[ParticipantView]:
        return self._tocsin.war_room.participants(self.id, self.viewer)

    @cached_property
    def my_handle(self) -> str | None:
        """The viewer's catalog handle, if their account is linked to a person."""
        return self._tocsin.war_room.handle_of(self.viewer.person_id)

    @property
    def acknowledged(self) -> bool:
        return self.detail.stamp("acknowledged_at") is not None

    @cached_property
    def people(self) -> list[PersonView]:
        return self._tocsin.catalog.people()

    @cached_property
    def services(self) -> list[ServiceView]:
        return self._tocsin.catalog.services()

    @property
    def severity(self) -> SeverityLevel:
        return self._tocsin.policy.severities[Severity(self.detail.severity)]

    @property
    def response_time(self) -> str:
        return format_duration(self.severity.response_time)

    @cached_property
    def severity_choices(self) -> list[SeverityChoice]:
        return severity_choices(self._tocsin)

    @property
    def allowed(self) -> tuple[Status, ...]:
        return allowed_from(Status(self.detail.status))

    @property
    def war_room(self) -> dict[str, str]:
        return self._tocsin.policy.war_room(self.id)

    @property
    def events_url(self) -> str:
        return f"/incidents/{self.id}/events?since={self.detail.version}"

    def url(self, action: str = "") -> str:
        return f"/incidents/{self.id}{'/' + action if action else ''}"

    # ----- workflow ---------------------------------------------------------------------------
    @cached_property
    def workflow(self) -> WorkflowBoard | None:
        """Its stages, checklist and tasks as of now; None when it runs no workflow."""
        try:
            return self._tocsin.workflows.board(self.id, self._tocsin.clock.now())
        except NotFound:
            return None

    # ----- communications (issue 5) -----
    @cached_property
    def communications(self) -> CommunicationsPanel:
        return CommunicationsPanel(self._tocsin, self.id)

    # ----- runbooks, actions and recovery checks ------------------------------------------------
    @cached_property
    def runbooks(self) -> IncidentRunbooks:
        """Attached and suggested runbooks, actions, recent runs and alert clearance."""
        return self._tocsin.runbooks.for_incident(self.id, self._tocsin.clock.now())


def render_panel(
    request: Request,
    page: IncidentPage,
    name: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """One panel of the incident page on its own, for htmx to swap in."""
    if name not in PANELS:
        raise NotFound(f"no panel named {name!r}", field="panel")
    # Also for refusals: a panel must not show a private incident to someone outside it.
    page.check_visible()
    return render(
        request, f"incidents/panels/{name}.html", {"page": page}, status=status, headers=headers
    )


def render_page(
    request: Request, page: IncidentPage, *, status: int = 200, flash: FormState | None = None
) -> HTMLResponse:
    """The whole incident page (first load, and refusals when JavaScript is off)."""
    page.check_visible()
    return render(
        request,
        "incidents/page.html",
        {"page": page, "flash": flash},
        status=status,
    )
