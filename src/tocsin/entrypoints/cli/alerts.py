"""`tocsin integration|alert|silence …`: where alerts come in, what came in, and what is muted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from tocsin.domain.errors import InvalidInput
from tocsin.entrypoints.api import alerts as alerts_api
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state
from tocsin.entrypoints.cli.incidents import parse_time
from tocsin.policy.durations import parse_duration

integration_app = typer.Typer(
    help="Integrations: keyed entry points for alerts.", no_args_is_help=True
)
alert_app = typer.Typer(help="Alerts received from monitoring.", no_args_is_help=True)
silence_app = typer.Typer(help="Silences and maintenance windows.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _print_integration(made: alerts_api.IntegrationRead) -> None:
    output.console.print(f"[bold]{made.name}[/] ({made.kind}) → service {made.service or '—'}")
    if made.kind == "pagerduty":
        output.console.print(f"Events API v2 URL: {made.url}")
        output.console.print(f"Routing key:       {made.key}")
    else:
        output.console.print(f"Webhook URL: {made.url}")


@integration_app.command("create")
def create_integration(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A slug such as prom-prod.")],
    kind: Annotated[
        str, typer.Option(help="alertmanager, grafana, pagerduty, generic, heartbeat or change")
    ],
    service: Annotated[str | None, typer.Option(help="Service its alerts belong to.")] = None,
    secret: Annotated[
        str | None, typer.Option(help="Grafana only: HMAC secret the requests are signed with.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="Generic only: YAML or JSON file saying where each field is."),
    ] = None,
    interval: Annotated[
        str | None, typer.Option(help="Heartbeat only: ping at least this often (5m).")
    ] = None,
    severity: Annotated[
        str | None, typer.Option(help="Heartbeat only: severity of the missed-heartbeat alert.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Create an integration and print the URL (and key) to configure in the sender."""
    config: dict[str, Any] = _mapping_file(mapping) if mapping else {}
    if interval is not None:
        config["interval"] = interval
    if severity is not None:
        config["severity"] = severity
    body = alerts_api.IntegrationCreate(
        name=name,
        kind=kind,
        service=service,
        secret=secret,
        config=config,
    )
    made = state(ctx).backend().create_integration(body)
    if json:
        output.print_json(made)
    else:
        _print_integration(made)


def _mapping_file(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="mapping") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not YAML or JSON: {exc}", field="mapping") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{path} must hold a mapping of field: expression", field="mapping")
    return loaded


@integration_app.command("list")
def list_integrations(ctx: typer.Context, json: JsonFlag = False) -> None:
    """List integrations with their URLs."""
    found = state(ctx).backend().integrations()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("Name", "Kind", "Service", "Signed", "URL"):
        table.add_column(column)
    for i in found:
        table.add_row(i.name, i.kind, i.service or "—", "yes" if i.signed else "no", i.url)
    output.console.print(table)


@integration_app.command("rotate-key")
def rotate_key(ctx: typer.Context, name: str, json: JsonFlag = False) -> None:
    """Give an integration a new key; the old key stops working at once."""
    made = state(ctx).backend().rotate_key(name)
    if json:
        output.print_json(made)
    else:
        _print_integration(made)


