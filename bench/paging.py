"""Paging latency: alert POSTed → first page at a local webhook receiver, and late escalation steps.

Issue 4's targets: from an alert's POST to the first page, p99 < 100 ms at 100 alerts/s and
< 1 s at 1,000 alerts/s; escalation steps late by p99 < 1 s, and after a kill -9 of the only
worker by at most its restart time + 1 s. No peer runs beside Tocsin here (GoAlert works in 5 s
cycles, Grafana OnCall waits a 10 s countdown plus Celery), so figures are set against targets.

Each alert names a new `service`, so each declares a P1 incident whose path pages alice at once
and bob 10 s later, both by webhook to a receiver in its own process (bench/receivers.py).
Alerts go out at a fixed rate as Alertmanager v4 notifications (bench/senders.py): one alert per
request at 10 and 100/s, 10 per request at 1,000/s. A rate written `1000/10` is an alert
storm: 1,000 alerts/s of which one in 10 opens an incident (100 P1 incidents/s) and the other
nine are new alerts (own `instance` label) about a service opened 100 ms earlier, which join its
incident and page nobody; the first page is measured for the alerts that open incidents, while
the whole storm is applied. Plain `1000` is the harshest reading: every alert a new incident.
Sent = its request is written out; received = the page's body is in; one machine, one clock
(time.time()). A 10 s step is late by page received - (escalation started_at + 10 s); its
delivery row says when the step fired (created_at) and how long the page then waited to be sent
(sent_at - due_at).

The kill test runs `tocsin serve` with TOCSIN_PAGING_EMBEDDED=false beside one `tocsin worker`,
SIGKILLs the worker 2 s before the first 10 s steps are due, starts it again 3 s later, and
measures how late the steps due meanwhile are.

Usage: python bench/paging.py [--dialect sqlite,postgresql] [--duration 10]
                              [--rates 10,100,1000,1000/10] [--skip-kill] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

import processes
from ingest import percentile
from processes import CLOCK_TICKS, Server, cpu_seconds, start_server
from receivers import Page, PageReceiver
from seed import open_tocsin
from senders import Sent, send_alerts
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind
from tocsin.policy.loader import default_policy_text

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "tocsin_paging"
STEP_S = 10.0
BATCHED_FROM, PER_REQUEST = 1000, 10
TARGET_FIRST_MS = {100: 100.0, 1000: 1000.0}
TARGET_LATE_S = 1.0
KILL_BEFORE_S, DOWN_S = 2.0, 3.0
PROBLEM = re.compile(r'Traceback|ERROR|WARNING|CRITICAL|failed|" [45]\d\d ')


@dataclass
class Timing:
    alerts: int
    first_ms: list[float]  # alert sent → its first page received
    declared_ms: list[float]  # alert sent → its incident declared
    missing: dict[int, int]  # step → alerts without a page of it
    doubled: int  # pages received again (same idempotency key)
    unexpected: int  # pages of another step
    steps: list[tuple[float, float]]  # (due, received) of the 10 s step
    fired_s: list[float]  # the 10 s step's delivery created_at - due
    waited_s: list[float]  # the 10 s step's delivery sent_at - due_at

    @property
    def late_s(self) -> list[float]:
        return [received - due for due, received in self.steps]


@dataclass
class Row:
    dialect: str
    what: str
    values: list[float]
    unit: str
    target: float | None
    note: str
    q: int = 99  # the percentile held against the target (100: the worst)


@dataclass
class Bench:
    """What every run of one dialect shares."""

    dialect: str
    tocsin: Tocsin
    receiver: PageReceiver
    key: str
    env: dict[str, str]
    data_dir: Path

    def log(self, name: str) -> Path:
        return self.data_dir / f"paging-{name}-{self.dialect}.log"

    def send(
        self, server: Server, run: str, rate: float, seconds: float, new_every: int = 1
    ) -> Sent:
        url = f"http://127.0.0.1:{server.port}/hooks/alertmanager/{self.key}"
        batch = PER_REQUEST if rate >= BATCHED_FROM else 1
        return asyncio.run(send_alerts(url, run, rate, seconds, batch, new_every))


# ----- set-up --------------------------------------------------------------------------------
def policy_file(data_dir: Path) -> Path:
    """The default policy with a P1 path of two webhook steps, 10 s apart."""
    document = yaml.safe_load(default_policy_text())
    document["escalation_paths"]["P1"] = {"immediate": ["person:alice"], "10s": ["person:bob"]}
    document["notification_channels"]["P1"] = ["webhook"]
    path = data_dir / "paging-policy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def fresh_database(dialect: str, data_dir: Path, admin_url: str) -> str:
    if dialect == "sqlite":
        for stale in data_dir.glob("paging.db*"):
            stale.unlink()
        return f"sqlite:///{data_dir / 'paging.db'}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return make_url(admin_url).set(database=PG_DATABASE).render_as_string(hide_password=False)


def prepare(tocsin: Tocsin, receiver_url: str) -> str:
    """Two people paged by webhook, and an Alertmanager integration; returns its key."""
    people = tuple(
        commands.PersonSpec(handle, handle.title(), f"{handle}@example.com",
                            contact_methods=(("webhook", receiver_url),))
        for handle in ("alice", "bob")
    )  # fmt: skip
    tocsin.handle(commands.ImportCatalog(people=people))
    made = tocsin.handle(
        commands.CreateIntegration("paging", IntegrationKind.ALERTMANAGER, Actor("bench"))
    )
    return str(made.key)


# ----- what arrived --------------------------------------------------------------------------
def scheduled(tocsin: Tocsin, run: str) -> dict[str, tuple[int, float, float]]:
    """Title → (incident id, declared_at, when its 10 s step is due) for the run's incidents."""
    i, e = orm.incidents, orm.escalations
    query = (
        select(i.c.title, i.c.id, i.c.declared_at, e.c.started_at)
        .join(e, e.c.incident_id == i.c.id)
        .where(i.c.title.like(f"bench {run}-%"))
    )
    with tocsin.database.reader.connect() as conn:
        rows = conn.execute(query).all()
    return {r.title: (r.id, r.declared_at.timestamp(), r.started_at.timestamp() + STEP_S)
            for r in rows}  # fmt: skip


