"""An alert sender for the benchmarks: Alertmanager v4 notifications at a fixed rate, open loop.

Each request starts on its schedule whatever the earlier ones are doing: it takes an idle
keep-alive connection or opens one, so a slow server cannot slow the offered load down. An alert
counts as sent when its request is written, on time.time(). The HTTP/1.1 client is a minimal
one on asyncio streams: httpx's pool spent milliseconds of CPU per request once a hundred were
in flight, and that alone put the sender seconds behind its schedule at 100 requests/s.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

IDLE_S = 4.0


@dataclass
class Sent:
    at: dict[str, float]  # title of an alert opening an incident → when its request went out
    joined: int  # alerts sent about a service already open, joining its incident
    achieved: float  # alerts/s, those joining included
    lag_ms: float  # how far the latest request started behind its schedule
    connections: int
    errors: list[str]


def notification(titles: list[str], services: list[str] | None = None) -> bytes:
    """One alert per title, each naming its own new service so that each declares a P1
    incident, unless `services` names the (already open) service each alert is about."""
    started = datetime.now(UTC).isoformat()
    services = services or [title.replace(" ", "-") for title in titles]
    alerts = [
        {"status": "firing", "annotations": {"summary": title}, "startsAt": started,
         "labels": {"alertname": "PagingBench", "service": service, "instance": title,
                    "severity": "critical"}}
        for title, service in zip(titles, services, strict=True)
    ]  # fmt: skip
    document = {
        "version": "4", "groupKey": '{}:{alertname="PagingBench"}', "status": "firing",
        "receiver": "tocsin", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://127.0.0.1", "alerts": alerts,
    }  # fmt: skip
    return json.dumps(document).encode()


class Connections:
    """Keep-alive HTTP/1.1 connections to one server, each carrying one request at a time."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0

    async def post(self, body: bytes) -> tuple[float, int, bytes]:
        """(time.time() the request went out, status, response body)."""
        head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: "
                f"application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        while self.idle:  # the most recently used first; the server closes idle ones after 5 s
            reader, writer, used = self.idle.pop()
            if time.time() - used < IDLE_S:
                break
            writer.close()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        at = time.time()
        writer.write(head + body)
        status = int((await reader.readline()).split()[1])
        length = 0
        for line in (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await reader.readexactly(length)
        self.idle.append((reader, writer, time.time()))
        return at, status, answer

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


def storm_alert(run: str, number: int, new_every: int, batch: int, lag: int) -> tuple[str, str]:
    """(title, service) of the alert numbered `number`: every `new_every`-th opens a service's
    incident, titled "bench RUN-000042"; the rest, titled "storm RUN-000043", are new alerts
    about a service opened at least `lag` alerts earlier, and join its incident. Requests race
    over several connections: an opener sent just before could arrive after its joiners and
    they would open the incident themselves. Until `lag` alerts are out, a joiner names the
    opener of its own request when there is one, else the first."""
    block = number - number % new_every
    if number == block:
        return f"bench {run}-{number:06d}", f"bench-{run}-{number:06d}"
    if number >= lag:
        opener = (number - lag) - (number - lag) % new_every
    else:
        opener = block if block // batch == number // batch else 0
    return f"storm {run}-{number:06d}", f"bench-{run}-{opener:06d}"


async def send_alerts(
    url: str, run: str, rate: float, seconds: float, batch: int = 1, new_every: int = 1
) -> Sent:
    """`rate` alerts/s for `seconds` to `url`, `batch` per request; one alert in `new_every`
    opens an incident (see `storm_alert`)."""
    interval, requests = batch / rate, max(1, round(rate * seconds / batch))
    lag = max(new_every, round(rate * 0.1))  # alerts sent in 100 ms
    connections = Connections(url)
    sent: dict[str, float] = {}
    joined = [0]
    lags, errors = [0.0], []

    async def post(n: int, due: float) -> None:
        alerts = [storm_alert(run, n * batch + i, new_every, batch, lag) for i in range(batch)]
        titles, services = [t for t, _ in alerts], [s for _, s in alerts]
        try:
            at, status, answer = await connections.post(notification(titles, services))
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        lags.append(at - due)
        sent.update(dict.fromkeys((t for t in titles if t.startswith("bench ")), at))
        joined[0] += sum(1 for t in titles if not t.startswith("bench "))
        if status != 200:
            errors.append(f"{status} {answer[:200]!r}")

    start, tasks = time.time() + 0.1, []
    for n in range(requests):
        due = start + n * interval
        await asyncio.sleep(max(0.0, due - time.time()))
        tasks.append(asyncio.create_task(post(n, due)))
    await asyncio.gather(*tasks)
    connections.close()
    times = sorted(set(sent.values()))
    span = (times[-1] - times[0] if times else 0.0) + interval
    achieved = (len(sent) + joined[0]) / span
    return Sent(sent, joined[0], achieved, max(lags) * 1000, connections.opened, errors)
