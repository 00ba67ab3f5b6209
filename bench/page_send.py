"""CPU per webhook page: Tocsin's notifier (aiohttp on the event loop) beside httpx in a thread
pool, the way Tocsin sent pages before, both against the same local receiver in one run.

    python bench/page_send.py [--pages 3000] [--concurrency 50]

A page's CPU is what the sending process spends on it (user + system time over the run / pages);
on one core, 1 / that is the most pages a second the process can send doing nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from anyio import to_thread

from receivers import PageReceiver
from tocsin.adapters.notifiers import Notifier, SmtpSettings, send_webhook_body
from tocsin.domain.paging import Delivery
from tocsin.policy import load_default_policy

NOW = datetime.now(UTC)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _page(url: str, n: int) -> Delivery:
    return Delivery(
        incident_id=n, channel="webhook", method="webhook", address=url,
        subject=f"[P1] INC-{n}: Checkout failing", body="Checkout answers 502 " * 10,
        idempotency_key=f"{n}-0-1-webhook-0", due_at=NOW, created_at=NOW, person_id=1, step=0,
    )  # fmt: skip


async def _run(send: Callable[[int], Awaitable[None]], pages: int, concurrency: int) -> float:
    """Microseconds of CPU per page; prints pages a second too."""
    limit = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with limit:
            await send(n)

    await asyncio.gather(*(one(n) for n in range(50)))  # warm connections and code paths
    cpu, started = _cpu(), time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(pages)))
    cpu, elapsed = _cpu() - cpu, time.perf_counter() - started
    per_page = 1e6 * cpu / pages
    print(f"   {pages / elapsed:8.0f} pages/s   {per_page:6.0f} µs of CPU a page")
    return per_page


async def main(pages: int, concurrency: int, url: str) -> None:
    paging = load_default_policy().paging
    notifier = Notifier(paging, SmtpSettings("127.0.0.1", 25, "tocsin@localhost"), "http://t")
    print("Tocsin's notifier (aiohttp on the event loop):")
    ours = await _run(lambda n: notifier.send(_page(url, n)), pages, concurrency)
    await notifier.aclose()

    idle: list[httpx.Client] = []

    def threaded(n: int) -> None:
        client = idle.pop() if idle else httpx.Client(timeout=10)
        try:
            body, headers = send_webhook_body(_page(url, n), None, None)
            client.post(url, content=body, headers=headers).raise_for_status()
        finally:
            idle.append(client)

    print("httpx.Client in a thread pool (one client per thread):")
    theirs = await _run(lambda n: to_thread.run_sync(threaded, n), pages, concurrency)
    for client in idle:
        client.close()
    print(f"CPU a page, notifier / httpx-in-threads: {ours / theirs:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    arguments = parser.parse_args()
    with PageReceiver() as receiver:
        asyncio.run(main(arguments.pages, arguments.concurrency, receiver.url))
        received = len(receiver.pages())
    expected = 2 * (arguments.pages + 50)
    print(f"pages received {received} of {expected}")
    if received != expected:
        raise SystemExit("the receiver did not get every page")
