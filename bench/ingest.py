"""Durable alert ingest of `tocsin serve` beside Prometheus Alertmanager's own ingest, in one run.

The peer is a real Alertmanager (Debian's `prometheus-alertmanager`) taking alerts on its
POST /api/v2/alerts and keeping them in memory only. Tocsin takes the same alerts as Alertmanager
webhook notifications on POST /hooks/alertmanager/{key} and answers only after they are committed
(SQLite with synchronous=FULL, or PostgreSQL). Both are driven by wrk (`bench/wrk_ingest.lua`)
with several connections and alerts no request sent before; single-alert requests and batches of
100. Printed: requests/s, alerts/s, p50/p99 per request, Tocsin/Alertmanager ratios against the
targets (at least 1.0 times the single-alert rate, 0.5 times the batched rate), the time from
POST to incident declared, how long applying the accepted alerts took after the load ended, and
RSS as alerts accumulate. `--split` runs the server with TOCSIN_INTAKE_EMBEDDED=false and
TOCSIN_PAGING_EMBEDDED=false beside one `tocsin worker` that applies the inbox, so accepting and
applying each have a process (and a core) of their own.

Usage: python bench/ingest.py [--dialect sqlite,postgresql] [--duration 10] [--connections 8]
                              [--memory-alerts 1000000] [--split] [--workers N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import signal
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from processes import find_tool, rss_kb, start_server, start_worker
from seed import open_tocsin
from tocsin.adapters import orm
from tocsin.bootstrap import Tocsin, bootstrap
from tocsin.config import load_settings
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.integrations import IntegrationKind

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk_ingest.lua"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "tocsin_ingest"
TARGET_SINGLE = 1.0
TARGET_BATCH = 0.5
TARGET_RSS_MB = 300.0
PEER_CONFIG = """
route:
  receiver: nobody
  group_by: ['...']
receivers:
  - name: nobody
"""


@dataclass(frozen=True)
class Load:
    name: str
    batch: int
    requests: int
    rps: float
    alerts_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(
    url: str, fmt: str, path: str, batch: int, *, connections: int, seconds: float, run: int
) -> Load:
    argv = [
        find_tool("wrk"),
        "-t2",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        url,
        "--",
        fmt,
        path,
        str(batch),
        "20",
        str(run),
    ]
    output = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    found = re.search(r"^WRK_JSON (.*)$", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if not found or not rps:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    data = json.loads(found.group(1))
    errors = (int(non2xx.group(1)) if non2xx else 0) + sum(
        int(data[k]) for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    rate = float(rps.group(1))
    return Load(
        name="single" if batch == 1 else f"batch of {batch}",
        batch=batch,
        requests=int(data["requests"]),
        rps=rate,
        alerts_per_s=rate * batch,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
    )


# ----- the peer ---------------------------------------------------------------------------------
def measure_alertmanager(
    data_dir: Path, *, connections: int, seconds: float
) -> tuple[list[Load], float]:
    binary = find_tool("prometheus-alertmanager")
    work = data_dir / "alertmanager"
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yml").write_text(PEER_CONFIG)

    def command(port: int) -> list[str]:
        return [
            binary,
            f"--config.file={work / 'config.yml'}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]

    server = start_server("", data_dir / "alertmanager.log", command=command)
    try:
        server.wait_ready(path="/-/ready")
        url = f"http://127.0.0.1:{server.port}"
        loads = []
        for run, batch in enumerate((1, 100), start=1):
            run_wrk(url, "alertmanager-api", "/api/v2/alerts", batch,
                    connections=connections, seconds=2, run=100 + run)  # fmt: skip
            loads.append(
                run_wrk(
                    url,
                    "alertmanager-api",
                    "/api/v2/alerts",
                    batch,
                    connections=connections,
                    seconds=seconds,
                    run=run,
                )
            )
        rss = rss_kb(server.processes()) / 1024
        return loads, rss
    finally:
        server.stop()


# ----- Tocsin -----------------------------------------------------------------------------------
def fresh_database(dialect: str, data_dir: Path, admin_url: str) -> str:
    if dialect == "sqlite":
        path = data_dir / "ingest.db"
        for stale in data_dir.glob("ingest.db*"):
            stale.unlink()
        return f"sqlite:///{path}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return make_url(admin_url).set(database=PG_DATABASE).render_as_string(hide_password=False)


def create_integration(url: str) -> str:
    tocsin = open_tocsin(url)
    try:
        made = tocsin.handle(
            commands.CreateIntegration("load", IntegrationKind.ALERTMANAGER, Actor("bench"))
        )
        return str(made.key)
    finally:
        tocsin.close()


def reading(url: str) -> Tocsin:
    """Tocsin on the server's database for reading only: no migration, which would wait for
    SQLite's write lock behind a server busy applying alerts."""
    return bootstrap(load_settings(database_url=url))


