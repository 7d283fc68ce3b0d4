"""``ConnectionPool`` and ``Connection``: blocking wrappers of the async transports.

Each runs its one async twin through a ``LoopBridge`` (ADR-012), whose one event loop
every thread shares: a ``ConnectionPool`` is one ``AsyncConnectionPool`` (its limits
hold across threads) and a ``Connection`` one connection, whatever thread uses them.
The twin is built by the constructor, so bad arguments fail there.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from reqivo_async import AsyncRequest, Limits
from reqivo_async.transport import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    AsyncConnection,
    AsyncConnectionPool,
    CertTypes,
    ConnectionInfo,
    PinTypes,
    Proxy,
    SocketOption,
    TimeoutTypes,
    VerifyTypes,
)
from reqivo_protocol import URL, HeaderTypes, Origin
from reqivo_sync._models import Response, as_sync_response
from reqivo_sync._wrapper import BlockingWrapper, Twin

__all__ = ["Connection", "ConnectionPool"]

T = TypeVar("T")
A = TypeVar("A", AsyncConnection, AsyncConnectionPool)


async def _aclose(transport: AsyncConnection | AsyncConnectionPool) -> None:
    await transport.aclose()


async def _value(fn: Callable[[], T]) -> T:
    return fn()


class _Transport(BlockingWrapper, Generic[A]):
    """What both wrappers share: ``handle_request`` and reading the twin's state."""

    def _setup(self, make: Callable[[], Any]) -> None:
        self._start(Twin(make(), make), _aclose)

    def _query(self, fn: Callable[[A], T]) -> T:
        return self._bridge.run(lambda twin: _value(lambda: fn(twin)))

    def handle_request(self, request: AsyncRequest) -> Response:
        """Send ``request``; the returned response streams its body: read or close it."""
        bridge = self._bridge

        async def call(twin: A) -> Response:
            response = await twin.handle_async_request(request)
            return as_sync_response(response, bridge)

        return bridge.run(call)


class ConnectionPool(_Transport[AsyncConnectionPool]):
    """A blocking pool of HTTP/1.1 connections: ``AsyncConnectionPool``'s options.

    ``verify``/``cert``/``pin_sha256``: TLS; ``limits``: how many connections (for all
    threads together) and for how long; ``proxy``/``trust_env``: proxies;
    ``local_address``, ``uds``, ``socket_options``: how connections are opened;
    ``max_header_size`` / ``max_header_count``: limits on response heads.
    """

    def __init__(
        self,
        *,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        pin_sha256: PinTypes | None = None,
        limits: Limits = DEFAULT_LIMITS,
        proxy: URL | str | Proxy | None = None,
        trust_env: bool = True,
        local_address: str | None = None,
        uds: str | None = None,
        max_header_size: int = 65536,
        max_header_count: int = 128,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> None:
        def make() -> AsyncConnectionPool:
            return AsyncConnectionPool(
                verify=verify,
                cert=cert,
                pin_sha256=pin_sha256,
                limits=limits,
                proxy=proxy,
                trust_env=trust_env,
                local_address=local_address,
                uds=uds,
                max_header_size=max_header_size,
                max_header_count=max_header_count,
                socket_options=socket_options,
            )

        self._setup(make)

    @property
    def idle_connections(self) -> int:
        """Connections open and waiting for a request."""
        return self._query(lambda pool: pool.idle_connections)

    @property
    def active_connections(self) -> int:
        """Connections connecting or carrying a request."""
        return self._query(lambda pool: pool.active_connections)

    @property
    def connections(self) -> list[ConnectionInfo]:
        """A snapshot of every connection of the pool."""
        return self._query(lambda pool: pool.connections)

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context its connections and HTTPS proxies use, built on first use with
        the pool's ``verify``/``cert``/``trust_env`` settings."""
        return self._query(lambda pool: pool.ssl_context)

    def __repr__(self) -> str:
        return f"<ConnectionPool [{'closed' if self._bridge.closed else 'open'}]>"


class Connection(_Transport[AsyncConnection]):
    """One blocking HTTP/1.1 connection to ``url_or_origin``: ``AsyncConnection``'s options.

    Several threads may use it: it is one connection, carrying one request at a time.
    """

    def __init__(
        self,
        url_or_origin: URL | str | Origin,
        *,
        ssl_context: ssl.SSLContext | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        pin_sha256: frozenset[bytes] | PinTypes | None = None,
        trust_env: bool = True,
        local_address: str | None = None,
        uds: str | None = None,
        proxy: URL | str | Proxy | None = None,
        max_header_size: int = 65536,
        max_header_count: int = 128,
        socket_options: Iterable[SocketOption] | None = None,
        keepalive_expiry: float | None = None,
    ) -> None:
        def make() -> AsyncConnection:
            return AsyncConnection(
                url_or_origin,
                ssl_context=ssl_context,
                verify=verify,
                cert=cert,
                pin_sha256=pin_sha256,
                trust_env=trust_env,
                local_address=local_address,
                uds=uds,
                proxy=proxy,
                max_header_size=max_header_size,
                max_header_count=max_header_count,
                socket_options=socket_options,
                keepalive_expiry=keepalive_expiry,
            )

        first = make()
        self._origin = first.origin
        self._start(Twin(first, make), _aclose)

    @property
    def origin(self) -> Origin:
        """The origin this connection talks to."""
        return self._origin

    def is_available(self) -> bool:
        """Whether a request can be sent on the connection now."""
        return self._query(lambda connection: connection.is_available())

    def is_idle(self) -> bool:
        """Whether no request is in flight."""
        return self._query(lambda connection: connection.is_idle())

    def is_closed(self) -> bool:
        """Whether ``close()`` was called or the connection is closed."""
        return self._bridge.closed or self._query(lambda connection: connection.is_closed())

    def info(self) -> ConnectionInfo:
        """A snapshot of the connection."""
        return self._query(lambda connection: connection.info())

    def request(
        self,
        method: str,
        url: URL | str,
        *,
        headers: HeaderTypes | None = None,
        content: Any = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send one request and return its response with the body read."""
        bridge = self._bridge

        async def call(connection: AsyncConnection) -> Response:
            response = await connection.request(
                method,
                url,
                headers=headers,
                content=content,
                timeout=timeout,
                extensions=extensions,
            )
            return as_sync_response(response, bridge)

        return bridge.run(call)

    def __repr__(self) -> str:
        return f"<Connection [{self._origin} {'closed' if self._bridge.closed else 'open'}]>"
