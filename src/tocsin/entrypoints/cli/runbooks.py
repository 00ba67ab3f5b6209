"""`tocsin runbook|action|check …`: import and read runbooks, run actions, verify recovery."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from tocsin.domain.errors import InvalidInput
from tocsin.entrypoints.api.actions import CheckCreate, RunRead
from tocsin.entrypoints.api.runbooks import RunbookDocument, RunbookImport
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state
from tocsin.entrypoints.cli.runbook_backend import RunbookBackend, runbook_backend
from tocsin.runbookfile import ActionCreate

runbook_app = typer.Typer(help="Runbooks: Markdown checklists for incidents.", no_args_is_help=True)
action_app = typer.Typer(help="HTTP actions run from the war room.", no_args_is_help=True)
check_app = typer.Typer(
    help="Recovery checks: verify that service is restored.", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


def _backend(ctx: typer.Context) -> RunbookBackend:
    return runbook_backend(state(ctx))


def parse_seconds(raw: str, name: str, default_unit: str = "s") -> float:
    """`500ms`, `2s`, `1.5` (in `default_unit`) as seconds; a bad value names its option."""
    found = _DURATION.match(raw)
    if found is None:
        raise InvalidInput(f"--{name} {raw!r} is not a duration like 500ms or 2s", field=name)
    value = float(found.group(1))
    return value / 1000 if (found.group(2) or default_unit) == "ms" else value


# ----- runbooks ---------------------------------------------------------------------------------
@runbook_app.command("import")
def import_runbooks(
    ctx: typer.Context,
    folder: Annotated[
        Path | None, typer.Argument(help="A folder of runbook .md files (searched recursively).")
    ] = None,
    builtin: Annotated[
        bool, typer.Option("--builtin", help="Import the built-in emergency playbooks.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, change nothing.")] = False,
) -> None:
    """Create or update runbooks from Markdown files; importing twice changes nothing."""
    if folder is None and not builtin:
        raise InvalidInput("name a folder of runbooks, or --builtin", field="folder")
    documents = []
    if folder is not None:
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder", field="folder")
        for path in sorted(folder.rglob("*.md")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"cannot read {path}: {exc}", field="folder") from None
            documents.append(RunbookDocument(name=str(path.relative_to(folder)), text=text))
        if not documents and not builtin:
            raise InvalidInput(f"{folder} holds no .md files", field="folder")
    body = RunbookImport(documents=documents, builtin=builtin, dry_run=dry_run)
    report = _backend(ctx).import_runbooks(body)
    prefix = "Would import (dry run) — " if dry_run else ""
    for kind, counts in (("runbooks", report.runbooks), ("actions", report.actions)):
        output.console.print(
            f"{prefix}{kind}: {len(counts.created)} created, {len(counts.updated)} updated, "
            f"{len(counts.unchanged)} unchanged"
        )
        for verb, names in (("created", counts.created), ("updated", counts.updated)):
            for name in names:
                output.console.print(f"  {verb}: {name}")


@runbook_app.command("list")
def list_runbooks(ctx: typer.Context, json: JsonFlag = False) -> None:
    """List runbooks with the services and alerts they are for."""
    found = _backend(ctx).runbooks()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Slug", "Title", "Steps", "Services", "Alerts", "Actions"):
        table.add_column(column)
    for r in found:
        title = r.title + (" [dim](private)[/]" if r.private else "")
        table.add_row(
            r.slug,
            title,
            str(len(r.steps)),
            ", ".join(r.services) or "—",
            ", ".join(r.alerts) or "—",
            ", ".join(r.actions) or "—",
        )
    output.console.print(table)


@runbook_app.command()
def show(ctx: typer.Context, slug: str, json: JsonFlag = False) -> None:
    """Show a runbook, its Markdown rendered for the terminal."""
    found = _backend(ctx).runbook(slug)
    if json:
        output.print_json(found)
        return
    output.console.print(f"[bold]{found.title}[/] ({found.slug})")
    output.console.print(Markdown(found.body))


@runbook_app.command()
def attach(ctx: typer.Context, ref: str, slug: str) -> None:
    """Follow a runbook on an incident (Technical Lead or Incident Commander)."""
    attached = _backend(ctx).attach(ref, slug)
    output.console.print(f"Attached {attached.title} to {ref} ({len(attached.steps)} steps)")


@runbook_app.command()
def step(
    ctx: typer.Context,
    ref: str,
    slug: str,
    number: int,
    undo: Annotated[bool, typer.Option("--undo", help="Uncheck the step.")] = False,
) -> None:
    """Check off step NUMBER of an attached runbook; it lands on the timeline."""
    attached = _backend(ctx).tick(ref, slug, number, not undo)
    done = attached.steps[number - 1]
    mark = "[x]" if done.done else "[ ]"
    output.console.print(
        f"{mark} {done.text} ({attached.done}/{len(attached.steps)} done)", markup=False
    )


@runbook_app.command()
def incident(ctx: typer.Context, ref: str, json: JsonFlag = False) -> None:
    """The runbooks attached to and suggested for an incident, and its alert clearance."""
    found = _backend(ctx).incident_runbooks(ref)
    if json:
        output.print_json(found)
        return
    for book in found.attached:
        output.console.print(f"[bold]{book.title}[/] ({book.done}/{len(book.steps)} done)")
        for s in book.steps:
            who = f" — {s.done_by}" if s.done_by else ""
            output.console.print(
                f"  {s.number}. {'[x]' if s.done else '[ ]'} {s.text}{who}", markup=False
            )
    for suggestion in found.suggested:
        output.console.print(
            f"Suggested: {suggestion.title} ({suggestion.slug}) for {', '.join(suggestion.reasons)}"
        )
    c = found.clearance
    verdict = "all clear" if c.clear else f"{c.firing_count} still firing"
    output.console.print(f"Alerts: {c.total} linked, {verdict}")
    for alert in c.firing:
        output.console.print(f"  firing: {alert.title} (#{alert.id})", markup=False)


# ----- actions ----------------------------------------------------------------------------------
@action_app.command("list")
def list_actions(ctx: typer.Context, json: JsonFlag = False) -> None:
    """List actions; secret references are shown as written, never their values."""
    found = _backend(ctx).actions()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Name", "Title", "Call", "Approval", "Runbook"):
        table.add_column(column)
    for a in found:
        table.add_row(
            a.name,
            a.title,
            f"{a.method} {a.url}",
            "IC approval" if a.requires_approval else "—",
            a.runbook or "—",
        )
    output.console.print(table)


@action_app.command("add")
def add_action(
    ctx: typer.Context,
    name: str,
    url: Annotated[str, typer.Option(help="May hold ${NAME} secret references.")],
    method: Annotated[str, typer.Option()] = "POST",
    title: Annotated[str, typer.Option()] = "",
    header: Annotated[
        list[str], typer.Option(help="NAME:VALUE, e.g. 'Authorization:Bearer ${TOKEN}'; repeat.")
    ] = [],  # noqa: B006
    body: Annotated[
        str, typer.Option(help="Jinja template: {{ reference }}, {{ severity }}…")
    ] = "",
    timeout: Annotated[str, typer.Option(help="Up to 60s.")] = "10s",
    approval: Annotated[bool, typer.Option("--approval", help="Needs the IC's approval.")] = False,
    expect_status: Annotated[
        int | None, typer.Option(help="Success status (else any 2xx).")
    ] = None,
) -> None:
    """Create or update a standalone action."""
    headers = {}
    for raw in header:
        key, sep, value = raw.partition(":")
        if not sep:
            raise InvalidInput(f"--header {raw!r} must be NAME:VALUE", field="header")
        headers[key.strip()] = value.strip()
    spec = ActionCreate(
        name=name,
        method=method,
        url=url,
        title=title,
        headers=headers,
        body=body,
        timeout=parse_seconds(timeout, "timeout"),
        requires_approval=approval,
        expect_status=expect_status,
    )
    saved = _backend(ctx).save_action(name, spec)
    output.console.print(f"Saved action {saved.name}: {saved.method} {saved.url}", markup=False)


def _print_run(run: RunRead) -> None:
    label = run.state.replace("_", " ")
    result = f"HTTP {run.status_code}" if run.status_code is not None else run.error or "—"
    if run.kind == "check":
        output.console.print(
            f"Check run #{run.id}: {label} ({run.passes}/{run.repeat} passed) — {result}"
            + (f" — {run.error}" if run.error and run.status_code is not None else ""),
            markup=False,
        )
        return
    took = f" in {run.duration_ms} ms" if run.duration_ms is not None else ""
    output.console.print(f"Run #{run.id} of {run.name}: {label} — {result}{took}", markup=False)
    if run.state == "awaiting_approval":
        output.console.print(
            f"Waiting for the Incident Commander: tocsin action approve {run.incident} {run.id}"
        )
    if run.excerpt:
        output.console.print(run.excerpt, markup=False, highlight=False)


@action_app.command("run")
def run_action(ctx: typer.Context, ref: str, name: str, json: JsonFlag = False) -> None:
    """Run action NAME on incident REF (needs Technical Lead or IC; may await IC approval)."""
    run = _backend(ctx).run_action(ref, name)
    output.print_json(run) if json else _print_run(run)
    if run.state in ("failed", "timed_out"):
        raise typer.Exit(2)


@action_app.command()
def approve(ctx: typer.Context, ref: str, run_id: int, json: JsonFlag = False) -> None:
    """Approve a waiting run as the Incident Commander; it runs at once."""
    run = _backend(ctx).approve(ref, run_id)
    output.print_json(run) if json else _print_run(run)
    if run.state in ("failed", "timed_out"):
        raise typer.Exit(2)


@action_app.command()
def runs(ctx: typer.Context, ref: str, json: JsonFlag = False) -> None:
    """The incident's latest action and check runs."""
    found = _backend(ctx).runs(ref)
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Run", "Kind", "Name", "State", "Status", "ms", "By"):
        table.add_column(column)
    for r in found:
        table.add_row(
            f"#{r.id}",
            r.kind,
            r.name,
            r.state.replace("_", " "),
            str(r.status_code or "—"),
            str(r.duration_ms if r.duration_ms is not None else "—"),
            r.requested_by,
        )
    output.console.print(table)


