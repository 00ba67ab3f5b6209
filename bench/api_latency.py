"""API read latency of one `tocsin serve` process on a big database, SQLite and PostgreSQL.

For each dialect: seed 100k incidents and 1M timeline entries (or reuse a database seeded with
the same counts and the schema of the migrations), start a single `tocsin serve` process, and
drive it with wrk (`bench/wrk_read.lua`, several connections) through scenarios for the list and
detail endpoints, with random ids, filters, search words and deep cursors per request. Prints
p50/p90/p99 and requests/s per scenario, the p99 against the 50 ms target with the ratio, and
the CPU used by the server, the database and wrk during each run. GET /healthz on the same server
(no database, no auth) is the peer: the framework's own floor.

Usage: python bench/api_latency.py [--dialect sqlite,postgresql] [--incidents N] [--entries M]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import sqlite3
import subprocess
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from processes import (
    Server,
    cpu_seconds,
    find_tool,
    http_get,
    pids_named,
    rss_kb,
    start_server,
)
from seed import (
    DEFAULT_ENTRIES,
    DEFAULT_INCIDENTS,
    counts,
    create_read_token,
    open_tocsin,
    seed,
)
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin
from tocsin.views.pagination import encode_cursor

TARGET_P99_MS = 50.0
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_PG_DATABASE = "tocsin_bench"
LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_read.lua"

# Words from the seeded vocabulary, common to rare, some only in summaries; and words no
# incident contains, which make the text filter read every row.
SEARCH_WORDS = (
    "timeouts", "kafka", "certificate", "replication", "checkout", "leak", "eu-west-1",
    "stampede", "bgp", "throttling", "redis", "webhooks", "invoices", "partial", "crash",
)  # fmt: skip
MISSING_WORDS = ("zeppelin", "quokka", "xylophone", "marzipan")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    paths: list[str]
    endpoint: str  # list, detail or peer
    has_target: bool = True


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    description: str
    endpoint: str
    has_target: bool
    connections: int
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    errors: int  # non-2xx responses plus socket errors and timeouts
    server_cpu_pct: float  # of one core
    db_cpu_pct: float  # PostgreSQL processes; SQLite runs inside the server
    wrk_cpu_pct: float
    cpu_ms_per_request: float  # server (+ database) CPU per request

    @property
    def ratio(self) -> float:
        return self.p99_ms / TARGET_P99_MS


@dataclass
class DialectResult:
    dialect: str
    database: str
    version: str
    incidents: int
    entries: int
    reused: bool
    seed_seconds: float | None
    server_pid: int
    server_processes: int
    rss_after_mb: float
    wrk_args: str
    connections: list[int]
    scenarios: list[ScenarioResult] = field(default_factory=list)


# ----- databases -------------------------------------------------------------------------------
def _schema_matches(tocsin: Tocsin) -> bool:
    """True when the tables carry exactly the indexes the migrations create (no hand-made ones)."""
    inspector = inspect(tocsin.database.reader)
    for table in orm.metadata.sorted_tables:
        found = {
            ix["name"]
            for ix in inspector.get_indexes(table.name)
            if not ix.get("duplicates_constraint")
        }
        if found != {ix.name for ix in table.indexes}:
            return False
    return tocsin.schema_is_current()


def _reusable(url: str, incidents: int, entries: int) -> tuple[bool, str | None]:
    """Whether `url` already holds exactly this data set; if so, a fresh token for it."""
    tocsin = open_tocsin(url)
    try:
        if counts(tocsin) == (incidents, entries) and _schema_matches(tocsin):
            return True, create_read_token(tocsin)
        return False, None
    finally:
        tocsin.close()


def prepare_sqlite(
    data_dir: Path, incidents: int, entries: int, reseed: bool
) -> tuple[str, str, float | None]:
    """(url, token, seconds spent seeding or None when an earlier seed was reused)."""
    path = data_dir / f"bench-{incidents}x{entries}.db"
    url = f"sqlite:///{path}"
    if path.exists() and not reseed:
        ok, token = _reusable(url, incidents, entries)
        if ok and token:
            return url, token, None
    for stale in data_dir.glob(f"{path.name}*"):
        stale.unlink()
    result = seed(url, incidents, entries)
    return url, result.token, result.seconds


def prepare_postgres(
    admin_url: str, name: str, incidents: int, entries: int, reseed: bool
) -> tuple[str, str, float | None]:
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists and not reseed:
        ok, token = _reusable(url, incidents, entries)
        if ok and token:
            return url, token, None
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    result = seed(url, incidents, entries)
    return url, result.token, result.seconds


def _database_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


# ----- scenarios -------------------------------------------------------------------------------
def scenarios(url: str, incidents: int, rng: random.Random) -> list[Scenario]:
    """The request mixes, built from what is in the database."""
    tocsin = open_tocsin(url)
    try:
        t = orm.incidents
        with tocsin.database.reader.connect() as conn:
            slugs = list(conn.scalars(select(orm.services.c.slug)))
            order = conn.execute(
                select(t.c.declared_at, t.c.id).order_by(t.c.declared_at.desc(), t.c.id.desc())
            ).all()
    finally:
        tocsin.close()
    depths = [rng.randint(len(order) // 2, len(order) - 60) for _ in range(100)]
    cursors = [encode_cursor(order[d].declared_at, order[d].id) for d in depths]
    base = "/api/v1/incidents"
    q = urllib.parse.quote
    return [
        Scenario("healthz", "GET /healthz (no DB, no auth): peer", ["/healthz"], "peer", False),
        Scenario("list", "first page, limit=50", [f"{base}?limit=50"], "list"),
        Scenario("list_open", "status=open", [f"{base}?status=open&limit=50"], "list"),
        Scenario("list_p1", "severity=P1", [f"{base}?severity=P1&limit=50"], "list"),
        Scenario(
            "list_service",
            f"service=<one of {len(slugs)}>",
            [f"{base}?service={q(s)}&limit=50" for s in slugs],
            "list",
        ),
        Scenario(
            "list_search",
            f"q=<one of {len(SEARCH_WORDS)} words>",
            [f"{base}?q={q(w)}&limit=50" for w in SEARCH_WORDS],
            "list",
        ),
        Scenario(
            "list_search_miss",
            "q=<word in no incident>",
            [f"{base}?q={q(w)}&limit=50" for w in MISSING_WORDS],
            "list",
        ),
        Scenario(
            "list_deep",
            "cursor at 50-100% depth",
            [f"{base}?limit=50&cursor={q(c)}" for c in cursors],
            "list",
        ),
        Scenario("detail", f"GET {base}/<random id>", [base + "/{id}"], "detail"),
        Scenario(
            "timeline", f"GET {base}/<random id>/timeline", [base + "/{id}/timeline"], "detail"
        ),
    ]


# ----- wrk -------------------------------------------------------------------------------------
def _wrk(
    wrk: str,
    server: Server,
    token: str,
    paths_file: Path,
    incidents: int,
    *,
    threads: int,
    connections: int,
    seconds: float,
) -> str:
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        f"http://127.0.0.1:{server.port}",
        "--",
        token,
        str(paths_file),
        "1",
        str(incidents),
    ]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return done.stdout


def _parse(output: str) -> tuple[dict[str, float], float, int]:
    """(WRK_JSON fields, requests/s, non-2xx responses) from wrk's output."""
    found = re.search(r"^WRK_JSON (.*)$", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if not found or not rps:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return json.loads(found.group(1)), float(rps.group(1)), int(non2xx.group(1)) if non2xx else 0


def run_scenario(
    wrk: str,
    server: Server,
    token: str,
    scenario: Scenario,
    incidents: int,
    data_dir: Path,
    *,
    threads: int,
    connections: int,
    seconds: float,
    warmup: float,
    postgres: bool,
) -> ScenarioResult:
    paths_file = data_dir / f"paths-{'pg' if postgres else 'sqlite'}-{scenario.name}.txt"
    paths_file.write_text("\n".join(scenario.paths) + "\n")
    # one plain request first: a scenario that returns errors must fail loudly, not look fast
    probe = scenario.paths[0].replace("{id}", str(max(1, incidents // 2)))
    status, body = http_get(server.port, probe, token)
    if status != 200:
        raise RuntimeError(f"{scenario.name}: GET {probe} answered {status}: {body[:300]!r}")
    kwargs = {"threads": min(threads, connections), "connections": connections}
    if warmup > 0:
        _wrk(wrk, server, token, paths_file, incidents, seconds=warmup, **kwargs)

    pids = server.processes()
    pg_before = {p: cpu_seconds([p]) for p in pids_named("postgres")} if postgres else {}
    server_before = cpu_seconds(pids)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    output = _wrk(wrk, server, token, paths_file, incidents, seconds=seconds, **kwargs)
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(pids) - server_before
    db_cpu = (
        sum(cpu_seconds([p]) - pg_before.get(p, 0.0) for p in pids_named("postgres"))
        if postgres
        else 0.0
    )
    wrk_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime
    )
    stats, rps, non2xx = _parse(output)
    requests = int(stats["requests"])
    socket_errors = sum(
        int(stats[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return ScenarioResult(
        name=scenario.name,
        description=scenario.description,
        endpoint=scenario.endpoint,
        has_target=scenario.has_target,
        connections=connections,
        requests=requests,
        rps=rps,
        p50_ms=stats["p50_us"] / 1000,
        p90_ms=stats["p90_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        p999_ms=stats["p999_us"] / 1000,
        max_ms=stats["max_us"] / 1000,
        errors=non2xx + socket_errors,
        server_cpu_pct=100 * server_cpu / wall,
        db_cpu_pct=100 * db_cpu / wall,
        wrk_cpu_pct=100 * wrk_cpu / wall,
        cpu_ms_per_request=1000 * (server_cpu + db_cpu) / max(1, requests),
    )


def measure_dialect(
    dialect: str,
    *,
    incidents: int = DEFAULT_INCIDENTS,
    entries: int = DEFAULT_ENTRIES,
    data_dir: Path = DEFAULT_DATA_DIR,
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL,
    pg_database: str = DEFAULT_PG_DATABASE,
    database_url: str | None = None,
    reseed: bool = False,
    threads: int = 2,
    connections: Sequence[int] = (8,),
    seconds: float = 15.0,
    warmup: float = 3.0,
    only: Sequence[str] = (),
    log: bool = True,
    workers: int = 1,
) -> DialectResult:
    """Seed or reuse the database, start one server, run every scenario, stop the server."""
    wrk = find_tool("wrk")
    data_dir.mkdir(parents=True, exist_ok=True)
    if database_url:  # an existing, already seeded database (e.g. a copy with an extra index)
        url, token, seed_seconds = database_url, "", None
        tocsin = open_tocsin(url)
        token = create_read_token(tocsin)
        tocsin.close()
    elif dialect == "sqlite":
        url, token, seed_seconds = prepare_sqlite(data_dir, incidents, entries, reseed)
    elif dialect == "postgresql":
        url, token, seed_seconds = prepare_postgres(
            pg_admin_url, pg_database, incidents, entries, reseed
        )
    else:
        raise SystemExit(f"unknown dialect {dialect!r}; use sqlite or postgresql")
    is_pg = make_url(url).get_backend_name() == "postgresql"
    result = DialectResult(
        dialect=dialect,
        database=make_url(url).render_as_string(hide_password=True),
        version=_database_version(url),
        incidents=incidents,
        entries=entries,
        reused=seed_seconds is None,
        seed_seconds=seed_seconds,
        server_pid=0,
        server_processes=0,
        rss_after_mb=0.0,
        wrk_args=f"wrk -t{threads} -c<C> -d{seconds:g}s --latency -s {LUA_SCRIPT.name}",
        connections=list(connections),
    )
    chosen = [s for s in scenarios(url, incidents, random.Random(7)) if not only or s.name in only]
    server = start_server(
        url, data_dir / f"server-{dialect}.log", args=("--no-demo", "--workers", str(workers))
    )
    try:
        server.wait_ready()
        result.server_pid = server.pid
        result.server_processes = len(server.processes())
        for scenario in chosen:
            for count in connections:
                outcome = run_scenario(
                    wrk,
                    server,
                    token,
                    scenario,
                    incidents,
                    data_dir,
                    threads=threads,
                    connections=count,
                    seconds=seconds,
                    warmup=warmup,
                    postgres=is_pg,
                )
                result.scenarios.append(outcome)
                if log:
                    print(_row(outcome), flush=True)
        result.server_processes = max(result.server_processes, len(server.processes()))
        result.rss_after_mb = rss_kb(server.processes()) / 1024
    finally:
        server.stop()
    return result


# ----- report ----------------------------------------------------------------------------------
HEADER = (
    f"{'scenario':<17}{'C':>3}{'req/s':>8}{'p50':>8}{'p90':>8}{'p99':>8}{'p99/50ms':>9}  "
    f"{'server':>7}{'db':>6}{'wrk':>6}{'CPU ms/req':>11}{'errors':>7}"
)
UNITS = (
    f"{'':<17}{'':>3}{'':>8}{'ms':>8}{'ms':>8}{'ms':>8}{'':>9}  "
    f"{'CPU %':>7}{'CPU %':>6}{'CPU %':>6}"
)


def _row(s: ScenarioResult) -> str:
    ratio = f"{s.ratio:.2f}" + ("" if s.p99_ms < TARGET_P99_MS else "!") if s.has_target else "-"
    return (
        f"{s.name:<17}{s.connections:>3}{s.rps:>8.1f}"
        f"{s.p50_ms:>8.1f}{s.p90_ms:>8.1f}{s.p99_ms:>8.1f}{ratio:>9}  "
        f"{s.server_cpu_pct:>7.0f}{s.db_cpu_pct:>6.0f}{s.wrk_cpu_pct:>6.0f}"
        f"{s.cpu_ms_per_request:>11.2f}{s.errors:>7}"
    )


def report(result: DialectResult) -> str:
    seeded = (
        "reused an earlier seed"
        if result.reused
        else f"seeded in {result.seed_seconds:.1f} s"
        if result.seed_seconds is not None
        else ""
    )
    lines = [
        f"== {result.version}: {result.incidents:,} incidents, {result.entries:,} timeline "
        f"entries ({seeded})",
        f"   one `tocsin serve` measured (pid {result.server_pid}, processes in its tree: "
        f"{result.server_processes}); {result.wrk_args}; {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}); CPU % is of one core",
        HEADER,
        UNITS,
        *(_row(s) for s in result.scenarios),
    ]
    for count in result.connections:
        targeted = [s for s in result.scenarios if s.has_target and s.connections == count]
        if not targeted:
            continue
        worst = max(targeted, key=lambda s: s.p99_ms)
        missed = [s.name for s in targeted if s.p99_ms >= TARGET_P99_MS]
        lines.append(
            f"   {count} connection(s): target p99 < {TARGET_P99_MS:.0f} ms for list and detail: "
            f"worst {worst.name} {worst.p99_ms:.1f} ms (ratio {worst.ratio:.2f}); "
            + (f"MISSED by {', '.join(missed)}" if missed else "all met")
        )
    lines.append(f"   server RSS after the runs: {result.rss_after_mb:.0f} MB")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[DialectResult]:
    parser = argparse.ArgumentParser(description="API read latency under wrk, per dialect.")
    parser.add_argument("--dialect", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--incidents", type=int, default=DEFAULT_INCIDENTS)
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--pg-database", default=DEFAULT_PG_DATABASE)
    parser.add_argument(
        "--database-url", help="measure this already seeded database instead (one dialect)"
    )
    parser.add_argument("--reseed", action="store_true", help="seed even if a seed can be reused")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--connections", default="8", help="comma-separated wrk connection counts, e.g. 1,8"
    )
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    args = parser.parse_args(argv)
    results = []
    for dialect in [d.strip() for d in args.dialect.split(",") if d.strip()]:
        print(f"-- {dialect}: preparing", flush=True)
        print(HEADER, flush=True)
        result = measure_dialect(
            dialect,
            incidents=args.incidents,
            entries=args.entries,
            data_dir=args.data_dir,
            pg_admin_url=args.pg_admin_url,
            pg_database=args.pg_database,
            database_url=args.database_url,
            reseed=args.reseed,
            threads=args.threads,
            connections=[int(c) for c in args.connections.split(",")],
            seconds=args.duration,
            warmup=args.warmup,
            only=[o for o in args.only.split(",") if o],
        )
        results.append(result)
        print(report(result), flush=True)
    return results


if __name__ == "__main__":
    main()
