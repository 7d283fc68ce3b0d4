"""``WebSocket``: the blocking twin of ``AsyncWebSocket`` (the ``reqivo-ws[sync]`` extra).

A WebSocket connection is an asyncio transport, which belongs to the loop that made it,
and it must be served between calls (pongs, keepalive pings, backpressure, the server's
close). So each ``WebSocket`` owns one event loop, run by one dedicated daemon thread
from ``connect()`` until ``close()``: a ``reqivo_sync.LoopThread``, the
mechanism under reqivo-sync's wrappers, to which every blocking method hands its
coroutine and waits (ADR-007, "Sync twin"). Any thread may call any method: ``send``
from several threads at once writes whole frames, one message after another.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar

try:
    from reqivo_sync import LoopThread, Session
except ImportError as exc:  # pragma: no cover - the extra is installed in the test env
    raise ImportError(
        "the blocking reqivo_ws.WebSocket needs reqivo-sync: pip install 'reqivo-ws[sync]'"
    ) from exc

from reqivo_async import AsyncSession
from reqivo_protocol import URL, ConnectionClosedOK, HeaderTypes, ReadTimeout
from reqivo_protocol.websocket import DeflateOffer
from reqivo_ws._client import AsyncWebSocket, Data
from reqivo_ws._protocol import _copy
from reqivo_ws._reconnect import Reconnect

__all__ = ["WebSocket"]

T = TypeVar("T")
OnReconnect = Callable[["WebSocket"], object]


class _Runner:
    """The loop thread of one WebSocket and its async twin; never refers to the WebSocket,
    so that a WebSocket dropped unclosed can be collected (and then warns)."""

    __slots__ = ("loop_thread", "session", "ws")

    def __init__(self, ws: AsyncWebSocket) -> None:
        self.ws = ws
        #: The per-WebSocket session built from a ``reqivo_sync.Session`` (closed at the end).
        self.session: AsyncSession | None = None
        self.loop_thread = LoopThread("reqivo-ws-loop", closed_error=self._closed_error)

    def _closed_error(self) -> BaseException:
        """What a call after ``stop()`` raises: the connection's closed state."""
        return _copy(self.ws._p.exc if self.ws._p is not None else None)

    @property
    def stopped(self) -> bool:
        return self.loop_thread.closed

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop_thread.call(coro)

    def stop(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection, give other calls a moment to end (they raise
        ``ConnectionClosed``), close the session, then stop and close the loop."""
        self.loop_thread.close(functools.partial(self._finish, code, reason), grace=1.0)

    async def _finish(self, code: int, reason: str) -> None:
        try:
            await self.ws.close(code, reason)
        finally:
            session = self.session
            if session is not None:
                await session.aclose()


class WebSocket:
    """A blocking WebSocket client connection (RFC 6455): ``AsyncWebSocket``'s twin.

    ``with WebSocket("wss://example.com/chat") as ws:`` opens the connection (or
    ``ws = WebSocket(url).connect()``, then ``ws.close()``)::

        ws.send("hello")            # str: a text message; bytes: a binary one
        reply = ws.recv()           # str or bytes; recv(timeout=5.0) -> ReadTimeout
        for message in ws: ...      # ends quietly when the server closes normally
        rtt = ws.ping()             # seconds until the pong

    Same options as ``AsyncWebSocket``; ``session`` is a ``reqivo_sync.Session`` whose
    headers, cookies, auth, TLS and proxy settings apply (a snapshot taken at
    ``connect()``; a Session with a custom ``transport=`` is refused), and
    ``on_reconnect(ws)`` runs on the connection's loop thread, so it must not call the
    blocking methods of ``ws`` (``RuntimeError``). Methods may be called from any
    thread. An iterable given to ``send`` is consumed in the loop thread.
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
        session: Session | None = None,
        verify: Any = True,
        cert: Any = None,
        proxy: Any = None,
        trust_env: bool = True,
        reconnect: bool | Reconnect = False,
        on_reconnect: OnReconnect | None = None,
    ) -> None:
        if session is not None:
            if not isinstance(session, Session):
                raise TypeError(f"session must be a reqivo_sync.Session, not {session!r}")
            if verify is not True or cert is not None or proxy is not None:
                raise ValueError("with session=, set verify/cert/proxy on the session")
        callback = None
        if on_reconnect is not None:
            ref = weakref.ref(self)
            user = on_reconnect

            def callback(_: AsyncWebSocket) -> None:
                me = ref()
                if me is not None:
                    user(me)

        self._async = AsyncWebSocket(
            url,
            subprotocols=subprotocols,
            headers=headers,
            compression=compression,
            max_message_size=max_message_size,
            max_queue=max_queue,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            verify=verify,
            cert=cert,
            proxy=proxy,
            trust_env=trust_env,
            reconnect=reconnect,
            on_reconnect=callback,
        )
        self._session = session
        self._runner: _Runner | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._connect_lock = threading.Lock()

    # -- opening and closing ---------------------------------------------------------

    def connect(self) -> WebSocket:
        """Start the loop thread and run the opening handshake; returns ``self``.

        Raises what ``AsyncWebSocket.connect`` raises (``HandshakeError``,
        ``ConnectError``...); the thread is gone again when it fails.
        """
        with self._connect_lock:
            if self._runner is not None:
                raise RuntimeError("this WebSocket is already connected")
            runner = _Runner(self._async)
            try:
                runner.call(self._open(runner))
            except BaseException:
                runner.stop()
                raise
            self._runner = runner
            self._finalizer = weakref.finalize(self, runner.stop)
        return self

    async def _open(self, runner: _Runner) -> None:
        if self._session is not None:
            # The Session's state (headers, cookies, auth...), a pool of this loop's own;
            # a Session with a custom transport= raises ValueError.
            session = self._session.new_async_session()
            runner.session = self._async._session = session
        await self._async.connect()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Run the closing handshake (at most ``close_timeout`` seconds), close the
        connection and end its loop thread. Idempotent; no reconnect follows."""
        runner = self._runner
        if runner is None:
            return
        if not runner.stopped:
            # The handshake itself; a bad code or reason raises LocalProtocolError here,
            # before anything is torn down.
            runner.call(self._async.close(code, reason))
        runner.stop(code, reason)
        if self._finalizer is not None:
            self._finalizer.detach()

    def __enter__(self) -> WebSocket:
        return self.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None and finalizer.alive:
            _warn(f"unclosed {self!r}: use 'with WebSocket(...)' or close()", ResourceWarning)
            finalizer()

    # -- information -----------------------------------------------------------------

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or ``None``."""
        return self._async.subprotocol

    @property
    def response(self) -> Any:
        """The ``101`` response of the opening handshake."""
        return self._async.response

    @property
    def compression(self) -> Any:
        """The negotiated permessage-deflate parameters or ``None``."""
        return self._async.compression

    @property
    def closed(self) -> bool:
        """Whether the connection is over (``close_code`` then says how)."""
        return self._async.closed

    @property
    def close_code(self) -> int | None:
        """The close code once closed (1006: ended without a close frame)."""
        return self._async.close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason once closed."""
        return self._async.close_reason

    @property
    def reconnects(self) -> int:
        """How many times the connection was reopened (``reconnect``)."""
        return self._async.reconnects

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """The transport's ``get_extra_info`` (``"peername"``, ``"ssl_object"``...)."""
        return self._async.get_extra_info(name, default)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        runner = self._runner
        if runner is None:
            coro.close()
            raise RuntimeError("the WebSocket is not connected: use 'with' or connect()")
        return runner.call(coro)

    # -- messages --------------------------------------------------------------------

    def recv(self, timeout: float | None = None) -> Data:
        """The next message: ``str`` (text) or ``bytes`` (binary).

        Raises ``ConnectionClosedOK`` after a normal close, ``ConnectionClosedError``
        otherwise, and ``ReadTimeout`` when ``timeout`` seconds pass first.
        """
        return self._call(self._async.recv(timeout))

    def __iter__(self) -> Iterator[Data]:
        return self

    def __next__(self) -> Data:
        try:
            return self._call(self._async.recv())
        except ConnectionClosedOK:
            raise StopIteration from None

    def send(self, message: Data | Iterable[Data]) -> None:
        """Send a message: ``str`` as text, bytes-like as binary; an iterable of them as
        one fragmented message. Thread-safe. Raises ``ConnectionClosed`` once closed."""
        self._call(self._async.send(message))

    def ping(self, data: str | bytes | None = None, timeout: float | None = None) -> float:
        """Send a ping and wait for its pong; returns the round-trip time in seconds.

        Raises ``ReadTimeout`` when no pong comes within ``timeout`` seconds, and
        ``ConnectionClosed`` when the connection closes first.
        """
        return self._call(self._ping(data, timeout))

    async def _ping(self, data: str | bytes | None, timeout: float | None) -> float:  # noqa: ASYNC109
        pong = await self._async.ping(data)
        try:
            return await asyncio.wait_for(pong, timeout)
        except TimeoutError:
            raise ReadTimeout(f"no pong received within {timeout} seconds") from None

    def pong(self, data: str | bytes = b"") -> None:
        """Send an unsolicited pong (a unidirectional heartbeat)."""
        self._call(self._async.pong(data))

    def __repr__(self) -> str:
        runner = self._runner
        if runner is None:
            state = "new"
        elif self._async.closed or runner.stopped:
            state = "closed"
        else:
            state = "open"
        return f"<WebSocket [{self._async._display_url} {state}]>"
