"""A scripted HTTP/2 peer for the faults no real server produces (GOAWAY, RST_STREAM, ...).

The HTTP/2 sibling of :mod:`servers.raw`: same thread-and-loop server, same life cycle,
but its steps speak frames (built and parsed with ``hyperframe``, header blocks with
``hpack``)::

    server = h2_raw_server(
        [Handshake(), ReadRequest(), Respond(body=b"ok"), ReadRequest(), GoAway(), Close()]
    )
    ...  # point an h2 client at server.url (cleartext: prior knowledge; tls=True: ALPN h2)
    assert [r.path for r in server.h2_requests] == ["/a", "/b"]

Between steps that read, every frame from the client is handled as a server would: its
SETTINGS are applied and acknowledged, PINGs answered (``Handshake(auto_ping_ack=False)``
to answer them by script), WINDOW_UPDATEs credited, HEADERS + CONTINUATION + DATA collected
into :class:`H2RawRequest` records, RST_STREAM and GOAWAY recorded. Every frame received
is kept in ``server.frames`` (connection index, frame).

Steps (besides ``Send``, ``Trickle``, ``Sleep``, ``Close``, ``HalfClose``, ``Reset``,
``Stall`` and ``ReadUntilEOF`` of :mod:`servers.raw`, which work here too):

- ``Handshake(settings=..)``  send our SETTINGS, read the client preface and its SETTINGS;
- ``ReadRequest(n=1)``        read until ``n`` complete requests are waiting for an answer;
- ``Respond(...)``            answer the oldest waiting request (or ``stream_id``): HEADERS
                              (optionally split into CONTINUATION frames), DATA within the
                              client's windows (optionally padded), trailers;
- ``SendHeaders``, ``SendData``, ``PushPromise``: single pieces of a response;
- ``GoAway(last_stream_id=None)``  None: the highest stream id received (a graceful
                              shutdown of everything after); ``error_code`` for abrupt ones;
- ``RstStream(stream_id=None, error_code=CANCEL)``  None: the oldest waiting request;
- ``Ping(data)``, ``SendSettings(...)``, ``WindowUpdate(stream_id, increment)``,
  ``SendFrame(frame)`` (any hyperframe frame), ``ReadFrame(type)`` (wait for a frame);
- ``Repeat(steps, times=None)`` as in :mod:`servers.raw` (ends at the client's clean EOF);
- ``Flood(data, times=None)``  write ``data`` again and again while reading the client's
                              frames, until the client closes (it ends the script).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import hpack
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from servers import raw
from servers.raw import (
    Close,
    HalfClose,
    RawServer,
    ReadUntilEOF,
    Reset,
    Send,
    Sleep,
    Stall,
    Trickle,
)

__all__ = [
    "CANCEL",
    "NO_ERROR",
    "PREFACE",
    "PROTOCOL_ERROR",
    "REFUSED_STREAM",
    "Close",
    "Flood",
    "GoAway",
    "H2RawRequest",
    "H2RawServer",
    "H2Script",
    "H2Step",
    "HalfClose",
    "Handshake",
    "Ping",
    "PushPromise",
    "ReadFrame",
    "ReadRequest",
    "ReadUntilEOF",
    "Repeat",
    "Reset",
    "Respond",
    "RstStream",
    "Send",
    "SendData",
    "SendFrame",
    "SendHeaders",
    "SendSettings",
    "Sleep",
    "Stall",
    "Trickle",
    "WindowUpdate",
]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
NO_ERROR, PROTOCOL_ERROR, REFUSED_STREAM, CANCEL = 0x0, 0x1, 0x7, 0x8
_DEFAULT_WINDOW = 65535
_INITIAL_WINDOW_SIZE, _MAX_FRAME_SIZE = 0x4, 0x5
Headers: TypeAlias = Sequence[tuple[str, str]]


# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handshake:
    """Send our SETTINGS (``settings``: code -> value pairs), read the preface and theirs.

    ``auto_ping_ack=False`` leaves the client's PINGs unanswered for the rest of the
    connection (answer them with ``Ping(data, ack=True)``).
    """

    settings: tuple[tuple[int, int], ...] = ()
    auto_ping_ack: bool = True


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """Read frames until ``n`` complete requests wait for an answer (clean EOF: script ends)."""

    n: int = 1


@dataclass(frozen=True, slots=True)
class SendHeaders:
    """A header block (give the pseudo-headers, e.g. ``(":status", "200")``).

    ``continuation``: split the block into HEADERS + CONTINUATION frames of that many bytes.
    ``stream_id`` None: the oldest request waiting for an answer.
    """

    headers: Headers
    stream_id: int | None = None
    end_stream: bool = False
    padding: int = 0
    continuation: int | None = None


@dataclass(frozen=True, slots=True)
class SendData:
    """DATA frames within the client's windows (``flow_control=False`` ignores them)."""

    data: bytes
    stream_id: int | None = None
    end_stream: bool = False
    padding: int = 0
    flow_control: bool = True


