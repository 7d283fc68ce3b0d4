"""``AsyncWebSocket``: the asyncio WebSocket client users hold.

The handshake runs through reqivo-async (``_connect``); the open connection is a
``WebSocketProtocol`` (``_protocol``) that parses frames in ``data_received``. The
per-message methods (``send``, ``recv``) touch the protocol directly and await only
when they must: ``recv`` when no message waits, ``send`` when the transport's buffer
is full.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Final, Literal, TypeAlias

from reqivo_async import AsyncSession, Proxy
from reqivo_protocol import (
    URL,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    HeaderTypes,
    LocalProtocolError,
    ReadTimeout,
    TransportError,
    WebSocketError,
)
from reqivo_protocol.websocket import CloseCode, ConnectionState, DeflateOffer, WebSocketConnection
from reqivo_ws._connect import http_url, open_handshake
from reqivo_ws._protocol import WebSocketProtocol
from reqivo_ws._reconnect import Reconnect

__all__ = ["AsyncWebSocket", "Data"]

Data: TypeAlias = str | bytes
"""A message: ``str`` for text, ``bytes`` for binary."""

_OPEN: Final = ConnectionState.OPEN
_UNSET: Any = object()
#: How long ``close`` lets the server close the TCP connection first (RFC 6455 7.1.1).
_TCP_CLOSE_GRACE: Final = 0.1
OnReconnect: TypeAlias = Callable[["AsyncWebSocket"], Awaitable[None] | None]


class AsyncWebSocket:
    """A WebSocket client connection (RFC 6455), for asyncio.

    ``async with AsyncWebSocket("wss://example.com/chat") as ws:`` opens the connection
    (or ``ws = await AsyncWebSocket(url).connect()``, then ``await ws.close()``)::

        await ws.send("hello")          # str: a text message; bytes: a binary one
        reply = await ws.recv()         # str or bytes; recv(timeout=5.0)
        async for message in ws: ...    # ends quietly when the server closes normally

    Options (keyword-only):

    - ``subprotocols``: offered in order; the chosen one is ``ws.subprotocol``.
    - ``headers``: extra handshake header fields (``Origin``, ``Authorization``...).
    - ``compression``: ``"deflate"`` (default: offer permessage-deflate), ``None``, or a
      ``DeflateOffer`` with its parameters.
    - ``max_message_size``: bytes a received message may have after decompression
      (``None``: unlimited); a bigger one fails the connection with close code 1009.
    - ``max_queue``: received messages kept unread before reading from the socket
      pauses (backpressure; ``None``: unbounded).
    - ``ping_interval`` / ``ping_timeout``: keepalive pings every ``ping_interval``
      seconds; no pong within ``ping_timeout`` closes with ``CloseCode.INTERNAL_ERROR``
      (1011). ``None``: off.
    - ``open_timeout``: the whole opening handshake; ``close_timeout``: the closing one.
    - ``session``: an ``AsyncSession`` whose headers, cookies, auth, TLS, proxy and
      redirect settings apply to the handshake (it follows redirects as for HTTP; see
      docs/security.md). Without one, ``verify``, ``cert``, ``proxy`` and
      ``trust_env`` configure a private session (as for HTTP requests).
    - ``reconnect``: ``True`` or a ``Reconnect`` policy to reopen the connection after
      an unexpected close; ``on_reconnect`` is called (and awaited if it returns an
      awaitable) with the socket after each reconnection. See ``Reconnect`` and the
      README for what happens to messages sent while disconnected.
    """

    def __init__(
        self,
        url: URL | str,
        *,
        subprotocols: Sequence[str] | None = None,
        headers: HeaderTypes | None = None,
        compression: Literal["deflate"] | DeflateOffer | None = "deflate",
        max_message_size: int | None = 2**20,
        max_queue: int | None = 64,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        session: AsyncSession | None = None,
        verify: Any = True,
        cert: Any = None,
        proxy: Any = None,
        trust_env: bool = True,
        reconnect: bool | Reconnect = False,
        on_reconnect: OnReconnect | None = None,
    ) -> None:
        self._url = http_url(url)
        self._subprotocols = tuple(subprotocols or ())
        self._headers = headers
        if compression == "deflate":
            self._deflate: DeflateOffer | None = DeflateOffer()
        elif compression is None or isinstance(compression, DeflateOffer):
            self._deflate = compression
        else:
            raise ValueError(
                f"compression must be 'deflate', None or a DeflateOffer, not {compression!r}"
            )
        if max_queue is not None and max_queue < 1:
            raise ValueError("max_queue must be at least 1 (or None)")
        self._max_message_size = max_message_size
        self._max_queue = max_queue
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._open_timeout = open_timeout
        self._close_timeout = close_timeout
        if session is not None and (verify is not True or cert is not None or proxy is not None):
            raise ValueError("with session=, set verify/cert/proxy on the session")
        self._session = session
        self._verify = verify
        self._cert = cert
        self._proxy = None if proxy is None else Proxy(proxy)
        self._trust_env = trust_env
        self._reconnect = Reconnect() if reconnect is True else (reconnect or None)
        self._on_reconnect = on_reconnect
        self._p: WebSocketProtocol | None = None
        self._subprotocol: str | None = None
        self._response: Any = None
        self._user_closed = False
        self._fragmenting: asyncio.Future[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._ka_handle: asyncio.TimerHandle | None = None
        self._ka_timer: asyncio.TimerHandle | None = None
        #: How many times the connection was reopened (``reconnect``).
        self.reconnects = 0

    # -- opening ---------------------------------------------------------------------

    async def connect(self) -> AsyncWebSocket:
        """Run the opening handshake; returns ``self``.

        Raises ``HandshakeError`` (its ``response`` is the refusing HTTP response, body
        read), the transport's errors (``ConnectError``, ``ConnectTimeout``,
        ``TlsError``, ``ProxyError``...) or the session's redirect errors
        (``TooManyRedirects``, ``RedirectLoopError``, ``RemoteProtocolError`` for a
        redirect it refuses to follow, such as ``wss://`` to ``ws://``).
        """
        if self._p is not None:
            raise RuntimeError("this AsyncWebSocket is already connected")
        await self._open()
        return self

    async def _open(self) -> WebSocketProtocol:
        session = self._session
        own = session is None
        if session is None:
            session = AsyncSession(
                verify=self._verify,
                cert=self._cert,
                proxy=self._proxy,
                trust_env=self._trust_env,
            )
        try:
            done = await open_handshake(
                session,
                self._url,
                subprotocols=self._subprotocols,
                headers=self._headers,
                deflate=self._deflate,
                timeout=self._open_timeout,
            )
        finally:
            if own:
                await session.aclose()
        stream = done.stream
        transport = stream.transport
        old = stream.protocol
        conn = WebSocketConnection(
            deflate=done.result.deflate,
            max_message_size=self._max_message_size,
            defer_close=True,
        )
        protocol = WebSocketProtocol(
            conn,
            transport,
            max_queue=self._max_queue,
            close_timeout=self._close_timeout,
            write_paused=old.write_paused,
        )
        transport.set_protocol(protocol)
        self._p = protocol
        self._subprotocol = done.result.subprotocol
        self._response = done.response
        data = done.trailing + (old.take_all() if old.has_data else b"")
        if data:
            protocol.data_received(data)
        if old.lost:
            protocol.connection_lost(old.error if isinstance(old.error, Exception) else None)
        self._start_keepalive()
        return protocol

    async def __aenter__(self) -> AsyncWebSocket:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- information -----------------------------------------------------------------

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or ``None``."""
        return self._subprotocol

    @property
    def response(self) -> Any:
        """The ``101`` response of the opening handshake (headers, cookies...)."""
        return self._response

    @property
    def compression(self) -> Any:
        """The negotiated permessage-deflate parameters (``DeflateParams``) or ``None``."""
        return None if self._p is None else self._p.conn.deflate

    @property
    def closed(self) -> bool:
        """Whether the connection is over (``close_code`` then says how)."""
        p = self._p
        return p is not None and p.exc is not None

    @property
    def close_code(self) -> int | None:
        """The close code once closed (1006: ended without a close frame)."""
        p = self._p
        return None if p is None or p.exc is None else p.exc.code

    @property
    def close_reason(self) -> str | None:
        """The close reason once closed."""
        p = self._p
        return None if p is None or p.exc is None else p.exc.reason

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's ``get_extra_info`` (``"peername"``, ``"ssl_object"``...)."""
        p = self._require()
        return p.transport.get_extra_info(name, default)

    def _require(self) -> WebSocketProtocol:
        p = self._p
        if p is None:
            raise RuntimeError("the WebSocket is not connected: use 'async with' or connect()")
        return p

    # -- receiving -------------------------------------------------------------------

    async def recv(self, timeout: float | None = None) -> Data:  # noqa: ASYNC109
        """The next message: ``str`` (text) or ``bytes`` (binary).

        Raises ``ConnectionClosedOK`` after a normal close, ``ConnectionClosedError``
        otherwise (messages that arrived before the close are returned first), and
        ``ReadTimeout`` (also a ``TimeoutError``) when ``timeout`` seconds pass first.
        """
        p = self._p
        if p is not None:
            message = p.take()
            if message is not None:
                return message
        return await self._recv_wait(timeout)

    async def _recv_wait(self, timeout: float | None) -> Data:  # noqa: ASYNC109
        p = self._require()
        loop = p.loop
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            message = p.take()
            if message is not None:
                return message
            p.answered()  # waiting for more: done with what it read
            exc = p.exc
            if exc is not None:
                if self._should_reconnect(exc):
                    await self._await_reconnect()
                    p = self._require()
                    continue
                raise p.closed_error()
            waiter: asyncio.Future[None] = loop.create_future()
            p.waiter = waiter
            handle = None
            if deadline is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    p.waiter = None
                    raise ReadTimeout(f"no message received within {timeout} seconds")
                handle = loop.call_later(remaining, _expire, waiter)
            try:
                await waiter
            finally:
                p.waiter = None
                if handle is not None:
                    handle.cancel()

    def __aiter__(self) -> AsyncIterator[Data]:
        return self

    async def __anext__(self) -> Data:
        p = self._p
        if p is not None:
            message = p.take()
            if message is not None:
                return message
        try:
            return await self._recv_wait(None)
        except ConnectionClosedOK:
            raise StopAsyncIteration from None

    # -- sending ---------------------------------------------------------------------

    async def send(self, message: Data | Iterable[Data] | AsyncIterable[Data]) -> None:
        """Send a message: ``str`` as text, ``bytes``-like as binary.

        An (async) iterable of ``str`` or of bytes is sent as one fragmented message,
        a frame per item. Waits while the transport's write buffer is full. Raises
        ``ConnectionClosed`` once the connection is closed.
        """
        p = self._p
        if p is None or p.exc is not None or self._fragmenting is not None:
            await self._send_slow(message)
            return
        kind = type(message)
        if kind is not str and kind is not bytes:
            # Outside the ``try`` below: its errors are explained where they happen.
            await self._send_slow(message)
            return
        # Inlined rather than shared with _send_slow: a helper call measured +0.5 us per
        # message (of ~5 us of our own code in a 32-byte round trip).
        try:
            if kind is str:
                frame = p.conn.send_text(message)  # type: ignore[arg-type]
            else:
                frame = p.conn.send_bytes(message)  # type: ignore[arg-type]
        except LocalProtocolError:
            self._raise_closed(p)
            raise
        p.transport.write(frame)
        p.unanswered = False
        if p.terminated:  # a held close reply may go now (see answered)
            p.answered()
        if p.write_paused:
            await p.drain()

    def _raise_closed(self, p: WebSocketProtocol) -> None:
        """Raise the ``ConnectionClosed`` that explains a refused send, if it is one."""
        if p.exc is not None:
            raise p.closed_error()
        if p.conn.state is not _OPEN:
            raise ConnectionClosedOK(CloseCode.NORMAL_CLOSURE, "the connection is closing")

    async def _send_slow(self, message: Data | Iterable[Data] | AsyncIterable[Data]) -> None:
        while True:
            p = self._require()
            while self._fragmenting is not None:
                await asyncio.shield(self._fragmenting)
            exc = p.exc
            if exc is None:
                break
            if self._should_reconnect(exc):
                await self._await_reconnect()
                continue
            raise p.closed_error()
        if not isinstance(message, str | bytes | bytearray | memoryview):
            await self._send_fragments(p, message)
            return
        try:
            if isinstance(message, str):
                frame = p.conn.send_text(message)
            else:
                frame = p.conn.send_bytes(message)
        except LocalProtocolError:
            self._raise_closed(p)
            raise
        p.transport.write(frame)
        p.answered()
        if p.write_paused:
            await p.drain()

    async def _send_fragments(
        self, p: WebSocketProtocol, message: Iterable[Data] | AsyncIterable[Data]
    ) -> None:
        if isinstance(message, dict):
            raise TypeError("cannot send a dict; send str, bytes or an iterable of them")
        done: asyncio.Future[None] = p.loop.create_future()
        self._fragmenting = done
        conn = p.conn
        sent_any = False
        try:
            previous: Any = _UNSET
            async for item in _aiter(message):
                if not isinstance(item, str | bytes | bytearray | memoryview):
                    raise TypeError(f"message fragments must be str or bytes, not {type(item)!r}")
                if previous is not _UNSET:
                    self._write_fragment(p, conn, previous, final=False)
                    sent_any = True
                    if p.write_paused:
                        await p.drain()
                previous = item
            if previous is not _UNSET:
                self._write_fragment(p, conn, previous, final=True)
                p.answered()
            elif sent_any:  # pragma: no cover - previous is set once any item came
                pass
            if p.write_paused:
                await p.drain()
        except BaseException:
            if conn.sending_fragmented and p.exc is None and conn.state is _OPEN:
                # A message cut in the middle cannot be finished: fail the connection.
                p.fail_locally(
                    CloseCode.INTERNAL_ERROR, "a fragmented message could not be completed"
                )
            raise
        finally:
            self._fragmenting = None
            done.set_result(None)

    def _write_fragment(
        self, p: WebSocketProtocol, conn: WebSocketConnection, item: Data, *, final: bool
    ) -> None:
        if p.exc is not None:
            raise p.closed_error()
        try:
            frame = conn.send_fragment(item, final=final)
        except LocalProtocolError:
            self._raise_closed(p)
            raise
        p.transport.write(frame)

    async def ping(self, data: str | bytes | None = None) -> Awaitable[float]:
        """Send a ping; returns an awaitable that gives the round-trip time in seconds
        when the pong arrives (``await (await ws.ping())``). ``data`` (at most 125
        bytes) defaults to 4 random bytes."""
        p = self._require()
        if p.exc is not None:
            raise p.closed_error()
        payload = data.encode() if isinstance(data, str) else data
        try:
            return p.send_ping(payload)
        except LocalProtocolError:
            self._raise_closed(p)
            raise

    async def pong(self, data: str | bytes = b"") -> None:
        """Send an unsolicited pong (a unidirectional heartbeat)."""
        p = self._require()
        if p.exc is not None:
            raise p.closed_error()
        payload = data.encode() if isinstance(data, str) else data
        try:
            p.transport.write(p.conn.send_pong(payload))
        except LocalProtocolError:
            self._raise_closed(p)
            raise

    # -- closing ---------------------------------------------------------------------

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Run the closing handshake (at most ``close_timeout`` seconds), then close the
        connection. Idempotent; no reconnect follows."""
        self._user_closed = True
        self._stop_keepalive()
        task = self._reconnecting
        if task is not None and not task.done():
            task.cancel()
            # Let it end: a failed reopen puts the old connection back in ``_p``.
            await asyncio.wait([task])
        p = self._p
        if p is None:
            return
        conn = p.conn
        if p.exc is None:
            if p.terminated:
                p.answer_close_now()  # the server closed first: our answer goes out now
            elif conn.state is _OPEN:
                frame = conn.send_close(code, reason)  # LocalProtocolError: bad code/reason
                if not p.lost:
                    p.transport.write(frame)
                if not await p.wait_terminated(self._close_timeout):
                    p.fail_locally(
                        CloseCode.ABNORMAL_CLOSURE, "no close frame within close_timeout"
                    )
        # The closing handshake is over (or timed out): the server should have closed
        # the TCP connection; do not wait for it any longer than a moment.
        if not p.lost and not await p.wait_lost(_TCP_CLOSE_GRACE):
            p.transport.close()
            if not await p.wait_lost(self._close_timeout):
                p.abort()
        p.queue.clear()
        if p.exc is None:  # pragma: no cover - connection_lost settles it
            p.exc = ConnectionClosedOK(code, reason)

    # -- keepalive -------------------------------------------------------------------

    def _start_keepalive(self) -> None:
        if self._ping_interval is not None and self._p is not None:
            self._ka_handle = self._p.loop.call_later(self._ping_interval, self._keepalive)

    def _stop_keepalive(self) -> None:
        for handle in (self._ka_handle, self._ka_timer):
            if handle is not None:
                handle.cancel()
        self._ka_handle = self._ka_timer = None

    def _keepalive(self) -> None:
        p = self._p
        if p is None or p.exc is not None or p.terminated or p.conn.state is not _OPEN:
            return
        future = p.send_ping(None)
        if self._ping_timeout is not None and (
            self._ka_timer is None or self._ka_timer.cancelled()
        ):
            self._ka_timer = p.loop.call_later(self._ping_timeout, self._keepalive_due, future)
        self._ka_handle = p.loop.call_later(self._ping_interval or 0.0, self._keepalive)

    def _keepalive_due(self, future: asyncio.Future[float]) -> None:
        self._ka_timer = None
        p = self._p
        if future.done() or p is None or p.exc is not None:
            return
        if p.read_paused:
            # We stopped reading (backpressure): the pong may wait in the socket.
            self._ka_timer = p.loop.call_later(
                self._ping_timeout or 0.0, self._keepalive_due, future
            )
            return
        p.fail_locally(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")

    # -- reconnecting ----------------------------------------------------------------

    def _should_reconnect(self, exc: ConnectionClosed) -> bool:
        policy = self._reconnect
        return policy is not None and not self._user_closed and exc.code in policy.codes

    async def _await_reconnect(self) -> None:
        task = self._reconnecting
        if task is None or task.done():
            task = self._reconnecting = asyncio.get_running_loop().create_task(self._reopen())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and (current is None or not current.cancelling()):
                return  # close() stopped reconnecting: the caller raises the closed state
            raise

    async def _reopen(self) -> None:
        policy = self._reconnect
        assert policy is not None
        old = self._p
        self._stop_keepalive()
        last: BaseException | None = old.exc if old is not None else None
        attempt = 0
        while policy.max_attempts is None or attempt < policy.max_attempts:
            await asyncio.sleep(policy.delay(attempt))
            attempt += 1
            try:
                await self._open_replacing(old)
            except (TransportError, WebSocketError, OSError) as exc:
                last = exc
                continue
            self.reconnects += 1
            callback = self._on_reconnect
            if callback is not None:
                result = callback(self)
                if inspect.isawaitable(result):
                    await result
            return
        # Give up: the old connection's error stays; reconnecting stops.
        self._reconnect = None
        if old is not None and last is not None and last is not old.exc:
            error = ConnectionClosedError(
                old.exc.code if old.exc is not None else CloseCode.ABNORMAL_CLOSURE,
                f"reconnecting failed after {attempt} attempts: {last}",
            )
            error.__cause__ = last
            old.exc = error

    async def _open_replacing(self, old: WebSocketProtocol | None) -> None:
        self._p = None
        try:
            new = await self._open()
        except BaseException:
            self._p = old
            raise
        if old is not None and old.queue:
            # Messages unread on the old connection come first.
            new.queue.extendleft(reversed(old.queue))

    def __repr__(self) -> str:
        p = self._p
        state = "new" if p is None else ("closed" if p.exc is not None else "open")
        return f"<AsyncWebSocket [{self._display_url} {state}]>"

    @property
    def _display_url(self) -> str:
        """The URL as a ``ws://``/``wss://`` string with any password redacted (reprs, logs)."""
        from reqivo_async.transport import redact_url  # not a hot path

        scheme, _, rest = redact_url(self._url).partition(":")
        return ("wss" if scheme == "https" else "ws") + ":" + rest


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _aiter(items: Iterable[Data] | AsyncIterable[Data]) -> AsyncIterator[Data]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
