"""uvicorn's HTTP protocol, with TCP_NODELAY set on every connection and each response leaving
in one write.

Worker processes (`tocsin serve --workers N`) accept on a listening socket they inherit, which
asyncio does not recognise as TCP, so it skips TCP_NODELAY; Nagle's algorithm then holds back
each response's last segment until the client's delayed ACK, about 40 ms per keep-alive request.
With Nagle off, uvicorn's separate writes of a response's head and body were two system calls
and two packets; writes made in one turn of the event loop now go out together.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, cast

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # uvloop's transports are not asyncio's classes, but they have the same methods.
        writer = cast(asyncio.WriteTransport, transport)
        super().connection_made(CoalescingTransport(writer, asyncio.get_running_loop()))


class CoalescingTransport:
    """A transport whose writes in one event-loop turn are sent as one; the rest is the real
    transport's. Closing sends what is held first."""

    def __init__(self, transport: asyncio.WriteTransport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held.clear()
        self._transport.abort()

    def _flush(self) -> None:
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
