"""HTTP/2 over an asyncio transport: the glue around ``reqivo_protocol.http2``.

Theory of operation
-------------------

Imported only when a connection negotiated ``h2`` (ALPN) or speaks it by prior
knowledge: an HTTP/1.1-only program never loads this module nor the HTTP/2 machine.

``HTTP2Protocol`` (a ``_flow.FlowProtocol`` and a buffered protocol: reads land in one
buffer of its own) hands every received block to
``HTTP2Connection.receive``, which feeds the sans-IO ``ClientConnection`` and dispatches
its events to the ``_Stream`` they name: the response head, body chunks (queued with
their flow-controlled length), trailers, the end, or an error. Each stream has one read
waiter and one send waiter (plain futures, woken by ``_flow.wake``, timed out by
``_flow.expire`` from one timer per connection, see ``_wait``). Everything the machine
queues (SETTINGS acknowledgements, window updates, PING answers, our frames) goes out
through one path, ``_flush``, after each action. What the server's frames make us
queue (acknowledgements, window updates) is held in the machine while the transport's
buffer is full (the server does not read) and sent once it drains (``writable``): a
server that floods without reading meets the machine's ``max_queued_acks`` and is
disconnected (ENHANCE_YOUR_CALM) instead of growing our buffer. A connection idle for
``PING_AFTER_IDLE`` is PINGed before its next request (``_check_alive``).

Flow control. Downloads: a chunk is acknowledged to the machine
(``acknowledge_received_data``) only when the application takes it, so a slow reader
holds the server to its stream window (4 MiB) and memory stays bounded. Uploads: DATA is
sent as far as ``sendable(stream)`` allows; at zero the sender waits for a
``WindowUpdated`` (or the write timeout). A response that ends first stops the upload
(``_abandon_upload``: our side is closed with ``RST_STREAM NO_ERROR``).

Failure isolation: a read timeout, a cancellation or an early close resets that stream
alone (``RST_STREAM CANCEL``; if its head was still coming in CONTINUATION frames, which
no other frame may interrupt, the connection also takes no new stream); an
``RST_STREAM`` from the server fails its request alone. A GOAWAY stops new streams on
the connection; streams it did not process fail with ``StreamRefused``, which the pool
resends on another connection. A connection error (or the connection's loss) fails
every stream on it, after delivering what the same read completed.

Concurrency: ``handle_async_request`` opens a stream when the server's
``MAX_CONCURRENT_STREAMS`` allows and otherwise queues (bounded by the pool timeout).
Until the server's first SETTINGS arrive, one stream is opened and sends no DATA: its
limits and windows are unknown (a server that lowers them would refuse or reset what
was sent under the defaults).
Each stream that ends calls ``on_cycle_end`` once, like an HTTP/1.1 cycle.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable
from typing import Any, Final, cast

from reqivo_async._body_stream import ResponseBodyStream
from reqivo_async._config import DEFAULT_TIMEOUT, Timeout
from reqivo_async._flow import FlowProtocol, expire, wake
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._network import map_error, refused_handshake_error
from reqivo_async._trace import Step
from reqivo_protocol import (
    Headers,
    LocalProtocolError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    RequestError,
    TooManyHeaders,
    WriteError,
    WriteTimeout,
)
from reqivo_protocol.http2 import (
    ClientConnection,
    ConnectionTerminated,
    DataReceived,
    ErrorCode,
    Event,
    HTTP2ProtocolError,
    PingAcknowledged,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)

__all__ = ["HTTP2Connection", "HTTP2Protocol", "HTTP2ResponseStream", "StreamRefused"]

#: How long a graceful close may take before the transport is aborted.
CLOSE_TIMEOUT: Final = 0.5
#: The buffer each read goes to: what asyncio's TLS layer decrypts at once (from its
#: reads of up to 256 KiB, and records pending) fits.
READ_BUFFER: Final = 512 * 1024
#: Body chunks smaller than this that wait together are handed over joined.
JOINED_CHUNK: Final = 64 * 1024
#: Our receive windows: per stream (the most a slow reader leaves unread) and in all.
STREAM_WINDOW: Final = 4 * 1024 * 1024
CONNECTION_WINDOW: Final = 16 * 1024 * 1024
#: A connection idle for longer is checked with a PING before its next request (a NAT or
#: a server may have dropped it silently); the answer may take this long (or the read
#: timeout, if shorter) before the request goes to a new connection instead.
PING_AFTER_IDLE: Final = 15.0
PING_TIMEOUT: Final = 2.0
_PING_DATA: Final = b"reqivo\x00\x00"
#: Connection-specific fields that HTTP/2 forbids (RFC 9113 section 8.2.2).
_HOP_BY_HOP: Final = frozenset(
    {"host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)
_NO_BODY_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})


class StreamRefused(RemoteProtocolError):
    """The server did not process the request (``REFUSED_STREAM``, or above the
    ``last_stream_id`` of its GOAWAY): safe to send again on another connection."""

    refused_stream = True


class HTTP2Protocol(FlowProtocol, asyncio.BufferedProtocol):
    """The asyncio protocol of an HTTP/2 connection: every received block goes to the
    connection's machine at once (the machine buffers partial frames).

    A buffered protocol: the transport (or asyncio's TLS layer) reads, or decrypts,
    straight into one ``READ_BUFFER`` of the connection's, reused for every read, as the
    machine copies out what it keeps. Handed ``bytes`` (``data_received``) instead, each
    read of a download would be a fresh 256 KiB object next to the body chunk the
    machine makes of it: glibc then gives the freed pair back to the system and takes
    it again at the next read, a page fault every 4 KiB, which cost more than the
    decoding itself.
    """

    def __init__(self, transport: asyncio.Transport, *, write_paused: bool = False) -> None:
        super().__init__(write_paused=write_paused)
        self.transport = transport
        self.connection: HTTP2Connection | None = None
        self._buffer = memoryview(bytearray(READ_BUFFER))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        connection = self.connection
        if connection is not None:
            connection.receive(self._buffer[:nbytes])

    def data_received(self, data: bytes) -> None:
        """For a transport that hands over ``bytes`` (asyncio's and uvloop's do not)."""
        connection = self.connection
        if connection is not None:
            connection.receive(data)

    def eof_received(self) -> bool | None:
        return None

    def resume_writing(self) -> None:
        super().resume_writing()
        connection = self.connection
        if connection is not None:
            connection.writable()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        connection = self.connection
        if connection is not None:
            connection.lost(exc)


class _Stream:
    """One request/response exchange on the connection."""

    __slots__ = (
        "chunks",
        "ended",
        "error",
        "head",
        "id",
        "send_waiter",
        "trailers",
        "waiter",
    )

    def __init__(self, stream_id: int) -> None:
        self.id = stream_id
        self.head: ResponseReceived | None = None
        self.chunks: collections.deque[tuple[bytes, int]] = collections.deque()
        self.trailers: list[tuple[bytes, bytes]] | None = None
        self.ended = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[bool] | None = None
        self.send_waiter: asyncio.Future[bool] | None = None


def _fields(headers: list[tuple[bytes, bytes]]) -> Headers:
    # HTTP/2 field names are lowercase already (the machine refuses others).
    triples = []
    for name, value in headers:
        text = name.decode("latin-1")
        triples.append((text, text, value.decode("latin-1")))
    return Headers._from_triples(triples)


class HTTP2Connection:
    """Concurrent request/response streams over one connected ``HTTP2Protocol``.

    ``on_cycle_end`` is called once at the end of every stream, whatever its outcome.
    It answers the pool's questions as ``HTTP11Connection`` does; ``is_available()``
    stays true while streams are in flight (it carries more).
    """

    multiplexed = True
    switched = False
    failed_before_response = False

    def __init__(
        self,
        protocol: HTTP2Protocol,
        *,
        keepalive_expiry: float | None = None,
        max_header_list_size: int = 65536,
        max_header_count: int = 128,
        on_cycle_end: Callable[[], None] | None = None,
    ) -> None:
        self.protocol = protocol
        protocol.connection = self
        self.machine = ClientConnection(
            initial_window_size=STREAM_WINDOW,
            connection_window_size=CONNECTION_WINDOW,
            max_header_list_size=max_header_list_size,
        )
        self.keepalive_expiry = keepalive_expiry
        #: Fields a response head may have, as on HTTP/1.1 (the list size is the machine's).
        self.max_header_count = max_header_count
        self.on_cycle_end = on_cycle_end
        self.requests = 0
        self.tls = False
        self.closed = False
        #: Set once a GOAWAY came or was sent: no new stream on this connection.
        self.goaway = False
        #: The error code (and debug data) of an abrupt GOAWAY received, for the streams
        #: it leaves to fail when the server closes the connection.
        self.goaway_error: str | None = None
        #: Whether the server's first SETTINGS arrived (its limits are known).
        self.settings_seen = False
        self.streams: dict[int, _Stream] = {}
        self.idle_since = time.monotonic()
        self.expires_at: float | None = None
        self._loop = protocol.loop
        self._slot_waiters: collections.deque[asyncio.Future[bool]] = collections.deque()
        self._reserved = 0  # waiters woken for a free stream that did not run yet
        self._flush_pending = False
        #: Stream waits with a timeout and their deadlines; the timer for them (``_wait``).
        self._timed: dict[asyncio.Future[bool], float] = {}
        self._timer: asyncio.TimerHandle | None = None
        #: The answer to the liveness PING in flight (``_check_alive``), if any.
        self._ping: asyncio.Future[bool] | None = None
        self.machine.initiate()
        self._flush()

    # -- state queries -----------------------------------------------------------------

    @property
    def in_cycle(self) -> bool:
        """Whether a stream is in flight."""
        return bool(self.streams)

    def is_available(self) -> bool:
        """Whether a new request may be sent on it (it queues above the server's limit)."""
        transport = self.protocol.transport
        return not (self.closed or self.goaway or self.protocol.lost or transport.is_closing())

    def has_capacity(self) -> bool:
        """Whether a new stream can be opened now without queueing."""
        return self.is_available() and self.load < self._max_streams()

    def _max_streams(self) -> int:
        return self.machine.remote_max_concurrent_streams if self.settings_seen else 1

    def _may_open(self, reserved: int = 0) -> bool:
        """Whether a stream can be opened with ``reserved`` more kept for woken waiters."""
        return self.machine.can_open_stream and len(self.streams) + reserved < self._max_streams()

    @property
    def load(self) -> int:
        """Streams in flight and requests queued for one."""
        return len(self.streams) + len(self._slot_waiters) + self._reserved

    def is_idle(self) -> bool:
        """Whether no stream is in flight or queued."""
        return not self.streams and not self._slot_waiters and not self._reserved

    def has_expired(self, now: float) -> bool:
        """Whether the idle connection outlived its keep-alive expiry at ``now``."""
        expires_at = self.expires_at
        return expires_at is not None and now >= expires_at and self.is_idle()

    # -- closing -------------------------------------------------------------------------

    def close(self) -> None:
        """Send GOAWAY and close the transport now (streams in flight fail)."""
        if self.closed:
            return
        self.closed = True
        self.goaway = True
        if not self.protocol.lost:
            with contextlib.suppress(LocalProtocolError):  # the machine failed already
                self.machine.close(ErrorCode.NO_ERROR)
                self._flush()
            self.protocol.transport.close()
        self._fail_all(ReadError("read failed: the connection was closed by the client"))

    async def aclose(self) -> None:
        """Close gracefully (GOAWAY, then TLS close_notify), aborting if too slow."""
        self.close()
        if not await self.protocol.wait_lost(CLOSE_TIMEOUT):
            self.abort()

    def abort(self) -> None:
        """Close the transport without waiting."""
        self.closed = True
        self.goaway = True
        self.protocol.transport.abort()

    # -- receiving (called by the protocol) ------------------------------------------------

    def receive(self, data: bytes | memoryview) -> None:
        """Feed received bytes to the machine and dispatch its events."""
        failure = None
        try:
            events = self.machine.receive_data(data)
        except HTTP2ProtocolError as exc:
            # What the read completed before the error is delivered (a response that
            # ended there is whole); the error then fails the streams still open.
            failure = exc
            events = cast("list[Event]", exc.events)
        streams = self.streams
        for event in events:
            if type(event) is DataReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.chunks.append((event.data, event.flow_controlled_length))
                    wake(stream.waiter)
                elif failure is None:
                    self.machine.acknowledge_received_data(
                        event.stream_id, event.flow_controlled_length
                    )
            elif type(event) is ResponseReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.head = event
                    wake(stream.waiter)
            elif type(event) is StreamEnded:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.ended = True
                    wake(stream.waiter)
                    wake(stream.send_waiter)
            elif type(event) is WindowUpdated:
                if event.stream_id:
                    stream = streams.get(event.stream_id)
                    if stream is not None:
                        wake(stream.send_waiter)
                else:
                    for stream in streams.values():
                        wake(stream.send_waiter)
            elif type(event) is TrailersReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.trailers = event.headers
            elif type(event) is StreamReset:
                self._reset_received(event)
            elif type(event) is RemoteSettingsChanged:
                self.settings_seen = True
                for stream in streams.values():
                    wake(stream.send_waiter)
                self._wake_slots()
            elif type(event) is ConnectionTerminated:
                self._terminated(event)
            elif type(event) is PingAcknowledged:
                wake(self._ping)
        if failure is not None:
            self._fail_connection(failure)
        elif self.machine.data_pending and not self.protocol.write_paused:
            self._flush_soon()

    def _fail_connection(self, failure: HTTP2ProtocolError) -> None:
        """A connection error: send the GOAWAY the machine queued, close, fail the rest."""
        self._flush()
        self.closed = self.goaway = True
        # A closing transport waits to write what it holds: a peer that does not read
        # (a flood) would keep it open for ever.
        if self.protocol.write_paused:
            self.protocol.transport.abort()
        else:
            self.protocol.transport.close()
            self._loop.call_later(CLOSE_TIMEOUT, self._abort_unless_lost)
        self._fail_all(failure)

    def _abort_unless_lost(self) -> None:
        if not self.protocol.lost:
            self.protocol.transport.abort()

    def _reset_received(self, event: StreamReset) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None or stream.error is not None:
            return
        code = event.error_code
        if stream.ended and code == ErrorCode.NO_ERROR:
            return  # the response is complete; the server only stops our upload
        error: BaseException
        if code == ErrorCode.REFUSED_STREAM and stream.head is None:
            error = StreamRefused(f"the server refused stream {stream.id} (REFUSED_STREAM)")
        elif not event.remote and getattr(event, "error", None) is not None:
            error = event.error  # type: ignore[assignment]
        else:
            error = RemoteProtocolError(f"the server reset stream {stream.id} ({_code_name(code)})")
        stream.error = error
        wake(stream.waiter)
        wake(stream.send_waiter)

    def _terminated(self, event: ConnectionTerminated) -> None:
        self.goaway = True
        if event.error_code:
            debug = event.additional_data[:200].decode("utf-8", "replace")
            self.goaway_error = f"GOAWAY {_code_name(event.error_code)}" + (
                f" ({debug})" if debug else ""
            )
        last = event.last_stream_id
        for stream in self.streams.values():
            # The machine resets the streams above ``last`` (StreamReset REFUSED_STREAM)
            # before it reports the GOAWAY: this only guards against a change there.
            unprocessed = stream.error is None and stream.id > last and stream.head is None
            if unprocessed:  # pragma: no cover - see above
                stream.error = StreamRefused(
                    f"the server did not process stream {stream.id} (GOAWAY, "
                    f"{_code_name(event.error_code)})"
                )
                wake(stream.waiter)
                wake(stream.send_waiter)
        self._wake_slots()
        if not self.streams and not self.protocol.lost:
            self.closed = True
            self.protocol.transport.close()

    def lost(self, exc: Exception | None) -> None:
        """The transport is gone: fail every stream still open."""
        self.closed = self.goaway = True
        message = f"read failed: {exc}" if exc is not None else "the server closed the connection"
        if self.goaway_error is not None:
            message += f" after its {self.goaway_error}"
        failure: RequestError = ReadError(message)
        failure.__cause__ = exc
        if self.tls and not self.settings_seen:  # not even the server's SETTINGS came
            failure = refused_handshake_error(failure)
        self._fail_all(failure)

    def _fail_all(self, error: BaseException) -> None:
        first = True
        for stream in self.streams.values():
            if stream.error is None and not stream.ended:
                # Each request gets its own exception (it records its request).
                stream.error = error if first else _copy_error(error)
                first = False
            wake(stream.waiter)
            wake(stream.send_waiter)
        wake(self._ping)
        self._wake_slots()

    def _wake_slots(self) -> None:
        waiters = self._slot_waiters
        free = self._max_streams() - len(self.streams) - self._reserved
        while waiters and (free > 0 or self.goaway):
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                self._reserved += 1
                free -= 1

    # -- sending -----------------------------------------------------------------------------

    def _flush(self) -> None:
        """Write what the machine queued, now."""
        data = self.machine.data_to_send()
        if data and not self.protocol.lost:
            self.protocol.transport.write(data)

    def writable(self) -> None:
        """The transport drained: send the answers held back while it was full."""
        if self.machine.data_pending and not self.closed:
            self._flush_soon()

    def _flush_soon(self) -> None:
        """Write what the machine queued at the end of this event-loop iteration: the
        HEADERS of many concurrent requests (and window updates) leave in one write."""
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._deferred_flush)

    def _deferred_flush(self) -> None:
        self._flush_pending = False
        self._flush()

    def _request_headers(self, request: AsyncRequest) -> list[tuple[bytes, bytes]]:
        url = request.url
        authority = None
        fields: list[tuple[bytes, bytes]] = []
        length_given = False
        for _, lower, value in request.headers._fields:
            if lower in _HOP_BY_HOP:
                if lower == "host":
                    authority = value
                continue
            if lower == "te" and value.lower() != "trailers":
                continue
            if lower == "content-length":
                length_given = True
            fields.append((lower.encode("latin-1"), value.encode("latin-1")))
        head = [
            (b":method", request.method.encode("ascii")),
            (b":scheme", url.scheme.encode("ascii")),
            (b":authority", (authority or url.netloc).encode("latin-1")),
            (b":path", url.target.encode("latin-1")),
        ]
        if not length_given:
            length = request.stream.length
            if length is not None and (length or request.method not in _NO_BODY_METHODS):
                head.append((b"content-length", str(length).encode("ascii")))
        head += fields
        return head

    async def handle_async_request(self, request: AsyncRequest) -> Response:
        """Send ``request`` on a new stream; the response body streams afterwards."""
        timeout: Timeout = request.extensions.get("timeout") or DEFAULT_TIMEOUT
        callback = request.extensions.get("trace")
        step = None if callback is None else Step(callback, "http2.send_request")
        stream: _Stream | None = None
        phase = "write"
        try:
            if step is not None:
                await step.started()
            if (not self.streams and not self.goaway  # goaway: closed or lost too
                    and time.monotonic() - self.idle_since > PING_AFTER_IDLE):  # fmt: skip
                await self._check_alive(timeout.read)
            # Behind the queue, and behind the waiters woken for a stream (``_reserved``)
            # only when they leave none free: else nothing would wake this one.
            if self._slot_waiters or not self._may_open(self._reserved):
                while True:
                    if self.closed or self.goaway:
                        raise StreamRefused("the connection is closing (GOAWAY): no new stream")
                    await self._wait_slot(request, timeout.pool)
                    if self._may_open(self._reserved):
                        break
            if self.closed or self.goaway:
                raise StreamRefused("the connection is closing (GOAWAY): no new stream")
            body = request.stream.body
            end = body is not None and not body
            if body is None and request.stream.length == 0:
                end = True
            machine = self.machine
            stream_id = machine.send_headers(self._request_headers(request), end_stream=end)
            stream = _Stream(stream_id)
            self.streams[stream_id] = stream
            self.requests += 1
            if len(self.streams) == 1:
                self._flush()  # alone (sequential requests): no wait for the loop
            else:
                self._flush_soon()
            if not end:
                await self._send_body(stream, request, timeout.write)
            phase = "read"
            if step is not None:
                await step.complete()
                step = step.then("http2.receive_response_head")
                await step.started()
            while stream.head is None:
                if stream.error is not None:
                    raise stream.error
                if not await self._wait(stream, timeout.read):
                    raise ReadTimeout(f"the server sent nothing within {timeout.read} seconds")
            head = stream.head
            if len(head.headers) > self.max_header_count:
                raise TooManyHeaders(
                    f"response head has {len(head.headers)} header fields, more than "
                    f"max_header_count={self.max_header_count}",
                    limit_name="max_header_count",
                    limit=self.max_header_count,
                )
            if step is not None:
                await step.complete(status_code=head.status_code)
        except BaseException as exc:
            if stream is not None:
                self._finish(stream, reset=True)
            else:
                self._release()
            if step is not None:
                await step.failed(exc)
            if isinstance(exc, RequestError):
                if exc.request is None:
                    exc.request = request
                raise
            if isinstance(exc, Exception):
                raise map_error(exc, phase, request) from exc  # type: ignore[arg-type]
            raise
        step = None if callback is None else Step(callback, "http2.response_body")
        extensions: dict[str, Any] = {}
        response_stream = HTTP2ResponseStream(self, stream, request, timeout.read, step, extensions)
        return Response(
            head.status_code,
            headers=_fields(head.headers),
            http_version="HTTP/2",
            stream=response_stream,
            request=request,
            extensions=extensions,
        )

    async def _check_alive(self, seconds: float | None) -> None:
        """PING the connection (idle for ``PING_AFTER_IDLE``) and wait for the answer;
        ``StreamRefused`` (the request goes to a new connection) if none comes within
        ``PING_TIMEOUT`` (or ``seconds``, if shorter). Requests arriving meanwhile wait
        for the same answer."""
        waiter = self._ping
        if waiter is None:
            waiter = self._ping = self._loop.create_future()
            self.machine.ping(_PING_DATA)
            self._flush()
            limit = PING_TIMEOUT if seconds is None else min(seconds, PING_TIMEOUT)
            timer = self._loop.call_later(limit, expire, waiter)
            waiter.add_done_callback(lambda _: timer.cancel())
        try:
            answered = await asyncio.shield(waiter)
        finally:
            if self._ping is waiter and waiter.done():
                self._ping = None
        if not answered or self.closed or self.protocol.lost:
            self.close()
            raise StreamRefused("the idle connection did not answer a PING: it is closed")
        self.idle_since = time.monotonic()

    async def _wait_slot(self, request: AsyncRequest, seconds: float | None) -> None:
        """Queue for a stream. ``_wake_slots`` pops the waiters it wakes and counts them
        in ``_reserved`` until they run (so that it wakes no more than there are free
        streams); timed-out or cancelled ones remove themselves."""
        waiter: asyncio.Future[bool] = self._loop.create_future()
        self._slot_waiters.append(waiter)
        handle = None if seconds is None else self._loop.call_later(seconds, expire, waiter)
        try:
            woken = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self._reserved -= 1  # woken, then cancelled: pass the stream on
                self._wake_slots()
            else:
                with contextlib.suppress(ValueError):
                    self._slot_waiters.remove(waiter)
            raise
        finally:
            if handle is not None:
                handle.cancel()
        if not woken:
            with contextlib.suppress(ValueError):
                self._slot_waiters.remove(waiter)
            raise PoolTimeout(
                f"no HTTP/2 stream became available within {seconds} seconds", request=request
            )
        self._reserved -= 1

    async def _send_body(
        self, stream: _Stream, request: AsyncRequest, seconds: float | None
    ) -> None:
        body = request.stream.body
        if body is not None:
            await self._send_data(stream, body, seconds, end=True)
        else:
            async for chunk in request.stream:
                if chunk:
                    await self._send_data(stream, chunk, seconds, end=False)
                if stream.ended:
                    break
            else:
                if stream.error is not None:
                    raise stream.error
                if not stream.ended:
                    self.machine.end_stream(stream.id)
                    self._flush()
        if stream.ended:
            self._abandon_upload(stream)

    def _abandon_upload(self, stream: _Stream) -> None:
        """The response ended before the request body did: close our side of the stream
        with RST_STREAM NO_ERROR (RFC 9113 section 8.1; nothing is sent if the body had
        ended). Left half-closed, it would hold one of the server's concurrent streams
        for the rest of the connection."""
        if not self.protocol.lost:
            with contextlib.suppress(LocalProtocolError):  # the connection failed
                self.machine.reset_stream(stream.id, ErrorCode.NO_ERROR)
                self._flush()

    async def _send_data(
        self, stream: _Stream, data: bytes, seconds: float | None, *, end: bool
    ) -> None:
        machine = self.machine
        protocol = self.protocol
        view = memoryview(data)
        total = len(data)
        offset = 0
        while offset < total:
            if stream.error is not None:
                raise stream.error
            if stream.ended:
                return  # the server answered already: it wants no more of the body
            if self.closed or protocol.lost:
                raise WriteError("write failed: the connection is closed")
            size = min(machine.sendable(stream.id), total - offset) if self.settings_seen else 0
            if size <= 0:
                if not await self._wait(stream, seconds, send=True):
                    raise WriteTimeout(
                        f"the server opened no flow-control window within {seconds} seconds"
                    )
                continue
            last = offset + size >= total
            machine.send_data(
                stream.id, bytes(view[offset : offset + size]), end_stream=end and last
            )
            offset += size
            self._flush()
            if protocol.write_paused and not await protocol.wait_writable(seconds):
                raise WriteTimeout(f"the server accepted no data within {seconds} seconds")

    # -- waiting and ending -------------------------------------------------------------------

    async def _wait(self, stream: _Stream, seconds: float | None, *, send: bool = False) -> bool:
        """Wait for something to happen on ``stream``; False if ``seconds`` passed.

        The timeouts share one timer, moved lazily: it fires at the earliest deadline it
        was set for, expires the waits that are due and is set again for the earliest
        left. Sequential requests under the same timeout then set it once per timeout
        period, not once per request (``call_later`` and ``cancel`` every time)."""
        loop = self._loop
        waiter: asyncio.Future[bool] = loop.create_future()
        if send:
            stream.send_waiter = waiter
        else:
            stream.waiter = waiter
        if seconds is None:
            return await waiter
        deadline = loop.time() + seconds
        timed = self._timed
        timed[waiter] = deadline
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._expire_due)
        try:
            return await waiter
        finally:
            del timed[waiter]

    def _expire_due(self) -> None:
        """The shared timer: expire the waits that are due, set it for the next one."""
        self._timer = None
        now = self._loop.time()
        earliest = None
        for waiter, deadline in list(self._timed.items()):
            if deadline <= now:
                expire(waiter)
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._timer = self._loop.call_at(earliest, self._expire_due)

    def acknowledge(self, stream: _Stream, length: int) -> None:
        """The application took ``length`` flow-controlled bytes of ``stream``."""
        if length and not self.closed and stream.id in self.streams:
            machine = self.machine
            machine.acknowledge_received_data(stream.id, length)
            if machine.data_pending and not self.protocol.write_paused:
                self._flush_soon()

    def _finish(self, stream: _Stream, *, reset: bool) -> None:
        """Forget ``stream`` (resetting it with CANCEL if it is still open), then tell
        the owner."""
        if self.streams.pop(stream.id, None) is None:
            return
        if reset and not stream.ended and stream.error is None and not self.protocol.lost:
            if self.machine.open_field_block == stream.id:
                # Its head never ended (CONTINUATION frames without end): nothing else
                # can arrive before it does, so the connection takes no new stream.
                self.goaway = True
            with contextlib.suppress(LocalProtocolError):  # the connection failed
                self.machine.reset_stream(stream.id, ErrorCode.CANCEL)
                self._flush()
        unread = sum(length for _, length in stream.chunks)
        stream.chunks.clear()
        if unread and not self.protocol.lost:
            # Bytes nobody will read still count against the connection window.
            with contextlib.suppress(LocalProtocolError):
                self.machine.acknowledge_received_data(stream.id, unread)
                self._flush()
        if not self.streams:
            now = time.monotonic()
            self.idle_since = now
            if self.keepalive_expiry is not None:
                self.expires_at = now + self.keepalive_expiry
            if self.goaway and not self.closed:
                self.closed = True
                self.protocol.transport.close()
        self._wake_slots()
        self._release()

    def _release(self) -> None:
        callback = self.on_cycle_end
        if callback is not None:
            callback()


