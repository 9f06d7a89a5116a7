"""The HTTP server's configuration: uvicorn, with limits on what a client may hold.

uvicorn closes idle keep-alive connections, but a connection that never finishes
its headers (or never sends any) is held forever, and enough of them hold the
server. Every connection here gets a deadline for its request's headers, the
body has its own deadline (see app.py), and the number of connections is capped.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from openrek.app import create_app
from openrek.services import Services


def header_deadline_protocol(header_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are not
    complete within header_timeout_s of its first byte (or of the connection)."""

    class HeaderDeadlineProtocol(H11Protocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._awaiting_headers():
                self._arm()  # a new request has begun on a kept-alive connection
            else:
                self._disarm()

        def _awaiting_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._header_deadline is None:
                self._header_deadline = self.loop.call_later(header_timeout_s, self._expire)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _expire(self) -> None:
            self._header_deadline = None
            if self._awaiting_headers() and not self.transport.is_closing():
                self.logger.info("closing a connection whose headers took over %.0f s", header_timeout_s)
                self.transport.close()

    return HeaderDeadlineProtocol


def serve(services: Services) -> None:
    settings = services.settings
    config: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "http": header_deadline_protocol(settings.header_timeout_s),
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
    }
    uvicorn.run(create_app(services), **config)