def measure(tocsin: Tocsin, sent: Sent, pages: list[Page], run: str) -> Timing:
    incidents = scheduled(tocsin, run)
    due_of = {incident_id: due for incident_id, _, due in incidents.values()}
    first: dict[tuple[str, int], Page] = {}
    for page in sorted(pages, key=lambda p: p.received_at):
        first.setdefault((page.title, page.step), page)
    d = orm.deliveries
    query = select(d.c.incident_id, d.c.created_at, d.c.due_at, d.c.sent_at).where(
        d.c.step == 1, d.c.incident_id.in_(list(due_of))
    )
    with tocsin.database.reader.connect() as conn:
        rows = conn.execute(query).all()
    return Timing(
        alerts=len(sent.at),
        first_ms=[(p.received_at - sent.at[t]) * 1000 for (t, s), p in first.items() if s == 0],
        declared_ms=[(incidents[t][1] - at) * 1000 for t, at in sent.at.items() if t in incidents],
        missing={s: len(sent.at) - sum(1 for _, step in first if step == s) for s in (0, 1)},
        doubled=sum(n - 1 for n in Counter(p.key for p in pages).values()),
        unexpected=sum(1 for p in pages if p.step not in (0, 1)),
        steps=[
            (due_of[p.incident_id], p.received_at)
            for (_, s), p in first.items()
            if s == 1 and p.incident_id in due_of
        ],
        fired_s=[r.created_at.timestamp() - due_of[r.incident_id] for r in rows],
        waited_s=[(r.sent_at - r.due_at).total_seconds() for r in rows if r.sent_at],
    )


