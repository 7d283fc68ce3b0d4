"""The asyncio side of an open WebSocket: the codec driven from ``data_received``.

Theory of operation
-------------------

After ``101 Switching Protocols`` the transport's protocol is replaced by
``WebSocketProtocol`` (``transport.set_protocol``). Every received block goes straight
into the sans-IO ``WebSocketConnection``; its events are handled in the same callback:
messages are appended to a deque (and the one waiting ``recv``, if any, is woken),
pongs resolve ping waiters, pongs the codec queued are written at once. No task, no
intermediate byte queue: a 32-byte round trip costs one ``data_received``, one parse,
one future.

Backpressure: when ``max_queue`` messages wait unread, reading is paused (the kernel
buffers fill and TCP flow control slows the server); it resumes when the queue is down
to a quarter. Writes go straight to the transport; ``send`` awaits draining only
while the transport says its buffer is above its high-water mark.

Closing: the codec holds the close frame answering the server's close, or the close
frame of a protocol failure (``defer_close``). When messages that arrived before it
still wait unread, or the last one was just read and not yet answered, the frame goes
out once the application has read them and sent or called ``recv`` again (so an echo
client can answer them first, as RFC 6455 section 5.5.1 allows), or after
``close_timeout`` at the latest; otherwise at once. ``exc`` is the ``ConnectionClosed``
that ``recv`` raises after the last queued message and that ``send`` raises at once.
"""

from __future__ import annotations

import asyncio
import collections
import os

from reqivo_async.transport import FlowProtocol
from reqivo_async.transport import wake as _wake
from reqivo_protocol import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
)
from reqivo_protocol.websocket import (
    BytesMessage,
    CloseCode,
    CloseReceived,
    ConnectionFailed,
    ConnectionState,
    Pong,
    TextMessage,
    WebSocketConnection,
)

__all__ = ["WebSocketProtocol", "closed_exception"]

_OK_CODES = frozenset({CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY, CloseCode.NO_STATUS_RCVD})
_CLOSING = ConnectionState.CLOSING
_OPEN = ConnectionState.OPEN


def closed_exception(code: int, reason: str) -> ConnectionClosed:
    """``ConnectionClosedOK`` for a normal close (1000, 1001, or no code), else the error."""
    if code in _OK_CODES:
        return ConnectionClosedOK(code, reason)
    return ConnectionClosedError(code, reason)