# ----- checks -----------------------------------------------------------------------------------
@check_app.command("run")
def run_check(
    ctx: typer.Context,
    ref: str,
    url: Annotated[str, typer.Option()],
    expect_status: Annotated[int, typer.Option()] = 200,
    expect_body: Annotated[str, typer.Option(help="Text the response must contain.")] = "",
    max_latency: Annotated[str | None, typer.Option(help="e.g. 500ms")] = None,
    repeat: Annotated[int, typer.Option(help="Attempts that must all pass (1-10).")] = 1,
    interval: Annotated[str, typer.Option(help="Between attempts, e.g. 2s.")] = "2s",
    timeout: Annotated[str, typer.Option()] = "10s",
    json: JsonFlag = False,
) -> None:
    """GET URL until it has passed REPEAT times; the result is evidence on the timeline."""
    latency = None
    if max_latency is not None:
        latency = round(parse_seconds(max_latency, "max-latency", default_unit="ms") * 1000)
    body = CheckCreate(
        url=url,
        expect_status=expect_status,
        expect_body=expect_body,
        max_latency_ms=latency,
        repeat=repeat,
        interval=parse_seconds(interval, "interval"),
        timeout=parse_seconds(timeout, "timeout"),
    )
    run = _backend(ctx).check(ref, body)
    output.print_json(run) if json else _print_run(run)
    if run.state != "succeeded":
        raise typer.Exit(2)