def joined_stored(tocsin: Tocsin, run: str) -> int:
    """How many of a storm's joining alerts are stored, attached to the incident their service
    opened (not one of their own)."""
    a, i = orm.alerts, orm.incidents
    query = (
        select(func.count())
        .select_from(a.join(i, i.c.id == a.c.incident_id))
        .where(a.c.title.like(f"storm {run}-%"), i.c.title.like(f"bench {run}-%"))
    )
    with tocsin.database.reader.connect() as conn:
        return int(conn.scalar(query) or 0)


def figures(values: Sequence[float], unit: str = "ms") -> str:
    if not values:
        return "no values"
    digits = 1 if unit == "ms" else 3
    shown = [f"{percentile(values, q):.{digits}f}" for q in (50, 99)] + [
        f"{max(values):.{digits}f}"
    ]
    return f"p50 {shown[0]} p99 {shown[1]} max {shown[2]} {unit}"


def verdict(values: Sequence[float], target: float) -> str:
    ratio = percentile(values, 99) / target if values else float("inf")
    return f"p99/target {ratio:.2f} {'ok' if ratio < 1 else 'MISSED'}"


def cpu(bench: Bench, server: Server) -> dict[str, float]:
    """CPU seconds used so far by Tocsin, the receiver, this process, and everything else
    (PostgreSQL's backends among them: they come and go with connections)."""
    used = {
        "tocsin": cpu_seconds(server.processes()),
        "receiver": cpu_seconds([bench.receiver.pid]),
    }
    used["sender"] = time.process_time()
    busy = [int(n) for i, n in enumerate(Path("/proc/stat").read_text().split()[1:9]) if i != 3]
    rest = "postgres and others" if bench.dialect == "postgresql" else "others"
    used[rest] = sum(busy) / CLOCK_TICKS - sum(used.values())
    return used


def report_problems(*logs: Path) -> None:
    for path in logs:
        text = path.read_text(errors="replace").splitlines()
        found = [line for line in text if PROBLEM.search(line)]
        if found:
            print(f"   {path.name}: {len(found)} problem line(s), e.g.:")
            for line in list(dict.fromkeys(found))[:4]:
                print(f"      {line[:160]}")