def stored(url: str) -> tuple[int, int]:
    """(alerts, incidents) in the database."""
    tocsin = reading(url)
    try:
        with tocsin.database.reader.connect() as conn:
            alerts = conn.scalar(select(func.count()).select_from(orm.alerts)) or 0
            incidents = conn.scalar(select(func.count()).select_from(orm.incidents)) or 0
        return int(alerts), int(incidents)
    finally:
        tocsin.close()


def drain(url: str, timeout: float = 900.0) -> float:
    """Seconds until every accepted delivery has been applied (the inbox holds none)."""
    tocsin = reading(url)
    started = time.perf_counter()
    try:
        while True:
            with tocsin.database.reader.connect() as conn:
                left = conn.scalar(select(func.count()).select_from(orm.alert_inbox)) or 0
            if not left:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{left} deliveries still unapplied after {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        tocsin.close()


def time_to_incident(port: int, key: str, samples: int, url: str) -> list[float]:
    """Seconds from POST until the incident the alert declares exists for everyone.

    An answer that waited for the applier names the incident; one that did not ("queued") is
    followed by polling the database for it.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tocsin = reading(url)
    times = []
    for n in range(samples):
        fingerprint = f"fresh{n:011d}"
        body = json.dumps(
            {
                "version": "4",
                "groupKey": f"{{}}:{{service=\"fresh-{n}\"}}",
                "status": "firing",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "Fresh", "service": f"fresh-{n}",
                                   "severity": "critical"},
                        "annotations": {"summary": f"fresh service {n} down"},
                        "startsAt": "2026-11-27T02:00:00Z",
                        "fingerprint": fingerprint,
                    }
                ],
            }
        )  # fmt: skip
        started = time.perf_counter()
        conn.request(
            "POST", f"/hooks/alertmanager/{key}", body, {"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"POST answered {response.status}")
        while not answer.get("incidents"):
            with tocsin.database.reader.connect() as db:
                found = db.scalar(
                    select(orm.alerts.c.incident_id).where(
                        orm.alerts.c.dedup_key == fingerprint,
                        orm.alerts.c.incident_id.is_not(None),
                    )
                )
            if found is not None:
                break
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"no incident for {fingerprint} after 30 s")
            time.sleep(0.001)
        times.append(time.perf_counter() - started)
    conn.close()
    tocsin.close()
    return times


def measure_tocsin(
    dialect: str,
    data_dir: Path,
    admin_url: str,
    *,
    connections: int,
    seconds: float,
    memory_alerts: int,
    wait: float | None,
    workers: int,
    split: bool,
) -> dict[str, object]:
    url = fresh_database(dialect, data_dir, admin_url)
    key = create_integration(url)
    env = {} if wait is None else {"TOCSIN_INTAKE_WAIT_SECONDS": str(wait)}
    if split:
        env.update({"TOCSIN_INTAKE_EMBEDDED": "false", "TOCSIN_PAGING_EMBEDDED": "false"})
    server = start_server(
        url,
        data_dir / f"ingest-server-{dialect}.log",
        args=("--no-demo", "--workers", str(workers)),
        env=env,
    )
    worker = None
    if split:
        worker, _, _ = start_worker(url, data_dir / f"ingest-worker-{dialect}.log", env)
    try:
        server.wait_ready()
        base = f"http://127.0.0.1:{server.port}"
        path = f"/hooks/alertmanager/{key}"
        loads = []
        for run, batch in enumerate((1, 100), start=1):
            run_wrk(base, "webhook", path, batch, connections=connections, seconds=2, run=100 + run)
            loads.append(
                run_wrk(
                    base, "webhook", path, batch, connections=connections, seconds=seconds, run=run
                )
            )
        drain_s = drain(url)
        alerts, _ = stored(url)
        incident_times = time_to_incident(server.port, key, 200, url)
        pids = server.processes() + ([worker.pid] if worker else [])
        rss_points = [(alerts, rss_kb(pids) / 1024)]
        run = 1000
        while memory_alerts and rss_points[-1][0] < memory_alerts:
            run += 1
            run_wrk(base, "webhook", path, 100, connections=connections, seconds=20, run=run)
            drain(url)
            rss_points.append((stored(url)[0], rss_kb(pids) / 1024))
            print(
                f"   {rss_points[-1][0]:>9,} alerts stored, RSS {rss_points[-1][1]:.0f} MB",
                flush=True,
            )
    finally:
        server.stop()
        if worker is not None:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=15)
    return {
        "loads": loads,
        "alerts_after_loads": alerts,
        "drain_s": drain_s,
        "incident_ms": sorted(t * 1000 for t in incident_times),
        "rss": rss_points,
    }


def load_line(load: Load) -> str:
    return (
        f"   {load.name:<13} {load.rps:>9.0f} req/s {load.alerts_per_s:>9.0f} alerts/s "
        f"p50 {load.p50_ms:6.1f} ms p99 {load.p99_ms:6.1f} ms errors {load.errors}"
    )


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--memory-alerts",
        type=int,
        default=0,
        help="then push batches until this many alerts are stored, sampling RSS",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=None,
        help="TOCSIN_INTAKE_WAIT_SECONDS for the server (0: answer once durable, do not wait "
        "for the alerts to be applied); default: Tocsin's own default",
    )
    parser.add_argument("--workers", type=int, default=1, help="tocsin serve --workers")
    parser.add_argument(
        "--split",
        action="store_true",
        help="servers only accept (TOCSIN_INTAKE_EMBEDDED=false); one `tocsin worker` applies",
    )
    parser.add_argument("--skip-peer", action="store_true", help="do not measure Alertmanager")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)

    peer: list[Load] = []
    if not args.skip_peer:
        wrk_args = f"wrk -t2 -c{args.connections} -d{args.duration:g}s"
        print(f"== Alertmanager (peer, keeps alerts in memory only): {wrk_args}", flush=True)
        peer, peer_rss = measure_alertmanager(
            args.data_dir, connections=args.connections, seconds=args.duration
        )
        for load in peer:
            print(load_line(load))
        print(f"   RSS after the runs: {peer_rss:.0f} MB")

    for dialect in [d.strip() for d in args.dialect.split(",") if d.strip()]:
        mode = "server accepts, one `tocsin worker` applies" if args.split else "one process"
        print(f"\n== Tocsin on {dialect}, {mode} (durable: answered after commit)", flush=True)
        result = measure_tocsin(
            dialect, args.data_dir, args.pg_admin_url,
            connections=args.connections, seconds=args.duration, memory_alerts=args.memory_alerts,
            wait=args.wait, workers=args.workers, split=args.split,
        )  # fmt: skip
        loads = result["loads"]
        assert isinstance(loads, list)
        if not peer:
            for load in loads:
                print(load_line(load))
        for load, other in zip(loads, peer, strict=False):
            target = TARGET_SINGLE if load.batch == 1 else TARGET_BATCH
            ratio = (load.rps / other.rps) if other.rps else 0.0
            verdict = "ok" if ratio >= target else "MISSED"
            print(f"{load_line(load)}   Tocsin/AM {ratio:5.2f} (target ≥ {target:.1f}) {verdict}")
        sent = sum(load.requests * load.batch for load in loads)
        print(f"   alerts applied: {result['alerts_after_loads']:,}, the last "
              f"{result['drain_s']:.1f} s after the load ended (wrk counted {sent:,} answered in "
              "the measured runs, plus warm-ups)")  # fmt: skip
        times = result["incident_ms"]
        assert isinstance(times, list)
        p50, p99 = statistics.median(times), percentile(times, 99)
        print(f"   POST → incident declared (200 new services, 1 connection): p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms")  # fmt: skip
        rss = result["rss"]
        assert isinstance(rss, list)
        last_alerts, last_rss = rss[-1]
        verdict = "ok" if last_rss < TARGET_RSS_MB else "MISSED"
        print(f"   RSS with {last_alerts:,} alerts stored: {last_rss:.0f} MB "
              f"(target < {TARGET_RSS_MB:.0f} MB after 1,000,000) {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
