"""Where CLI commands go: the database directly (the API's own route functions), or a server."""

from __future__ import annotations

import getpass
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from tocsin.bootstrap import Tocsin
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.entrypoints.api import alerts as alerts_api
from tocsin.entrypoints.api import catalog as catalog_api
from tocsin.entrypoints.api import incidents as incidents_api
from tocsin.entrypoints.api import schedules as schedules_api
from tocsin.entrypoints.api import schemas
from tocsin.views.accounts import Principal

M = TypeVar("M")


class RemoteError(Exception):
    """A server refused a request; the message is its problem detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Backend(Protocol):
    def list_incidents(self, params: dict[str, Any]) -> schemas.IncidentPage: ...
    def declare(self, body: schemas.IncidentCreate) -> schemas.IncidentRead: ...
    def show(self, ref: str) -> schemas.IncidentRead: ...
    def update(self, ref: str, body: schemas.IncidentUpdate) -> schemas.IncidentRead: ...
    def status(self, ref: str, body: schemas.StatusChange) -> schemas.IncidentRead: ...
    def severity(self, ref: str, body: schemas.SeverityChange) -> schemas.IncidentRead: ...
    def acknowledge(self, ref: str) -> schemas.IncidentRead: ...
    def assign_role(self, ref: str, body: schemas.RoleAssign) -> schemas.IncidentRead: ...
    def relieve_role(self, ref: str, role: str, person: str | None) -> schemas.IncidentRead: ...
    def set_timestamp(
        self, ref: str, name: str, body: schemas.TimestampSet
    ) -> schemas.IncidentRead: ...
    def timeline(self, ref: str, key_moments: bool) -> list[schemas.TimelineEntryRead]: ...
    def note(self, ref: str, body: schemas.TimelineEntryCreate) -> schemas.TimelineEntryRead: ...
    def key_moment(self, ref: str, seq: int, flag: bool) -> schemas.TimelineEntryRead: ...
    def people(self) -> list[schemas.PersonRead]: ...
    def teams(self) -> list[schemas.TeamRead]: ...
    def services(self) -> list[schemas.ServiceRead]: ...
    def create_person(self, body: schemas.PersonCreate) -> schemas.PersonRead: ...
    def create_team(self, body: schemas.TeamCreate) -> schemas.TeamRead: ...
    def create_service(self, body: schemas.ServiceCreate) -> schemas.ServiceRead: ...
    def import_catalog(self, text: str, source: str) -> schemas.ImportReport: ...
    def integrations(self) -> list[alerts_api.IntegrationRead]: ...
    def create_integration(
        self, body: alerts_api.IntegrationCreate
    ) -> alerts_api.IntegrationRead: ...
    def rotate_key(self, name: str) -> alerts_api.IntegrationRead: ...
    def alerts(self, params: dict[str, Any]) -> alerts_api.AlertPage: ...
    def alert(self, alert_id: int) -> alerts_api.AlertRead: ...
    def silences(self) -> list[alerts_api.SilenceRead]: ...
    def create_silence(self, body: alerts_api.SilenceCreate) -> alerts_api.SilenceRead: ...
    def expire_silence(self, silence_id: int) -> alerts_api.SilenceRead: ...
    def schedules(self) -> list[schedules_api.ScheduleSummaryRead]: ...
    def schedule(self, slug: str, params: dict[str, Any]) -> schedules_api.ScheduleRead: ...
    def oncall(self, params: dict[str, Any]) -> list[schedules_api.OnCallRead]: ...

    # ----- communications (issue 5) -----


class _Response:
    """Stands in for FastAPI's Response when route functions are called directly."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}


