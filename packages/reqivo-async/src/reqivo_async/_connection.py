"""``AsyncConnection``: one HTTP/1.1 connection to one origin, on asyncio.

It connects lazily, on its first request: TCP (happy eyeballs, or a Unix socket), an
optional proxy (``CONNECT`` tunnel for ``https`` and when asked, as for a WebSocket
upgrade; absolute-form forwarding for ``http``), then TLS with SNI and ALPN, and
certificate pinning when asked. The request/response cycles run in ``HTTP11Connection``
(see ``_http11``). Standalone use::

    async with AsyncConnection("https://example.com") as conn:
        response = await conn.request("GET", "https://example.com/")

The pool creates its connections the same way and asks them ``is_available()``,
``is_idle()``, ``has_expired(now)`` and ``is_closed()``, never assuming one request per
connection (an HTTP/2 connection will answer these differently).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from reqivo_async import _blocking_io, _network
from reqivo_async._config import DEFAULT_TIMEOUT, Timeout, TimeoutTypes, to_timeout
from reqivo_async._http11 import HTTP11Connection, HTTP11Protocol
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._network import SocketOption, map_error
from reqivo_async._proxy import Proxy, open_tunnel
from reqivo_async._tls import CertTypes, PinTypes, VerifyTypes, check_pin, create_ssl_context
from reqivo_async._trace import TraceCallback, trace
from reqivo_async._transports._base import AsyncBaseTransport

if TYPE_CHECKING:
    from reqivo_async._http2 import HTTP2Connection
from reqivo_protocol import (
    URL,
    ConnectError,
    ConnectTimeout,
    HeaderTypes,
    Origin,
    ReadTimeout,
    RequestError,
)

__all__ = ["AsyncConnection", "ConnectionInfo"]

logger = logging.getLogger("reqivo")

_SECURE = frozenset({"https", "wss"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A snapshot of one connection, for ``AsyncConnectionPool.connections``.

    ``state`` is ``"connecting"``, ``"active"`` (a request in flight), ``"idle"`` or
    ``"closed"``; ``idle_for`` is the seconds since the last request ended (idle only).
    """

    origin: str
    state: str
    http_version: str
    requests: int
    idle_for: float | None
    proxy: str | None = None


