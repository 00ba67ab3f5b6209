"""Cold start and idle memory of `tocsin serve`, next to a minimal FastAPI app as the peer.

Cold start is the time from launching `tocsin serve --port P --no-demo` as a new process until
GET /healthz answers 200 (the operating system's file cache is warm: a new process, not a
rebooted machine). The first start on an empty SQLite file, which runs the migrations and creates
the admin login, is reported on its own; the repeated starts use the migrated database. Idle RSS
is VmRSS of the server and any children after startup and a few requests.

Usage: python bench/startup.py [--runs 5] [--data-dir bench/results]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from processes import Server, http_get, rss_kb, start_server, tocsin_command
from seed import create_read_token, open_tocsin

TARGET_START_S = 2.0
TARGET_RSS_MB = 150.0
DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "results"

# The peer: the same web stack (FastAPI on uvicorn) serving one health route and nothing else.
PEER_APP = """
import sys
import uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
"""

IDLE_REQUESTS = (
    "/healthz",
    "/readyz",
    "/api/v1/incidents?limit=50",
    "/api/v1/incidents/1",
    "/api/v1/incidents/1/timeline",
    "/api/v1/policy",
    "/",
    "/login",
)


@dataclass(frozen=True)
class StartupResult:
    first_start_s: float  # empty database: migrations + admin login + serve
    starts_s: list[float]  # migrated database
    median_s: float
    max_s: float
    idle_rss_mb: float
    server_processes: int
    peer_median_s: float
    peer_rss_mb: float
    import_s: float  # `import tocsin.entrypoints.cli` in a fresh interpreter
    peer_import_s: float  # `import fastapi, uvicorn` likewise
    bytecode_written: bool  # False when PYTHONDONTWRITEBYTECODE is set: Tocsin's .py compile


def _timed_start(url: str, log: Path) -> tuple[Server, float]:
    server = start_server(url, log)
    try:
        return server, server.wait_ready()
    except BaseException:
        server.stop()
        raise


def _peer_command(port: int) -> list[str]:
    return [sys.executable, "-c", PEER_APP, str(port)]


def _median_import(module: str, runs: int) -> float:
    """Seconds a fresh interpreter spends importing `module` (timed inside it, so the
    interpreter's start and teardown are left out)."""
    code = (
        f"import os, time; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t, flush=True); os._exit(0)"
    )
    times = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        times.append(float(done.stdout))
    return statistics.median(times)


def _idle_rss(server: Server, token: str, *, check: bool = True) -> tuple[float, int]:
    """RSS (MB) of the server's process tree after a few requests, and how many processes."""
    for path in IDLE_REQUESTS:
        status, _ = http_get(server.port, path, token)
        if check and path.startswith("/api/v1/incidents?") and status != 200:
            raise RuntimeError(f"GET {path} answered {status}; the idle figure would be wrong")
    time.sleep(1.0)
    pids = server.processes()
    return rss_kb(pids) / 1024, len(pids)


def measure(data_dir: Path = DEFAULT_DATA_DIR, runs: int = 5) -> StartupResult:
    """Run every start and return the figures."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "startup.db"
    for stale in data_dir.glob("startup.db*"):
        stale.unlink()
    url = f"sqlite:///{db}"
    log = data_dir / "startup-server.log"

    server, first = _timed_start(url, log)
    server.stop()
    subprocess.run(
        [*tocsin_command(), "demo"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "TOCSIN_DATABASE_URL": url},
    )
    tocsin = open_tocsin(url)
    token = create_read_token(tocsin, "startup-bench")
    tocsin.close()

    starts = []
    rss_mb, process_count = 0.0, 0
    for i in range(runs):
        server, seconds = _timed_start(url, log)
        try:
            starts.append(seconds)
            if i == runs - 1:
                rss_mb, process_count = _idle_rss(server, token)
        finally:
            server.stop()

    peer_starts, peer_rss = [], 0.0
    for i in range(runs):
        peer = start_server(url, data_dir / "startup-peer.log", command=_peer_command)
        try:
            peer_starts.append(peer.wait_ready())
            if i == runs - 1:
                peer_rss, _ = _idle_rss(peer, token, check=False)
        finally:
            peer.stop()

    return StartupResult(
        first_start_s=first,
        starts_s=starts,
        median_s=statistics.median(starts),
        max_s=max(starts),
        idle_rss_mb=rss_mb,
        server_processes=process_count,
        peer_median_s=statistics.median(peer_starts),
        peer_rss_mb=peer_rss,
        import_s=_median_import("tocsin.entrypoints.cli", runs),
        peer_import_s=_median_import("fastapi, uvicorn", runs),
        bytecode_written=not os.environ.get("PYTHONDONTWRITEBYTECODE"),
    )


def report(result: StartupResult) -> str:
    """The figures as a table, each next to its target (or peer) with the ratio."""
    rows = [
        ("cold start, median", result.median_s, TARGET_START_S, "s"),
        ("cold start, max", result.max_s, TARGET_START_S, "s"),
        ("first start (migrate + admin)", result.first_start_s, TARGET_START_S, "s"),
        ("idle RSS", result.idle_rss_mb, TARGET_RSS_MB, "MB"),
    ]
    lines = [
        f"{'figure':<32}{'measured':>10}{'target':>9}{'ratio':>8}  verdict",
    ]
    for name, value, target, unit in rows:
        verdict = "ok" if value < target else "MISSED"
        ratio = value / target
        lines.append(
            f"{name:<32}{value:>8.3f} {unit:<2}{target:>6.1f} {unit:<2}{ratio:>7.2f}  {verdict}"
        )
    lines.append(
        f"starts (s): {', '.join(f'{s:.3f}' for s in result.starts_s)}; "
        f"server processes measured: {result.server_processes}"
    )
    lines.append(
        f"peer (FastAPI+uvicorn, one route): start {result.peer_median_s:.3f} s "
        f"(tocsin/peer {result.median_s / result.peer_median_s:.2f}), idle RSS "
        f"{result.peer_rss_mb:.1f} MB (tocsin/peer {result.idle_rss_mb / result.peer_rss_mb:.2f})"
    )
    lines.append(
        f"imports in a fresh interpreter: tocsin.entrypoints.cli {result.import_s:.3f} s "
        f"({result.import_s / result.median_s:.0%} of the cold start), "
        f"fastapi+uvicorn {result.peer_import_s:.3f} s"
        + ("" if result.bytecode_written else " (PYTHONDONTWRITEBYTECODE is set: no .pyc cache)")
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> StartupResult:
    parser = argparse.ArgumentParser(description="Cold start and idle RSS of `tocsin serve`.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    result = measure(args.data_dir, args.runs)
    print(report(result))
    return result


if __name__ == "__main__":
    main()
