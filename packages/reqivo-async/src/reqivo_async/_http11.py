"""HTTP/1.1 over an asyncio transport: the glue around ``reqivo_protocol.http11``.

Theory of operation
-------------------

``HTTP11Protocol`` is the ``asyncio.Protocol`` of a connection (a ``_flow.FlowProtocol``:
write flow control and the end of the connection are shared with the WebSocket
protocol). ``data_received`` only queues the received block (no parsing in the callback,
no copy) and wakes the waiting reader, if any. The reader pulls events from the sans-IO
machine; when the machine says ``NEED_DATA`` it feeds it the next queued block, and only
when the queue is empty does it await a future (one future per wait, its timeout one
timer per connection: no task, no ``wait_for``). Feeding whole blocks keeps a large body
zero-copy: a received block becomes one ``Data`` event as is.

Pulling events is one pair of methods on ``HTTP11Connection``: ``_next_event()`` never
waits (it returns ``NEED_DATA`` once every queued block is fed), ``_receive_event()``
waits for data while the machine needs it. Readers call the first and await the second
only on ``NEED_DATA``, so an event already received costs no coroutine.

Flow control: when more than ``HIGH_WATER`` bytes are queued unread (a user streaming a
huge body slowly) the protocol pauses reading, and resumes below ``LOW_WATER``: memory
stays flat. Writes go straight to the transport; ``pause_writing``/``resume_writing``
tell the writer to await draining, which it does only while paused.

Read size: a selector transport ``recv``s at most its ``max_size`` per read, one
event-loop iteration each. The protocol starts it at ``BASE_RECV_SIZE`` (64 KiB, not
asyncio's 256 KiB): ``recv(n)`` allocates ``n`` bytes before it knows how many arrive, and
glibc serves a block above its mmap threshold (128 KiB by default) with ``mmap``, then
``mremap``s it to the 1 KiB that came and ``munmap``s it: three system calls per read, per
request. Whether that happens depended on the process's allocation history (glibc raises
the threshold after freeing a large mapped block): the same code measured 59 or 80 µs of
client CPU per keep-alive GET in two virtual environments (``strace -c``: one
``mmap``/``mremap``/``munmap`` per request in the slow one). When a read fills the size
(the socket holds more: a fast download) the protocol doubles it up to ``MAX_RECV_SIZE``;
a read that comes back short sets it to the smallest step (``BASE_RECV_SIZE`` doubled) that
holds what came, so a small response drops straight back to ``BASE_RECV_SIZE``. Bigger
reads halve the loop iterations of a bulk download; dropping back on a short read keeps
the allocation at the size the socket actually delivers (a block glibc cannot reuse comes
from a fresh ``mmap``, whose pages fault in on every read).

``HTTP11Connection`` runs request/response cycles over one protocol: it sends the
request (head and small body in one synchronous write; larger, streamed or
``Expect: 100-continue`` bodies through ``_send``), reads the response head, and hands
out the body as ``HTTP11ResponseStream``. Traced and untraced requests take the same
path; trace steps (``_trace.Step``) are awaited only when a callback is set. When the
body ends, the machine starts its next cycle (keep-alive) or the transport is closed;
either way ``on_cycle_end`` tells the owner (the pool). A cycle that fails or is
cancelled at any point closes the connection: a half-used connection is never reused.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from reqivo_async._body_stream import ResponseBodyStream
from reqivo_async._config import DEFAULT_TIMEOUT, Timeout
from reqivo_async._flow import FlowProtocol, wake
from reqivo_async._models import AsyncRequest, Response, _has_field
from reqivo_async._network import map_error, refused_handshake_error
from reqivo_async._trace import Step, TraceCallback
from reqivo_protocol import (
    LocalProtocolError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    RequestError,
    WriteError,
    WriteTimeout,
)
from reqivo_protocol.http11 import (
    NEED_DATA,
    ClientConnection,
    ClientState,
    Data,
    EndOfMessage,
    InformationalResponse,
    Request,
)
from reqivo_protocol.http11 import Response as ResponseHead

if TYPE_CHECKING:
    from reqivo_protocol.http11 import ReceiveResult

__all__ = [
    "HIGH_WATER",
    "LOW_WATER",
    "HTTP11Connection",
    "HTTP11Protocol",
    "HTTP11ResponseStream",
    "NetworkStream",
]

logger = logging.getLogger("reqivo")

#: Pause reading when this many received bytes wait unread; resume below LOW_WATER.
HIGH_WATER: Final = 1024 * 1024
LOW_WATER: Final = 256 * 1024
#: The largest ``recv`` a selector transport is raised to while reads fill its buffer.
MAX_RECV_SIZE: Final = 512 * 1024
#: The recv size between bulk reads: below glibc's default mmap threshold (128 KiB).
BASE_RECV_SIZE: Final = 64 * 1024
#: Bodies up to this size are written together with the head (one write).
SMALL_BODY: Final = 64 * 1024
#: Large in-memory bodies are written in slices of this size (see ``_write_large``).
WRITE_SLICE: Final = 256 * 1024
#: How long a graceful close (TLS close_notify) may take before the transport is aborted.
CLOSE_TIMEOUT: Final = 0.5
#: How long ``Expect: 100-continue`` waits for the server before sending the body.
EXPECT_CONTINUE_DELAY: Final = 1.0
#: Methods whose empty body is sent without ``Content-Length: 0``.
_NO_BODY_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE", "CONNECT"})
_VERSIONS: Final = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}
_IDLE: Final = ClientState.IDLE


class HTTP11Protocol(FlowProtocol):
    """The asyncio protocol of one connection: queues received blocks, signals waiters.

    ``received`` counts every byte received (the pool's "did any response byte arrive"
    test). ``lost`` is set once the transport is gone; ``error`` is why, if it failed
    (write flow control and the end of the connection: ``FlowProtocol``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        # The transport's recv size when it is adjustable (a selector transport's
        # ``max_size``), else 0; and its default (see "Read size" above). The transport
        # is kept: a TLS upgrade replaces ``self.transport`` but not the socket's.
        self._recv_transport: Any = None
        self._recv_size = 0
        self._base_recv_size = 0
        self._read_paused = False
        self._waiter: asyncio.Future[bool] | None = None
        # The read timeout: one timer per connection, moved lazily (see wait_readable).
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.received = 0
        self.eof = False

    # -- asyncio callbacks -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        size = getattr(transport, "max_size", None)
        if type(size) is int and 0 < size < MAX_RECV_SIZE:
            self._recv_transport = transport
            self._base_recv_size = min(size, BASE_RECV_SIZE)
            self._set_recv_size(self._base_recv_size)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        size = len(data)
        recv_size = self._recv_size
        if size == recv_size:
            if recv_size < MAX_RECV_SIZE:
                self._set_recv_size(min(recv_size * 2, MAX_RECV_SIZE))
        elif recv_size > self._base_recv_size:
            # Short: the smallest step (base, doubled) that holds what came.
            target = self._base_recv_size
            while target < size:
                target *= 2
            if target != recv_size:
                self._set_recv_size(target)
        self.received += size
        self._buffered += size
        if self._buffered > HIGH_WATER and not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()  # type: ignore[union-attr]
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    def _set_recv_size(self, size: int) -> None:
        self._recv_size = size
        self._recv_transport.max_size = size

    def eof_received(self) -> bool | None:
        self.eof = True
        wake(self._waiter)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.eof = True
        wake(self._waiter)
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    # -- reading ---------------------------------------------------------------------

    @property
    def has_data(self) -> bool:
        """Whether received bytes wait in the queue."""
        return bool(self._chunks)

    def pop(self) -> bytes:
        """The oldest queued block (the caller checked ``has_data``)."""
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._read_paused and self._buffered <= LOW_WATER:
            self._read_paused = False
            if not self.lost:
                self.transport.resume_reading()  # type: ignore[union-attr]
        return chunk

    def take_all(self) -> bytes:
        """Every queued byte, the queue emptied."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._read_paused:
            self._read_paused = False
            if not self.lost:
                self.transport.resume_reading()  # type: ignore[union-attr]
        return data

    def readable(self, seconds: float | None) -> asyncio.Future[bool] | None:
        """None when received bytes or the end of file are there; else a future that
        becomes True when they arrive, False once ``seconds`` passed.

        The timeout is one timer per connection, not one per wait: a wait only records
        its deadline, and schedules the timer when none is pending before it. When the
        timer fires it expires the waiter whose deadline passed, or moves itself to the
        current deadline. Sequential requests thus share a timer instead of creating and
        cancelling one each (a measurable share of a keep-alive request's cost). A plain
        future, not a coroutine: the reader awaits it without one more frame.
        """
        if self._chunks or self.eof:
            return None
        loop = self.loop
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter  # resolved waiters are ignored: no need to clear it after
        if seconds is None:
            self._deadline = None
        else:
            deadline = self._deadline = loop.time() + seconds
            timer = self._timer
            if timer is None or timer.when() > deadline:
                if timer is not None:
                    timer.cancel()
                self._timer = loop.call_at(deadline, self._on_timer)
        return waiter

    async def wait_readable(self, seconds: float | None) -> bool:
        """Wait until bytes or end of file arrive; False if ``seconds`` passed first."""
        waiter = self.readable(seconds)
        return True if waiter is None else await waiter

    def _on_timer(self) -> None:
        self._timer = None
        waiter = self._waiter
        deadline = self._deadline
        if waiter is None or waiter.done() or deadline is None:
            return  # nobody waits: the next wait schedules a timer again
        loop = self.loop
        if loop.time() >= deadline:
            waiter.set_result(False)
        else:
            self._timer = loop.call_at(deadline, self._on_timer)


class NetworkStream:
    """The raw connection after ``101 Switching Protocols`` or a ``CONNECT`` tunnel.

    Owned by the caller (the WebSocket layer): ``read``, ``write``, ``drain``,
    ``aclose``; ``transport`` and ``get_extra_info`` expose the asyncio transport.
    """

    def __init__(self, protocol: HTTP11Protocol) -> None:
        self._protocol = protocol

    @property
    def transport(self) -> asyncio.Transport:
        """The underlying asyncio transport."""
        return self._protocol.transport  # type: ignore[return-value]

    @property
    def protocol(self) -> HTTP11Protocol:
        """The asyncio protocol receiving the bytes."""
        return self._protocol

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``transport.get_extra_info`` (``"ssl_object"``, ``"peername"``, ...)."""
        return self.transport.get_extra_info(name, default)

    async def read(self, max_bytes: int = 65536, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """Up to ``max_bytes`` received bytes; ``b""`` at end of file.

        Raises ``ReadTimeout`` after ``timeout`` seconds without data, ``ReadError`` if
        the connection failed.
        """
        protocol = self._protocol
        while not protocol.has_data:
            if protocol.error is not None:
                raise ReadError(f"read failed: {protocol.error}") from protocol.error
            if protocol.eof:
                return b""
            if not await protocol.wait_readable(timeout):
                raise ReadTimeout(f"no data received within {timeout} seconds")
        chunk = protocol.pop()
        if len(chunk) > max_bytes:
            protocol._chunks.appendleft(chunk[max_bytes:])
            protocol._buffered += len(chunk) - max_bytes
            chunk = chunk[:max_bytes]
        return chunk

    def write(self, data: bytes) -> None:
        """Queue ``data`` for sending (``WriteError`` if the connection is gone)."""
        protocol = self._protocol
        if protocol.lost:
            raise WriteError("write failed: the connection is closed")
        self.transport.write(data)

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the transport's write buffer drained below its high-water mark."""
        protocol = self._protocol
        if not await protocol.wait_writable(timeout):
            raise WriteTimeout(f"the peer accepted no data within {timeout} seconds")
        if protocol.lost and protocol.error is not None:
            raise WriteError(f"write failed: {protocol.error}") from protocol.error

    async def aclose(self) -> None:
        """Close the connection."""
        transport = self._protocol.transport
        if transport is not None and not transport.is_closing():
            transport.close()


class HTTP11Connection:
    """Request/response cycles of HTTP/1.1 over one connected ``HTTP11Protocol``.

    ``absolute_form`` sends absolute request targets (a plain-HTTP proxy) and
    ``extra_headers`` adds fields to each request (``Proxy-Authorization``).
    ``on_cycle_end`` is called once at the end of every cycle, whatever its outcome.
    """

    def __init__(
        self,
        protocol: HTTP11Protocol,
        *,
        max_header_size: int,
        max_header_count: int,
        keepalive_expiry: float | None = None,
        absolute_form: bool = False,
        extra_headers: list[tuple[str, str]] | None = None,
        on_cycle_end: Callable[[], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.machine = ClientConnection(
            max_header_size=max_header_size, max_header_count=max_header_count
        )
        self.keepalive_expiry = keepalive_expiry
        self.absolute_form = absolute_form
        self.extra_headers = extra_headers or []
        self.on_cycle_end = on_cycle_end
        self.requests = 0
        #: Whether the connection to the origin runs over TLS (set by the opener).
        self.tls = False
        self.closed = False
        self.switched = False
        self.in_cycle = False
        #: Whether the last failure may be retried on a new connection: the connection
        #: had served a request before, and no byte of the response arrived.
        self.failed_before_response = False
        self.expires_at: float | None = None
        self.idle_since = time.monotonic()
        self._eof_fed = False
        self._request: AsyncRequest | None = None
        self._received_at_start = 0

    # -- state queries (the pool asks these; an HTTP/2 connection answers differently) --

    def is_available(self) -> bool:
        """Whether a new request can be sent now (idle, open, nothing unsolicited)."""
        protocol = self.protocol
        return not (
            self.in_cycle
            or self.closed
            or protocol.eof
            or protocol._chunks  # has_data without the property call (a hot path)
            or protocol.transport is None
            or protocol.transport.is_closing()
        )

    def is_idle(self) -> bool:
        """Whether no request is in flight."""
        return not self.in_cycle

    def has_expired(self, now: float) -> bool:
        """Whether the idle connection outlived its keep-alive expiry at ``now``."""
        expires_at = self.expires_at
        return expires_at is not None and now >= expires_at and not self.in_cycle

    def close(self) -> None:
        """Close the transport now (any request in flight fails)."""
        if not self.closed:
            self.closed = True
            transport = self.protocol.transport
            if transport is not None:
                transport.close()

    async def aclose(self) -> None:
        """Close gracefully (TLS sends close_notify), aborting if that takes too long."""
        self.close()
        if not await self.protocol.wait_lost(CLOSE_TIMEOUT):
            self.abort()

    def abort(self) -> None:
        """Close the transport without waiting (a failed or cancelled cycle)."""
        self.closed = True
        transport = self.protocol.transport
        if transport is not None:
            transport.abort()

    # -- one cycle -------------------------------------------------------------------

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        """Send ``request`` and return the response with its body streaming."""
        timeout: Timeout = request.extensions.get("timeout") or DEFAULT_TIMEOUT
        callback = request.extensions.get("trace")
        if self.in_cycle:
            raise LocalProtocolError(
                "this HTTP/1.1 connection is busy with another request", request=request
            )
        reused = self.requests > 0
        self.in_cycle = True
        self.requests += 1
        self.failed_before_response = False
        self._request = request
        protocol = self.protocol
        self._received_at_start = protocol.received
        # Traced steps, or None: this path pays nothing for tracing when untraced.
        step = None if callback is None else Step(callback, "http11.send_request")
        phase = "write"
        try:
            if step is not None:
                await step.started()
            # A small in-memory body goes out with the head, in one synchronous write.
            sent = self._send_small(request)
            if sent:
                head = None
                if protocol.write_paused:
                    await self._drain(timeout.write)
            else:
                head = await self._send(request, timeout)
            phase = "read"
            if step is not None:
                await step.complete()
                step = step.then("http11.receive_response_head")
                await step.started()
            if head is None:
                # After a one-write send the machine holds nothing yet: skip asking it.
                event = await self._receive_event(timeout.read, starved=sent)
                while type(event) is InformationalResponse:  # a 1xx before the head
                    event = await self._receive_event(timeout.read)
                assert type(event) is ResponseHead  # the machine allows nothing else
                head = event
            if step is not None:
                await step.complete(status_code=head.status_code)
        except BaseException as exc:
            self.failed_before_response = reused and self.protocol.received == (
                self._received_at_start
            )
            self._end_cycle(reusable=False)
            if step is not None:
                await step.failed(exc)
            if isinstance(exc, Exception) and not isinstance(exc, RequestError):
                raise map_error(exc, phase, request) from exc  # type: ignore[arg-type]
            if (
                self.tls
                and not reused
                and isinstance(exc, ReadError | RemoteProtocolError)
                and self.protocol.received == self._received_at_start
            ):
                raise refused_handshake_error(exc, request) from exc
            if isinstance(exc, RequestError) and exc.request is None:
                exc.request = request
            raise
        return self._make_response(request, head, timeout.read, callback)

    def _make_response(
        self,
        request: AsyncRequest,
        head: ResponseHead,
        read_timeout: float | None,
        callback: TraceCallback | None,
    ) -> Response:
        machine = self.machine
        extensions: dict[str, Any] = {}
        if machine.their_state is ClientState.SWITCHED_PROTOCOL:
            extensions["network_stream"] = NetworkStream(self.protocol)
            extensions["trailing_data"] = machine.trailing_data + self.protocol.take_all()
            self.switched = True
            self._end_cycle(reusable=False, close=False)
            stream: Any = None
            content: bytes | None = b""
        else:
            step = None if callback is None else Step(callback, "http11.response_body")
            stream = HTTP11ResponseStream(self, request, read_timeout, step)
            content = None
        return Response(
            head.status_code,
            headers=head.headers,
            reason=head.reason,
            http_version=_VERSIONS.get(head.http_version) or "HTTP/" + head.http_version,
            stream=stream,
            content=content,
            request=request,
            extensions=extensions,
        )

    def _end_cycle(self, *, reusable: bool, close: bool = True) -> None:
        """Finish the cycle: reuse the connection or close it, then tell the owner."""
        if not self.in_cycle:
            return
        self.in_cycle = False
        self._request = None
        machine = self.machine
        # A complete, reusable cycle (the usual end) is asked first: one property.
        keep = not self.closed and reusable and machine.reusable
        if keep:
            machine.start_next_cycle()
        elif not self.closed and machine.our_state is _IDLE and machine.their_state is _IDLE:
            # Untouched: the request was refused (or cancelled) before any byte of it
            # was written, so the connection is as clean as before.
            keep = True
        if keep:
            now = time.monotonic()
            self.idle_since = now
            if self.keepalive_expiry is not None:
                self.expires_at = now + self.keepalive_expiry
        elif not close:
            self.closed = True
        elif reusable:
            self.close()  # a complete response that forbids keep-alive
        else:
            self.abort()  # failed, cancelled or abandoned mid-cycle
        callback = self.on_cycle_end
        if callback is not None:
            callback()

    # -- sending ---------------------------------------------------------------------

    def _head_fields(self, request: AsyncRequest) -> tuple[list[tuple[str, str]], bool]:
        """The request's fields with Host added when missing; whether it expects 100."""
        # Headers keeps (name, lowercase name, value) triples: read them directly on
        # this per-request path instead of several lookups.
        headers = request.headers
        items = [(name, value) for name, _, value in headers._fields]
        if not _has_field(headers, "host"):
            items.insert(0, ("Host", request.url.netloc))
        if self.extra_headers:
            items += self.extra_headers
        expect = _has_field(headers, "expect") and "100-continue" in headers.get("expect", "")
        return items, expect

    def _send_small(self, request: AsyncRequest) -> bool:
        """Write a request whose body is in memory and small, head and body in one write;
        False (nothing written) for any other request."""
        body = request.stream.body
        if body is None or len(body) > SMALL_BODY:
            return False
        protocol = self.protocol
        transport = protocol.transport
        if protocol.lost or transport is None:
            raise WriteError("write failed: the connection is closed", request=request)
        items, expect = self._head_fields(request)
        if expect:
            return False
        url = request.url
        target = f"{url.scheme}://{url.netloc}{url.target}" if self.absolute_form else url.target
        method = request.method
        payload = None if not body and method in _NO_BODY_METHODS else body
        transport.write(self.machine.send_request(method, target, items, payload))
        return True

    async def _send(self, request: AsyncRequest, timeouts: Timeout) -> ResponseHead | None:
        """Send a request ``_send_small`` did not take (a large or streamed body, or
        ``Expect: 100-continue``); returns a final response head received early, else
        None."""
        protocol = self.protocol
        if protocol.lost or protocol.transport is None:
            raise WriteError("write failed: the connection is closed", request=request)
        url = request.url
        target = f"{url.scheme}://{url.netloc}{url.target}" if self.absolute_form else url.target
        method = request.method
        items, expect = self._head_fields(request)
        stream = request.stream
        body = stream.body
        machine = self.machine
        transport = protocol.transport

        lowered = {name.lower() for name, _ in items}
        framed = "content-length" in lowered or "transfer-encoding" in lowered
        length = stream.length
        if framed:
            head = Request(method, target, items)
        elif length is None:
            head = Request(method, target, items, chunked=True)
        elif length == 0 and method in _NO_BODY_METHODS:
            head = Request(method, target, items)
        else:
            head = Request(method, target, items, body_length=length)
        transport.write(machine.send(head))
        if expect:
            early = await self._wait_continue()
            if early is not None:
                return early
        if body is not None:
            if body:
                await self._write_large(machine.send(Data(body)), timeouts.write)
        else:
            async for chunk in stream:
                if protocol.lost or transport.is_closing():
                    raise _write_failed(protocol)
                if chunk:
                    transport.write(machine.send(Data(chunk)))
                    if protocol.write_paused:
                        await self._drain(timeouts.write)
        tail = machine.send(EndOfMessage())
        if tail:
            transport.write(tail)
        if protocol.write_paused:
            await self._drain(timeouts.write)
        return None

    async def _write_large(self, data: bytes, seconds: float | None) -> None:
        """Write a large in-memory payload without copying it.

        ``transport.write`` sends what the socket takes at once and copies the rest into
        its buffer (on Python 3.11 also slicing a ``bytes`` remainder: two copies). So
        the payload goes in ``WRITE_SLICE`` memoryview slices, each written only once the
        transport's buffer is empty (its high-water mark is 0 meanwhile): the socket
        takes each slice straight from the caller's bytes.
        """
        protocol = self.protocol
        transport = protocol.transport
        assert transport is not None
        if len(data) <= WRITE_SLICE:
            transport.write(data)
            return
        view = memoryview(data)
        transport.set_write_buffer_limits(high=0)
        try:
            for start in range(0, len(data), WRITE_SLICE):
                if protocol.lost or transport.is_closing():
                    raise _write_failed(protocol)
                transport.write(view[start : start + WRITE_SLICE])
                if protocol.write_paused:
                    await self._drain(seconds)
        finally:
            if not transport.is_closing():
                transport.set_write_buffer_limits()

    async def _drain(self, seconds: float | None) -> None:
        protocol = self.protocol
        if not await protocol.wait_writable(seconds):
            raise WriteTimeout(f"the server accepted no data within {seconds} seconds")
        if protocol.lost:
            raise _write_failed(protocol)

    async def _wait_continue(self) -> ResponseHead | None:
        """After an ``Expect: 100-continue`` head: None to send the body (100 came, or
        the delay passed), or the final response the server sent instead."""
        deadline = time.monotonic() + EXPECT_CONTINUE_DELAY
        while True:
            event = self._next_event()
            if event is NEED_DATA:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not await self.protocol.wait_readable(remaining):
                    return None
                continue
            if type(event) is InformationalResponse:
                if event.status_code == 100:
                    return None
                continue
            assert type(event) is ResponseHead
            return event

    # -- receiving -------------------------------------------------------------------

    def _feed(self) -> bool:
        """Give the machine the next queued block (or the end of file); False when
        there is nothing to give yet."""
        protocol = self.protocol
        if protocol._chunks:  # has_data, without the property call
            self.machine.receive_data(protocol.pop())
            return True
        if protocol.eof and not self._eof_fed:
            error = protocol.error
            if error is not None:
                raise ReadError(f"read failed: {error}") from error
            if self.closed:
                raise ReadError("read failed: the connection was closed by the client")
            self._eof_fed = True
            self.machine.receive_data(b"")
            return True
        return False

    def _next_event(self, *, starved: bool = False) -> ReceiveResult:
        """The next event from what was received, never waiting: queued blocks are fed
        to the machine as it needs them; ``NEED_DATA`` once all are fed. ``starved``:
        the machine said ``NEED_DATA`` and got nothing since, so it is not asked again
        before being fed.

        With ``_receive_event`` the one way to pull events: call this first, and await
        ``_receive_event`` only on ``NEED_DATA`` (no coroutine per event)."""
        machine = self.machine
        event = NEED_DATA if starved else machine.next_event()
        while event is NEED_DATA and self._feed():
            event = machine.next_event()
        return event

    async def _receive_event(
        self, seconds: float | None, *, starved: bool = False
    ) -> ReceiveResult:
        """The next event, waiting for data (at most ``seconds`` each time) while the
        machine needs it; ``ReadTimeout`` when nothing came in time. ``starved`` as for
        ``_next_event`` (the caller's ``_next_event()`` just returned ``NEED_DATA``)."""
        protocol = self.protocol
        event = NEED_DATA if starved else self._next_event()
        while event is NEED_DATA:
            waiter = protocol.readable(seconds)
            if waiter is not None and not await waiter:
                raise ReadTimeout(f"the server sent nothing within {seconds} seconds")
            event = self._next_event(starved=True)
        return event


def _write_failed(protocol: HTTP11Protocol) -> WriteError:
    error = protocol.error
    failure = WriteError(f"write failed: {error or 'the connection closed'}")
    failure.__cause__ = error
    return failure


class HTTP11ResponseStream(ResponseBodyStream):
    """The body of a response: raw chunks (transfer coding undone), then the end.

    Reading it to the end returns the connection for reuse; closing it early, a failure
    or a cancellation closes the connection.
    """

    __slots__ = ("_connection",)

    def __init__(
        self,
        connection: HTTP11Connection,
        request: AsyncRequest,
        timeout: float | None,
        step: Step | None,
    ) -> None:
        super().__init__(request, timeout, step)
        self._connection = connection

    def _release(self, complete: bool) -> None:
        self._connection._end_cycle(reusable=complete)

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        connection = self._connection
        try:
            event = connection._next_event()
            if event is NEED_DATA:
                event = await connection._receive_event(self._timeout, starved=True)
            if type(event) is Data:
                return event.data
            if type(event) is not EndOfMessage:  # pragma: no cover - the machine forbids it
                raise RemoteProtocolError(f"unexpected {type(event).__name__} in a body")
        except BaseException as exc:
            await self._fail(exc)
        await self._complete()
        raise StopAsyncIteration

    async def aread_all(self) -> bytes:
        """The rest of the body at once (``Response.aread`` uses it when present).

        One coroutine for the whole body instead of one ``__anext__`` per chunk; a body
        that arrived in one block is returned as that very ``bytes`` object.
        """
        if self._done:
            return b""
        connection = self._connection
        timeout = self._timeout
        chunks: list[bytes] = []
        try:
            while True:
                event = connection._next_event()
                if event is NEED_DATA:
                    event = await connection._receive_event(timeout, starved=True)
                if type(event) is Data:
                    chunks.append(event.data)
                    continue
                if type(event) is not EndOfMessage:  # pragma: no cover - the machine forbids it
                    raise RemoteProtocolError(f"unexpected {type(event).__name__} in a body")
                break
        except BaseException as exc:
            await self._fail(exc)
        await self._complete()
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)
