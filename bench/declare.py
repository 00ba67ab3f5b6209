"""What one incident declared from alerts costs, stage by stage, in one process with no load.

The paging benchmark's incidents (each alert names a new service, so each declares a P1 that
pages alice at once and bob 10 s later, and owes stakeholders an initial report) are put in the
alert inbox as deliveries of `--per-delivery` alerts; then the same commands the server and the
worker run are timed one after the other: applying the inbox (passes of 200 deliveries),
sending the initial reports (as many a transaction as the worker), claiming the pages and
recording them sent (50 at a time, no network), firing the 10 s steps, and last applying as
many new alerts again, one joining each open incident (as in an alert storm), sending those
again (as Alertmanager repeats a group), then resolving them. For each stage: milliseconds and
SQL statements per incident (not counting the COPYs that insert rows in bulk on PostgreSQL).
Under load, stages share one interpreter and the database, so the figures are a floor for the
paging benchmark, not a prediction of it.

Usage: python bench/declare.py [--dialect sqlite,postgresql] [--incidents 1000] [--per-delivery 10]
                               [--by-statement]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

import paging
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.alerts import AlertSignal, SignalAction
from tocsin.entrypoints.paging import UPDATE_BATCH

PASS_DELIVERIES, PAGE_BATCH = 200, 50


class Statements:
    """Counts the statements a Tocsin's writer runs, by their first words."""

    def __init__(self, tocsin: Tocsin) -> None:
        self.counts: Counter[str] = Counter()
        event.listen(tocsin.database.writer, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.counts[" ".join(statement.split()[:3])] += 1

    def take(self) -> int:
        total = sum(self.counts.values())
        self.counts.clear()
        return total


def fill_inbox(
    tocsin: Tocsin,
    incidents: int,
    per_delivery: int,
    prefix: str = "declare",
    action: SignalAction = SignalAction.TRIGGER,
) -> None:
    """Alerts `prefix`-0 … for services svc-0 …, one per incident, `per_delivery` a delivery."""
    with tocsin.database.reader.connect() as conn:
        integration_id = conn.execute(select(orm.integrations.c.id)).scalar_one()
    accepted = []
    for d in range(0, incidents, per_delivery):
        signals = tuple(
            AlertSignal(
                dedup_key=f"{prefix}-{n}",
                action=action,
                title=f"bench {prefix}-{n}",
                source_severity="critical",
                labels={"alertname": "Bench", "service": f"svc-{n}", "severity": "critical"},
            )
            for n in range(d, min(d + per_delivery, incidents))
        )
        accepted.append(tocsin.inbox.submit(integration_id, signals))
    for done in accepted:
        done.result()


def until_done(run: Callable[[], int], batch: int) -> float:
    """Run `run` until it does less than a full batch; seconds taken."""
    started = time.perf_counter()
    while run() >= batch:
        pass
    return time.perf_counter() - started


def stages(tocsin: Tocsin, incidents: int, per: int) -> list[tuple[str, Callable[[], float]]]:
    def apply() -> float:
        return until_done(
            lambda: len(tocsin.handle(commands.ProcessInbox(PASS_DELIVERIES, ()))),
            PASS_DELIVERIES,
        )

    def report() -> float:
        return until_done(
            lambda: int(tocsin.handle(commands.RunUpdateReminders(UPDATE_BATCH))), UPDATE_BATCH
        )

    steps_due: list[datetime] = []  # when every 10 s step is due, set once all are declared

    def claim_and_record(at: datetime | None = None) -> int:
        at = at or tocsin.clock.now()
        claimed = tocsin.handle_as_of(commands.ClaimDeliveries(PAGE_BATCH, 60.0), at)
        if claimed:
            outcomes = tuple(commands.DeliveryOutcome(d.id or 0, d.fence) for d in claimed)
            tocsin.handle_as_of(commands.RecordDeliveries(outcomes), at)
        return len(claimed)

    def step() -> float:
        steps_due.append(tocsin.clock.now() + timedelta(seconds=paging.STEP_S + 1))
        return until_done(
            lambda: int(tocsin.handle_as_of(commands.RunEscalations(PAGE_BATCH), steps_due[0])),
            PAGE_BATCH,
        )

    def join() -> float:
        fill_inbox(tocsin, incidents, per, prefix="join")
        return apply()

    def repeat() -> float:
        fill_inbox(tocsin, incidents, per, prefix="join")
        return apply()

    def resolve() -> float:
        fill_inbox(tocsin, incidents, per, prefix="join", action=SignalAction.RESOLVE)
        return apply()

    return [
        ("apply the inbox (declare)", apply),
        ("initial stakeholder report", report),
        (
            "claim + record first page",
            lambda: until_done(claim_and_record, PAGE_BATCH),
        ),
        ("fire the 10 s step", step),
        (
            "claim + record its page",
            lambda: until_done(lambda: claim_and_record(steps_due[0]), PAGE_BATCH),
        ),
        ("as many alerts joining them", join),
        ("those alerts sent again", repeat),
        ("those alerts resolving", resolve),
    ]


def measure(
    dialect: str, data_dir: Path, admin_url: str, incidents: int, per: int, kinds: bool = False
) -> None:
    url = paging.fresh_database(dialect, data_dir, admin_url)
    tocsin = bootstrap(load_settings(database_url=url, policy=paging.policy_file(data_dir)))
    try:
        tocsin.migrate()
        paging.prepare(tocsin, "http://127.0.0.1:9/unused")
        fill_inbox(tocsin, incidents, per)
        statements = Statements(tocsin)
        print(f"\n== {dialect}: {incidents} incidents from deliveries of {per} alerts")
        print(f"   {'stage':<28} {'ms/incident':>12} {'statements/incident':>20}")
        for name, run in stages(tocsin, incidents, per):
            seconds = run()
            common = statements.counts.most_common(12)
            count = statements.take()
            print(f"   {name:<28} {seconds / incidents * 1000:>12.3f} {count / incidents:>20.2f}")
            if kinds:
                for kind, n in common:
                    print(f"      {n / incidents:>8.2f}  {kind}")
    finally:
        tocsin.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", default="sqlite,postgresql")
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--per-delivery", type=int, default=10)
    parser.add_argument("--data-dir", type=Path, default=paging.DEFAULT_DATA_DIR)
    parser.add_argument("--pg-admin-url", default=paging.DEFAULT_PG_ADMIN_URL)
    parser.add_argument(
        "--by-statement", action="store_true", help="also the commonest statements per stage"
    )
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    for dialect in [d.strip() for d in args.dialect.split(",") if d.strip()]:
        measure(
            dialect,
            args.data_dir,
            args.pg_admin_url,
            args.incidents,
            args.per_delivery,
            args.by_statement,
        )


if __name__ == "__main__":
    main()
