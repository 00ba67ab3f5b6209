"""Runbook pages (list, read, edit) and the war room's runbook, action and check forms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.errors import DomainError, InvalidInput
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.changes import apply_work
from tocsin.entrypoints.web.forms import EMPTY, FormState, flag, parse_id, text
from tocsin.entrypoints.web.markdown import render_markdown
from tocsin.entrypoints.web.sessions import Change, change_request, signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.services.action_runs import execute_run, run_check
from tocsin.views.accounts import Principal
from tocsin.views.runbooks import RunbookView

router = APIRouter(include_in_schema=False)


# ----- runbook pages ----------------------------------------------------------------------------
@router.get("/runbooks")
def runbook_list(request: Request, _: Principal = Depends(signed_in)) -> Response:
    """Every runbook with what it is for."""
    return render(request, "runbooks/list.html", {"runbooks": tocsin_of(request).runbooks.list()})


def _runbook_page(
    request: Request, book: RunbookView | None, form: FormState, status: int = 200
) -> Response:
    return render(
        request,
        "runbooks/runbook.html",
        {"book": book, "html": render_markdown(book.body) if book else "", "form": form},
        status=status,
    )


@router.get("/runbooks/new")
def new_runbook(request: Request, _: Principal = Depends(signed_in)) -> Response:
    """An empty runbook form."""
    return _runbook_page(request, None, EMPTY)


@router.get("/runbooks/{slug}")
def runbook_page(slug: str, request: Request, _: Principal = Depends(signed_in)) -> Response:
    """The runbook rendered from its Markdown (sanitised), with its edit form."""
    return _runbook_page(request, tocsin_of(request).runbooks.runbook(slug.strip().lower()), EMPTY)


@router.post("/runbooks")
def save_runbook(request: Request, change: Change = Depends(change_request)) -> Response:
    """Create or update a runbook from the form; its actions are kept as they are."""
    form = change.form
    tocsin = tocsin_of(request)
    slug = text(form, "slug").strip().lower()
    try:
        spec = commands.RunbookSpec(
            slug=slug,
            title=text(form, "title"),
            body=text(form, "body"),
            services=tuple(_words(text(form, "services"))),
            alerts=tuple(a.strip() for a in text(form, "alerts").split(",") if a.strip()),
            private=flag(form, "private"),
            actions=None,
        )
        tocsin.handle(commands.ImportRunbooks((spec,), change.actor))
    except DomainError as exc:
        existing = next((b for b in tocsin.runbooks.list() if b.slug == slug), None)
        return _runbook_page(request, existing, FormState.refused(form, exc), status_for(exc))
    return RedirectResponse(f"/runbooks/{slug}", status_code=303)


def _words(raw: str) -> list[str]:
    return [w for w in raw.replace(",", " ").split() if w]


# ----- the incident page's panel ----------------------------------------------------------------


@router.post("/incidents/{ref}/runbooks")
def attach(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Follow a runbook on this incident."""
    slug = text(change.form, "runbook")

    def work(tocsin: Tocsin, incident_id: int) -> object:
        if not slug.strip():
            raise InvalidInput("choose a runbook", field="runbook")
        return tocsin.handle(commands.AttachRunbook(incident_id, slug, change.actor))

    return apply_work(request, change, ref, "runbooks", work)


@router.post("/incidents/{ref}/runbooks/{slug}/steps/{number}")
def tick(
    ref: str, slug: str, number: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Check (done=on) or uncheck a step."""
    step = parse_id(number, "step")
    done = flag(change.form, "done")
    return apply_work(
        request,
        change,
        ref,
        "runbooks",
        lambda tocsin, i: tocsin.handle(
            commands.TickRunbookStep(i, slug, step, done, change.actor)
        ),
    )


@router.post("/incidents/{ref}/actions/{name}/run")
def run_action(
    ref: str, name: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """Run an action (or ask for the Incident Commander's approval first)."""

    def work(tocsin: Tocsin, incident_id: int) -> object:
        run_id = tocsin.handle(commands.RequestActionRun(incident_id, name, change.actor))
        if tocsin.runbooks.run(incident_id, run_id, tocsin.clock.now()).state == "ready":
            execute_run(tocsin.handle, tocsin.action_runner, incident_id, run_id, change.actor)
        return run_id

    return apply_work(request, change, ref, "runbooks", work)


@router.post("/incidents/{ref}/runs/{run_id}/approve")
def approve(
    ref: str, run_id: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """The Incident Commander approves a waiting action, which runs at once."""
    number = parse_id(run_id, "run")

    def work(tocsin: Tocsin, incident_id: int) -> object:
        tocsin.handle(commands.ApproveActionRun(incident_id, number, change.actor))
        execute_run(tocsin.handle, tocsin.action_runner, incident_id, number, change.actor)
        return number

    return apply_work(request, change, ref, "runbooks", work)


@router.post("/incidents/{ref}/checks")
def check(ref: str, request: Request, change: Change = Depends(change_request)) -> Response:
    """Run a recovery check from the form; its result joins the runs list and the timeline."""
    form = change.form

    def work(tocsin: Tocsin, incident_id: int) -> object:
        command = commands.StartCheck(
            incident_id,
            text(form, "url").strip(),
            change.actor,
            expect_status=_number(text(form, "expect_status"), "expect_status", 200) or 200,
            expect_body=text(form, "expect_body"),
            max_latency_ms=_number(text(form, "max_latency_ms"), "max_latency", None),
            repeat=_number(text(form, "repeat"), "repeat", 1) or 1,
            interval=float(_number(text(form, "interval"), "interval", 2) or 0),
        )
        return run_check(tocsin.handle, tocsin.action_runner, command)

    return apply_work(request, change, ref, "checks", work)


def _number(raw: str, name: str, default: int | None) -> int | None:
    value = raw.strip()
    if not value:
        return default
    if not value.isdigit():
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}", field=name)
    return int(value)
