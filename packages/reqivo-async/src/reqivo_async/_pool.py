"""``AsyncConnectionPool``: the default transport, reusing connections per origin.

Theory of operation
-------------------

Connections are keyed by origin (scheme, host, port) plus, through a proxy, the proxy
and whether the connection is a ``CONNECT`` tunnel: always for ``https``, and for a
WebSocket handshake to an ``http`` origin (a forwarding proxy does not pass an upgrade
on), whose connection must not be shared with absolute-form forwarding. The proxy is
chosen for each request (so for each hop of a redirect chain), from its URL.
Each key has a LIFO stack of available connections: the most recently used one is
taken first (the warmest, the least likely to have been closed by the server), the
oldest ones age out through ``keepalive_expiry``.

Counting: every connection the pool created and did not forget yet counts toward
``max_connections`` and ``max_connections_per_host``, whether it is connecting, busy or
idle. A request that finds no available connection and no room waits (bounded by the
pool timeout, ``PoolTimeout``) until a connection is released or closed; when room is
only missing because of idle connections of other origins, the oldest is closed.

Release: every request ends with exactly one release (the response body read or
closed, or a failure or cancellation at any step: connecting, sending, waiting for the
head, reading the body). A connection comes back to its stack only when it says it is
available (the cycle completed and keep-alive allowed it); anything half-used is closed.
A connection closed and forgotten this way may still be closing (TLS close_notify):
``aclose`` waits for those too (``_closing``), so no socket outlives the pool.

Expiry and staleness are checked lazily, without a background task: when a connection
is taken (expired, or the server closed it or sent something while it was idle) and,
once per second at most, over all idle connections.

Stale-connection retry: a request sent on a reused connection that failed before any
response byte arrived (the server closed the idle connection just as we wrote: the
keep-alive race) is resent once on a new connection, when its body can be replayed and
its method is idempotent or it carries an ``Idempotency-Key`` (RFC 9110 section 9.2.2,
RFC 9112 section 9.3.1). ADR-004 explains why other POSTs are not resent.

HTTP/2 (``http2=True``): a connection that may speak it (``https``, or ``http`` with
``http1=False``; never through a forwarding proxy) is opened by one request while the
others for its key wait for the handshake; when ALPN chose ``h2`` it joins the key's
list of multiplexed connections and every request takes a stream on it (the connection
queues requests above the server's ``MAX_CONCURRENT_STREAMS``). A second connection is
opened only while ``Limits.http2_max_connections_per_host`` allows, when all are
saturated. Multiplexed connections are never on the idle stacks: each stream's end
calls ``_release``, which forgets a connection that closed or got GOAWAY once idle;
idle ones expire by ``keepalive_expiry``. When ALPN chose HTTP/1.1 the key is
remembered and takes the HTTP/1.1 path from then on. Requests the server refused
(``REFUSED_STREAM``, or above a GOAWAY's last stream) are resent on another connection,
whatever their method: the server did not process them (RFC 9113 section 8.7).

Blocking I/O (``blocking=True``, ADR-015): the same pool for callers that drive the session
without an event loop, from many threads at once (reqivo-sync's ``Session``). Connections
do blocking socket I/O in the calling thread (``_blocking_io``); the bookkeeping above runs
under ``_lock`` (a reentrant lock: closing a connection may release it back to the pool);
a request waiting for room sleeps on a ``ThreadWaiter``; an idle connection is ``refresh``ed
before reuse (nobody reads it while idle). HTTP/1.1 only, and no TLS to a proxy (TLS
inside TLS needs the loop's memory BIOs).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any, Final, Self

from reqivo_async import _blocking_io
from reqivo_async._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout
from reqivo_async._connection import AsyncConnection, ConnectionInfo
from reqivo_async._env import EnvironmentProxies
from reqivo_async._flow import expire
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._network import SocketOption
from reqivo_async._proxy import Proxy
from reqivo_async._redirects import is_websocket_upgrade
from reqivo_async._tls import CertTypes, PinTypes, VerifyTypes, create_ssl_context, normalize_pins
from reqivo_async._trace import emit
from reqivo_async._transports._base import AsyncBaseTransport
from reqivo_protocol import (
    URL,
    LimitExceeded,
    Origin,
    PoolTimeout,
    ReadError,
    RemoteProtocolError,
    WriteError,
)

__all__ = ["AsyncConnectionPool"]

logger = logging.getLogger("reqivo")

#: Methods RFC 9110 section 9.2.2 calls idempotent: safe to resend automatically.
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
#: Seconds between two sweeps of all idle connections for expiry.
SWEEP_INTERVAL: Final = 1.0
#: Blocking I/O: an idle connection is checked for a close by the server before reuse
#: once it has been idle this long (seconds; see ``_still_open``).
REFRESH_AFTER: Final = 0.25
#: How many times a request the server refused unprocessed (HTTP/2) is sent again.
MAX_REFUSED_RETRIES: Final = 3

#: The origin alone (direct), or with the proxy and whether to tunnel through it.
_Key = Origin | tuple[Origin, Proxy, bool]


class AsyncConnectionPool(AsyncBaseTransport):
    """A pool of HTTP/1.1 connections: the default transport of ``AsyncSession``.

    ``verify``/``cert``/``pin_sha256``: TLS (see ``create_ssl_context``); ``limits``:
    how many connections and for how long; ``proxy``: a proxy URL for every request
    (else, with ``trust_env``, the environment's ``HTTP(S)_PROXY``/``NO_PROXY``);
    ``local_address``, ``uds``, ``socket_options``: how connections are opened;
    ``max_header_size``/``max_header_count``: limits on response heads. ``http2=True``
    offers HTTP/2 by ALPN on ``https`` (HTTP/1.1 when the server prefers it);
    ``http1=False`` with it speaks HTTP/2 only (prior knowledge on ``http``).
    ``blocking=True`` does blocking socket I/O in the calling thread instead of asyncio, for
    a session driven without an event loop by many threads (reqivo-sync's ``Session``):
    HTTP/1.1 only, and no ``https://`` proxy (``ValueError`` otherwise).
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
        http1: bool = True,
        http2: bool = False,
        blocking: bool = False,
    ) -> None:
        if not (http1 or http2):
            raise ValueError("at least one of http1 and http2 must be enabled")
        if blocking and (http2 or not http1):
            raise ValueError("blocking I/O speaks HTTP/1.1 only: HTTP/2 needs the event loop")
        #: Whether its connections do blocking I/O (see the module).
        self.blocking = blocking
        self._lock = threading.RLock()
        self._http1 = http1
        self._http2 = http2
        self._limits = limits
        self._verify = verify
        self._cert = cert
        self._trust_env = trust_env
        self._pins = normalize_pins(pin_sha256) if pin_sha256 is not None else None
        # A default context is shared per process and built on first use; a custom one
        # is built now, so that a wrong path fails here rather than on the first request.
        self._ssl_context: ssl.SSLContext | None = None
        if verify is not True or cert is not None:
            self._ssl_context = create_ssl_context(
                verify, cert, trust_env=trust_env, alpn=self._alpn
            )
        self._proxy = None if proxy is None else Proxy(proxy)
        self._env_proxies = EnvironmentProxies() if trust_env and proxy is None else None
        if self._env_proxies is not None and not self._env_proxies.proxies:
            self._env_proxies = None
        self._env_proxy_cache: dict[str, Proxy] = {}
        if blocking:
            addresses = [] if self._env_proxies is None else self._env_proxies.proxies.values()
            proxies = [self._proxy] if self._proxy is not None else [Proxy(a) for a in addresses]
            if any(p.is_secure for p in proxies):
                raise ValueError("blocking I/O cannot use an https:// proxy (TLS inside TLS)")
        self._local_address = local_address
        self._uds = uds
        self._max_header_size = max_header_size
        self._max_header_count = max_header_count
        self._socket_options = list(socket_options) if socket_options else None

        self._idle: dict[_Key, list[AsyncConnection]] = {}
        self._keys: dict[AsyncConnection, _Key] = {}  # every counted connection
        self._per_key: collections.Counter[_Key] = collections.Counter()
        self._idle_count = 0
        self._waiters: collections.deque[asyncio.Future[bool] | _blocking_io.ThreadWaiter] = (
            collections.deque()
        )
        self._next_sweep = 0.0
        self._closed = False
        self._release_callback = self._release
        # HTTP/2: multiplexed connections per key, keys whose connection is opening
        # (with the requests waiting for it), keys whose server chose HTTP/1.1.
        self._h2: dict[_Key, list[AsyncConnection]] = {}
        self._h2_opening: dict[_Key, list[asyncio.Future[bool]]] = {}
        self._h1_only: set[_Key] = set()
        # Connections the pool closed and forgot whose transport may still be closing (TLS
        # close_notify): ``aclose`` waits for them. Pruned of the closed ones when it
        # doubles, so that it stays as small as the closes in progress.
        self._closing: set[AsyncConnection] = set()
        self._prune_closing_at = 16

    # -- counters --------------------------------------------------------------------------

    @property
    def idle_connections(self) -> int:
        """Connections open and waiting for a request."""
        return self._idle_count

    @property
    def active_connections(self) -> int:
        """Connections connecting or carrying a request."""
        return len(self._keys) - self._idle_count

    @property
    def connections(self) -> list[ConnectionInfo]:
        """A snapshot of every connection of the pool."""
        return [connection.info() for connection in self._keys]

    # -- settings --------------------------------------------------------------------------

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context its connections and HTTPS proxies use, built on first use with
        the pool's ``verify``/``cert``/``trust_env`` settings (see ``create_ssl_context``:
        the same object its connections get)."""
        if self._ssl_context is not None:
            return self._ssl_context
        return create_ssl_context(
            self._verify, self._cert, trust_env=self._trust_env, alpn=self._alpn
        )

    @property
    def _alpn(self) -> tuple[str, ...]:
        if not self._http2:
            return ("http/1.1",)
        return ("h2", "http/1.1") if self._http1 else ("h2",)

    # -- the transport interface -----------------------------------------------------------

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        """Send ``request`` on a pooled connection; the body streams afterwards and its
        end (or ``aclose()``) gives the connection back."""
        if self._closed:
            raise RuntimeError("cannot send a request: the connection pool is closed")
        url = request.url
        proxy = None if self._proxy is None and self._env_proxies is None else self._proxy_for(url)
        origin = url.origin
        key: _Key = (
            origin
            if proxy is None
            else (origin, proxy, origin.scheme != "http" or is_websocket_upgrade(request))
        )
        timeout: Timeout = request.extensions.get("timeout") or DEFAULT_TIMEOUT
        retried = False
        refused = 0
        traced = "trace" in request.extensions
        upgrade = self._http2 and is_websocket_upgrade(request)
        h2 = self._http2 and not upgrade and key not in self._h1_only and self._may_multiplex(key)
        connection: AsyncConnection | None
        while True:
            if h2:
                connection = await self._acquire_h2(key, proxy, request, timeout)
                if not connection.multiplexed:
                    h2 = False
            else:
                # The fast path: an idle connection is there (no await, no trace to emit).
                if traced or self._closed:
                    connection = None
                else:
                    with self._lock:
                        connection = self._reuse(key)
                    if (
                        connection is not None
                        and self.blocking
                        and not self._still_open(connection)
                    ):
                        connection = None
                if connection is None:
                    connection = await self._acquire(key, proxy, request, timeout, upgrade)
            try:
                http = connection._http
                if http is not None and not http.closed:
                    # Connected already: skip AsyncConnection's own layer.
                    return await http.handle_async_request(request)
                return await connection.handle_async_request(request)
            except (ReadError, WriteError, RemoteProtocolError) as exc:
                if getattr(exc, "refused_stream", False) and refused < MAX_REFUSED_RETRIES:
                    stream = request.stream
                    if stream.body is not None or stream.replayable:
                        refused += 1
                        logger.debug("resending a request %s refused unprocessed", origin)
                        continue
                    raise
                if retried or not connection.failed_before_response or not _may_resend(request):
                    raise
                if isinstance(exc, LimitExceeded):  # pragma: no cover - needs response bytes
                    raise
                retried = True
                logger.debug("resending the request: a reused connection to %s was closed", origin)

    async def __aenter__(self) -> Self:
        return self

    async def aclose(self) -> None:
        """Close every connection; requests in flight fail, waiting ones too."""
        with self._lock:
            connections = self._close_bookkeeping()
            connections += [c for c in self._closing if c.is_closing()]
            self._closing.clear()
        if self.blocking:
            for connection in connections:
                await connection.aclose()  # it never suspends: one after the other
        elif connections:
            await asyncio.gather(*[connection.aclose() for connection in connections])

    def _close_bookkeeping(self) -> list[AsyncConnection]:
        """Mark the pool closed, forget every connection and wake every waiter; the
        connections to close."""
        self._closed = True
        connections = list(self._keys)
        self._idle.clear()
        self._h2.clear()
        for waiters in self._h2_opening.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(True)
        self._keys.clear()
        self._per_key.clear()
        self._idle_count = 0
        while self._waiters:
            queued = self._waiters.popleft()
            if not queued.done():
                queued.set_result(True)
        return connections

    # -- acquiring ---------------------------------------------------------------------------

    def _may_multiplex(self, key: _Key) -> bool:
        if isinstance(key, Origin):
            origin, forwarded = key, False
        else:
            origin, forwarded = key[0], not key[2]
        return not forwarded and (origin.scheme == "https" or not self._http1)

    async def _acquire_h2(
        self, key: _Key, proxy: Proxy | None, request: AsyncRequest, timeouts: Timeout
    ) -> AsyncConnection:
        """A connection for ``key`` when it may speak HTTP/2: a stream on a multiplexed
        one, or a new connection (which others wait for until ALPN is known)."""
        while True:
            if self._closed:
                raise RuntimeError("cannot send a request: the connection pool is closed")
            now = time.monotonic()
            if now >= self._next_sweep:
                self._sweep(now)
            connections = self._h2.get(key)
            if connections:
                http = connections[0]._http
                if (
                    http is not None
                    and http.has_capacity()  # type: ignore[union-attr]
                    and not http.has_expired(now)
                ):
                    if "trace" in request.extensions:
                        await _trace_reuse(request, connections[0])
                    return connections[0]  # the common case: one connection with room
                best: AsyncConnection | None = None
                for connection in list(connections):
                    http = connection._http
                    if http is None or not connection.is_available() or http.has_expired(now):
                        if connection.is_idle() or connection.is_closed():
                            connections.remove(connection)
                            self._forget(connection)
                        continue
                    if http.has_capacity():  # type: ignore[union-attr]
                        if "trace" in request.extensions:
                            await _trace_reuse(request, connection)
                        return connection
                    if best is None or http.load < best._http.load:  # type: ignore[union-attr]
                        best = connection
                limit = self._limits.http2_max_connections_per_host
                if best is not None and (
                    key in self._h2_opening or (limit is not None and len(connections) >= limit)
                ):
                    if "trace" in request.extensions:
                        await _trace_reuse(request, best)
                    return best  # it queues the request until a stream is free
            opening = self._h2_opening.get(key)
            if opening is not None:
                loop = asyncio.get_running_loop()  # not before: a system call (getpid)
                waiter: asyncio.Future[bool] = loop.create_future()
                opening.append(waiter)
                seconds = timeouts.pool
                handle = None if seconds is None else loop.call_later(seconds, expire, waiter)
                try:
                    if not await waiter:
                        raise PoolTimeout(
                            f"no connection became available within {seconds} seconds",
                            request=request,
                        )
                finally:
                    if handle is not None:
                        handle.cancel()
                    _remove(opening, waiter)
                continue
            if key in self._h1_only:
                return await self._acquire(key, proxy, request, timeouts)
            connection = await self._acquire(key, proxy, request, timeouts)
            if connection._http is not None:
                return connection  # an idle HTTP/1.1 one
            waiters = self._h2_opening[key] = []
            try:
                await connection.connect(request)
            finally:
                del self._h2_opening[key]
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(True)
            if connection.multiplexed:
                self._h2.setdefault(key, []).append(connection)
            else:
                self._h1_only.add(key)
            return connection

    def _proxy_for(self, url: URL) -> Proxy | None:
        if self._proxy is not None:
            return self._proxy if self._uds is None else None
        env = self._env_proxies
        if env is None or self._uds is not None:
            return None
        address = env.for_url(url)
        if address is None:
            return None
        proxy = self._env_proxy_cache.get(address)
        if proxy is None:
            proxy = self._env_proxy_cache[address] = Proxy(address)
        return proxy

    async def _acquire(
        self,
        key: _Key,
        proxy: Proxy | None,
        request: AsyncRequest,
        timeouts: Timeout,
        upgrade: bool = False,
    ) -> AsyncConnection:
        loop = None if self.blocking else asyncio.get_running_loop()
        while True:
            with self._lock:
                connection, waiter = self._take_or_wait(key, proxy, upgrade, loop)
            if connection is not None:
                reused = connection._http is not None
                if reused and self.blocking and not self._still_open(connection):
                    continue
                trace = request.extensions.get("trace")
                if trace is not None and reused:
                    await emit(trace, "connection.reused", origin=str(connection.origin))
                return connection
            if waiter is not None:
                await self._wait(waiter, timeouts.pool, request)

    def _take_or_wait(
        self,
        key: _Key,
        proxy: Proxy | None,
        upgrade: bool,
        loop: asyncio.AbstractEventLoop | None,
    ) -> tuple[AsyncConnection | None, asyncio.Future[bool] | _blocking_io.ThreadWaiter | None]:
        """One look at the pool (under ``_lock``): an idle connection for ``key``, a new one
        when there is room, or a waiter queued for a release (neither: look again)."""
        if self._closed:
            raise RuntimeError("cannot send a request: the connection pool is closed")
        connection = self._reuse(key)
        if connection is not None:
            return connection, None
        limits = self._limits
        total = len(self._keys)
        if (limits.max_connections is None or total < limits.max_connections) and (
            limits.max_connections_per_host is None
            or self._per_key[key] < limits.max_connections_per_host
        ):
            # An upgrade (WebSocket) needs HTTP/1.1: its connection offers nothing else.
            return self._create(key, proxy, http2=self._http2 and not upgrade), None
        if (
            limits.max_connections is not None
            and total >= limits.max_connections
            and self._idle_count
            and (
                limits.max_connections_per_host is None
                or self._per_key[key] < limits.max_connections_per_host
            )
        ):
            self._evict_oldest_idle()
            return None, None
        waiter = _blocking_io.ThreadWaiter() if loop is None else loop.create_future()
        self._waiters.append(waiter)
        return None, waiter

    def _reuse(self, key: _Key) -> AsyncConnection | None:
        """The most recently used idle connection for ``key`` that is still good, taken
        off its stack (stale or expired ones met on the way are closed); or None."""
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        stack = self._idle.get(key)
        while stack:
            connection = stack.pop()
            self._idle_count -= 1
            if connection.is_available() and not connection.has_expired(now):
                return connection
            self._discard(connection)
        return None

    def _still_open(self, connection: AsyncConnection) -> bool:
        """Blocking I/O: whether an idle connection just taken is still open. Nobody read
        it while it was idle, so what the server sent (its close) is read now, outside
        ``_lock``; a closed one is forgotten. Not for a connection idle less than
        ``REFRESH_AFTER``: the check is a system call, which with many threads costs a turn
        at the GIL (a quarter of the throughput with 64 threads, measured for ADR-015), and
        servers close idle connections after seconds; a close that races a reuse is the
        keep-alive race, which the stale-connection retry covers."""
        http = connection._http
        if http is not None and time.monotonic() - http.idle_since < REFRESH_AFTER:
            return True
        connection.refresh()
        if connection.is_available():
            return True
        with self._lock:
            self._discard(connection)
        return False

    def _create(self, key: _Key, proxy: Proxy | None, *, http2: bool) -> AsyncConnection:
        origin, tunnel = (key, False) if isinstance(key, Origin) else (key[0], key[2])
        connection = AsyncConnection(
            origin,
            # The pool's context offers h2 by ALPN when http2 is on: not for an upgrade.
            ssl_context=self._ssl_context if http2 == self._http2 else None,
            verify=self._verify,
            cert=self._cert,
            pin_sha256=self._pins,
            trust_env=self._trust_env,
            local_address=self._local_address,
            uds=self._uds,
            proxy=proxy,
            tunnel=tunnel,
            max_header_size=self._max_header_size,
            max_header_count=self._max_header_count,
            socket_options=self._socket_options,
            keepalive_expiry=self._limits.keepalive_expiry,
            http1=self._http1 or not http2,
            http2=http2,
            blocking=self.blocking,
        )
        connection._on_release = self._release_callback
        self._keys[connection] = key
        self._per_key[key] += 1
        return connection

    async def _wait(
        self,
        waiter: asyncio.Future[bool] | _blocking_io.ThreadWaiter,
        seconds: float | None,
        request: AsyncRequest,
    ) -> None:
        if isinstance(waiter, _blocking_io.ThreadWaiter):
            try:
                woken = waiter.wait(seconds)
            except BaseException:
                with self._lock:
                    self._abandon(waiter)
                raise
            if not woken:
                with self._lock:
                    woken = waiter.done() and waiter.result()  # a release came just then
                    if not woken:
                        waiter.set_result(False)
                        _remove(self._waiters, waiter)
        else:
            loop = waiter.get_loop()
            handle = loop.call_later(seconds, expire, waiter) if seconds is not None else None
            try:
                woken = await waiter
            except BaseException:
                self._abandon(waiter)
                raise
            finally:
                if handle is not None:
                    handle.cancel()
            if not woken:
                _remove(self._waiters, waiter)
        if not woken:
            raise PoolTimeout(
                f"no connection became available within {seconds} seconds", request=request
            )

    def _abandon(self, waiter: asyncio.Future[bool] | _blocking_io.ThreadWaiter) -> None:
        """A waiting request gave up (cancelled, interrupted): if a release picked it just
        before, pass that on to the next waiter."""
        if waiter.done() and not waiter.cancelled() and waiter.result():
            self._wake_one()
        else:
            if isinstance(waiter, _blocking_io.ThreadWaiter):
                waiter.set_result(False)
            _remove(self._waiters, waiter)

    # -- releasing ---------------------------------------------------------------------------

    def _release(self, connection: AsyncConnection) -> None:
        """Called by a connection when its request ended (the pool's only entry point)."""
        with self._lock:
            key = self._keys.get(connection)
            if key is None:  # forgotten already (the pool was closed)
                connection.close()
                return
            if connection.multiplexed:
                if connection.is_idle() and (self._closed or not connection.is_available()):
                    connections = self._h2.get(key)
                    if connections is not None and connection in connections:
                        connections.remove(connection)
                    self._forget(connection)
            else:
                limits = self._limits
                if (
                    connection.is_available()
                    and not self._closed
                    and (
                        limits.max_keepalive_connections is None
                        or self._idle_count < limits.max_keepalive_connections
                    )
                ):
                    stack = self._idle.get(key)
                    if stack is None:
                        stack = self._idle[key] = []
                    stack.append(connection)
                    self._idle_count += 1
                else:
                    self._forget(connection)
            if self._waiters:
                self._wake_one()

    def _forget(self, connection: AsyncConnection) -> None:
        key = self._keys.pop(connection, None)
        if key is not None:
            self._per_key[key] -= 1
            if not self._per_key[key]:
                del self._per_key[key]
        if not connection.is_closed():
            connection.close()
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("connection to %s closed", connection.origin)
        if connection.is_closing():
            closing = self._closing
            if len(closing) >= self._prune_closing_at:
                closing.difference_update([c for c in closing if not c.is_closing()])
                self._prune_closing_at = max(16, 2 * len(closing))
            closing.add(connection)

    def _discard(self, connection: AsyncConnection) -> None:
        """Close and forget an idle connection that was taken off its stack."""
        self._forget(connection)
        if self._waiters:
            self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return

    def _evict_oldest_idle(self) -> None:
        oldest: AsyncConnection | None = None
        oldest_key: _Key | None = None
        for key, stack in self._idle.items():
            if stack and (oldest is None or _idle_since(stack[0]) < _idle_since(oldest)):
                oldest, oldest_key = stack[0], key
        assert oldest is not None
        assert oldest_key is not None
        self._idle[oldest_key].remove(oldest)
        self._idle_count -= 1
        self._forget(oldest)

    def _sweep(self, now: float) -> None:
        """Close idle connections that expired or went stale (at most once a second)."""
        self._next_sweep = now + SWEEP_INTERVAL
        for key, stack in list(self._idle.items()):
            keep = [c for c in stack if c.is_available() and not c.has_expired(now)]
            if len(keep) != len(stack):
                for connection in stack:
                    if connection not in keep:
                        self._idle_count -= 1
                        self._forget(connection)
                stack[:] = keep
            if not keep:
                del self._idle[key]
        for key, connections in list(self._h2.items()):
            for connection in list(connections):
                if connection.is_closed() or (
                    connection.is_idle()
                    and (not connection.is_available() or connection.has_expired(now))
                ):
                    connections.remove(connection)
                    self._forget(connection)
            if not connections:
                del self._h2[key]

    def __repr__(self) -> str:
        return (
            f"<AsyncConnectionPool [idle: {self.idle_connections}, "
            f"active: {self.active_connections}]>"
        )


def _remove(
    waiters: collections.deque[Any] | list[Any],
    waiter: asyncio.Future[bool] | _blocking_io.ThreadWaiter,
) -> None:
    with contextlib.suppress(ValueError):
        waiters.remove(waiter)


def _idle_since(connection: AsyncConnection) -> float:
    http = connection._http
    return http.idle_since if http is not None else 0.0


def _may_resend(request: AsyncRequest) -> bool:
    stream = request.stream
    if stream.body is None and not stream.replayable:
        return False
    return request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers


async def _trace_reuse(request: AsyncRequest, connection: AsyncConnection) -> None:
    """``connection.reused`` for a stream on an open HTTP/2 connection (as for an idle
    HTTP/1.1 one; only called when the request is traced)."""
    await emit(request.extensions["trace"], "connection.reused", origin=str(connection.origin))
