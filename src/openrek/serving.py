"""The HTTP server's configuration: uvicorn, with limits on what a client may hold.

uvicorn closes idle keep-alive connections, but a connection that never finishes
its headers (or never sends any) is held forever, and enough of them hold the
server. Every connection here gets a deadline for its request's headers, the body
has its own deadline (see app.py), and the number of connections is capped: past
the cap the connection that has waited longest without a request is dropped, so
idle sockets cannot lock signed clients out.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from openrek.app import create_app
from openrek.config import ConfigurationError
from openrek.services import Services


def bounded_protocol(header_timeout_s: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are not
    complete within header_timeout_s of its first byte (or of the connection), and
    keeping at most max_connections open."""

    class BoundedProtocol(H11Protocol):
        _header_deadline: asyncio.TimerHandle | None = None
        _waiting_since = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            # A response goes out as two writes (headers, then body). Without TCP_NODELAY
            # the body waits for the client to acknowledge the headers, and a kept-alive
            # client delays that acknowledgement by 40 ms: every request after a
            # connection's first took 44 ms instead of 1 (tests/test_connections.py).
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)
            self._arm()
            self._keep_within_cap()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._awaiting_headers():
                self._arm()  # a new request has begun on a kept-alive connection
            else:
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._waiting_since = self.loop.time()  # idle from now, as far as the cap goes

        def _awaiting_headers(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            if self._header_deadline is None:
                self._waiting_since = self.loop.time()
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

        def _keep_within_cap(self) -> None:
            if len(self.connections) <= max_connections:
                return
            idle = [
                other
                for other in self.connections
                if isinstance(other, BoundedProtocol)
                and other is not self
                and other._awaiting_headers()
                and not other.transport.is_closing()
            ]
            # The longest-waiting idle connection makes room; if every other one is
            # busy with a request, the newcomer is the one turned away.
            dropped = min(idle, key=lambda other: other._waiting_since) if idle else self
            self.logger.info("%d connections open: closing one without a request", len(self.connections))
            dropped.transport.close()

    return BoundedProtocol


def listen(host: str, port: int) -> socket.socket:
    """Bind before the models load, so a busy or invalid port is said at once."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except (OSError, OverflowError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


def serve(services: Services, sock: socket.socket) -> None:
    settings = services.settings
    config = uvicorn.Config(
        create_app(services),
        log_level="warning",
        http=bounded_protocol(settings.header_timeout_s, settings.max_connections),
        timeout_keep_alive=5,
    )
    uvicorn.Server(config).run(sockets=[sock])