# ----- the runs ------------------------------------------------------------------------------
def rate_run(
    bench: Bench, server: Server, rate: int, seconds: float, new_every: int = 1
) -> list[Row]:
    per = f"{PER_REQUEST} alerts per request" if rate >= BATCHED_FROM else "1 alert per request"
    storm = f", one in {new_every} opening an incident" if new_every > 1 else ""
    print(f"   {rate} alerts/s for {seconds:g} s, {per}{storm}:", flush=True)
    run = f"{bench.dialect}-{rate}" + (f"-{new_every}" if new_every > 1 else "")
    before, started = cpu(bench, server), time.time()
    sent = bench.send(server, run, rate, seconds, new_every)
    errors = f": {sent.errors[0]}" if sent.errors else ""
    joined = f" ({len(sent.at)} opening incidents)" if sent.joined else ""
    print(
        f"      sent {len(sent.at) + sent.joined} alerts{joined} at {sent.achieved:.1f}/s "
        f"(latest request {sent.lag_ms:.0f} ms behind schedule) over {sent.connections} "
        f"connections, HTTP errors {len(sent.errors)}{errors}",
        flush=True,
    )
    pages = bench.receiver.wait(f"bench {run}-", len(sent.at), steps=2)
    after, wall = cpu(bench, server), time.time() - started
    shares = ", ".join(f"{k} {(after[k] - before[k]) / wall:.0%}" for k in before)
    print(f"      CPU over the {wall:.0f} s from the first alert to the end of the wait, of one "
          f"core ({os.cpu_count()} here): {shares}")  # fmt: skip
    t = measure(bench.tocsin, sent, pages, run)
    target = TARGET_FIRST_MS.get(rate)
    goal = f"target p99 < {target:g} ms: {verdict(t.first_ms, target)}" if target else "no target"
    print(
        f"      first page: {t.alerts - t.missing[0]}/{t.alerts} received, "
        f"{figures(t.first_ms)}; {goal}"
    )
    print(f"         of which alert sent → incident declared: {figures(t.declared_ms)}")
    print(
        f"      10 s step: {t.alerts - t.missing[1]}/{t.alerts} received, late "
        f"{figures(t.late_s, 's')}; target p99 < 1 s: {verdict(t.late_s, TARGET_LATE_S)}"
    )
    print(
        f"         step fired (created_at - due) {figures(t.fired_s, 's')}; page queued "
        f"(sent_at - due_at) {figures(t.waited_s, 's')}"
    )
    if sent.joined:
        strays = sum(1 for p in bench.receiver.pages() if p.title.startswith(f"storm {run}-"))
        print(
            f"      alerts joining an open incident: {joined_stored(bench.tocsin, run)}/"
            f"{sent.joined} stored with their service's incident; incidents they opened "
            f"instead: {strays} paged"
        )
    times = sorted(p.received_at for p in pages)
    rate_in = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(
        f"      pages received {len(pages)} at {rate_in:.0f}/s from the first to the last; "
        f"doubled {t.doubled}, of an unexpected step {t.unexpected}",
        flush=True,
    )
    note = f"{t.alerts - t.missing[0]}/{t.alerts} paged, sent at {sent.achieved:.0f}/s"
    if rate >= BATCHED_FROM:
        note += f" in {PER_REQUEST}s"
    if new_every > 1:
        note += f", 1 in {new_every} opening"
    late_note = f"{t.alerts - t.missing[1]}/{t.alerts} paged, doubled {t.doubled}"
    label = f"{rate}/s" + (" storm" if new_every > 1 else "")
    return [
        Row(bench.dialect, f"first page @ {label}", t.first_ms, "ms", target, note),
        Row(bench.dialect, f"10 s step late @ {label}", t.late_s, "s", TARGET_LATE_S, late_note),
    ]


def start_worker(bench: Bench, log: Path) -> tuple[subprocess.Popen[bytes], float, float]:
    return processes.start_worker(bench.tocsin.database.url, log, bench.env)


def kill_run(bench: Bench) -> Row:
    logs = [bench.log(name) for name in ("split-server", "worker-1", "worker-2")]
    split = {**bench.env, "TOCSIN_PAGING_EMBEDDED": "false"}
    run = f"{bench.dialect}-kill"
    server = start_server(bench.tocsin.database.url, logs[0], env=split)
    worker = None
    try:
        server.wait_ready()
        worker, _, _ = start_worker(bench, logs[1])
        sent = bench.send(server, run, 10, 4)
        bench.receiver.wait(f"bench {run}-", len(sent.at), steps=1)
        first_due = min(due for _, _, due in scheduled(bench.tocsin, run).values())
        time.sleep(max(0.0, first_due - KILL_BEFORE_S - time.time()))
        os.kill(worker.pid, signal.SIGKILL)
        killed = time.time()
        worker.wait()
        time.sleep(DOWN_S)
        worker, spawned, ready = start_worker(bench, logs[2])
        pages = bench.receiver.wait(f"bench {run}-", len(sent.at), steps=2)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=15)
        server.stop()
    t = measure(bench.tocsin, sent, pages, run)
    outage = [received - due for due, received in t.steps if killed <= due < ready]
    beyond = [received - max(due, ready) for due, received in t.steps]
    restart = ready - killed
    back = min((p.received_at for p in pages if p.received_at > ready), default=ready) - spawned
    print(
        f"   kill -9 of the only `tocsin worker` {first_due - killed:.1f} s before the first "
        f"10 s step is due, started again {DOWN_S:g} s later ({t.alerts} alerts at 10/s):"
    )
    print(
        f"      restart time (kill → worker up) {restart:.2f} s; new process start → its "
        f"banner {ready - spawned:.2f} s, → its first page {back:.2f} s"
    )
    ok = bool(outage) and max(outage) <= restart + 1
    print(
        f"      {len(outage)} steps due during the outage: late {figures(outage, 's')}; "
        f"target ≤ restart time + 1 s = {restart + 1:.2f} s: {'ok' if ok else 'MISSED'}"
    )
    print(f"      every 10 s step, received - max(due, worker up): {figures(beyond, 's')}")
    print(
        f"      pages: first {t.alerts - t.missing[0]}/{t.alerts}, 10 s step "
        f"{t.alerts - t.missing[1]}/{t.alerts}, doubled {t.doubled}, unexpected {t.unexpected}"
    )
    report_problems(*logs)
    note = f"{len(outage)} due in outage, doubled {t.doubled}, missing {sum(t.missing.values())}"
    return Row(bench.dialect, "kill -9: late steps (max)", outage, "s", restart + 1, note, 100)