@dataclass(frozen=True, slots=True)
class Respond:
    """A whole response to the oldest waiting request (or ``stream_id``), which it answers."""

    status: int = 200
    headers: Headers = ()
    body: bytes = b""
    trailers: Headers = ()
    stream_id: int | None = None
    padding: int = 0
    continuation: int | None = None
    content_length: bool = True


@dataclass(frozen=True, slots=True)
class PushPromise:
    """PUSH_PROMISE on ``stream_id`` (None: oldest waiting) promising ``promised_stream_id``."""

    headers: Headers
    promised_stream_id: int = 2
    stream_id: int | None = None


@dataclass(frozen=True, slots=True)
class GoAway:
    """GOAWAY; ``last_stream_id`` None: the highest stream id received so far."""

    last_stream_id: int | None = None
    error_code: int = NO_ERROR
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class RstStream:
    """RST_STREAM on ``stream_id`` (None: the oldest waiting request, now answered)."""

    stream_id: int | None = None
    error_code: int = CANCEL


@dataclass(frozen=True, slots=True)
class Ping:
    """PING with 8 bytes of ``data`` (``ack=True``: a PING acknowledgement)."""

    data: bytes = b"reqivo!!"
    ack: bool = False


@dataclass(frozen=True, slots=True)
class SendSettings:
    """A SETTINGS frame (``ack=True``: an empty acknowledgement)."""

    settings: tuple[tuple[int, int], ...] = ()
    ack: bool = False


@dataclass(frozen=True, slots=True)
class WindowUpdate:
    """WINDOW_UPDATE of ``increment`` on ``stream_id`` (0: the connection)."""

    increment: int
    stream_id: int = 0


@dataclass(frozen=True, slots=True)
class SendFrame:
    """Any frame, serialized as it is (invalid ones included)."""

    frame: Frame


@dataclass(frozen=True, slots=True)
class ReadFrame:
    """Read until a frame of ``frame_type`` (any frame when None) arrives."""

    frame_type: type[Frame] | None = None
    stream_id: int | None = None


@dataclass(frozen=True, slots=True)
class Repeat:
    """Run ``steps`` ``times`` times, or until a ``ReadRequest`` meets a clean end of input."""

    steps: tuple[H2Step, ...]
    times: int | None = None


@dataclass(frozen=True, slots=True)
class Flood:
    """Write ``data`` ``times`` times (None: without end) while reading and recording the
    client's frames, until the client closes the connection: the script ends there.

    The client's answers (RST_STREAM, GOAWAY) land in ``frames``, unless the client
    hangs up while the peer still writes (a write failing on the reset connection ends
    it before it reads them): a test that checks them gives a finite ``times``."""

    data: bytes
    times: int | None = None


H2Step: TypeAlias = (
    Handshake
    | ReadRequest
    | SendHeaders
    | SendData
    | Respond
    | PushPromise
    | GoAway
    | RstStream
    | Ping
    | SendSettings
    | WindowUpdate
    | SendFrame
    | ReadFrame
    | Repeat
    | Flood
    | Send
    | Trickle
    | Sleep
    | Close
    | HalfClose
    | Reset
    | Stall
    | ReadUntilEOF
)
H2Script: TypeAlias = Sequence[H2Step]


# --- records ---------------------------------------------------------------------------------


@dataclass(slots=True)
class H2RawRequest:
    """One request stream as the peer read it (``headers`` decoded, pseudo-headers included)."""

    connection: int
    stream_id: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    trailers: list[tuple[bytes, bytes]] | None = None
    ended: bool = False
    #: The error code when the client reset the stream, else None.
    reset: int | None = None

    def header(self, name: str) -> str | None:
        """The first header of that (lowercase) name, pseudo-headers included, or None."""
        wanted = name.encode()
        return next((v.decode() for k, v in self.headers if k == wanted), None)

    @property
    def method(self) -> str:
        return self.header(":method") or ""

    @property
    def path(self) -> str:
        return self.header(":path") or ""


