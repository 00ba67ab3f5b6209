"""Where runbook, action and check commands go: the database directly, or a server's API."""

from __future__ import annotations

from typing import Protocol

import httpx

from tocsin.entrypoints.api import actions as actions_api
from tocsin.entrypoints.api import runbooks as runbooks_api
from tocsin.entrypoints.cli.backend import HttpBackend, LocalBackend
from tocsin.entrypoints.cli.context import CliState
from tocsin.runbookfile import ActionCreate

# A repeated check may take a while: 10 attempts of up to 10 s each, 10 s apart.
CHECK_WAIT_SECONDS = 300.0


class RunbookBackend(Protocol):
    def import_runbooks(
        self, body: runbooks_api.RunbookImport
    ) -> runbooks_api.RunbookImportReport: ...
    def runbooks(self) -> list[runbooks_api.RunbookRead]: ...
    def runbook(self, slug: str) -> runbooks_api.RunbookRead: ...
    def incident_runbooks(self, ref: str) -> runbooks_api.IncidentRunbooksRead: ...
    def attach(self, ref: str, slug: str) -> runbooks_api.AttachedRunbookRead: ...
    def tick(
        self, ref: str, slug: str, number: int, done: bool
    ) -> runbooks_api.AttachedRunbookRead: ...
    def actions(self) -> list[actions_api.ActionRead]: ...
    def save_action(self, name: str, body: ActionCreate) -> actions_api.ActionRead: ...
    def run_action(self, ref: str, name: str) -> actions_api.RunRead: ...
    def approve(self, ref: str, run_id: int) -> actions_api.RunRead: ...
    def runs(self, ref: str) -> list[actions_api.RunRead]: ...
    def check(self, ref: str, body: actions_api.CheckCreate) -> actions_api.RunRead: ...


class _Response:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.status_code = 200


class LocalRunbookBackend(LocalBackend):
    """The API's route functions in-process, as the other local commands use them."""

    def import_runbooks(self, body: runbooks_api.RunbookImport) -> runbooks_api.RunbookImportReport:
        return runbooks_api.import_runbooks(body, **self._ctx())

    def runbooks(self) -> list[runbooks_api.RunbookRead]:
        return runbooks_api.list_runbooks(self.principal, self.tocsin)

    def runbook(self, slug: str) -> runbooks_api.RunbookRead:
        return runbooks_api.get_runbook(slug, self.principal, self.tocsin)

    def incident_runbooks(self, ref: str) -> runbooks_api.IncidentRunbooksRead:
        return runbooks_api.incident_runbooks(ref, self.principal, self.tocsin)

    def attach(self, ref: str, slug: str) -> runbooks_api.AttachedRunbookRead:
        body = runbooks_api.RunbookAttach(runbook=slug)
        return runbooks_api.attach_runbook(ref, body, _Response(), **self._ctx())  # type: ignore[arg-type]

    def tick(
        self, ref: str, slug: str, number: int, done: bool
    ) -> runbooks_api.AttachedRunbookRead:
        body = runbooks_api.StepTick(done=done)
        return runbooks_api.tick_step(ref, slug, number, body, **self._ctx())

    def actions(self) -> list[actions_api.ActionRead]:
        return actions_api.list_actions(self.principal, self.tocsin)

    def save_action(self, name: str, body: ActionCreate) -> actions_api.ActionRead:
        return actions_api.save_action(name, body, _Response(), **self._ctx())  # type: ignore[arg-type]

    def run_action(self, ref: str, name: str) -> actions_api.RunRead:
        return actions_api.run_action(ref, name, **self._ctx())

    def approve(self, ref: str, run_id: int) -> actions_api.RunRead:
        return actions_api.approve_run(ref, run_id, **self._ctx())

    def runs(self, ref: str) -> list[actions_api.RunRead]:
        return actions_api.list_runs(ref, self.principal, self.tocsin)

    def check(self, ref: str, body: actions_api.CheckCreate) -> actions_api.RunRead:
        return actions_api.run_recovery_check(ref, body, **self._ctx())


class HttpRunbookBackend(HttpBackend):
    """The same operations against a running server's REST API."""

    def __init__(self, url: str, token: str | None, client: httpx.Client | None = None) -> None:
        client = client or httpx.Client(base_url=url.rstrip("/"), timeout=CHECK_WAIT_SECONDS)
        super().__init__(url, token, client)

    def import_runbooks(self, body: runbooks_api.RunbookImport) -> runbooks_api.RunbookImportReport:
        return self._call(
            "POST", "/runbooks/import", runbooks_api.RunbookImportReport, json=self._json(body)
        )

    def runbooks(self) -> list[runbooks_api.RunbookRead]:
        return self._call("GET", "/runbooks", list[runbooks_api.RunbookRead])

    def runbook(self, slug: str) -> runbooks_api.RunbookRead:
        return self._call("GET", f"/runbooks/{slug}", runbooks_api.RunbookRead)

    def incident_runbooks(self, ref: str) -> runbooks_api.IncidentRunbooksRead:
        return self._call("GET", f"/incidents/{ref}/runbooks", runbooks_api.IncidentRunbooksRead)

    def attach(self, ref: str, slug: str) -> runbooks_api.AttachedRunbookRead:
        return self._call(
            "POST",
            f"/incidents/{ref}/runbooks",
            runbooks_api.AttachedRunbookRead,
            json={"runbook": slug},
        )

    def tick(
        self, ref: str, slug: str, number: int, done: bool
    ) -> runbooks_api.AttachedRunbookRead:
        return self._call(
            "POST",
            f"/incidents/{ref}/runbooks/{slug}/steps/{number}",
            runbooks_api.AttachedRunbookRead,
            json={"done": done},
        )

    def actions(self) -> list[actions_api.ActionRead]:
        return self._call("GET", "/actions", list[actions_api.ActionRead])

    def save_action(self, name: str, body: ActionCreate) -> actions_api.ActionRead:
        return self._call("PUT", f"/actions/{name}", actions_api.ActionRead, json=self._json(body))

    def run_action(self, ref: str, name: str) -> actions_api.RunRead:
        return self._call("POST", f"/incidents/{ref}/actions/{name}/runs", actions_api.RunRead)

    def approve(self, ref: str, run_id: int) -> actions_api.RunRead:
        return self._call("POST", f"/incidents/{ref}/runs/{run_id}/approve", actions_api.RunRead)

    def runs(self, ref: str) -> list[actions_api.RunRead]:
        return self._call("GET", f"/incidents/{ref}/runs", list[actions_api.RunRead])

    def check(self, ref: str, body: actions_api.CheckCreate) -> actions_api.RunRead:
        return self._call(
            "POST", f"/incidents/{ref}/checks", actions_api.RunRead, json=self._json(body)
        )


def runbook_backend(cli: CliState) -> RunbookBackend:
    """A server's API when --url is given, else the database directly."""
    if cli.url:
        return HttpRunbookBackend(cli.url, cli.token or cli.settings().token)
    return LocalRunbookBackend(cli.tocsin(), cli.actor)
