"""The paging test harness: a Tocsin on a real database with a fake clock and receiver."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.conftest import make_tocsin
from tests.fakes import FakeClock, FakeNotifier
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.communications import Audience
from tocsin.domain.severities import Severity
from tocsin.entrypoints.paging import paging_cycle, run_updates
from tocsin.policy import Policy, load_default_policy
from tocsin.policy.communications import AudienceChannels
from tocsin.policy.paging import Destination, PagingPolicy

MONDAY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
ME = Actor("Dana")


def person(handle: str, title: str = "", *methods: tuple[str, ...]) -> commands.PersonSpec:
    return commands.PersonSpec(
        handle, handle.title(), f"{handle}@example.com", title=title, contact_methods=methods
    )


CATALOG = commands.ImportCatalog(
    people=(
        person("alice", "", ("sms", "+4915112345678"), ("email", "alice@pager.example.com")),
        person("bob"),
        person("erin"),
        person("dave", "Director of Engineering"),
        person("vera", "VP Engineering"),
        person("carol", "CTO"),
        person("chen", "CEO"),
        person("paul", "", ("phone", "+15550100200")),
        person(
            "nina",
            "",
            ("email", "nina@pager.example.com"),
            ("sms", "+4915100000001", "2m"),
            ("phone", "+4915100000001", "5m"),
        ),
    ),
    teams=(
        commands.TeamSpec(
            "payments",
            "Payments",
            members=(
                ("alice", "on-call engineer"),
                ("bob", "team lead"),
                ("erin", "engineering manager"),
            ),
        ),
        commands.TeamSpec("search", "Search", members=(("paul", "team lead"),)),
        commands.TeamSpec("ledger", "Ledger", members=(("nina", "on-call engineer"),)),
    ),
    services=(
        commands.ServiceSpec("checkout", "Checkout", team="payments"),
        commands.ServiceSpec("search", "Search", team="search"),
        commands.ServiceSpec("ledger", "Ledger", team="ledger"),
    ),
)


class Pager:
    """A Tocsin with a fake clock and receiver; `expect` takes what was sent since last asked."""

    def __init__(self, url: str, policy: Policy, catalog: commands.ImportCatalog = CATALOG) -> None:
        self.clock = FakeClock(MONDAY)
        self.core: Tocsin = make_tocsin(url, self.clock, policy)
        self.receiver = FakeNotifier()
        self.core.notifier = self.receiver  # type: ignore[assignment]
        self.core.handle(catalog)
        self._seen = 0

    def declare(self, severity: Severity, service: str = "checkout", **extra: object) -> int:
        made = self.core.handle(
            commands.DeclareIncident(
                "Checkout failing",
                severity,
                ME,
                services=(service,),
                **extra,  # type: ignore[arg-type]
            )
        )
        return int(made)

    def cycle(self, times: int = 1) -> None:
        for _ in range(times):
            asyncio.run(paging_cycle(self.core))

    def at(self, **delta: float) -> None:
        """Move the clock to MONDAY + delta (never backwards) and run a cycle."""
        target = MONDAY + timedelta(**delta)
        assert target >= self.clock.now()
        self.clock.set(target)
        self.cycle()

    def expect(self, *pages: str) -> None:
        """Exactly these ('alice:sms', 'internal-chat:destination', …) since the last check."""
        with self.core.database.reader.connect() as conn:
            handles = dict(conn.execute(select(orm.people.c.id, orm.people.c.handle)).all())
        new = self.receiver.sent[self._seen :]
        self._seen = len(self.receiver.sent)
        got = sorted(f"{handles.get(d.person_id or 0, d.address)}:{d.method}" for d in new)
        assert got == sorted(pages)

    def expect_nothing_more(self, hours: float = 6) -> None:
        """A few more cycles over the next hours send nothing unexpected."""
        for _ in range(4):
            self.clock.advance(hours=hours / 4)
            self.cycle(2)
        self.expect()

    def timeline(self, incident_id: int) -> list[str]:
        return [e.body for e in self.core.incidents.timeline(incident_id)]


def with_paging(**changes: object) -> Policy:
    policy = load_default_policy()
    paging = PagingPolicy.model_validate({**policy.paging.model_dump(), **changes})
    return policy.model_copy(update={"paging": paging})


async def run_updates_for(
    core: Tocsin, seconds: float, until: Callable[[], bool] = lambda: False
) -> None:
    """The server's stakeholder-report loop, as it runs beside paging, for `seconds` or until
    `until()` holds."""
    loop = asyncio.create_task(run_updates(core))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        await asyncio.sleep(0.05)
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop


def with_destinations() -> Policy:
    """Internal updates to one chat, executive ones to another (and to the first)."""
    policy = load_default_policy()
    hooks = {
        "internal-chat": Destination(apprise="json://127.0.0.1:9/internal"),
        "exec-chat": Destination(webhook="http://127.0.0.1:9/exec"),
    }
    paging = policy.paging.model_copy(update={"destinations": hooks})
    audiences = {
        Audience.INTERNAL: AudienceChannels(destinations=["internal-chat"]),
        Audience.EXECUTIVE: AudienceChannels(destinations=["exec-chat", "internal-chat"]),
        Audience.CUSTOMER: AudienceChannels(),
    }
    comms = policy.communications.model_copy(update={"audiences": audiences})
    return policy.model_copy(update={"paging": paging, "communications": comms})