@dataclass(slots=True)
class _H2Conn:
    """One connection's HTTP/2 state on the peer's side."""

    index: int
    encoder: hpack.Encoder = field(default_factory=hpack.Encoder)
    decoder: hpack.Decoder = field(default_factory=hpack.Decoder)
    auto_ping_ack: bool = True
    initial_window: int = _DEFAULT_WINDOW
    max_frame_size: int = 16384
    connection_window: int = _DEFAULT_WINDOW
    stream_windows: dict[int, int] = field(default_factory=dict)
    streams: dict[int, H2RawRequest] = field(default_factory=dict)
    waiting: list[H2RawRequest] = field(default_factory=list)  # complete, not answered
    highest_stream: int = 0
    header_block: bytearray | None = None  # a block being continued (HEADERS sans END_HEADERS)
    block_stream: int = 0
    block_ends_stream: bool = False
    got_settings: bool = False


# --- the server ------------------------------------------------------------------------------


class H2RawServer(RawServer):
    """A scripted HTTP/2 peer (cleartext prior knowledge, or TLS with ALPN h2).

    Use as :class:`servers.raw.RawServer`; ``h2_requests`` and ``frames`` are what it read.
    """

    def __init__(
        self, *scripts: H2Script, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(*scripts, host=host, ssl_context=ssl_context)  # type: ignore[arg-type]
        self._h2: dict[int, _H2Conn] = {}
        self._frames: list[tuple[int, Frame]] = []
        self._h2_requests: list[H2RawRequest] = []

    @property
    def h2_requests(self) -> list[H2RawRequest]:
        """Every request stream opened by a client, in order of opening."""
        with self._lock:
            return list(self._h2_requests)

    @property
    def frames(self) -> list[tuple[int, Frame]]:
        """Every frame received: (connection index, frame), in order."""
        with self._lock:
            return list(self._frames)

    def frames_of(self, frame_type: type[Frame]) -> list[Frame]:
        """The frames of one type received on any connection."""
        return [frame for _, frame in self.frames if isinstance(frame, frame_type)]

    # --- steps -----------------------------------------------------------------------------

    async def _step(self, conn: raw._Conn, step: raw.Step | H2Step) -> None:
        state = self._h2.setdefault(conn.index, _H2Conn(conn.index))
        match step:
            case Handshake(settings, auto_ping_ack):
                state.auto_ping_ack = auto_ping_ack
                self._write(conn, SettingsFrame(0, settings=dict(settings)))
                try:
                    preface = await conn.reader.readexactly(len(PREFACE))
                except asyncio.IncompleteReadError as exc:
                    raise raw._EndScript from exc
                self._got(preface)
                if preface != PREFACE:
                    raise ValueError(f"not an HTTP/2 client preface: {preface!r}")
                while not state.got_settings:
                    await self._read_frame(conn, state)
            case ReadRequest(n):
                while len(state.waiting) < n:
                    await self._read_frame(conn, state)
            case SendHeaders(headers, stream_id, end_stream, padding, continuation):
                sid = self._stream(state, stream_id, answer=False)
                self._send_headers(conn, state, sid, headers, end_stream, padding, continuation)
            case SendData(data, stream_id, end_stream, padding, flow_control):
                sid = self._stream(state, stream_id, answer=False)
                await self._send_data(conn, state, sid, data, end_stream, padding, flow_control)
            case Respond():
                await self._respond(conn, state, step)
            case PushPromise(headers, promised, stream_id):
                sid = self._stream(state, stream_id, answer=False)
                block = state.encoder.encode(list(headers))
                frame = PushPromiseFrame(sid, promised_stream_id=promised, data=block)
                frame.flags.add("END_HEADERS")
                self._write(conn, frame)
            case GoAway(last_stream_id, error_code, data):
                last = state.highest_stream if last_stream_id is None else last_stream_id
                self._write(conn, GoAwayFrame(0, last, error_code, data))
            case RstStream(stream_id, error_code):
                sid = self._stream(state, stream_id, answer=True)
                self._write(conn, RstStreamFrame(sid, error_code))
            case Ping(data, ack):
                self._write(conn, PingFrame(0, data, flags=["ACK"] if ack else []))
            case SendSettings(settings, ack):
                flags = ["ACK"] if ack else []
                self._write(conn, SettingsFrame(0, settings=dict(settings), flags=flags))
            case WindowUpdate(increment, stream_id):
                self._write(conn, WindowUpdateFrame(stream_id, increment))
            case SendFrame(given):
                self._write(conn, given)
            case ReadFrame(frame_type, stream_id):
                while True:
                    got = await self._read_frame(conn, state)
                    if (frame_type is None or isinstance(got, frame_type)) and (
                        stream_id is None or got.stream_id == stream_id
                    ):
                        break
            case ReadUntilEOF():
                while True:
                    await self._read_frame(conn, state)
            case Repeat(steps, times):
                count = 0
                while times is None or count < times:
                    await self._run(conn, steps)  # type: ignore[arg-type]
                    count += 1
            case Flood(data, times):
                await self._flood(conn, state, data, times)
            case _:
                await super()._step(conn, step)
        # A client gone (a TLS close_notify ends the transport) may have left frames to
        # read: the next step reads them, where a drain would raise.
        if not conn.closed and not conn.writer.is_closing():
            await conn.writer.drain()

    async def _flood(self, conn: raw._Conn, state: _H2Conn, data: bytes, times: int | None) -> None:
        async def read() -> None:
            while True:
                await self._read_frame(conn, state)

        reader = asyncio.ensure_future(read())
        try:
            count = 0
            while (times is None or count < times) and not (
                reader.done() or conn.writer.transport.is_closing()
            ):
                conn.writer.write(data)
                await conn.writer.drain()
                await asyncio.sleep(0)  # drain() need not yield: let the reader run
                count += 1
            await reader
        except ConnectionError:
            await asyncio.wait([reader], timeout=1.0)  # what the client sent before it left
        finally:
            reader.cancel()
            await asyncio.wait([reader])
            if not reader.cancelled():
                reader.exception()  # retrieved: the script ends here whatever it was
        raise raw._EndScript

    def _stream(self, state: _H2Conn, stream_id: int | None, *, answer: bool) -> int:
        if stream_id is None:
            if not state.waiting:
                raise ValueError("no request is waiting for an answer")
            request = state.waiting[0]
            if answer:
                state.waiting.pop(0)
            return request.stream_id
        if answer:
            state.waiting = [r for r in state.waiting if r.stream_id != stream_id]
        return stream_id

    async def _respond(self, conn: raw._Conn, state: _H2Conn, step: Respond) -> None:
        sid = self._stream(state, step.stream_id, answer=True)
        headers = [(":status", str(step.status)), *step.headers]
        if step.content_length:
            headers.append(("content-length", str(len(step.body))))
        last = not step.body and not step.trailers
        self._send_headers(conn, state, sid, headers, last, step.padding, step.continuation)
        if step.body:
            await self._send_data(
                conn, state, sid, step.body, not step.trailers, step.padding, flow_control=True
            )
        if step.trailers:
            self._send_headers(conn, state, sid, step.trailers, True, 0, step.continuation)

    def _send_headers(
        self,
        conn: raw._Conn,
        state: _H2Conn,
        sid: int,
        headers: Headers,
        end_stream: bool,
        padding: int,
        continuation: int | None,
    ) -> None:
        block = state.encoder.encode(list(headers))
        size = continuation or len(block) or 1
        pieces = [block[i : i + size] for i in range(0, len(block), size)] or [b""]
        first = HeadersFrame(sid, pieces[0])
        if end_stream:
            first.flags.add("END_STREAM")
        if padding:
            first.flags.add("PADDED")
            first.pad_length = padding
        frames: list[Frame] = [first]
        frames += [ContinuationFrame(sid, piece) for piece in pieces[1:]]
        frames[-1].flags.add("END_HEADERS")
        for frame in frames:
            self._write(conn, frame)

    async def _send_data(
        self,
        conn: raw._Conn,
        state: _H2Conn,
        sid: int,
        data: bytes,
        end_stream: bool,
        padding: int,
        flow_control: bool,
    ) -> None:
        view = memoryview(data)
        while True:
            room = state.max_frame_size - (padding + 1 if padding else 0)
            if flow_control:
                window = min(
                    state.connection_window, state.stream_windows.get(sid, state.initial_window)
                )
                room = min(room, window - (padding + 1 if padding else 0))
                if room <= 0 and view:
                    await conn.writer.drain()
                    await self._read_frame(conn, state)  # a WINDOW_UPDATE, hopefully
                    continue
            piece, view = view[: max(room, 0)], view[max(room, 0) :]
            frame = DataFrame(sid, piece.tobytes())
            if padding:
                frame.flags.add("PADDED")
                frame.pad_length = padding
            if end_stream and not view:
                frame.flags.add("END_STREAM")
            used = len(piece) + (padding + 1 if padding else 0)
            state.connection_window -= used
            state.stream_windows[sid] = state.stream_windows.get(sid, state.initial_window) - used
            self._write(conn, frame)
            if not view:
                return

    def _write(self, conn: raw._Conn, frame: Frame) -> None:
        conn.writer.write(frame.serialize())

    # --- reading ---------------------------------------------------------------------------

    async def _read_frame(self, conn: raw._Conn, state: _H2Conn) -> Frame:
        """Read and handle one frame; a clean end of input before it ends the script."""
        try:
            head = await conn.reader.readexactly(9)
        except asyncio.IncompleteReadError as exc:
            raise raw._EndScript from exc
        frame, length = Frame.parse_frame_header(memoryview(head), strict=False)
        body = await conn.reader.readexactly(length)
        frame.parse_body(memoryview(body))
        self._got(head + body)
        with self._lock:
            self._frames.append((conn.index, frame))
        await self._handle_frame(conn, state, frame, length)
        return frame

    async def _handle_frame(
        self, conn: raw._Conn, state: _H2Conn, frame: Frame, length: int
    ) -> None:
        if isinstance(frame, SettingsFrame):
            if "ACK" not in frame.flags:
                state.got_settings = True
                for code, value in frame.settings.items():
                    if code == _INITIAL_WINDOW_SIZE:
                        delta = value - state.initial_window
                        state.initial_window = value
                        for sid in state.stream_windows:
                            state.stream_windows[sid] += delta
                    elif code == _MAX_FRAME_SIZE:
                        state.max_frame_size = value
                self._write(conn, SettingsFrame(0, flags=["ACK"]))
        elif isinstance(frame, PingFrame):
            if "ACK" not in frame.flags and state.auto_ping_ack:
                self._write(conn, PingFrame(0, frame.opaque_data, flags=["ACK"]))
        elif isinstance(frame, WindowUpdateFrame):
            if frame.stream_id == 0:
                state.connection_window += frame.window_increment
            else:
                sid = frame.stream_id
                window = state.stream_windows.get(sid, state.initial_window)
                state.stream_windows[sid] = window + frame.window_increment
        elif isinstance(frame, HeadersFrame):
            state.header_block = bytearray(frame.data)
            state.block_stream = frame.stream_id
            state.block_ends_stream = "END_STREAM" in frame.flags
            if "END_HEADERS" in frame.flags:
                self._end_block(state)
        elif isinstance(frame, ContinuationFrame) and state.header_block is not None:
            state.header_block += frame.data
            if "END_HEADERS" in frame.flags:
                self._end_block(state)
        elif isinstance(frame, DataFrame):
            request = state.streams.get(frame.stream_id)
            if request is not None:
                with self._lock:
                    request.body += frame.data
                if "END_STREAM" in frame.flags:
                    self._complete(state, request)
            if length:  # give the window back at once: the peer is never the bottleneck
                self._write(conn, WindowUpdateFrame(0, length))
                if request is not None and not request.ended:
                    self._write(conn, WindowUpdateFrame(frame.stream_id, length))
        elif isinstance(frame, RstStreamFrame):
            request = state.streams.get(frame.stream_id)
            if request is not None:
                with self._lock:
                    request.reset = frame.error_code
                state.waiting = [r for r in state.waiting if r is not request]

    def _end_block(self, state: _H2Conn) -> None:
        assert state.header_block is not None
        headers = [
            (bytes(k), bytes(v))
            for k, v in state.decoder.decode(bytes(state.header_block), raw=True)
        ]
        sid, ends = state.block_stream, state.block_ends_stream
        state.header_block = None
        request = state.streams.get(sid)
        if request is None:
            request = H2RawRequest(state.index, sid, headers)
            state.streams[sid] = request
            state.highest_stream = max(state.highest_stream, sid)
            with self._lock:
                self._h2_requests.append(request)
        else:
            with self._lock:
                request.trailers = headers
        if ends:
            self._complete(state, request)

    def _complete(self, state: _H2Conn, request: H2RawRequest) -> None:
        with self._lock:
            request.ended = True
        if request.reset is None:
            state.waiting.append(request)
