"""The message bus: one transaction per command, with its events handled inside it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tocsin.domain.commands import Command
from tocsin.domain.errors import ConcurrencyConflict
from tocsin.domain.events import Event
from tocsin.policy import Policy
from tocsin.services.ports import Clock, PasswordHasher, UnitOfWork

log = logging.getLogger(__name__)

C = TypeVar("C", bound=Command)
E = TypeVar("E", bound=Event)


@dataclass
class Context:
    """What a handler may use: the open unit of work, the clock, the hasher and the policy."""

    uow: UnitOfWork
    clock: Clock
    hasher: PasswordHasher
    policy: Policy
    public_url: str = ""  # the web UI's address, for links in messages sent out


CommandHandler = Callable[[Any, Context], Any]
EventHandler = Callable[[Any, Context], None]


class MessageBus:
    """Sends each command to its one handler and each event to all of its handlers.

    The bus owns the transaction: it opens the unit of work, runs the command handler and
    every event handler that follows, and commits once. A concurrent modification of the
    same aggregate rolls everything back and runs the command again from scratch.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        hasher: PasswordHasher,
        policy: Policy,
        command_handlers: dict[type[Command], CommandHandler],
        event_handlers: dict[type[Event], list[EventHandler]],
        attempts: int = 5,
        public_url: str = "",
    ) -> None:
        self._uow_factory = uow_factory
        self.clock = clock
        self._hasher = hasher
        self._policy = policy
        self._command_handlers = command_handlers
        self._event_handlers = event_handlers
        self._attempts = attempts
        self._public_url = public_url

    def handle(self, command: Command) -> Any:
        handler = self._command_handlers[type(command)]
        for attempt in range(1, self._attempts + 1):
            try:
                with self._uow_factory() as uow:
                    ctx = Context(uow, self.clock, self._hasher, self._policy, self._public_url)
                    result = handler(command, ctx)
                    self._drain_events(ctx)
                    uow.commit()
                return result
            except ConcurrencyConflict:
                if attempt == self._attempts:
                    raise
                log.info("retrying %s after a concurrent change", type(command).__name__)
        raise AssertionError("unreachable")

    def _drain_events(self, ctx: Context) -> None:
        # Round by round: the events the handlers raise are collected after the whole round,
        # as collecting looks at every incident the transaction has touched.
        pending = list(ctx.uow.collect_new_events())
        while pending:
            for event in pending:
                for cls in type(event).__mro__:  # handlers of a base class see every subclass
                    for handler in self._event_handlers.get(cls, []):
                        handler(event, ctx)
            pending = list(ctx.uow.collect_new_events())
