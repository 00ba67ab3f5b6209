"""Operator commands: serve, db, demo, users, tokens and the policy file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from tocsin.bootstrap import Tocsin
from tocsin.config import Settings
from tocsin.domain import commands
from tocsin.domain.accounts import OrgRole, Scope
from tocsin.entrypoints import access_log
from tocsin.entrypoints.app import create_app
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.context import state
from tocsin.entrypoints.http import NoDelayHTTPProtocol
from tocsin.entrypoints.paging import run_worker
from tocsin.policy import PolicyError, load_policy_file
from tocsin.policy.loader import default_policy_text
from tocsin.services.demo import load_demo
from tocsin.views.incident_search import IncidentFilter

DEMO_LOADED = (
    "Loaded the demo: 5 services, 2 teams, 8 people, 4 incidents (one private), 2 alerts, "
    "1 deploy, 3 runbooks."
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
policy_app = typer.Typer(help="The policy file.", no_args_is_help=True)


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Listen address [TOCSIN_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [TOCSIN_PORT].")] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo data into an empty database.")] = False,
    migrate: Annotated[bool, typer.Option(help="Upgrade the schema before serving.")] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1, envvar="TOCSIN_WORKERS", help="Server processes on this port, e.g. one per core."
        ),
    ] = 1,
) -> None:
    """Serve the web UI and the API."""
    tocsin = state(ctx).tocsin(migrate=migrate)
    settings = tocsin.settings.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v}
    )
    tocsin.settings = settings
    admin_password = ensure_admin(tocsin)
    if demo and _is_empty(tocsin):
        load_demo(tocsin.handle_as_of, tocsin.clock.now())
        output.console.print(DEMO_LOADED)
    url = settings.public_url()
    output.console.print(f"[bold]Tocsin[/] on {url}  (API docs: {url}/api/docs)")
    if admin_password:
        output.console.print(
            "[bold green]Created the admin login[/]  user: [bold]admin[/]  "
            f"password: [bold]{admin_password}[/]"
        )
        output.console.print("Shown once; create more users with `tocsin user create`.")
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "proxy_headers": True,
        "timeout_graceful_shutdown": 5,  # live-update streams must not hold a restart hostage
        "http": NoDelayHTTPProtocol,
        "log_config": access_log.log_config(),  # integration keys and ack tokens stay out
    }
    if workers == 1:
        uvicorn.run(create_app(tocsin), **options)
        return
    # Each worker process builds its own Tocsin from the same settings; everything they share
    # lives in the database, as it does between servers on different machines.
    tocsin.close()
    os.environ.update(settings_environment(settings))
    uvicorn.run(f"{create_app.__module__}:create_app", factory=True, workers=workers, **options)


def worker(ctx: typer.Context) -> None:
    """Run a worker: alert inbox, escalation steps and page deliveries, beside any servers.

    Start as many as you like on PostgreSQL (they share the work without waiting on each
    other) and set TOCSIN_PAGING_EMBEDDED=false on the servers to page from workers only.
    """
    tocsin = state(ctx).tocsin(migrate=False)
    if not tocsin.schema_is_current():
        output.errors.print("The database schema is not current; run `tocsin db upgrade` first.")
        raise typer.Exit(1)
    output.console.print(f"[bold]Tocsin worker[/] paging from {tocsin.database.dialect}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(tocsin))


def settings_environment(settings: Settings) -> dict[str, str]:
    """The settings as TOCSIN_* variables, for worker processes started from this one."""
    values = settings.model_dump(exclude_none=True)
    return {f"TOCSIN_{name.upper()}": str(value) for name, value in values.items()}


def ensure_admin(tocsin: Tocsin) -> str | None:
    """Create `admin` with a random password when there are no users at all; return the password."""
    if tocsin.accounts.has_users():
        return None
    password = secrets.token_urlsafe(12)
    tocsin.handle(commands.CreateUser("admin", password, OrgRole.ADMIN, "Administrator"))
    return password


def _is_empty(tocsin: Tocsin) -> bool:
    return (
        not tocsin.catalog.people() and not tocsin.incidents.list(IncidentFilter(), limit=1).items
    )


def demo(ctx: typer.Context) -> None:
    """Load the demo organisation and incidents into an empty database."""
    tocsin = state(ctx).tocsin()
    if not _is_empty(tocsin):
        output.errors.print(
            "The database already has people or incidents; the demo needs an empty one."
        )
        raise typer.Exit(1)
    load_demo(tocsin.handle_as_of, tocsin.clock.now())
    output.console.print(DEMO_LOADED)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or upgrade the schema to the version this Tocsin needs."""
    tocsin = state(ctx).tocsin()
    tocsin.migrate()
    output.console.print(f"Database schema is current ({tocsin.database.dialect}).")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    scope: Annotated[str, typer.Option(help="read, write or admin")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    user: Annotated[str, typer.Option(help="Owner; their role caps the scope.")] = "admin",
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    created = state(ctx).tocsin().handle(commands.CreateApiToken(user, name, Scope.parse(scope)))
    output.console.print(created.secret, soft_wrap=True)
    output.errors.print(
        f"Token #{created.id} for {created.username} with {created.scope.value} scope. "
        "It is shown only now."
    )


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List API tokens (never their secrets)."""
    for t in state(ctx).tocsin().accounts.tokens():
        revoked = f" revoked {output.when(t.revoked_at)}" if t.revoked_at else ""
        output.console.print(f"#{t.id} {t.prefix}… {t.scope:<5} {t.username} {t.name}{revoked}")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: Annotated[int, typer.Argument()]) -> None:
    """Revoke a token at once."""
    state(ctx).tocsin().handle(commands.RevokeApiToken(token_id))
    output.console.print(f"Revoked token #{token_id}")


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer, responder or admin")] = "responder",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    person: Annotated[str | None, typer.Option(help="Catalog person handle.")] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="TOCSIN_NEW_PASSWORD"
        ),
    ] = "",
) -> None:
    """Create a user who can sign in to the web UI."""
    state(ctx).tocsin().handle(
        commands.CreateUser(username, password, OrgRole.parse(role), name, person)
    )
    output.console.print(f"Created {role} {username}")


@user_app.command("link")
def user_link(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument()],
    person: Annotated[str | None, typer.Argument(help="Catalog person handle.")] = None,
    unlink: Annotated[bool, typer.Option(help="Remove the link instead.")] = False,
) -> None:
    """Link a user to the catalog person they are, so they can hold incident roles."""
    if not unlink and not person:
        raise typer.BadParameter("name the person, or pass --unlink")
    state(ctx).tocsin().handle(commands.LinkUser(username, None if unlink else person))
    output.console.print(f"{username} is {'no longer linked' if unlink else person}")


@policy_app.command("check")
def policy_check(file: Annotated[Path, typer.Argument(help="Policy YAML file.")]) -> None:
    """Validate a policy file and report every problem with its line."""
    try:
        policy = load_policy_file(file)
    except PolicyError as exc:
        for problem in exc.problems:
            output.errors.print(
                f"{file}:{problem.line or '-'}: {problem.path or '(top level)'}: {problem.message}",
                markup=False,
            )
        output.errors.print(f"{len(exc.problems)} problem(s); the policy was not accepted.")
        raise typer.Exit(1) from None
    steps = sum(len(p) for p in policy.escalation_paths.values())
    output.console.print(
        f"{file}: OK — 4 severities, {len(policy.roles)} roles, {steps} escalation steps"
    )
    for name, workflow in policy.workflows.items():
        output.console.print(
            f"workflow {name}: {len(workflow.stages)} stages, {len(workflow.tasks)} tasks"
        )
    if missing := policy.channels_without_destination():
        output.console.print(
            f"note: channels {', '.join(missing)} have no entry in paging.destinations; "
            "nothing is sent there until they do",
            markup=False,
        )


@policy_app.command("default")
def policy_default() -> None:
    """Print the shipped default policy, a starting point for your own."""
    output.console.print(default_policy_text(), markup=False, highlight=False, end="")
