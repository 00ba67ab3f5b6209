"""Start and watch `tocsin serve` for the benchmarks: readiness, CPU time and memory from /proc."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tocsin_command() -> list[str]:
    """The `tocsin` console script of the running interpreter's environment (or on PATH)."""
    beside = Path(sys.executable).parent / "tocsin"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("tocsin")
    if found is None:
        raise SystemExit("cannot find the `tocsin` command; install Tocsin (pip install -e .)")
    return [found]


def find_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"cannot find `{name}` on PATH (Debian: apt-get install {name})")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_get(
    port: int, path: str, token: str | None = None, timeout: float = 10.0
) -> tuple[int, bytes]:
    """One request, for readiness and sanity checks only (wrk generates the load)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ----- /proc ---------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()  # fields after "pid (comm) "


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int(_stat_fields(int(entry.name))[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_kb(pids: Sequence[int]) -> int:
    """Resident set size (VmRSS) summed over `pids`, in KiB."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time consumed so far by `pids`."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = _stat_fields(pid)
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    """Processes whose command name is `name` (e.g. the PostgreSQL backends), to read only."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


# ----- the server ----------------------------------------------------------------------------
@dataclass
class Server:
    """A `tocsin serve` subprocess on a free port."""

    process: subprocess.Popen[bytes]
    port: int
    started_at: float
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0, path: str = "/healthz") -> float:
        """Seconds from launch until `path` answers 200."""
        deadline = self.started_at + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see its log")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = http_get(self.port, path, timeout=1.0)
                if status == 200:
                    return time.perf_counter() - self.started_at
            time.sleep(0.005)
        raise RuntimeError(f"the server did not answer {path} within {timeout:.0f} s")

    def processes(self) -> list[int]:
        return descendants(self.pid)

    def stop(self) -> None:
        """Ask the server to shut down (SIGINT, as Ctrl-C would) and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_server(
    database_url: str,
    log_path: Path,
    *,
    args: Sequence[str] = ("--no-demo",),
    env: Mapping[str, str] | None = None,
    command: Callable[[int], Sequence[str]] | None = None,
) -> Server:
    """Launch `tocsin serve --port P` on `database_url`, its output going to `log_path`.

    `command(port)` replaces the command line, to start a peer server the same way.
    """
    port = free_port()
    environment = dict(os.environ)
    environment.update({"TOCSIN_DATABASE_URL": database_url, "TOCSIN_HOST": "127.0.0.1"})
    environment.update(env or {})
    log = log_path.open("wb")
    argv = (
        list(command(port)) if command else [*tocsin_command(), "serve", "--port", str(port), *args]
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment
    )
    return Server(process, port, started, log)


def start_worker(
    database_url: str, log_path: Path, env: Mapping[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], float, float]:
    """`tocsin worker`, when it was started, and when it said it is working (time.time())."""
    environment = {**os.environ, **(env or {}), "TOCSIN_DATABASE_URL": database_url}
    spawned = time.time()
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [*tocsin_command(), "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
        )
    while b"Tocsin worker" not in log_path.read_bytes():
        if process.poll() is not None or time.time() - spawned > 60:
            raise RuntimeError(f"the worker did not start; see {log_path}")
        time.sleep(0.002)
    return process, spawned, time.time()


@contextlib.contextmanager
def running_server(
    database_url: str,
    log_path: Path,
    *,
    args: Sequence[str] = ("--no-demo",),
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    server = start_server(database_url, log_path, args=args, env=env)
    try:
        yield server
    finally:
        server.stop()