class LocalBackend:
    """Calls the API's route functions in-process, so both paths share every rule and message."""

    def __init__(self, tocsin: Tocsin, actor_name: str | None = None) -> None:
        self.tocsin = tocsin
        name = actor_name or f"{getpass.getuser()} (cli)"
        self.principal = Principal(None, name, name, OrgRole.ADMIN, Scope.ADMIN)

    def _ctx(self) -> dict[str, Any]:
        return {"principal": self.principal, "tocsin": self.tocsin}

    def list_incidents(self, params: dict[str, Any]) -> schemas.IncidentPage:
        return incidents_api.list_incidents(
            status=params.get("status", []),
            severity=params.get("severity", []),
            service=params.get("service"),
            since=params.get("since"),
            until=params.get("until"),
            q=params.get("q"),
            limit=params.get("limit", 50),
            cursor=params.get("cursor"),
            principal=self.principal,
            tocsin=self.tocsin,
        )

    def declare(self, body: schemas.IncidentCreate) -> schemas.IncidentRead:
        return incidents_api.declare_incident(body, _Response(), **self._ctx())  # type: ignore[arg-type]

    def show(self, ref: str) -> schemas.IncidentRead:
        return incidents_api.get_incident(ref, self.principal, self.tocsin)

    def update(self, ref: str, body: schemas.IncidentUpdate) -> schemas.IncidentRead:
        return incidents_api.update_incident(ref, body, **self._ctx())

    def status(self, ref: str, body: schemas.StatusChange) -> schemas.IncidentRead:
        return incidents_api.change_status(ref, body, **self._ctx())

    def severity(self, ref: str, body: schemas.SeverityChange) -> schemas.IncidentRead:
        return incidents_api.reclassify(ref, body, **self._ctx())

    def acknowledge(self, ref: str) -> schemas.IncidentRead:
        return incidents_api.acknowledge(ref, **self._ctx())

    def assign_role(self, ref: str, body: schemas.RoleAssign) -> schemas.IncidentRead:
        return incidents_api.assign_role(ref, body, **self._ctx())

    def relieve_role(self, ref: str, role: str, person: str | None) -> schemas.IncidentRead:
        return incidents_api.relieve_role(ref, role, person, **self._ctx())

    def set_timestamp(
        self, ref: str, name: str, body: schemas.TimestampSet
    ) -> schemas.IncidentRead:
        return incidents_api.set_timestamp(ref, name, body, **self._ctx())

    def timeline(self, ref: str, key_moments: bool) -> list[schemas.TimelineEntryRead]:
        return incidents_api.get_timeline(ref, key_moments, self.principal, self.tocsin)

    def note(self, ref: str, body: schemas.TimelineEntryCreate) -> schemas.TimelineEntryRead:
        return incidents_api.add_timeline_entry(ref, body, **self._ctx())

    def key_moment(self, ref: str, seq: int, flag: bool) -> schemas.TimelineEntryRead:
        body = schemas.TimelineEntryUpdate(key_moment=flag)
        return incidents_api.flag_timeline_entry(ref, seq, body, **self._ctx())

    def people(self) -> list[schemas.PersonRead]:
        return catalog_api.list_people(self.principal, self.tocsin)

    def teams(self) -> list[schemas.TeamRead]:
        return catalog_api.list_teams(self.principal, self.tocsin)

    def services(self) -> list[schemas.ServiceRead]:
        return catalog_api.list_services(self.principal, self.tocsin)

    def create_person(self, body: schemas.PersonCreate) -> schemas.PersonRead:
        return catalog_api.create_person(body, _Response(), self.principal, self.tocsin)  # type: ignore[arg-type]

    def create_team(self, body: schemas.TeamCreate) -> schemas.TeamRead:
        return catalog_api.create_team(body, _Response(), self.principal, self.tocsin)  # type: ignore[arg-type]

    def create_service(self, body: schemas.ServiceCreate) -> schemas.ServiceRead:
        return catalog_api.create_service(body, _Response(), self.principal, self.tocsin)  # type: ignore[arg-type]

    def import_catalog(self, text: str, source: str) -> schemas.ImportReport:
        return catalog_api.import_catalog_text(self.tocsin, text, source)

    def integrations(self) -> list[alerts_api.IntegrationRead]:
        return alerts_api.list_integrations(self.principal, self.tocsin)

    def create_integration(self, body: alerts_api.IntegrationCreate) -> alerts_api.IntegrationRead:
        return alerts_api.create_integration(body, **self._ctx())

    def rotate_key(self, name: str) -> alerts_api.IntegrationRead:
        return alerts_api.rotate_integration_key(name, **self._ctx())

    def alerts(self, params: dict[str, Any]) -> alerts_api.AlertPage:
        return alerts_api.list_alerts(
            status=params.get("status", []),
            integration=params.get("integration"),
            service=params.get("service"),
            incident=params.get("incident"),
            limit=params.get("limit", 50),
            cursor=params.get("cursor"),
            principal=self.principal,
            tocsin=self.tocsin,
        )

    def alert(self, alert_id: int) -> alerts_api.AlertRead:
        return alerts_api.get_alert(alert_id, self.principal, self.tocsin)

    def silences(self) -> list[alerts_api.SilenceRead]:
        return alerts_api.list_silences(self.principal, self.tocsin)

    def create_silence(self, body: alerts_api.SilenceCreate) -> alerts_api.SilenceRead:
        return alerts_api.create_silence(body, **self._ctx())

    def expire_silence(self, silence_id: int) -> alerts_api.SilenceRead:
        return alerts_api.expire_silence(silence_id, **self._ctx())

    def schedules(self) -> list[schedules_api.ScheduleSummaryRead]:
        return schedules_api.list_schedules(self.principal, self.tocsin)

    def schedule(self, slug: str, params: dict[str, Any]) -> schedules_api.ScheduleRead:
        return schedules_api.get_schedule(
            slug, params.get("start"), params.get("end"), **self._ctx()
        )

    def oncall(self, params: dict[str, Any]) -> list[schedules_api.OnCallRead]:
        return schedules_api.who_is_on_call(
            params.get("service"),
            params.get("schedule"),
            params.get("at"),
            self.principal,
            self.tocsin,
        )

    # ----- communications (issue 5) -----


