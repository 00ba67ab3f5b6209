"""Carrying out a run across transactions: commit "running", call outside, record the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.services.war_room_ports import ActionRunner

Handle = Callable[[commands.Command], Any]


def execute_run(
    handle: Handle, runner: ActionRunner, incident_id: int, run_id: int, actor: Actor
) -> None:
    """Run a ready action: no transaction is open while the HTTP call is in flight."""
    call = handle(commands.StartActionRun(incident_id, run_id))
    outcome = runner.execute(call)
    handle(commands.RecordActionRun(incident_id, run_id, outcome, actor))


def run_check(handle: Handle, runner: ActionRunner, cmd: commands.StartCheck) -> int:
    """Run a recovery check until it has passed `repeat` times or failed once; its run id."""
    run_id, call = handle(cmd)
    while True:
        outcome = runner.execute(call)
        more = handle(commands.RecordCheckAttempt(cmd.incident_id, run_id, outcome, cmd.actor))
        if not more:
            return int(run_id)
        runner.pause(cmd.interval)
