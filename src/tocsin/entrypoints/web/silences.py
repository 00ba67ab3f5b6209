"""Silences: mute matching alerts for a while (they are kept, but declare and page nobody)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from tocsin.domain import commands
from tocsin.domain.errors import DomainError, InvalidInput
from tocsin.domain.matchers import Matcher, parse_matchers
from tocsin.entrypoints.api.errors import status_for
from tocsin.entrypoints.web.forms import EMPTY, FormState, parse_id, parse_time, text
from tocsin.entrypoints.web.sessions import Change, change_request, signed_in, tocsin_of
from tocsin.entrypoints.web.templating import render
from tocsin.policy.durations import parse_duration
from tocsin.views.accounts import Principal
from tocsin.views.alerts import SilenceView

router = APIRouter(include_in_schema=False)
# Ended silences stay listed this long, so a silence that ran out overnight can still be found.
ENDED_SHOWN = timedelta(days=7)
MAX_MATCHERS = 20


@dataclass(frozen=True)
class SilenceRow:
    """A silence with its state at the time the page was drawn."""

    silence: SilenceView
    state: str

    @property
    def ended_at(self) -> datetime:
        return self.silence.ended_at


def _page(
    request: Request,
    state: FormState = EMPTY,
    *,
    status: int = 200,
    flash: FormState | None = None,
) -> Response:
    tocsin = tocsin_of(request)
    now = tocsin.clock.now()
    rows = [
        SilenceRow(s, s.state(now))
        for s in tocsin.alerts.silences(include_ended_since=now - ENDED_SHOWN)
    ]
    return render(
        request,
        "alerts/silences.html",
        {
            "current": [r for r in rows if r.state != "expired"],
            "ended": [r for r in rows if r.state == "expired"],
            "form": state,
            "flash": flash,
            "ended_days": ENDED_SHOWN.days,
        },
        status=status,
    )


@router.get("/silences")
def silences_page(request: Request, _: Principal = Depends(signed_in)) -> Response:
    """Active and pending silences, recently ended ones, and the form to add one.

    `?matchers=…` fills the form in (the alert page links here with the alert's own labels).
    """
    prefill = text(request.query_params, "matchers").strip()
    return _page(request, FormState(values={"matchers": prefill}) if prefill else EMPTY)


def matchers_from(raw: str) -> tuple[Matcher, ...]:
    """One matcher per line, in Alertmanager's syntax; blank lines are skipped."""
    lines = [line.strip().rstrip(",") for line in raw.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > MAX_MATCHERS:
        raise InvalidInput(f"at most {MAX_MATCHERS} matchers, one per line", field="matchers")
    return parse_matchers(lines)


def _ends_at(form: FormData, starts_at: datetime | None, now: datetime) -> datetime:
    """From a duration (after the start) or an end time: exactly one of the two."""
    raw_duration = text(form, "duration").strip()
    ends_at = parse_time(text(form, "ends_at"), "ends_at")
    if raw_duration and ends_at:
        raise InvalidInput("give a duration or an end time, not both", field="duration")
    if ends_at is not None:
        return ends_at
    if not raw_duration:
        raise InvalidInput("give a duration such as 2h, or an end time", field="duration")
    try:
        return (starts_at or now) + parse_duration(raw_duration)
    except ValueError as exc:
        raise InvalidInput(f"duration: {exc}", field="duration") from None
    except OverflowError:
        raise InvalidInput(f"duration {raw_duration!r} is too long", field="duration") from None


@router.post("/silences")
def create_silence(request: Request, change: Change = Depends(change_request)) -> Response:
    """Add a silence from the form; a refusal keeps what was typed."""
    tocsin = tocsin_of(request)
    form = change.form
    try:
        matchers = matchers_from(text(form, "matchers"))
        starts_at = parse_time(text(form, "starts_at"), "starts_at")
        ends_at = _ends_at(form, starts_at, tocsin.clock.now())
        made = tocsin.handle(
            commands.CreateSilence(
                matchers, ends_at, text(form, "comment"), change.actor, starts_at
            )
        )
    except DomainError as exc:
        return _page(request, FormState.refused(form, exc), status=status_for(exc))
    return RedirectResponse(f"/silences#silence-{made.id}", status_code=303)


@router.post("/silences/{silence_id}/expire")
def expire_silence(
    silence_id: str, request: Request, change: Change = Depends(change_request)
) -> Response:
    """End a silence now; matching alerts declare and page again from the next one."""
    try:
        number = parse_id(silence_id, "silence")
        tocsin_of(request).handle(commands.ExpireSilence(number, change.actor))
    except DomainError as exc:
        return _page(request, status=status_for(exc), flash=FormState.refused(change.form, exc))
    return RedirectResponse(f"/silences#silence-{number}", status_code=303)