class HttpBackend:
    """The same operations against a running server's REST API."""

    def __init__(self, url: str, token: str | None, client: httpx.Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = client or httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30)
        if client is not None:
            self._client.headers.update(headers)

    def _call(self, method: str, path: str, model: type[M], **kwargs: Any) -> M:
        try:
            response = self._client.request(method, "/api/v1" + path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(0, f"cannot reach the server: {exc}") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text or response.reason_phrase
            raise RemoteError(response.status_code, str(detail))
        return TypeAdapter(model).validate_python(response.json())

    @staticmethod
    def _json(body: BaseModel) -> Any:
        return body.model_dump(mode="json", exclude_unset=True)

    def list_incidents(self, params: dict[str, Any]) -> schemas.IncidentPage:
        query = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in params.items()
            if v not in (None, [])
        }
        return self._call("GET", "/incidents", schemas.IncidentPage, params=query)

    def declare(self, body: schemas.IncidentCreate) -> schemas.IncidentRead:
        return self._call("POST", "/incidents", schemas.IncidentRead, json=self._json(body))

    def show(self, ref: str) -> schemas.IncidentRead:
        return self._call("GET", f"/incidents/{ref}", schemas.IncidentRead)

    def update(self, ref: str, body: schemas.IncidentUpdate) -> schemas.IncidentRead:
        return self._call("PATCH", f"/incidents/{ref}", schemas.IncidentRead, json=self._json(body))

    def status(self, ref: str, body: schemas.StatusChange) -> schemas.IncidentRead:
        return self._call(
            "POST", f"/incidents/{ref}/status", schemas.IncidentRead, json=self._json(body)
        )

    def severity(self, ref: str, body: schemas.SeverityChange) -> schemas.IncidentRead:
        return self._call(
            "POST", f"/incidents/{ref}/severity", schemas.IncidentRead, json=self._json(body)
        )

    def acknowledge(self, ref: str) -> schemas.IncidentRead:
        return self._call("POST", f"/incidents/{ref}/acknowledge", schemas.IncidentRead)

    def assign_role(self, ref: str, body: schemas.RoleAssign) -> schemas.IncidentRead:
        return self._call(
            "POST", f"/incidents/{ref}/roles", schemas.IncidentRead, json=self._json(body)
        )

    def relieve_role(self, ref: str, role: str, person: str | None) -> schemas.IncidentRead:
        params = {"person": person} if person else {}
        return self._call(
            "DELETE", f"/incidents/{ref}/roles/{role}", schemas.IncidentRead, params=params
        )

    def set_timestamp(
        self, ref: str, name: str, body: schemas.TimestampSet
    ) -> schemas.IncidentRead:
        return self._call(
            "PUT",
            f"/incidents/{ref}/timestamps/{name}",
            schemas.IncidentRead,
            json=self._json(body),
        )

    def timeline(self, ref: str, key_moments: bool) -> list[schemas.TimelineEntryRead]:
        params = {"key_moments": "true"} if key_moments else {}
        return self._call(
            "GET", f"/incidents/{ref}/timeline", list[schemas.TimelineEntryRead], params=params
        )

    def note(self, ref: str, body: schemas.TimelineEntryCreate) -> schemas.TimelineEntryRead:
        return self._call(
            "POST", f"/incidents/{ref}/timeline", schemas.TimelineEntryRead, json=self._json(body)
        )

    def key_moment(self, ref: str, seq: int, flag: bool) -> schemas.TimelineEntryRead:
        return self._call(
            "PATCH",
            f"/incidents/{ref}/timeline/{seq}",
            schemas.TimelineEntryRead,
            json={"key_moment": flag},
        )

    def people(self) -> list[schemas.PersonRead]:
        return self._call("GET", "/people", list[schemas.PersonRead])

    def teams(self) -> list[schemas.TeamRead]:
        return self._call("GET", "/teams", list[schemas.TeamRead])

    def services(self) -> list[schemas.ServiceRead]:
        return self._call("GET", "/services", list[schemas.ServiceRead])

    def create_person(self, body: schemas.PersonCreate) -> schemas.PersonRead:
        return self._call("POST", "/people", schemas.PersonRead, json=self._json(body))

    def create_team(self, body: schemas.TeamCreate) -> schemas.TeamRead:
        return self._call("POST", "/teams", schemas.TeamRead, json=self._json(body))

    def create_service(self, body: schemas.ServiceCreate) -> schemas.ServiceRead:
        return self._call("POST", "/services", schemas.ServiceRead, json=self._json(body))

    def import_catalog(self, text: str, source: str) -> schemas.ImportReport:
        return self._call(
            "POST",
            "/catalog/import",
            schemas.ImportReport,
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def integrations(self) -> list[alerts_api.IntegrationRead]:
        return self._call("GET", "/integrations", list[alerts_api.IntegrationRead])

    def create_integration(self, body: alerts_api.IntegrationCreate) -> alerts_api.IntegrationRead:
        return self._call(
            "POST", "/integrations", alerts_api.IntegrationRead, json=self._json(body)
        )

    def rotate_key(self, name: str) -> alerts_api.IntegrationRead:
        return self._call("POST", f"/integrations/{name}/rotate-key", alerts_api.IntegrationRead)

    def alerts(self, params: dict[str, Any]) -> alerts_api.AlertPage:
        query = {k: v for k, v in params.items() if v not in (None, [])}
        return self._call("GET", "/alerts", alerts_api.AlertPage, params=query)

    def alert(self, alert_id: int) -> alerts_api.AlertRead:
        return self._call("GET", f"/alerts/{alert_id}", alerts_api.AlertRead)

    def silences(self) -> list[alerts_api.SilenceRead]:
        return self._call("GET", "/silences", list[alerts_api.SilenceRead])

    def create_silence(self, body: alerts_api.SilenceCreate) -> alerts_api.SilenceRead:
        return self._call("POST", "/silences", alerts_api.SilenceRead, json=self._json(body))

    def expire_silence(self, silence_id: int) -> alerts_api.SilenceRead:
        return self._call("DELETE", f"/silences/{silence_id}", alerts_api.SilenceRead)

    def schedules(self) -> list[schedules_api.ScheduleSummaryRead]:
        return self._call("GET", "/schedules", list[schedules_api.ScheduleSummaryRead])

    def schedule(self, slug: str, params: dict[str, Any]) -> schedules_api.ScheduleRead:
        return self._call(
            "GET", f"/schedules/{slug}", schedules_api.ScheduleRead, params=self._query(params)
        )

    def oncall(self, params: dict[str, Any]) -> list[schedules_api.OnCallRead]:
        return self._call(
            "GET", "/oncall", list[schedules_api.OnCallRead], params=self._query(params)
        )

    @staticmethod
    def _query(params: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v.isoformat() if hasattr(v, "isoformat") else v
            for k, v in params.items()
            if v is not None
        }

    # ----- communications (issue 5) -----