class WebSocketProtocol(FlowProtocol):
    """Receives frames into ``queue``; holds the transport, the codec and the close state
    (write flow control and the end of the connection: ``FlowProtocol``)."""

    def __init__(
        self,
        conn: WebSocketConnection,
        transport: asyncio.Transport,
        *,
        max_queue: int | None,
        close_timeout: float | None,
        write_paused: bool = False,
    ) -> None:
        super().__init__(write_paused=write_paused)
        self.conn = conn
        self.transport = transport
        self.queue: collections.deque[str | bytes] = collections.deque()
        self.max_queue = max_queue
        self.low_water = 0 if max_queue is None else max_queue // 4
        self.close_timeout = close_timeout
        self.waiter: asyncio.Future[None] | None = None
        self.term_waiter: asyncio.Future[None] | None = None
        self.read_paused = False
        #: The ``ConnectionClosed`` once the connection is over (sends fail with it).
        self.exc: ConnectionClosed | None = None
        #: Whether the server's close frame (or a failure) was seen.
        self.terminated = False
        #: Whether the application took a message and has neither sent nor waited for
        #: another since: a close reply the codec holds waits for that answer (an echo
        #: client answers every message before the close, RFC 6455 section 5.5.1), until
        #: the next send or recv, or close_timeout. This matters for the blocking twin,
        #: whose loop thread keeps reading while the caller's thread answers.
        self.unanswered = False
        self.pings: dict[bytes, asyncio.Future[float]] = {}
        self._ping_sent: dict[bytes, float] = {}
        self._deferred: asyncio.TimerHandle | None = None
        self._abort_handle: asyncio.TimerHandle | None = None

    # -- asyncio callbacks -----------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        out = conn.data_to_send()
        if out:
            self.transport.write(out)
        queue = self.queue
        for event in conn.events():
            kind = type(event)
            if kind is TextMessage or kind is BytesMessage:
                queue.append(event.data)  # type: ignore[union-attr]
            elif kind is Pong:
                self._pong(event.payload)  # type: ignore[union-attr]
            elif kind is CloseReceived or kind is ConnectionFailed:
                self._terminate(event)  # type: ignore[arg-type]
        if queue:
            waiter = self.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            max_queue = self.max_queue
            if max_queue is not None and len(queue) >= max_queue and not self.read_paused:
                self.read_paused = True
                self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.terminated:
            conn = self.conn
            if conn.close_pending:  # pragma: no cover - terminated is set with it
                conn.take_close_reply()
            conn.receive_data(b"")
            for event in conn.events():
                if type(event) is ConnectionFailed:
                    self._terminate(event)
        if self.exc is None:
            self._finish()
        for handle in (self._deferred, self._abort_handle):
            if handle is not None:
                handle.cancel()
        _wake(self.waiter)
        _wake(self.term_waiter)
        pings = self.pings
        if pings:
            self.pings = {}
            error = self.exc
            for future in pings.values():
                if not future.done():
                    future.set_exception(_copy(error))
                    future.exception()  # retrieved: an unawaited ping must not warn

    # -- receiving -------------------------------------------------------------------

    def take(self) -> str | bytes | None:
        """The oldest unread message, or None; reading resumes once the queue drains."""
        queue = self.queue
        if not queue:
            return None
        message = queue.popleft()
        self.unanswered = True
        if self.read_paused and len(queue) <= self.low_water:
            self.resume()
        return message

    def resume(self) -> None:
        """Resume reading (the queue went below its low-water mark)."""
        self.read_paused = False
        if not self.lost:
            self.transport.resume_reading()

    def _terminate(self, event: CloseReceived | ConnectionFailed) -> None:
        """The server's close frame or a failure: the last event of the connection."""
        self.terminated = True
        _wake(self.term_waiter)
        if not self.conn.close_pending or not (self.queue or self.unanswered):
            self._finish()
        elif self.close_timeout is not None:
            # Unread (or just read) messages come first; answer within close_timeout anyway.
            self._deferred = self.loop.call_later(self.close_timeout, self._finish)

    def answered(self) -> None:
        """The application answered what it read (it sent, or waits for more): a held
        close reply goes once every message is read."""
        self.unanswered = False
        if self.terminated and self.exc is None and not self.queue:
            self._finish()

    def answer_close_now(self) -> None:
        """The application closes: a held close reply goes now, read or unread messages
        notwithstanding, and ``exc`` is settled (nothing if the server has not closed)."""
        if self.terminated:
            self._finish()

    def closed_error(self) -> ConnectionClosed:
        """A fresh copy of ``exc`` to raise (raising one instance again and again would
        grow its traceback)."""
        return _copy(self.exc)

    def _finish(self) -> None:
        """Send the held close frame (if any), settle ``exc``, close the transport."""
        if self.exc is not None:
            return
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        conn = self.conn
        reply = conn.take_close_reply()
        transport = self.transport
        if reply and not self.lost:
            transport.write(reply)
        code = conn.close_code
        failure = conn.failure
        if code is None:  # pragma: no cover - the codec always sets it when closing
            code = CloseCode.ABNORMAL_CLOSURE
        exc = closed_exception(code, conn.close_reason)
        if failure is not None:
            exc = ConnectionClosedError(code, conn.close_reason)
            exc.__cause__ = failure
        elif self.error is not None and code == CloseCode.ABNORMAL_CLOSURE:
            exc.__cause__ = self.error
        self.exc = exc
        if failure is not None:
            # We failed the connection: no answer is awaited (RFC 6455 section 7.1.7).
            if not self.lost:
                transport.close()
        elif not self.lost:
            # The server closes the TCP connection first; do it ourselves if it does not.
            self.schedule_abort()
        _wake(self.waiter)

    def schedule_abort(self) -> None:
        """Close the transport if the server has not within ``close_timeout``."""
        if self._abort_handle is None and not self.lost:
            delay = self.close_timeout if self.close_timeout is not None else 10.0
            self._abort_handle = self.loop.call_later(delay, self.abort)

    def abort(self) -> None:
        """Drop the connection without waiting."""
        if not self.lost:
            self.transport.abort()

    def fail_locally(self, code: int, reason: str) -> None:
        """End the connection from our side (keepalive timeout, a fragmented send cut
        short, no answer to our close frame): our close frame with ``code`` unless one
        went out already, then drop the connection; ``exc`` becomes the error."""
        if self.exc is not None:
            return
        conn = self.conn
        if conn.state is _OPEN:
            self.transport.write(conn.send_close(code, reason))
        self.exc = ConnectionClosedError(code, reason)
        self.terminated = True
        self.abort()
        _wake(self.waiter)
        _wake(self.term_waiter)

    # -- pings -----------------------------------------------------------------------

    def send_ping(self, payload: bytes | None) -> asyncio.Future[float]:
        """Write a ping; the future resolves to the round-trip time when its pong comes."""
        if payload is None:
            payload = os.urandom(4)
            while payload in self.pings:  # pragma: no cover - 1 in 2**32
                payload = os.urandom(4)
        elif payload in self.pings:
            raise ValueError("a ping with this payload is already waiting for its pong")
        frame = self.conn.send_ping(payload)
        self.transport.write(frame)
        future: asyncio.Future[float] = self.loop.create_future()
        self.pings[payload] = future
        self._ping_sent[payload] = self.loop.time()
        return future

    def _pong(self, payload: bytes) -> None:
        pings = self.pings
        if payload not in pings:
            return
        # A pong answers its ping and every ping sent before it.
        now = self.loop.time()
        sent = self._ping_sent
        for key in list(pings):
            future = pings.pop(key)
            started = sent.pop(key)
            if not future.done():
                future.set_result(now - started)
            if key == payload:
                break

    # -- waiting ---------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until the transport's write buffer went below its high-water mark."""
        while self.write_paused and not self.lost:
            await self.wait_writable(None)
        if self.lost and self.exc is not None:
            raise _copy(self.exc)

    async def wait_terminated(self, seconds: float | None) -> bool:
        """Wait for the server's close frame (or the end); False on timeout."""
        try:
            async with asyncio.timeout(seconds):
                while not self.terminated and not self.lost:
                    waiter = self.loop.create_future()
                    self.term_waiter = waiter
                    try:
                        await waiter
                    finally:
                        self.term_waiter = None
        except TimeoutError:
            return False
        return True


def _copy(exc: ConnectionClosed | None) -> ConnectionClosed:
    """A fresh instance of ``exc`` (raising one instance repeatedly grows its traceback)."""
    if exc is None:  # pragma: no cover - callers check
        return ConnectionClosedError(CloseCode.ABNORMAL_CLOSURE, "")
    new = type(exc)(exc.code, exc.reason)
    new.__cause__ = exc.__cause__
    return new
