"""`tocsin incident stage|check` and `tocsin task …`: work an incident's workflow in a terminal."""

from __future__ import annotations

from typing import Annotated, Protocol

import typer
from rich.markup import escape
from rich.table import Table

from tocsin.entrypoints.api import workflows as api
from tocsin.entrypoints.cli import output
from tocsin.entrypoints.cli.backend import HttpBackend, LocalBackend
from tocsin.entrypoints.cli.context import CliState, state

task_app = typer.Typer(help="List, start and finish an incident's tasks.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
Ref = Annotated[str, typer.Argument(help="Incident reference: INC-42 or 42.")]
Key = Annotated[str, typer.Argument(help="Task key, e.g. containment_actions.")]
STATUS_STYLE = {"pending": "", "in_progress": "yellow", "done": "green", "skipped": "dim"}


class WorkflowBackend(Protocol):
    """The workflow operations, on the database directly or against a server."""

    def workflow(self, ref: str) -> api.WorkflowRead: ...
    def move_stage(self, ref: str, body: api.StageMove) -> api.WorkflowRead: ...
    def tick(self, ref: str, body: api.ChecklistTick) -> api.WorkflowRead: ...
    def tasks(self, ref: str) -> api.TaskBoardRead: ...
    def start_task(self, ref: str, key: str, body: api.TaskStart) -> api.TaskBoardRead: ...
    def complete_task(self, ref: str, key: str) -> api.TaskBoardRead: ...
    def skip_task(self, ref: str, key: str, body: api.TaskSkip) -> api.TaskBoardRead: ...
    def update_task(self, ref: str, key: str, body: api.TaskUpdate) -> api.TaskBoardRead: ...


class LocalWorkflowBackend(LocalBackend):
    """Calls the API's route functions in-process, like every local CLI command."""

    def workflow(self, ref: str) -> api.WorkflowRead:
        return api.get_workflow(ref, self.principal, self.tocsin)

    def move_stage(self, ref: str, body: api.StageMove) -> api.WorkflowRead:
        return api.move_stage(ref, body, self.principal, self.tocsin)

    def tick(self, ref: str, body: api.ChecklistTick) -> api.WorkflowRead:
        return api.tick_item(ref, body, self.principal, self.tocsin)

    def tasks(self, ref: str) -> api.TaskBoardRead:
        return api.list_tasks(ref, self.principal, self.tocsin)

    def start_task(self, ref: str, key: str, body: api.TaskStart) -> api.TaskBoardRead:
        return api.start_task(ref, key, body, self.principal, self.tocsin)

    def complete_task(self, ref: str, key: str) -> api.TaskBoardRead:
        return api.complete_task(ref, key, self.principal, self.tocsin)

    def skip_task(self, ref: str, key: str, body: api.TaskSkip) -> api.TaskBoardRead:
        return api.skip_task(ref, key, body, self.principal, self.tocsin)

    def update_task(self, ref: str, key: str, body: api.TaskUpdate) -> api.TaskBoardRead:
        return api.update_task(ref, key, body, self.principal, self.tocsin)


class HttpWorkflowBackend(HttpBackend):
    """The same operations against a running server's REST API."""

    def workflow(self, ref: str) -> api.WorkflowRead:
        return self._call("GET", f"/incidents/{ref}/workflow", api.WorkflowRead)

    def move_stage(self, ref: str, body: api.StageMove) -> api.WorkflowRead:
        path = f"/incidents/{ref}/workflow/stage"
        return self._call("POST", path, api.WorkflowRead, json=self._json(body))

    def tick(self, ref: str, body: api.ChecklistTick) -> api.WorkflowRead:
        path = f"/incidents/{ref}/workflow/checklist"
        return self._call("POST", path, api.WorkflowRead, json=self._json(body))

    def tasks(self, ref: str) -> api.TaskBoardRead:
        return self._call("GET", f"/incidents/{ref}/tasks", api.TaskBoardRead)

    def start_task(self, ref: str, key: str, body: api.TaskStart) -> api.TaskBoardRead:
        path = f"/incidents/{ref}/tasks/{key}/start"
        return self._call("POST", path, api.TaskBoardRead, json=self._json(body))

    def complete_task(self, ref: str, key: str) -> api.TaskBoardRead:
        return self._call("POST", f"/incidents/{ref}/tasks/{key}/complete", api.TaskBoardRead)

    def skip_task(self, ref: str, key: str, body: api.TaskSkip) -> api.TaskBoardRead:
        path = f"/incidents/{ref}/tasks/{key}/skip"
        return self._call("POST", path, api.TaskBoardRead, json=self._json(body))

    def update_task(self, ref: str, key: str, body: api.TaskUpdate) -> api.TaskBoardRead:
        path = f"/incidents/{ref}/tasks/{key}"
        return self._call("PATCH", path, api.TaskBoardRead, json=body.model_dump(mode="json"))


def backend(ctx: typer.Context) -> WorkflowBackend:
    """The workflow backend for this invocation: a server with --url, else the database."""
    cli: CliState = state(ctx)
    if cli.url:
        return HttpWorkflowBackend(cli.url, cli.token or cli.settings().token)
    return LocalWorkflowBackend(cli.tocsin(), cli.actor)


# ----- tocsin incident stage / check -----------------------------------------------------------
def stage(
    ctx: typer.Context,
    ref: Ref,
    target: Annotated[
        str | None,
        typer.Argument(metavar="[next|back|KEY]", help="Move the stage; omit to show it."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Show the incident's workflow stage and its checklist, or move to another stage."""
    found = backend(ctx)
    workflow = (
        found.workflow(ref)
        if target is None
        else found.move_stage(ref, api.StageMove(stage=target))
    )
    if json:
        output.print_json(workflow)
        return
    show_workflow(workflow)


def check(
    ctx: typer.Context,
    ref: Ref,
    item: Annotated[str, typer.Argument(help="The item's number (1 = first) or its text.")],
    stage_key: Annotated[
        str | None, typer.Option("--stage", help="A stage key; the current stage if omitted.")
    ] = None,
    undo: Annotated[bool, typer.Option(help="Untick the item instead.")] = False,
) -> None:
    """Tick a checklist item of the incident's workflow (or untick it with --undo)."""
    body = api.ChecklistTick(item=item, done=not undo, stage=stage_key)
    workflow = backend(ctx).tick(ref, body)
    show_workflow(workflow)


def show_workflow(workflow: api.WorkflowRead) -> None:
    marks = {"done": "[green]✓[/]", "current": "[bold]▶[/]", "next": " "}
    steps = "  ".join(f"{marks[s.state]} {s.number}. {s.name}" for s in workflow.stages)
    output.console.print(f"[bold]{workflow.incident}[/] workflow {workflow.workflow}: {steps}")
    current = workflow.stage
    output.console.print(
        f"[bold]{current.name}[/] (specialist: {current.role_label}) — "
        f"{current.ticked} of {len(current.checklist)} ticked"
    )
    for item in current.checklist:
        who = f"  [dim]{escape(item.by or '')}, {output.when(item.at)}[/]" if item.done else ""
        box = escape("[x]" if item.done else "[ ]")
        output.console.print(f"  {box} {item.number}. {escape(item.item)}{who}")


# ----- tocsin task … ---------------------------------------------------------------------------
@task_app.command("list")
def list_tasks(ctx: typer.Context, ref: Ref, json: JsonFlag = False) -> None:
    """The task graph, the workstreams and the critical path; overdue tasks in red."""
    board = backend(ctx).tasks(ref)
    if json:
        output.print_json(board)
        return
    show_tasks(board)


@task_app.command()
def start(
    ctx: typer.Context,
    ref: Ref,
    key: Key,
    override: Annotated[
        bool, typer.Option(help="Start before its dependencies are done (Incident Commander).")
    ] = False,
) -> None:
    """Start a task once its dependencies are done."""
    show_tasks(backend(ctx).start_task(ref, key, api.TaskStart(override=override)))


@task_app.command()
def done(ctx: typer.Context, ref: Ref, key: Key) -> None:
    """Finish a task."""
    show_tasks(backend(ctx).complete_task(ref, key))


@task_app.command()
def skip(
    ctx: typer.Context,
    ref: Ref,
    key: Key,
    reason: Annotated[str, typer.Option(help="Why it is left out (required).")],
) -> None:
    """Leave a task out (Incident Commander)."""
    show_tasks(backend(ctx).skip_task(ref, key, api.TaskSkip(reason=reason)))


@task_app.command()
def assign(
    ctx: typer.Context,
    ref: Ref,
    key: Key,
    person: Annotated[str | None, typer.Argument(help="Person handle; omit for no owner.")] = None,
) -> None:
    """Give a task or workstream an owner."""
    show_tasks(backend(ctx).update_task(ref, key, api.TaskUpdate(owner=person)))


def show_tasks(board: api.TaskBoardRead) -> None:
    table = Table(header_style="bold", title=f"{board.incident} tasks")
    for column in ("Task", "Status", "Priority", "Owner", "Estimate", "Waiting for", "Content"):
        table.add_column(column)
    for task in board.tasks + board.workstreams:
        status = task.status.replace("_", " ")
        if task.overdue:
            status = f"[bold red]{status}, {task.overdue_by} over[/]"
        elif STATUS_STYLE[task.status]:
            status = f"[{STATUS_STYLE[task.status]}]{status}[/]"
        name = f"{task.workstream} ({task.key})" if task.workstream else task.key
        table.add_row(
            f"{'★ ' if task.critical else ''}{name}",
            status,
            task.priority,
            task.owner or task.team or "—",
            task.estimate or "—",
            ", ".join(task.blocked_by) or "—",
            task.content,
        )
    output.console.print(table)
    if board.critical_path:
        output.console.print(
            f"Critical path ({board.critical_remaining} left): " + " → ".join(board.critical_path)
        )
    else:
        output.console.print("Nothing left blocks resolution.")
