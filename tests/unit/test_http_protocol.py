"""Each response leaves in one write: what uvicorn writes in one event-loop turn goes together."""

from __future__ import annotations

import asyncio
from typing import Any

from tocsin.entrypoints.http import CoalescingTransport


class Recording:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(data)

    def close(self) -> None:
        self.calls.append("close")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_a_head_and_body_written_in_one_turn_leave_as_one_write() -> None:
    real = Recording()
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        transport = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"{}")
        seen["held"], seen["buffered"] = list(real.calls), transport.get_write_buffer_size()
        await asyncio.sleep(0)  # the turn ends
        seen["after the turn"] = list(real.calls)
        transport.write(b"next")
        transport.close()  # what is held goes out before the connection closes

    asyncio.run(scenario())
    assert seen["held"] == [] and seen["buffered"] == 40
    assert seen["after the turn"] == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    assert real.calls[1:] == [b"next", "close"]


def test_everything_else_is_the_real_transports() -> None:
    async def scenario() -> str:
        transport = CoalescingTransport(Recording(), asyncio.get_running_loop())  # type: ignore[arg-type]
        return str(transport.get_extra_info("peername"))

    assert asyncio.run(scenario()) == "info:peername"
