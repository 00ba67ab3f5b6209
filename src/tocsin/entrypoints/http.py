"""uvicorn's HTTP protocol, with TCP_NODELAY set on every connection.

Worker processes (`tocsin serve --workers N`) accept on a listening socket they inherit, which
asyncio does not recognise as TCP, so it skips TCP_NODELAY; Nagle's algorithm then holds back
each response's last segment until the client's delayed ACK, about 40 ms per keep-alive request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
