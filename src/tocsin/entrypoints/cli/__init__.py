"""The `tocsin` command: serve, administer, and work incidents from a terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer
from pydantic import ValidationError

from tocsin.domain.errors import DomainError
from tocsin.entrypoints.cli import (
    admin,
    alerts,
    catalog,
    communications,
    incidents,
    oncall,
    output,
    war_room,
    workflows,
)
from tocsin.entrypoints.cli.backend import RemoteError
from tocsin.entrypoints.cli.context import CliState
from tocsin.entrypoints.cli.runbooks import action_app, check_app, runbook_app
from tocsin.policy import PolicyError

app = typer.Typer(
    name="tocsin",
    help="Tocsin: incident response from alert to post-mortem.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
war_room.register(incidents.app)
app.add_typer(incidents.app, name="incident")
app.add_typer(catalog.app, name="catalog")
app.add_typer(alerts.integration_app, name="integration")
app.add_typer(alerts.alert_app, name="alert")
app.add_typer(alerts.silence_app, name="silence")
app.add_typer(oncall.app, name="oncall")
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.token_app, name="token")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.policy_app, name="policy")
app.command()(admin.serve)
app.command()(admin.demo)
app.command()(admin.worker)
# workflow: stages and checklists under `incident`, the task graph under `task`
incidents.app.command("stage")(workflows.stage)
incidents.app.command("check")(workflows.check)
app.add_typer(workflows.task_app, name="task")
app.add_typer(communications.app, name="update")  # issue 5: stakeholder updates
app.add_typer(runbook_app, name="runbook")
app.add_typer(action_app, name="action")
app.add_typer(check_app, name="check")


@app.callback()
def _options(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(envvar="TOCSIN_URL", help="Talk to this server instead of the database."),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="TOCSIN_TOKEN", help="API token for --url.")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(envvar="TOCSIN_DATABASE_URL", help="Database to work on directly.")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            envvar="TOCSIN_ACTOR",
            help="Your name on the timeline when working on the database directly.",
        ),
    ] = None,
) -> None:
    cli = CliState(url=url, token=token, database_url=database_url, actor=actor)
    ctx.obj = cli
    ctx.call_on_close(cli.close)


def main() -> None:
    """Run the CLI, turning refusals into one clear line and exit code 1."""
    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code instead of exiting
        if isinstance(code, int) and code:
            sys.exit(code)
    except (DomainError, RemoteError) as exc:
        output.errors.print(f"[bold red]Error:[/] {exc.detail}", markup=True)
        sys.exit(1)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "input"
            output.errors.print(
                f"[bold red]Error:[/] {field}: {str(err['msg']).removeprefix('Value error, ')}"
            )
        sys.exit(1)
    except PolicyError as exc:
        output.errors.print(str(exc), markup=False)
        sys.exit(1)
    except typer.Abort:
        output.errors.print("Aborted.")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