# ----- output --------------------------------------------------------------------------------
def summary(rows: list[Row]) -> None:
    print("\n== Summary (ratio = p99 / target, or max / target for kill -9; < 1.00 meets it)")
    print(f"{'dialect':<11}{'measure':<27}{'p50':>10}{'p99':>10}{'max':>10}{'target':>10}"
          f"{'ratio':>8}  verdict note")  # fmt: skip
    for row in rows:
        digits = 1 if row.unit == "ms" else 3
        cells = [percentile(row.values, q) for q in (50, 99, 100)] if row.values else []
        text = "".join(f"{v:>10.{digits}f}" for v in cells) or f"{'-':>10}" * 3
        if row.target is None:
            tail = f"{'-':>10}{'-':>8}  -      "
        else:
            ratio = percentile(row.values, row.q) / row.target if row.values else float("inf")
            shown = f"{row.target:.{0 if row.unit == 'ms' else 2}f} {row.unit}"
            tail = f"{shown:>10}{ratio:>8.2f}  {'ok     ' if ratio < 1 else 'MISSED '}"
        print(f"{row.dialect:<11}{row.what:<27}{text}{tail} {row.note}")
    print("(first page in ms from the alert's POST; step lateness in s after the step was due)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dialect", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per rate")
    parser.add_argument(
        "--rates",
        default="10,100,1000,1000/10",
        help="alerts/s, comma-separated; RATE/N: a storm where one alert in N opens an incident",
    )
    parser.add_argument("--skip-kill", action="store_true", help="no kill -9 test")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="scale mode for the rate runs: `tocsin serve` without its embedded worker beside "
        "this many `tocsin worker` processes (woken by NOTIFY, or on SQLite by its data version)",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = {"TOCSIN_POLICY": str(policy_file(args.data_dir))}
    rows: list[Row] = []
    with PageReceiver() as receiver:
        for dialect in [d.strip() for d in args.dialect.split(",") if d.strip()]:
            print(f"\n== Tocsin on {dialect}, paging {receiver.url}", flush=True)
            tocsin = open_tocsin(fresh_database(dialect, args.data_dir, args.pg_admin_url))
            bench = Bench(dialect, tocsin, receiver, prepare(tocsin, receiver.url), env,
                          args.data_dir)  # fmt: skip
            try:
                mode = {**env, "TOCSIN_PAGING_EMBEDDED": "false"} if args.workers else env
                server = start_server(tocsin.database.url, bench.log("server"), env=mode)
                workers = []
                try:
                    server.wait_ready()
                    for n in range(args.workers):
                        workers.append(start_worker(bench, bench.log(f"rate-worker-{n + 1}"))[0])
                    for spec in [r.strip() for r in args.rates.split(",") if r.strip()]:
                        rate, _, every = spec.partition("/")
                        rows += rate_run(bench, server, int(rate), args.duration, int(every or 1))
                finally:
                    for worker in workers:
                        worker.send_signal(signal.SIGINT)
                        worker.wait(timeout=15)
                    server.stop()
                report_problems(bench.log("server"))
                if not args.skip_kill:
                    rows.append(kill_run(bench))
            finally:
                tocsin.close()
    summary(rows)


if __name__ == "__main__":
    main()
