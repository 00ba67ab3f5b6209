"""How fast can any durable Python receiver take single-alert webhooks, beside Alertmanager?

Issue 3 asks Tocsin for at least Alertmanager's single-alert request rate, durably. This measures
in one run, with the same wrk load as `bench/ingest.py` (8 connections, unique alerts):
Alertmanager's own ingest (in memory), uvicorn answering without doing anything, and the least a
durable receiver does (`bench/ceiling_app.py`: parse, commit to SQLite many requests at a time,
answer). What the last reaches bounds any Python receiver on this stack and machine, Tocsin's
accept path included, which does the same and more.

Usage: python bench/ingest_ceiling.py [--duration 10] [--connections 8]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import ceiling_app
from ingest import DEFAULT_DATA_DIR, Load, load_line, measure_alertmanager, run_wrk
from processes import start_server

HERE = Path(__file__).resolve().parent


def measure_app(
    app: str,
    data_dir: Path,
    *,
    connections: int,
    seconds: float,
    workers: int,
    sharded: bool = False,
) -> Load:
    database = data_dir / "ceiling.db"
    for stale in data_dir.glob("ceiling.db*"):
        stale.unlink()  # a sharded run's files too
    ceiling_app.prepare(str(database))

    def command(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", f"ceiling_app:{app}", "--app-dir", str(HERE),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip

    env = {"CEILING_DB": str(database), "CEILING_SHARDED": "1" if sharded else ""}
    server = start_server("", data_dir / f"ceiling-{app}.log", command=command, env=env)
    try:
        server.wait_ready(path="/")
        url = f"http://127.0.0.1:{server.port}"
        path = "/hooks/alertmanager/key"
        run_wrk(url, "webhook", path, 1, connections=connections, seconds=2, run=101)
        return run_wrk(url, "webhook", path, 1, connections=connections, seconds=seconds, run=1)
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    timing = {"connections": args.connections, "seconds": args.duration}

    print(f"== single-alert requests, wrk -t2 -c{args.connections} -d{args.duration:g}s")
    peer = measure_alertmanager(args.data_dir, **timing)[0][0]
    print(f"{load_line(peer)}   Alertmanager 0.25, in memory")
    for app, workers, sharded, what in (
        ("answer_only", 1, False, "uvicorn answering, nothing done"),
        ("durable", 1, False, "least durable receiver (SQLite)"),
        ("durable", 2, False, "least durable receiver (SQLite), 2 processes"),
        ("durable", 2, True, "least durable receiver, 2 processes, a SQLite file each"),
    ):
        load = measure_app(app, args.data_dir, workers=workers, sharded=sharded, **timing)
        print(f"{load_line(load)}   vs AM {load.rps / peer.rps:5.2f}: {what}")


if __name__ == "__main__":
    main()
