"""Faults on PostgreSQL with real processes: three `tocsin worker`s, a stream of incidents, one
worker killed with SIGKILL mid-escalation and restarted, and a receiver failing for a while.

Every page must arrive (0 missed), and none twice (0 duplicates), except a send that the kill
cut off inside the network call, which may repeat, and then with the same idempotency key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.conftest import CATALOG, make_tocsin, wait_for
from tests.paging.proxy import CuttableProxy
from tests.paging.receivers import Receiver
from tocsin.adapters import orm
from tocsin.adapters.clock import SystemClock
from tocsin.bootstrap import Tocsin
from tocsin.domain import commands
from tocsin.domain.actors import Actor
from tocsin.domain.paging import idempotency_key
from tocsin.domain.severities import Severity
from tocsin.policy import load_policy_file
from tocsin.policy.loader import default_policy_text

INCIDENTS = 20
STEPS = (("immediate", "on-call engineer"), ("3s", "team lead"), ("6s", "CTO"))


def policy_file(path: Path) -> Path:
    document = yaml.safe_load(default_policy_text())
    document["escalation_paths"]["P1"] = {offset: [target] for offset, target in STEPS}
    document["notification_channels"]["P1"] = ["webhook"]
    document["paging"] = {"retry_first_delay": "1s", "retry_max_delay": "2s", "retry_attempts": 20}
    written = path / "policy.yaml"
    written.write_text(yaml.safe_dump(document, sort_keys=False))
    return written


def start_worker(url: str, policy: Path, log: Path) -> subprocess.Popen[bytes]:
    """`tocsin worker` on `url`, once it has started."""
    tocsin = Path(sys.executable).parent / "tocsin"
    env = {
        **os.environ,
        "TOCSIN_DATABASE_URL": url,
        "TOCSIN_POLICY": str(policy),
        "TOCSIN_PAGING_LEASE_SECONDS": "3",
    }
    with log.open("ab") as out:
        process = subprocess.Popen([str(tocsin), "worker"], stdout=out, stderr=out, env=env)
    wait_for("the worker to start", lambda: b"Tocsin worker" in log.read_bytes(), timeout=20)
    return process


def paging_core(url: str, policy: Path, receiver: Receiver) -> Tocsin:
    """The test's own Tocsin (it declares; the workers page), everyone paged by webhook."""
    core = make_tocsin(url, SystemClock(), load_policy_file(policy))
    people = [replace(p, contact_methods=(("webhook", receiver.url),)) for p in CATALOG.people]
    core.handle(replace(CATALOG, people=tuple(people)))
    return core


def declare_stream(core: Tocsin, title: str, during: Callable[[int], None]) -> list[int]:
    """INCIDENTS P1 incidents, one every 0.2 s; `during(n)` runs after the n-th (the fault)."""
    declared = []
    for n in range(INCIDENTS):
        made = core.handle(
            commands.DeclareIncident(f"{title} {n}", Severity.P1, Actor("load"),
                                     services=("checkout",))
        )  # fmt: skip
        declared.append(int(made))
        during(n)
        time.sleep(0.2)
    return declared


def settle(core: Tocsin, declared: list[int], receiver: Receiver) -> tuple[set[str], list[Any]]:
    """The pages every step must send, once they all arrived and a while more has passed."""
    with core.database.reader.connect() as conn:
        ids = dict(conn.execute(select(orm.people.c.handle, orm.people.c.id)).all())
    paged = {"alice": 0, "bob": 1, "carol": 2}  # on-call engineer, team lead, CTO
    expected = {
        idempotency_key(incident, 0, step, ids[handle], "webhook", receiver.url)
        for incident in declared
        for handle, step in paged.items()
    }
    wait_for("every page", lambda: expected <= set(receiver.accepted), timeout=60)
    time.sleep(4)  # a lease or two more: nothing else may arrive
    d = orm.deliveries
    with core.database.reader.connect() as conn:
        rows = list(conn.execute(select(d.c.idempotency_key, d.c.attempts, d.c.status)).all())
    return expected, rows


def assert_every_page_once(receiver: Receiver, expected: set[str], rows: list[Any]) -> None:
    """Nothing missed, nothing unexpected, and a page seen twice only if it was retried."""
    counts = Counter(receiver.accepted)
    assert set(counts) == expected, "a page went missing, or an unexpected one was sent"
    assert {r.status for r in rows} == {"sent"}
    assert {r.idempotency_key for r in rows} == expected
    attempts = {r.idempotency_key: r.attempts for r in rows}
    doubled = {key for key, seen in counts.items() if seen > 1}
    for key in doubled:
        assert attempts[key] >= 2, "a page arrived twice without being cut off and retried"
    assert len(doubled) <= 50, "more repeats than one worker's batch in flight"


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.kill()
        worker.wait()


@pytest.mark.postgres
def test_no_page_is_missed_or_doubled_when_a_worker_dies_and_a_receiver_fails(
    postgres_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    url, policy = postgres_url, policy_file(tmp_path)
    core = paging_core(url, policy, receiver)
    logs = [tmp_path / f"worker-{n}.log" for n in range(3)]
    workers = [start_worker(url, policy, log) for log in logs]

    def faults(n: int) -> None:
        if n == 5:
            receiver.failing = True
        if n == 10:
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            receiver.failing = False
        if n == 15:
            workers[0] = start_worker(url, policy, logs[0])

    try:
        declared = declare_stream(core, "Checkout fault", faults)
        expected, rows = settle(core, declared, receiver)
    finally:
        stop(workers)
        core.close()
    assert_every_page_once(receiver, expected, rows)
    assert receiver.refused > 0, "the receiver's outage happened while pages were due"


@pytest.mark.postgres
def test_no_page_is_missed_or_doubled_when_the_database_goes_away(
    postgres_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    url, policy = postgres_url, policy_file(tmp_path)
    core = paging_core(url, policy, receiver)
    parsed = make_url(url)
    proxy = CuttableProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    behind_proxy = parsed.set(port=proxy.port).render_as_string(hide_password=False)
    logs = [tmp_path / f"worker-{n}.log" for n in range(3)]
    workers = [start_worker(behind_proxy, policy, log) for log in logs]

    def outage(n: int) -> None:
        if n == 8:
            proxy.cut(3.0)  # the workers lose the database for three seconds

    try:
        declared = declare_stream(core, "Ledger fault", outage)
        expected, rows = settle(core, declared, receiver)
    finally:
        stop(workers)
        proxy.close()
        core.close()
    assert_every_page_once(receiver, expected, rows)
    assert any(b"failed" in log.read_bytes() or b"Error" in log.read_bytes() for log in logs), (
        "the workers noticed the outage"
    )