def _copy_error(error: BaseException) -> BaseException:
    import copy  # lazily: only a failing connection with several streams needs it

    try:
        duplicate = copy.copy(error)
    except Exception:
        return error
    duplicate.__cause__ = error.__cause__
    if isinstance(duplicate, RequestError):
        duplicate.request = None
    return duplicate


def _code_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"error code {code}"


class HTTP2ResponseStream(ResponseBodyStream):
    """The body of a response on one stream: its DATA, then the end (trailers then in
    ``response.extensions["trailers"]``). Closing it early resets the stream alone."""

    __slots__ = ("_connection", "_extensions", "_stream")

    def __init__(
        self,
        connection: HTTP2Connection,
        stream: _Stream,
        request: AsyncRequest,
        timeout: float | None,
        step: Step | None,
        extensions: dict[str, Any],
    ) -> None:
        super().__init__(request, timeout, step)
        self._connection = connection
        self._stream = stream
        self._extensions = extensions

    def _release(self, complete: bool) -> None:
        """Forget the finished stream (trailers to the response), or reset it (CANCEL)."""
        if complete:
            trailers = self._stream.trailers
            if trailers is not None:
                self._extensions["trailers"] = _fields(trailers)
        self._connection._finish(self._stream, reset=not complete)

    async def _next(self) -> bytes | None:
        """The next non-empty chunk, or None at the end of the body."""
        stream = self._stream
        connection = self._connection
        while True:
            chunks = stream.chunks
            if chunks:
                if len(chunks) == 1 or len(chunks[0][0]) >= JOINED_CHUNK:
                    data, length = chunks.popleft()
                else:
                    # The small chunks received so far as one (DATA frames of streams
                    # sent interleaved, or cut by reads): one acknowledgement, one
                    # iteration for the caller. A large one (a run of frames the machine
                    # joined already) comes alone: joining it again would copy it.
                    pieces = []
                    length = 0
                    while chunks and len(chunks[0][0]) < JOINED_CHUNK:
                        piece, size = chunks.popleft()
                        pieces.append(piece)
                        length += size
                    data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
                connection.acknowledge(stream, length)
                if data:
                    return data
                continue
            if stream.error is not None:
                raise stream.error
            if stream.ended:
                return None
            if not await connection._wait(stream, self._timeout):
                raise ReadTimeout(f"the server sent nothing within {self._timeout} seconds")

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            data = await self._next()
        except BaseException as exc:
            await self._fail(exc)
        if data is None:
            await self._complete()
            raise StopAsyncIteration
        return data

    async def aread_all(self) -> bytes:
        """The rest of the body at once (``Response.aread`` uses it when present)."""
        if self._done:
            return b""
        chunks: list[bytes] = []
        try:
            while (data := await self._next()) is not None:
                chunks.append(data)
        except BaseException as exc:
            await self._fail(exc)
        await self._complete()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