class AsyncConnection(AsyncBaseTransport):
    """One HTTP/1.1 connection to ``url_or_origin`` (scheme, host and port are used).

    TLS settings: ``ssl_context`` (used as given), else ``verify`` / ``cert`` (see
    ``create_ssl_context``); ``pin_sha256`` pins the server certificate. Network:
    ``local_address`` (bind to this source address), ``uds`` (connect to this Unix
    socket instead of TCP), ``socket_options`` (``setsockopt`` triples), ``proxy`` (a
    URL or ``Proxy``; ``tunnel=True`` asks for a ``CONNECT`` tunnel to an ``http`` origin
    too, as an upgrade needs). ``keepalive_expiry`` is how long it may stay idle.
    ``blocking=True``: blocking socket I/O in the calling thread, no event loop (see
    ``AsyncConnectionPool``; HTTP/1.1 only).
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
        tunnel: bool = False,
        max_header_size: int = 65536,
        max_header_count: int = 128,
        socket_options: Iterable[SocketOption] | None = None,
        keepalive_expiry: float | None = None,
        http1: bool = True,
        http2: bool = False,
        blocking: bool = False,
    ) -> None:
        if not (http1 or http2):
            raise ValueError("at least one of http1 and http2 must be enabled")
        if blocking and (http2 or not http1):
            raise ValueError("blocking I/O speaks HTTP/1.1 only: HTTP/2 needs the event loop")
        self._blocking = blocking
        if isinstance(url_or_origin, Origin):
            origin = url_or_origin
        else:
            url = url_or_origin if isinstance(url_or_origin, URL) else URL(url_or_origin)
            url.validate_request_url()
            origin = url.origin
        self._origin = origin
        self._port = origin.port or _DEFAULT_PORTS.get(origin.scheme, 80)
        self._secure = origin.scheme in _SECURE
        self._ssl_context = ssl_context
        self._verify = verify
        self._cert = cert
        self._pins: frozenset[bytes] | None
        if pin_sha256 is None or isinstance(pin_sha256, frozenset):
            self._pins = pin_sha256
        else:
            from reqivo_async._tls import normalize_pins

            self._pins = normalize_pins(pin_sha256)
        self._trust_env = trust_env
        self._local_address = local_address
        self._uds = uds
        self._proxy = None if proxy is None else Proxy(proxy)
        self._tunnel = self._proxy is not None and (self._secure or tunnel)
        self._max_header_size = max_header_size
        self._max_header_count = max_header_count
        self._socket_options = list(socket_options) if socket_options else None
        self._keepalive_expiry = keepalive_expiry
        self._http1 = http1
        self._http2 = http2
        self._http: HTTP11Connection | HTTP2Connection | None = None
        self._connecting = False
        self._closed = False
        #: Set by the pool: called once when a request ends, whatever its outcome.
        self._on_release: Callable[[AsyncConnection], None] | None = None
        self._cycle_end = self._release  # one bound method for the connection's life
        #: Whether it speaks HTTP/2 (many requests at once); False until connected.
        self.multiplexed = False

    # -- what the pool asks ------------------------------------------------------------

    @property
    def origin(self) -> Origin:
        """The origin this connection talks to."""
        return self._origin

    def is_available(self) -> bool:
        """Whether a request can be sent on it now without waiting."""
        http = self._http
        if http is None:
            return not self._closed and not self._connecting
        return http.is_available()

    def is_idle(self) -> bool:
        """Whether no request is in flight."""
        http = self._http
        return not self._connecting if http is None else http.is_idle()

    def has_expired(self, now: float) -> bool:
        """Whether an idle connection outlived its keep-alive expiry (``time.monotonic``)."""
        http = self._http
        return http is not None and http.has_expired(now)

    def may_multiplex(self) -> bool:
        """Whether, once connected, it may speak HTTP/2 (it asks for it)."""
        return (
            self._http2
            and (self._secure or not self._http1)
            and not (self._proxy is not None and not self._tunnel)
        )

    def is_closed(self) -> bool:
        """Whether the connection is closed (or was handed over after a protocol switch)."""
        http = self._http
        return self._closed or (http is not None and (http.closed or http.switched))

    def is_closing(self) -> bool:
        """Whether it is closed but its transport is not gone yet (a TLS close_notify
        exchange in progress); False once the transport is gone, and after a protocol
        switch (the transport belongs to the new protocol)."""
        http = self._http
        return http is not None and http.closed and not http.switched and not http.protocol.lost

    @property
    def failed_before_response(self) -> bool:
        """Whether the last request failed on a reused connection before any response
        byte arrived (the server closed it while idle): safe to resend elsewhere."""
        http = self._http
        return http is not None and http.failed_before_response

    def info(self) -> ConnectionInfo:
        """A snapshot of the connection's state."""
        http = self._http
        if http is None:
            state = "closed" if self._closed else "connecting"
            requests, idle_for = 0, None
        else:
            requests = http.requests
            idle_for = None
            if self.is_closed():
                state = "closed"
            elif http.in_cycle:
                state = "active"
            else:
                state = "idle"
                idle_for = time.monotonic() - http.idle_since
        proxy = str(self._proxy.url) if self._proxy is not None else None
        version = "HTTP/2" if self.multiplexed else "HTTP/1.1"
        return ConnectionInfo(str(self._origin), state, version, requests, idle_for, proxy)

    def close(self) -> None:
        """Close now, without waiting (a request in flight fails with ``ReadError``)."""
        self._closed = True
        if self._http is not None:
            self._http.close()

    # -- requests ------------------------------------------------------------------------

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        """Send ``request`` (connecting first if needed); the body streams afterwards."""
        http = self._http
        if http is None or http.closed:
            http = await self.connect(request)
        return await http.handle_async_request(request)

    async def connect(self, request: AsyncRequest) -> HTTP11Connection | HTTP2Connection:
        """Open the connection for ``request`` (on failure it is closed and released)."""
        if self._closed:
            self._release()
            raise ConnectError("the connection is closed", request=request)
        try:
            return await self._connect(request)
        except BaseException:
            self._closed = True
            self._release()
            raise

    async def request(
        self,
        method: str,
        url: URL | str,
        *,
        headers: HeaderTypes | None = None,
        content: Any = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - stored, not awaited
        extensions: dict[str, Any] | None = None,
    ) -> Response:
        """Send one request and return its response with the body read."""
        ext = dict(extensions or {})
        ext.setdefault("timeout", to_timeout(timeout))
        request = AsyncRequest(method, url, headers=headers, content=content, extensions=ext)
        response = await self.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def __aenter__(self) -> Self:
        return self

    async def aclose(self) -> None:
        """Close the connection (gracefully: over TLS, close_notify is exchanged)."""
        self._closed = True
        if self._http is not None:
            await self._http.aclose()

    @property
    def alpn_protocols(self) -> tuple[str, ...]:
        """The protocols offered by ALPN on TLS to the origin."""
        if not self._http2:
            return ("http/1.1",)
        return ("h2", "http/1.1") if self._http1 else ("h2",)

    def _release(self) -> None:
        callback = self._on_release
        if callback is not None:
            callback(self)

    # -- connecting ----------------------------------------------------------------------

    async def _connect(self, request: AsyncRequest) -> HTTP11Connection | HTTP2Connection:
        timeout: Timeout = request.extensions.get("timeout") or DEFAULT_TIMEOUT
        self._connecting = True
        try:
            if self._blocking:
                # No task for asyncio.timeout: each step gets what is left of the budget.
                until = None if timeout.connect is None else time.monotonic() + timeout.connect
                http = await self._open(request.extensions.get("trace"), until)
            else:
                async with asyncio.timeout(timeout.connect):
                    http = await self._open(request.extensions.get("trace"))
        except RequestError as exc:
            if exc.request is None:
                exc.request = request
            raise
        except TimeoutError as exc:
            raise ConnectTimeout(
                f"connecting to {self._origin} took longer than {timeout.connect} seconds",
                request=request,
            ) from exc
        except (OSError, ssl.SSLError) as exc:  # pragma: no cover - mapped in _open
            raise map_error(exc, "connect", request) from exc
        finally:
            self._connecting = False
        self._http = http
        self.multiplexed = getattr(http, "multiplexed", False)
        return http

    @property
    def _io(self) -> Any:
        """Where connecting and TLS are done: ``_network`` (asyncio), or ``_blocking_io``
        (the same two functions, blocking; they never suspend)."""
        return _blocking_io if self._blocking else _network

    async def _open(
        self, callback: TraceCallback | None, until: float | None = None
    ) -> HTTP11Connection | HTTP2Connection:
        """Connect, through the proxy if any, then TLS; ``until``: the connect deadline
        (``time.monotonic``) of blocking I/O, which has no ``asyncio.timeout`` around it."""
        origin = self._origin
        proxy = self._proxy
        host, port = (proxy.host, proxy.port) if proxy is not None else (origin.host, self._port)
        async with trace(callback, "connection.connect", host=host, port=port):
            transport, protocol = await self._io.open_connection(
                _blocking_io.BlockingHTTP11Protocol if self._blocking else HTTP11Protocol,
                host,
                port,
                seconds=_left(until),
                uds=self._uds,
                local_address=self._local_address,
                socket_options=self._socket_options,
            )
        alpn: str | None = None
        try:
            if proxy is not None and proxy.is_secure:
                transport = await self._tls(
                    transport, protocol, proxy.host, callback, for_proxy=True, until=until
                )
            if proxy is not None and self._tunnel:
                async with trace(callback, "connection.proxy_tunnel", proxy=str(proxy.url)):
                    try:
                        await open_tunnel(
                            protocol,
                            proxy,
                            origin.host,
                            self._port,
                            read_timeout=_left(until),
                            max_header_size=self._max_header_size,
                            max_header_count=self._max_header_count,
                        )
                    except ReadTimeout as exc:  # blocking: the connect budget ran out
                        raise TimeoutError(str(exc)) from exc
            if self._secure:
                transport = await self._tls(transport, protocol, origin.host, callback, until=until)
                ssl_object = transport.get_extra_info("ssl_object")
                alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        except BaseException as exc:
            transport.abort()
            if isinstance(exc, OSError | ssl.SSLError) and not isinstance(exc, TimeoutError):
                raise map_error(exc, "connect") from exc
            raise
        forward = proxy is not None and not self._tunnel
        if logger.isEnabledFor(logging.DEBUG):
            via = f" via proxy {proxy.url}" if proxy is not None else ""
            logger.debug("connection opened to %s%s (ALPN %s)", origin, via, alpn)
        if self.may_multiplex() and (alpn == "h2" or not self._http1):
            return self._open_http2(transport, protocol)
        http = HTTP11Connection(
            protocol,
            max_header_size=self._max_header_size,
            max_header_count=self._max_header_count,
            keepalive_expiry=self._keepalive_expiry,
            absolute_form=forward,
            extra_headers=proxy.headers if forward and proxy is not None else None,
            on_cycle_end=self._cycle_end,
        )
        http.tls = self._secure
        return http

    def _open_http2(
        self, transport: asyncio.Transport, protocol: HTTP11Protocol
    ) -> HTTP2Connection:
        # Imported here: HTTP/1.1-only programs never load the HTTP/2 modules.
        from reqivo_async._http2 import HTTP2Connection, HTTP2Protocol

        h2 = HTTP2Protocol(transport, write_paused=protocol.write_paused)
        pending = protocol.take_all()  # the server's SETTINGS may have come already
        transport.set_protocol(h2)
        http = HTTP2Connection(
            h2,
            keepalive_expiry=self._keepalive_expiry,
            max_header_list_size=self._max_header_size,
            max_header_count=self._max_header_count,
            on_cycle_end=self._cycle_end,
        )
        http.tls = self._secure
        if pending:
            http.receive(pending)
        if protocol.lost:
            h2.connection_lost(protocol.error)  # type: ignore[arg-type]
        return http

    async def _tls(
        self,
        transport: asyncio.Transport,
        protocol: HTTP11Protocol,
        server_hostname: str,
        callback: TraceCallback | None,
        *,
        for_proxy: bool = False,
        until: float | None = None,
    ) -> asyncio.Transport:
        context = self._ssl_context
        if for_proxy and self._http2 and not isinstance(self._verify, ssl.SSLContext):
            # The proxy itself speaks HTTP/1.1 (CONNECT): offer only that to it.
            context = create_ssl_context(self._verify, self._cert, trust_env=self._trust_env)
        elif context is None:
            context = self._ssl_context = create_ssl_context(
                self._verify, self._cert, trust_env=self._trust_env, alpn=self.alpn_protocols
            )
        async with trace(callback, "connection.tls", server_hostname=server_hostname) as step:
            tls: asyncio.Transport = await self._io.start_tls(
                transport, protocol, context, server_hostname, seconds=_left(until)
            )
            protocol.transport = tls
            ssl_object = tls.get_extra_info("ssl_object")
            if self._pins is not None and server_hostname == self._origin.host:
                check_pin(ssl_object, self._pins)
            step.done(version=ssl_object.version() if ssl_object is not None else None)
        return tls

    def refresh(self) -> None:
        """Blocking I/O: read what arrived while the connection was idle (nobody polls
        it), so that ``is_available`` sees a close by the server."""
        http = self._http
        if http is not None and not http.closed:
            transport = http.protocol.transport
            if isinstance(transport, _blocking_io.BlockingTransport):
                transport.refresh()

    def __repr__(self) -> str:
        return f"<AsyncConnection [{self._origin} {self.info().state}]>"


def _left(until: float | None) -> float | None:
    """Seconds from now to ``until`` (``time.monotonic``), never negative; None for none."""
    return None if until is None else max(0.0, until - time.monotonic())
