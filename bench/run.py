"""Run every Tocsin benchmark and print each figure next to its target with the ratio.

    python bench/run.py                      # full size: 100k incidents, 1M entries, both dialects
    python bench/run.py --quick              # 10k incidents, 100k entries, short runs
    python bench/run.py --dialect sqlite --json bench/results/latest.json

Targets (from the performance issue): cold start of `tocsin serve` < 2 s, idle RSS < 150 MB,
p99 < 50 ms for the list and detail endpoints with 100k incidents and 1M timeline entries on
SQLite and on PostgreSQL. `make bench` runs this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import api_latency
import seed
import startup
from processes import find_tool

QUICK_INCIDENTS = 10_000
QUICK_ENTRIES = 100_000


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run Tocsin's benchmarks.")
    parser.add_argument("--dialect", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--incidents", type=int, default=None)
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_INCIDENTS:,} incidents, {QUICK_ENTRIES:,} entries, 5 s per scenario",
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before each run")
    parser.add_argument("--connections", default="1,8", help="wrk connection counts, e.g. 1,8")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", default="", help="comma-separated latency scenario names")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument(
        "--workers", type=int, default=1, help="`tocsin serve --workers N` for the latency runs"
    )
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--reseed", action="store_true", help="seed even if a seed can be reused")
    parser.add_argument("--data-dir", type=Path, default=api_latency.DEFAULT_DATA_DIR)
    parser.add_argument("--pg-admin-url", default=api_latency.DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--pg-database", default=api_latency.DEFAULT_PG_DATABASE)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    args.incidents = args.incidents or (QUICK_INCIDENTS if args.quick else seed.DEFAULT_INCIDENTS)
    args.entries = args.entries or (QUICK_ENTRIES if args.quick else seed.DEFAULT_ENTRIES)
    args.duration = args.duration or (5.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    return args


def _verdict_line(name: str, value: float, target: float, unit: str, note: str = "") -> str:
    ratio = value / target
    verdict = "ok" if value < target else "MISSED"
    shown = f"{value:>9.3f}" if unit == "s" else f"{value:>9.1f}"
    return f"{name:<50}{shown} {unit:<3}{target:>7.0f} {unit:<3}{ratio:>6.2f}  {verdict}" + (
        f"  {note}" if note else ""
    )


def summary(
    start: startup.StartupResult | None, latency: Sequence[api_latency.DialectResult]
) -> str:
    """One line per target: the measured figure, the target, figure/target, and the verdict."""
    lines = [f"{'figure':<50}{'measured':>13}{'target':>11}{'ratio':>6}  verdict"]
    if start is not None:
        lines.append(_verdict_line("cold start of `tocsin serve`, median", start.median_s, 2, "s"))
        lines.append(_verdict_line("cold start of `tocsin serve`, max", start.max_s, 2, "s"))
        lines.append(_verdict_line("idle RSS", start.idle_rss_mb, 150, "MB"))
    for result in latency:
        for count in result.connections:
            for endpoint in ("list", "detail"):
                rows = [
                    s
                    for s in result.scenarios
                    if s.endpoint == endpoint and s.connections == count and s.has_target
                ]
                if not rows:
                    continue
                worst = max(rows, key=lambda s: s.p99_ms)
                met = sum(1 for s in rows if s.p99_ms < api_latency.TARGET_P99_MS)
                name = f"{result.dialect} {endpoint} p99, c={count} (worst: {worst.name})"
                note = f"{met}/{len(rows)} scenarios under target"
                lines.append(
                    _verdict_line(name, worst.p99_ms, api_latency.TARGET_P99_MS, "ms", note)
                )
    return "\n".join(lines)


def _machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    dialects = [d.strip() for d in args.dialect.split(",") if d.strip()]
    if not args.skip_latency:
        find_tool("wrk")  # fail before a long seed, not after it
    began = time.perf_counter()
    print(f"Tocsin benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_machine()}", flush=True)

    start = None
    if not args.skip_startup:
        print("\n== cold start and idle memory (SQLite)", flush=True)
        start = startup.measure(args.data_dir, args.startup_runs)
        print(startup.report(start), flush=True)

    latency: list[api_latency.DialectResult] = []
    if not args.skip_latency:
        for dialect in dialects:
            print(
                f"\n== API read latency on {dialect}: {args.incidents:,} incidents, "
                f"{args.entries:,} timeline entries",
                flush=True,
            )
            print(api_latency.HEADER, flush=True)
            result = api_latency.measure_dialect(
                dialect,
                incidents=args.incidents,
                entries=args.entries,
                data_dir=args.data_dir,
                pg_admin_url=args.pg_admin_url,
                pg_database=args.pg_database,
                reseed=args.reseed,
                threads=args.threads,
                connections=[int(c) for c in args.connections.split(",")],
                seconds=args.duration,
                warmup=args.warmup,
                only=[o for o in args.only.split(",") if o],
                workers=args.workers,
            )
            latency.append(result)
            print(api_latency.report(result), flush=True)

    print("\n== summary against the targets", flush=True)
    print(summary(start, latency))
    print(f"(all figures measured in this run, {time.perf_counter() - began:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "measured_at": datetime.now(UTC).isoformat(),
            "command": [sys.executable, *sys.argv],
            "machine": _machine(),
            "startup": asdict(start) if start else None,
            "latency": [asdict(r) for r in latency],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