@alert_app.command("list")
def list_alerts(
    ctx: typer.Context,
    status: Annotated[
        list[str], typer.Option(help="firing, acknowledged, resolved, open, silenced")
    ] = [],  # noqa: B006
    integration: Annotated[str | None, typer.Option()] = None,
    service: Annotated[str | None, typer.Option()] = None,
    incident: Annotated[str | None, typer.Option(help="INC-12")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    json: JsonFlag = False,
) -> None:
    """Newest alerts first."""
    page = (
        state(ctx)
        .backend()
        .alerts(
            {
                "status": status,
                "integration": integration,
                "service": service,
                "incident": incident,
                "limit": limit,
            }
        )
    )
    if json:
        output.print_json(page)
        return
    table = Table(header_style="bold")
    for column in ("ID", "Status", "Sev", "Title", "Service", "Incident", "Seen", "First"):
        table.add_column(column)
    for a in page.items:
        status_text = a.status + (f" (silenced #{a.silenced_by})" if a.silenced_by else "")
        table.add_row(
            str(a.id),
            status_text,
            f"[{output.SEVERITY_STYLE[a.severity]}]{a.severity}[/]",
            a.title,
            a.service or "—",
            a.incident or "—",
            str(a.received_count),
            output.when(a.first_received_at),
        )
    output.console.print(table)


@alert_app.command("show")
def show_alert(ctx: typer.Context, alert_id: int, json: JsonFlag = False) -> None:
    """One alert with its labels, annotations and links."""
    alert = state(ctx).backend().alert(alert_id)
    if json:
        output.print_json(alert)
        return
    output.console.print(
        f"[bold]Alert {alert.id}[/] {alert.status} {alert.severity} "
        f"({alert.source_severity or 'no severity given'})  {alert.title}"
    )
    output.console.print(
        f"From {alert.integration} ({alert.integration_kind}), key {alert.dedup_key}; "
        f"received {alert.received_count} times, last {output.when(alert.last_received_at)}"
    )
    output.console.print(
        f"Service: {alert.service or '—'}   Incident: {alert.incident or '—'}   "
        f"Rule: {alert.rule or '—'}"
    )
    if alert.description:
        output.console.print(alert.description)
    for name, values in (("Labels", alert.labels), ("Annotations", alert.annotations)):
        if values:
            output.console.print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    for link in alert.links:
        output.console.print(f"{link.get('text') or 'Link'}: {link['href']}")


@silence_app.command("add")
def add_silence(
    ctx: typer.Context,
    matchers: Annotated[list[str], typer.Argument(help='e.g. service="checkout" env=~"prod.*"')],
    comment: Annotated[str, typer.Option(help="Why; shown on every muted alert.")],
    duration: Annotated[
        str | None, typer.Option("--for", help="How long from the start: 30m, 2h, 1d.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End time (ISO 8601) instead of --for.")] = None,
    start: Annotated[str | None, typer.Option(help="Start time (ISO 8601); default now.")] = None,
    json: JsonFlag = False,
) -> None:
    """Mute matching alerts for a while: they are recorded but declare and page nobody."""
    starts_at = parse_time(start, "start")
    if (duration is None) == (until is None):
        raise InvalidInput("give exactly one of --for and --until", field="until")
    if duration is not None:
        try:
            length = parse_duration(duration)
        except ValueError as exc:
            raise InvalidInput(f"--for: {exc}", field="for") from None
        ends_at = (starts_at or datetime.now(UTC)) + length
    else:
        ends_at = parse_time(until, "until")  # type: ignore[assignment]
    body = alerts_api.SilenceCreate(
        matchers=matchers, ends_at=ends_at, starts_at=starts_at, comment=comment
    )
    made = state(ctx).backend().create_silence(body)
    if json:
        output.print_json(made)
    else:
        output.console.print(
            f"Silence {made.id} ({made.state}) until {output.when(made.ends_at)}: "
            + " ".join(made.matchers)
        )


@silence_app.command("list")
def list_silences(ctx: typer.Context, json: JsonFlag = False) -> None:
    """Silences, newest first, with their state."""
    found = state(ctx).backend().silences()
    if json:
        output.print_json(found)
        return
    table = Table(header_style="bold")
    for column in ("ID", "State", "Matchers", "Starts", "Ends", "By", "Comment"):
        table.add_column(column)
    for s in found:
        table.add_row(
            str(s.id),
            s.state,
            " ".join(s.matchers),
            output.when(s.starts_at),
            output.when(s.expired_at or s.ends_at),
            s.created_by,
            s.comment,
        )
    output.console.print(table)


@silence_app.command("expire")
def expire_silence(ctx: typer.Context, silence_id: int) -> None:
    """End a silence now."""
    made = state(ctx).backend().expire_silence(silence_id)
    output.console.print(f"Silence {made.id} {made.state} at {output.when(made.expired_at)}")
