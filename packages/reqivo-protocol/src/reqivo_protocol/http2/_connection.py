"""``ClientConnection``: the sans-IO HTTP/2 client (RFC 9113).

Theory of operation
-------------------

Bytes in, events out, bytes to write queued: ``receive_data`` parses what the socket
gave and returns events; every call that produces frames (including ``receive_data``,
which answers PINGs and SETTINGS and reopens windows) queues bytes that
``data_to_send`` returns, joined once. Nothing here reads a clock.

*Frames.* ``receive_data`` walks its bytes in place (a partial frame at the end is kept
in one ``bytearray``, completed from the front of the next chunk, so each byte is
copied at most twice): unpadded DATA frames take a short path (payload copied once,
no frame object), every other frame goes through ``parse_frame``, which checks what a
frame alone can tell. HEADERS and its CONTINUATION frames are joined (any other frame
in between is a connection error, and the joined block, each CONTINUATION frame's
9-byte header counted, is bounded by ``2 * max_header_list_size + 1024`` bytes) and
always decoded, even for streams that are closed, so that the HPACK tables stay in step.
PRIORITY and unknown frames are ignored; PUSH_PROMISE is a connection error (we sent
ENABLE_PUSH=0).

*Streams.* Each stream we open is a ``Stream`` whose state moves only through
``_stream.TRANSITIONS``. A closed stream is dropped from the table of open streams;
a bounded record (the last ``CLOSED_RECORD`` closed streams) remembers why it closed,
for section 5.1: DATA or HEADERS on a stream we reset are ignored (their DATA still
counts against, and is credited back to, the connection window), on a stream whose
END_STREAM we received they are a connection error STREAM_CLOSED, on any other closed
stream a stream error STREAM_CLOSED; WINDOW_UPDATE, RST_STREAM and PRIORITY on closed
streams are ignored. Any frame but PRIORITY on an idle stream (an even one, or one we
never opened) is a connection error PROTOCOL_ERROR.

*Errors.* A stream error (a malformed response, a stream window overrun, ...) resets
that stream alone: RST_STREAM is queued and a ``StreamReset(remote=False)`` event
says why. A connection error queues GOAWAY with its code and raises the
``HTTP2ProtocolError`` from ``receive_data`` (its ``events`` are those the call
produced before the error); from then on only ``data_to_send`` and ``receive_eof`` are
accepted, anything else raises ``LocalProtocolError``.

*Flow control.* Send: ``sendable(sid)`` is the smaller of the stream's and the
connection's send windows; ``send_data`` refuses more. WINDOW_UPDATE and the peer's
INITIAL_WINDOW_SIZE move the windows (past 2**31-1: FLOW_CONTROL_ERROR, on the
stream or the connection). Receive: DATA beyond a window is a FLOW_CONTROL_ERROR
(stream window: stream error; connection window: connection error). What the
application consumed comes back through ``acknowledge_received_data``; a window is
reopened with WINDOW_UPDATE once at least half of it is to be credited. Padding, and
DATA that is dropped (reset or closed streams), is credited back by the connection
itself. Our SETTINGS apply to what we receive only once acknowledged: until then the
peer may use the defaults (65535-byte stream windows, 16384-byte frames, a 4096-byte
HPACK table), so that is what is enforced.

*Floods* (CVE-2019-9512 PING, -9514 RST_STREAM, -9515 SETTINGS, -9518 empty frames).
Frames that cost us work but carry no response (PING and its acknowledgement, SETTINGS,
RST_STREAM, WINDOW_UPDATE, PRIORITY, unknown types, DATA without data nor END_STREAM,
1xx heads) are counted; the count restarts at each progress: a stream opened or DATA
sent by us, a final response head or DATA with data received. Past
``max_control_frames`` (10,000) in a row, the peer is flooding: a connection error
ENHANCE_YOUR_CALM (``ControlFrameFlood``). A server sends a few of them per request (a
SETTINGS change, keep-alive or round-trip PINGs, one RST_STREAM per stream at most), so
the default leaves a margin of two to three orders of magnitude. The answers we owe
(PING and SETTINGS acknowledgements) are bounded apart: more than ``max_queued_acks``
bytes (64 KiB: 3,855 PING acknowledgements) queued and not taken by ``data_to_send`` is
the same error. The I/O layer stops taking them while the peer does not read (its
transport's buffer full), so a peer that floods without reading meets this limit
whatever progress it makes: our output stays bounded. The hot path pays one attribute
store per DATA event and per response head (the restart), and the short path for DATA
one test (an empty frame leaves it, to be counted).
"""

from __future__ import annotations

import struct
from typing import Final, NoReturn, TypeVar

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol.http2._buffer import DEFAULT_MAX_FRAME_SIZE
from reqivo_protocol.http2._errors import (
    ControlFrameFlood,
    ErrorCode,
    FrameTooLarge,
    HeaderListTooLarge,
    HTTP2ProtocolError,
)
from reqivo_protocol.http2._events import (
    ConnectionTerminated,
    Event,
    Fields,
    InformationalResponse,
    PingAcknowledged,
    RemoteSettingsChanged,
    ResponseReceived,
    SettingsAcknowledged,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
    make_data,
    make_end,
    make_head,
)
from reqivo_protocol.http2._fields import (
    FieldSequence,
    check_request,
    check_response,
    check_trailers,
    check_trailers_to_send,
    header_list_size,
)
from reqivo_protocol.http2._frames import (
    _HEADER,
    MAX_31_BIT,
    PREFACE,
    ContinuationFrame,
    DataFrame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
    frame_header,
    parse_frame,
)
from reqivo_protocol.http2._stream import (
    CLOSED,
    HALF_CLOSED_LOCAL,
    IDLE,
    OPEN,
    TRANSITIONS,
    Stream,
    StreamInput,
    StreamState,
    transition,
)
from reqivo_protocol.http2.hpack import Decoder, Encoder

__all__ = ["CLOSED_RECORD", "ClientConnection"]

#: How many closed streams are remembered (why they closed) for section 5.1.
CLOSED_RECORD: Final = 1024
#: The default flow-control window (RFC 9113 section 6.9.2).
DEFAULT_WINDOW: Final = 65535
#: The most of the peer's HPACK table we use for what we send.
MAX_ENCODER_TABLE: Final = 4096
#: ``remote_max_concurrent_streams`` until the peer's SETTINGS say otherwise.
UNLIMITED_STREAMS: Final = 2**31

_SEND_HEADERS: Final = StreamInput.SEND_HEADERS
_SEND_DATA: Final = StreamInput.SEND_DATA
_SEND_END: Final = StreamInput.SEND_END_STREAM
_SEND_RST: Final = StreamInput.SEND_RST_STREAM
_RECV_HEADERS: Final = StreamInput.RECV_HEADERS
_RECV_DATA: Final = StreamInput.RECV_DATA
_RECV_END: Final = StreamInput.RECV_END_STREAM
_RECV_RST: Final = StreamInput.RECV_RST_STREAM
_next_state = TRANSITIONS.get
_unpack_header = _HEADER.unpack_from
_unpack_run_header = struct.Struct(">IBI").unpack_from

# Why a stream closed (the record of closed streams).
_PEER_ENDED: Final = 1  # we received its END_STREAM
_PEER_RESET: Final = 2  # RST_STREAM received, or refused by GOAWAY
_WE_RESET: Final = 3  # we sent RST_STREAM

#: How many checked request fields and response heads are remembered, of what size.
_CHECKED: Final = 16
_CHECKED_SIZE: Final = 1024
_FieldTuple = tuple[tuple[bytes, bytes], ...]
_K = TypeVar("_K")
_V = TypeVar("_V")

_PADDED: Final = 0x8
_END_STREAM: Final = 0x1
_HEADERS_TYPE: Final = 0x1
_CONTINUATION_TYPE: Final = 0x9
_NO_CONTENT_STATUS: Final = frozenset((204, 304))
_SETTING_CODES: Final = {code.value: code for code in SettingCode}


def _refuse(message: str) -> NoReturn:
    raise LocalProtocolError(message)


class ClientConnection:
    """The client side of one HTTP/2 connection (see the module docstring).

    The keyword arguments are what we advertise and enforce: ``max_concurrent_streams``
    (push being off, the peer opens none anyway), ``initial_window_size`` (each
    stream's receive window), ``connection_window_size`` (the connection's receive
    window), ``max_frame_size``, ``max_header_list_size`` and ``header_table_size``
    (our HPACK decoder's table).

    Two more bound what a flooding peer can make us do (see "Floods" in the module
    docstring): ``max_control_frames``, the control frames (PING, SETTINGS, RST_STREAM,
    WINDOW_UPDATE, PRIORITY, unknown types, empty DATA, informational heads) received
    with no progress in between, and
    ``max_queued_acks``, the bytes of PING and SETTINGS acknowledgements queued and not
    yet taken by ``data_to_send``. Past either: a connection error ENHANCE_YOUR_CALM
    (``ControlFrameFlood``).
    """

    __slots__ = (
        "_block_limit", "_buf", "_checked_heads", "_checked_requests", "_closed", "_closing",
        "_conn_credit", "_conn_outstanding", "_cont_end_stream", "_cont_parts", "_cont_sid",
        "_cont_size", "_control_count", "_decoder", "_encoder", "_eof", "_failed",
        "_goaway_received", "_handlers", "_initiated", "_local_initial_window",
        "_local_settings", "_next_stream_id", "_out", "_pending_settings", "_queued_acks",
        "_recv_frame_size", "_recv_window", "_remote_initial_window",
        "_remote_max_frame_size", "_remote_max_header_list_size", "_seen_settings",
        "_send_window", "_streams", "_terminated", "_unacked_closed",
        "connection_window_size", "header_table_size", "initial_window_size",
        "last_stream_id_accepted", "max_concurrent_streams", "max_control_frames",
        "max_frame_size", "max_header_list_size", "max_queued_acks",
        "remote_max_concurrent_streams",
    )  # fmt: skip

    def __init__(
        self,
        *,
        max_concurrent_streams: int = 100,
        initial_window_size: int = 4 * 2**20,
        connection_window_size: int = 16 * 2**20,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        max_header_list_size: int = 65536,
        header_table_size: int = 4096,
        max_control_frames: int = 10_000,
        max_queued_acks: int = 65536,
    ) -> None:
        if not 0 <= initial_window_size <= MAX_31_BIT:
            raise ValueError(f"initial_window_size must be 0 to 2**31-1, not {initial_window_size}")
        if not DEFAULT_WINDOW <= connection_window_size <= MAX_31_BIT:
            raise ValueError(
                f"connection_window_size must be 65535 to 2**31-1, not {connection_window_size}"
            )
        if not 2**14 <= max_frame_size < 2**24:
            raise ValueError(f"max_frame_size must be 16384 to 16777215, not {max_frame_size}")
        for name, value in (("max_concurrent_streams", max_concurrent_streams),
                            ("max_header_list_size", max_header_list_size),
                            ("header_table_size", header_table_size)):  # fmt: skip
            if not 0 <= value <= 0xFFFFFFFF:
                raise ValueError(f"{name} must be 0 to 2**32-1, not {value}")
        for name, value in (("max_control_frames", max_control_frames),
                            ("max_queued_acks", max_queued_acks)):  # fmt: skip
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        self.max_concurrent_streams = max_concurrent_streams
        self.initial_window_size = initial_window_size
        self.connection_window_size = connection_window_size
        self.max_frame_size = max_frame_size
        self.max_header_list_size = max_header_list_size
        self.header_table_size = header_table_size
        self._block_limit = 2 * max_header_list_size + 1024
        self.max_control_frames = max_control_frames
        self.max_queued_acks = max_queued_acks
        # Control frames received since the last progress; acknowledgement bytes queued
        # since the last ``data_to_send``.
        self._control_count = 0
        self._queued_acks = 0

        self._out: list[bytes | memoryview] = []
        self._buf = bytearray()  # the beginning of a frame not yet received whole
        self._encoder = Encoder()
        self._decoder = Decoder(max_header_list_size=max_header_list_size)
        self._streams: dict[int, Stream] = {}
        # Fields already checked (see ``_remember``): a client sends the same request
        # fields again and again, a server the same response head.
        self._checked_requests: dict[_FieldTuple, tuple[FieldSequence | None, bytes, int]] = {}
        self._checked_heads: dict[_FieldTuple, tuple[int, int | None]] = {}
        self._closed: dict[int, int] = {}
        self._unacked_closed: dict[int, int] = {}
        self._next_stream_id = 1
        # Sending: the peer's settings and the connection's send window.
        self._send_window = DEFAULT_WINDOW
        self._remote_initial_window = DEFAULT_WINDOW
        self._remote_max_frame_size = DEFAULT_MAX_FRAME_SIZE
        self._remote_max_header_list_size = 2**32
        self.remote_max_concurrent_streams = UNLIMITED_STREAMS
        # Receiving: our settings in force (the defaults until acknowledged).
        self._recv_window = DEFAULT_WINDOW
        self._local_initial_window = DEFAULT_WINDOW
        self._recv_frame_size = DEFAULT_MAX_FRAME_SIZE
        self._local_settings: tuple[tuple[int, int], ...] = ()
        self._pending_settings = 0
        self._conn_outstanding = 0
        self._conn_credit = 0
        # A field block being joined (HEADERS then CONTINUATION): its stream, or 0.
        self._cont_sid = 0
        self._cont_parts: list[bytes] = []
        self._cont_end_stream = False
        self._cont_size = 0
        self._initiated = False
        self._seen_settings = False
        self._goaway_received = False
        self._closing = False
        self._terminated = False
        self._eof = False
        self._failed: HTTP2ProtocolError | None = None
        self.last_stream_id_accepted: int | None = None
        self._handlers = {
            HeadersFrame: self._on_headers,
            DataFrame: self._on_data_frame,
            ContinuationFrame: self._on_continuation,
            SettingsFrame: self._on_settings,
            WindowUpdateFrame: self._on_window_update,
            RstStreamFrame: self._on_rst_stream,
            PingFrame: self._on_ping,
            GoAwayFrame: self._on_goaway,
            PushPromiseFrame: self._on_push_promise,
            PriorityFrame: self._on_ignored,
            UnknownFrame: self._on_ignored,
        }

    # -- state -------------------------------------------------------------------------

    @property
    def open_streams(self) -> int:
        """Streams we opened that are not closed."""
        return len(self._streams)

    @property
    def can_open_stream(self) -> bool:
        """Whether ``send_headers`` can open a stream now: no GOAWAY received or sent,
        stream ids left, fewer open streams than the peer's limit."""
        return (
            self._initiated
            and not (self._goaway_received or self._closing or self._failed)
            and self._next_stream_id <= MAX_31_BIT
            and len(self._streams) < self.remote_max_concurrent_streams
        )

    @property
    def is_closed(self) -> bool:
        """GOAWAY sent (``close`` or a connection error) or end of file received."""
        return self._closing or self._failed is not None or self._eof

    @property
    def open_field_block(self) -> int:
        """The stream whose field block (HEADERS, then CONTINUATION frames) has not ended
        yet, or 0: until it ends, no other frame can arrive, on any stream."""
        return self._cont_sid

    @property
    def remote_max_frame_size(self) -> int:
        """The largest frame payload the peer accepts (its SETTINGS_MAX_FRAME_SIZE)."""
        return self._remote_max_frame_size

    @property
    def remote_initial_window_size(self) -> int:
        """The peer's SETTINGS_INITIAL_WINDOW_SIZE: each new stream's send window."""
        return self._remote_initial_window

    def stream_state(self, stream_id: int) -> str:
        """The state of a stream by name (``"IDLE"``, ``"OPEN"``, ``"CLOSED"``, ...)."""
        stream = self._streams.get(stream_id)
        if stream is not None:
            return stream.state.name
        return "CLOSED" if 0 < stream_id < self._next_stream_id and stream_id & 1 else "IDLE"

    # -- sending -----------------------------------------------------------------------

    def initiate(self) -> None:
        """Queue the connection preface, our SETTINGS (ENABLE_PUSH=0) and the
        connection window's update."""
        if self._initiated:
            _refuse("the connection was already initiated")
        self._initiated = True
        settings: list[tuple[int, int]] = []
        if self.header_table_size != 4096:
            settings.append((SettingCode.HEADER_TABLE_SIZE, self.header_table_size))
        settings.append((SettingCode.ENABLE_PUSH, 0))
        settings.append((SettingCode.MAX_CONCURRENT_STREAMS, self.max_concurrent_streams))
        if self.initial_window_size != DEFAULT_WINDOW:
            settings.append((SettingCode.INITIAL_WINDOW_SIZE, self.initial_window_size))
        if self.max_frame_size != DEFAULT_MAX_FRAME_SIZE:
            settings.append((SettingCode.MAX_FRAME_SIZE, self.max_frame_size))
        settings.append((SettingCode.MAX_HEADER_LIST_SIZE, self.max_header_list_size))
        self._local_settings = tuple(settings)
        self._pending_settings = 1
        self._out.append(PREFACE)
        self._out.append(SettingsFrame(self._local_settings).serialize())
        increment = self.connection_window_size - DEFAULT_WINDOW
        if increment:
            self._out.append(WindowUpdateFrame(0, increment).serialize())
            self._recv_window += increment

    @property
    def data_pending(self) -> bool:
        """Whether frames are queued for ``data_to_send``."""
        return bool(self._out)

    def data_to_send(self) -> bytes:
        """Everything queued so far (``b""`` when nothing), joined once."""
        out = self._out
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        self._queued_acks = 0
        return data

    def _check_usable(self) -> None:
        if self._failed is not None:
            _refuse(f"the connection failed ({self._failed}) and can no longer be used")
        if not self._initiated:
            _refuse("initiate() the connection first")

    def _sending_stream(self, stream_id: int) -> Stream:
        self._check_usable()
        stream = self._streams.get(stream_id)
        if stream is None:
            _refuse(f"stream {stream_id} is {self.stream_state(stream_id).lower()}")
        return stream

    def send_headers(self, headers: Fields, end_stream: bool = False) -> int:
        """Open the next stream with a request's fields (pseudo-header fields first)
        and return its id; ``end_stream`` when the request has no content.

        ``LocalProtocolError`` if the fields are invalid (RFC 9113 section 8) or no
        stream can be opened (see ``can_open_stream``)."""
        self._check_usable()
        if not self.can_open_stream:
            if self._goaway_received or self._closing:
                _refuse("the connection is going away: no new stream can be opened")
            if self._next_stream_id > MAX_31_BIT:
                _refuse("stream ids exhausted: open a new connection")
            _refuse(f"the peer allows {self.remote_max_concurrent_streams} concurrent streams")
        key = tuple(headers)
        try:
            checked = self._checked_requests.get(key)
            hashable = True
        except TypeError:  # unhashable fields: check_request says what is wrong
            checked, hashable = None, False
        if checked is None:
            fields, method = check_request(key)
            size = header_list_size(fields)
            if hashable and size <= _CHECKED_SIZE:
                split = None if fields is key else fields
                _remember(self._checked_requests, key, (split, method, size))
        else:
            split, method, size = checked
            fields = key if split is None else split
        if size > self._remote_max_header_list_size:
            _refuse(f"request fields exceed the peer's max header list size "
                    f"({self._remote_max_header_list_size})")  # fmt: skip
        stream_id = self._next_stream_id
        stream = Stream(stream_id, self._remote_initial_window, self._local_initial_window)
        stream.state = transition(IDLE, _SEND_HEADERS, stream_id)
        stream.no_content = method == b"HEAD" or method == b"CONNECT"
        self._next_stream_id = stream_id + 2
        self._streams[stream_id] = stream
        self._control_count = 0
        encoder = self._encoder
        block = encoder.encode_cached(key) if hashable and fields is key else encoder.encode(fields)
        self._send_block(stream_id, block, end_stream)
        if end_stream:
            stream.state = transition(stream.state, _SEND_END, stream_id)
        return stream_id

    def _send_block(self, stream_id: int, block: bytes, end_stream: bool) -> None:
        size = self._remote_max_frame_size
        out = self._out
        flags = _END_STREAM if end_stream else 0
        if len(block) <= size:
            out.append(frame_header(len(block), _HEADERS_TYPE, flags | 0x4, stream_id))
            out.append(block)
            return
        out.append(frame_header(size, _HEADERS_TYPE, flags, stream_id))
        out.append(block[:size])
        for start in range(size, len(block), size):
            chunk = block[start : start + size]
            last = start + size >= len(block)
            out.append(frame_header(len(chunk), _CONTINUATION_TYPE, 0x4 if last else 0,
                                    stream_id))  # fmt: skip
            out.append(chunk)

    def sendable(self, stream_id: int) -> int:
        """The bytes of DATA flow control allows on ``stream_id`` now (0 if the stream
        cannot send)."""
        stream = self._streams.get(stream_id)
        if stream is None or stream.state is HALF_CLOSED_LOCAL:
            return 0
        return max(0, min(self._send_window, stream.send_window))

    def send_data(
        self, stream_id: int, data: bytes | bytearray | memoryview, end_stream: bool = False
    ) -> None:
        """Queue ``data`` (at most ``sendable(stream_id)`` bytes) as DATA frames no
        larger than the peer's max frame size; ``end_stream`` ends the request."""
        stream = self._sending_stream(stream_id)
        state = transition(stream.state, _SEND_DATA, stream_id)
        if end_stream:
            state = transition(state, _SEND_END, stream_id)
        if type(data) is not bytes:
            data = bytes(data)  # ours: the caller may reuse its buffer at once
        size = len(data)
        if size > self._send_window or size > stream.send_window:
            _refuse(f"{size} bytes exceed what flow control allows on stream {stream_id} "
                    f"({self.sendable(stream_id)})")  # fmt: skip
        self._send_window -= size
        stream.send_window -= size
        self._control_count = 0
        max_size = self._remote_max_frame_size
        out = self._out
        flags = _END_STREAM if end_stream else 0
        if size <= max_size:
            out.append(frame_header(size, 0, flags, stream_id))
            if size:
                out.append(data)
        else:
            view = memoryview(data)
            for start in range(0, size, max_size):
                chunk = view[start : start + max_size]
                last = start + max_size >= size
                out.append(frame_header(len(chunk), 0, flags if last else 0, stream_id))
                out.append(chunk)
        self._set_state(stream, state)

    def end_stream(self, stream_id: int) -> None:
        """End the request: an empty DATA frame with END_STREAM."""
        self.send_data(stream_id, b"", end_stream=True)

    def send_trailers(self, stream_id: int, headers: Fields) -> None:
        """End the request with trailer fields (HEADERS with END_STREAM)."""
        stream = self._sending_stream(stream_id)
        state = transition(stream.state, _SEND_HEADERS, stream_id)
        state = transition(state, _SEND_END, stream_id)
        check_trailers_to_send(headers)
        if header_list_size(headers) > self._remote_max_header_list_size:
            _refuse("trailer fields exceed the peer's max header list size")
        self._send_block(stream_id, self._encoder.encode(headers), True)
        self._set_state(stream, state)

    def reset_stream(self, stream_id: int, error_code: int = ErrorCode.CANCEL) -> None:
        """Abort a stream: RST_STREAM. A stream already closed is left alone (there
        is nothing to abort); one never opened is a ``LocalProtocolError``."""
        self._check_usable()
        stream = self._streams.get(stream_id)
        if stream is None:
            if self.stream_state(stream_id) == "IDLE":
                _refuse(f"stream {stream_id} was never opened")
            return
        transition(stream.state, _SEND_RST, stream_id)
        self._out.append(RstStreamFrame(stream_id, error_code).serialize())
        self._forget(stream, _WE_RESET)

    def ping(self, data: bytes = bytes(8)) -> None:
        """Queue a PING carrying 8 opaque bytes (its answer: ``PingAcknowledged``)."""
        self._check_usable()
        self._out.append(PingFrame(bytes(data)).serialize())

    def close(self, error_code: int = ErrorCode.NO_ERROR, debug_data: bytes = b"") -> None:
        """Queue GOAWAY (last stream id 0: we accept no stream from the peer). Streams
        already open may still complete; no new one can be opened."""
        self._check_usable()
        if not self._closing:
            self._closing = True
            self._out.append(GoAwayFrame(0, error_code, debug_data).serialize())

    def acknowledge_received_data(self, stream_id: int, size: int) -> None:
        """The application consumed ``size`` bytes of DATA on ``stream_id``: credit
        them back, sending WINDOW_UPDATE once at least half a window is owed. More
        than what was delivered and not yet acknowledged is ignored, as are streams
        that were reset (their data was credited back when they were reset)."""
        if self._failed is not None or not self._initiated:
            self._check_usable()
        if size < 0:
            raise ValueError(f"size must be >= 0, not {size}")
        stream = self._streams.get(stream_id)
        if stream is not None:
            size = min(size, stream.outstanding)
            stream.outstanding -= size
            self._credit_stream(stream, size)
        else:
            left = self._unacked_closed.get(stream_id, 0)
            size = min(size, left)
            if left - size:
                self._unacked_closed[stream_id] = left - size
            else:
                self._unacked_closed.pop(stream_id, None)
        self._conn_outstanding -= size
        self._credit_connection(size)

    def _credit_stream(self, stream: Stream, size: int) -> None:
        credit = stream.recv_credit + size
        if credit * 2 >= self._local_initial_window and credit and stream.state in (
            OPEN, HALF_CLOSED_LOCAL
        ):  # fmt: skip
            self._out.append(WindowUpdateFrame(stream.id, credit).serialize())
            stream.recv_window += credit
            credit = 0
        stream.recv_credit = credit

    def _credit_connection(self, size: int) -> None:
        credit = self._conn_credit + size
        if credit * 2 >= self.connection_window_size and credit:
            self._out.append(WindowUpdateFrame(0, credit).serialize())
            self._recv_window += credit
            credit = 0
        self._conn_credit = credit

    def _set_state(self, stream: Stream, state: StreamState) -> None:
        stream.state = state
        if state is CLOSED:
            self._forget(stream, _PEER_ENDED)

    def _forget(self, stream: Stream, reason: int) -> None:
        """Drop a closed stream, remembering why it closed."""
        stream.state = CLOSED
        stream_id = stream.id
        del self._streams[stream_id]
        closed = self._closed
        closed[stream_id] = reason
        if len(closed) > CLOSED_RECORD:
            del closed[next(iter(closed))]
        if stream.outstanding:
            if reason == _PEER_ENDED:
                self._unacked_closed[stream_id] = stream.outstanding
            else:  # reset: nobody will acknowledge this data any more
                self._conn_outstanding -= stream.outstanding
                self._credit_connection(stream.outstanding)
            stream.outstanding = 0

    # -- receiving ---------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Process received bytes; return the events they complete.

        Raises an ``HTTP2ProtocolError`` for a connection error, after queuing GOAWAY.
        """
        if self._failed is not None or not self._initiated:
            self._check_usable()
        events: list[Event] = []
        view = memoryview(data)
        try:
            pos = 0
            buf = self._buf
            if buf:  # a partial frame is waiting: complete it from the front of data
                pos = self._top_up(buf, view)
                if len(buf) < 9 or len(buf) < 9 + int.from_bytes(buf[:3], "big"):
                    return events
                with memoryview(buf) as whole:
                    self._frames(whole, 0, len(buf), events)
                buf.clear()
            end = len(view)
            pos = self._frames(view, pos, end, events)
            if pos < end:
                buf += view[pos:]
        except HTTP2ProtocolError as exc:
            exc.events = tuple(events)
            self._fail(exc)
        finally:
            view.release()
        return events

    def _top_up(self, buf: bytearray, view: memoryview) -> int:
        """Move bytes from ``view`` to ``buf`` until it holds one whole frame (or
        ``view`` runs out); how many were moved."""
        size = len(view)
        taken = 0
        if len(buf) < 9:
            taken = min(9 - len(buf), size)
            buf += view[:taken]
            if len(buf) < 9:
                return taken
        length = int.from_bytes(buf[:3], "big")
        if length > self._recv_frame_size:
            raise _too_large(length, buf[3], self._recv_frame_size)
        more = min(9 + length - len(buf), size - taken)
        buf += view[taken : taken + more]
        return taken + more

    def _frames(self, view: memoryview, pos: int, end: int, events: list[Event]) -> int:
        """Handle every whole frame of ``view[pos:end]``; return where the rest begins."""
        handlers = self._handlers
        streams = self._streams
        max_size = self._recv_frame_size
        while end - pos >= 9:
            high, low, frame_type, flags, stream_id = _unpack_header(view, pos)
            length = high << 16 | low
            if length > max_size:
                raise _too_large(length, frame_type, max_size)
            start = pos + 9
            stop = start + length
            if stop > end:
                break
            pos = stop
            stream_id &= MAX_31_BIT
            if self._cont_sid and (frame_type != _CONTINUATION_TYPE or stream_id != self._cont_sid):
                raise HTTP2ProtocolError(
                    f"frame of type {frame_type} on stream {stream_id} in the middle of a "
                    f"field block on stream {self._cont_sid}"
                )
            if not self._seen_settings:
                if frame_type != 0x4 or flags & 1:
                    raise HTTP2ProtocolError("the server's first frame is not SETTINGS")
                self._seen_settings = True
            if frame_type == 0 and not flags & _PADDED and stream_id:
                # The short path: unpadded DATA (most frames of a download).
                stream = streams.get(stream_id)
                if stream is None:
                    self._on_data_elsewhere(stream_id, length, events)
                    continue
                if flags & _END_STREAM or end - stop < 9 or not length:
                    payload = view[start:stop].tobytes()
                else:  # a run of DATA frames on this stream: one payload, one event
                    stop, flags, payload = _data_run(view, start, stop, end, stream_id, max_size)
                    length = len(payload)
                    pos = stop
                self._on_data(stream, payload, flags & _END_STREAM, length, events)
                continue
            try:
                frame = parse_frame(frame_type, flags, stream_id, view[start:stop].tobytes())
            except HTTP2ProtocolError as exc:
                if not exc.stream_id or frame_type == _HEADERS_TYPE:
                    # A HEADERS frame's block is lost with it: the HPACK tables may
                    # no longer agree, so even a stream error ends the connection.
                    exc.stream_id = 0
                    raise
                self._stream_error(exc.stream_id, exc, events)
                continue
            handlers[type(frame)](frame, events)  # type: ignore[operator]
            max_size = self._recv_frame_size
        return pos

    def _fail(self, exc: HTTP2ProtocolError) -> NoReturn:
        """A connection error: queue GOAWAY, refuse everything from now on, raise."""
        self._failed = exc
        self._out.append(GoAwayFrame(0, exc.error_code, str(exc).encode()[:256]).serialize())
        raise exc

    def receive_eof(self) -> list[Event]:
        """The peer closed the connection: ``ConnectionTerminated`` unless a GOAWAY
        already said so (or a connection error ended it)."""
        self._eof = True
        if self._terminated or self._failed is not None:
            self._terminated = True
            return []
        self._terminated = True
        return [ConnectionTerminated(ErrorCode.NO_ERROR, max(0, self._next_stream_id - 2))]

    def _stream_error(self, stream_id: int, exc: HTTP2ProtocolError, events: list[Event]) -> None:
        """Reset a stream for an error in what the peer sent on it."""
        stream = self._streams.get(stream_id)
        if stream is not None:
            self._out.append(RstStreamFrame(stream_id, exc.error_code).serialize())
            self._forget(stream, _WE_RESET)
            events.append(StreamReset(stream_id, exc.error_code, False, exc))
        elif self.stream_state(stream_id) == "CLOSED" and self._closed.get(stream_id) != _WE_RESET:
            self._out.append(RstStreamFrame(stream_id, exc.error_code).serialize())
            self._closed[stream_id] = _WE_RESET

    def _on_missing_stream(self, stream_id: int, what: str, events: list[Event]) -> None:
        """HEADERS or DATA on a stream that is not open (section 5.1)."""
        if self.stream_state(stream_id) == "IDLE":
            raise HTTP2ProtocolError(f"{what} frame on idle stream {stream_id}")
        reason = self._closed.get(stream_id)
        if reason == _WE_RESET:
            return  # frames the peer sent before it saw our RST_STREAM
        if reason == _PEER_ENDED:
            raise HTTP2ProtocolError(
                f"{what} frame on stream {stream_id} after its END_STREAM",
                error_code=ErrorCode.STREAM_CLOSED,
            )
        self._stream_error(
            stream_id,
            HTTP2ProtocolError(f"{what} frame on closed stream {stream_id}",
                               error_code=ErrorCode.STREAM_CLOSED, stream_id=stream_id),
            events,
        )  # fmt: skip

    def _on_data_elsewhere(self, stream_id: int, length: int, events: list[Event]) -> None:
        """DATA on a stream that is not open: counted against the connection window,
        credited back at once, then handled as section 5.1 says."""
        if length > self._recv_window:
            raise HTTP2ProtocolError(
                f"DATA of {length} bytes overruns the connection window ({self._recv_window})",
                error_code=ErrorCode.FLOW_CONTROL_ERROR,
            )
        self._recv_window -= length
        self._credit_connection(length)
        self._on_missing_stream(stream_id, "DATA", events)

    def _on_data_frame(self, frame: DataFrame, events: list[Event]) -> None:
        length = frame.flow_controlled_length
        stream = self._streams.get(frame.stream_id)
        if stream is None:
            self._on_data_elsewhere(frame.stream_id, length, events)
        else:
            self._on_data(stream, frame.data, frame.end_stream, length, events)

    def _on_data(
        self, stream: Stream, data: bytes, end_stream: int, length: int, events: list[Event]
    ) -> None:
        if length > self._recv_window:
            raise HTTP2ProtocolError(
                f"DATA of {length} bytes overruns the connection window ({self._recv_window})",
                error_code=ErrorCode.FLOW_CONTROL_ERROR,
            )
        self._recv_window -= length
        stream_id = stream.id
        error = None
        state = _next_state((stream.state, _RECV_DATA))
        if state is None:
            try:
                transition(stream.state, _RECV_DATA, stream_id)
            except HTTP2ProtocolError as exc:
                error = exc
        elif length > stream.recv_window:
            error = HTTP2ProtocolError(
                f"DATA of {length} bytes overruns the window of stream {stream_id} "
                f"({stream.recv_window})",
                error_code=ErrorCode.FLOW_CONTROL_ERROR,
                stream_id=stream_id,
            )
        elif not stream.head_done:
            error = HTTP2ProtocolError(f"DATA before the response head on stream {stream_id}",
                                       stream_id=stream_id)  # fmt: skip
        else:
            received = stream.received_length + len(data)
            stream.received_length = received
            expected = stream.expected_length
            if expected is not None and (
                received > expected or (end_stream and received != expected)
            ):
                error = HTTP2ProtocolError(
                    f"malformed response on stream {stream_id}: {received} bytes of DATA "
                    f"{'so far ' if not end_stream else ''}for a content-length of {expected}",
                    stream_id=stream_id,
                )
        if error is not None:
            self._credit_connection(length)
            self._stream_error(stream_id, error, events)
            return
        stream.recv_window -= length
        size = len(data)
        if size:
            self._control_count = 0
            stream.outstanding += size
            self._conn_outstanding += size
            events.append(make_data(stream_id, data, length))
        elif not end_stream:
            self._count_control("empty DATA frames")
        if size != length:  # padding: nobody else will credit it
            self._credit_connection(length - size)
            self._credit_stream(stream, length - size)
        if end_stream:
            events.append(make_end(stream_id))
            self._set_state(stream, TRANSITIONS[(stream.state, _RECV_END)])

    def _on_headers(self, frame: HeadersFrame, events: list[Event]) -> None:
        if frame.end_headers:
            self._on_block(frame.stream_id, frame.block, frame.end_stream, events)
            return
        self._cont_sid = frame.stream_id
        self._cont_parts = [frame.block]
        self._cont_size = len(frame.block)
        self._cont_end_stream = frame.end_stream
        self._check_block_size()

    def _check_block_size(self) -> None:
        if self._cont_size > self._block_limit:
            raise HeaderListTooLarge(
                f"field block of more than {self._block_limit} bytes (frame headers "
                f"included) on stream {self._cont_sid}",
                limit=self._block_limit,
            )

    def _on_continuation(self, frame: ContinuationFrame, events: list[Event]) -> None:
        if not self._cont_sid:
            raise HTTP2ProtocolError(f"CONTINUATION on stream {frame.stream_id} without HEADERS")
        if frame.block:
            self._cont_parts.append(frame.block)
        # Each frame's header counts: empty CONTINUATION frames (CVE-2024-27316) cost
        # work too, and would otherwise never reach the bound.
        self._cont_size += len(frame.block) + 9
        self._check_block_size()
        if frame.end_headers:
            block = b"".join(self._cont_parts)
            self._cont_sid = 0
            self._cont_parts = []
            self._on_block(frame.stream_id, block, self._cont_end_stream, events)

    def _on_block(
        self, stream_id: int, block: bytes, end_stream: bool, events: list[Event]
    ) -> None:
        """A whole field block: decoded first, whatever the stream, for HPACK's sake."""
        too_large = None
        try:
            fields = self._decoder.decode(block)
        except HeaderListTooLarge as exc:
            if not exc.decoded:
                raise  # a bomb: the tables may disagree, a connection error
            exc.stream_id = stream_id
            too_large = exc
            fields = []
        stream = self._streams.get(stream_id)
        if stream is None:
            self._on_missing_stream(stream_id, "HEADERS", events)
            return
        try:
            transition(stream.state, _RECV_HEADERS, stream_id)
            if too_large is not None:
                raise too_large
            self._on_fields(stream, fields, end_stream, events, len(block) <= _CHECKED_SIZE)
        except HTTP2ProtocolError as exc:  # stream errors (the block was decoded) ...
            if not exc.stream_id:  # ... but for a flood of informational heads
                raise
            self._stream_error(stream_id, exc, events)

    def _on_fields(self, stream: Stream, fields: Fields, end_stream: bool,
                   events: list[Event], small: bool = False) -> None:  # fmt: skip
        stream_id = stream.id
        if stream.head_done:
            if not end_stream:
                raise HTTP2ProtocolError(
                    f"malformed response on stream {stream_id}: trailers without END_STREAM",
                    stream_id=stream_id,
                )
            trailers = check_trailers(fields, stream_id)
            expected = stream.expected_length
            if expected is not None and stream.received_length != expected:
                raise HTTP2ProtocolError(
                    f"malformed response on stream {stream_id}: {stream.received_length} "
                    f"bytes of DATA for a content-length of {expected}",
                    stream_id=stream_id,
                )
            events.append(TrailersReceived(stream_id, trailers))
        else:
            key = tuple(fields)
            checked = self._checked_heads.get(key)
            if checked is None:
                status, regular, length = check_response(fields, stream_id)
                if small:
                    _remember(self._checked_heads, key, (status, length))
            else:
                status, length = checked
                regular = fields[1:]
            if status < 200:
                if status == 101 or end_stream or status < 100:
                    raise HTTP2ProtocolError(
                        f"malformed response on stream {stream_id}: status {status}"
                        + (" with END_STREAM" if end_stream and status != 101 else ""),
                        stream_id=stream_id,
                    )
                events.append(make_head(InformationalResponse, stream_id, status, regular))
                self._count_control("informational responses")
                return
            if not (stream.no_content or status in _NO_CONTENT_STATUS):
                stream.expected_length = length
                if end_stream and length:
                    raise HTTP2ProtocolError(
                        f"malformed response on stream {stream_id}: no DATA for a "
                        f"content-length of {length}",
                        stream_id=stream_id,
                    )
            stream.head_done = True
            self._control_count = 0
            events.append(make_head(ResponseReceived, stream_id, status, regular))
        if end_stream:
            events.append(make_end(stream_id))
            self._set_state(stream, TRANSITIONS[(stream.state, _RECV_END)])

    def _on_settings(self, frame: SettingsFrame, events: list[Event]) -> None:
        if frame.ack:
            if not self._pending_settings:
                raise HTTP2ProtocolError("SETTINGS acknowledgement for no SETTINGS")
            self._pending_settings -= 1
            self._apply_local_settings()
            events.append(SettingsAcknowledged())
            return
        self._count_control("SETTINGS frames")
        changed: dict[SettingCode | int, int] = {}
        for code, value in frame.settings:
            if code == SettingCode.HEADER_TABLE_SIZE:
                size = min(value, MAX_ENCODER_TABLE)
                if size != self._encoder.header_table_size:
                    self._encoder.header_table_size = size
            elif code == SettingCode.ENABLE_PUSH:
                if value:
                    raise HTTP2ProtocolError("a server sent SETTINGS_ENABLE_PUSH=1")
            elif code == SettingCode.MAX_CONCURRENT_STREAMS:
                self.remote_max_concurrent_streams = value
            elif code == SettingCode.INITIAL_WINDOW_SIZE:
                delta = value - self._remote_initial_window
                self._remote_initial_window = value
                for stream in self._streams.values():
                    stream.send_window += delta
                    if stream.send_window > MAX_31_BIT:
                        raise HTTP2ProtocolError(
                            f"INITIAL_WINDOW_SIZE={value} overflows the window of stream "
                            f"{stream.id}",
                            error_code=ErrorCode.FLOW_CONTROL_ERROR,
                        )
            elif code == SettingCode.MAX_FRAME_SIZE:
                self._remote_max_frame_size = value
            elif code == SettingCode.MAX_HEADER_LIST_SIZE:
                self._remote_max_header_list_size = value
            changed[_SETTING_CODES.get(code, code)] = value
        self._queue_ack(SettingsFrame(ack=True).serialize())
        events.append(RemoteSettingsChanged(changed))

    def _apply_local_settings(self) -> None:
        """Our SETTINGS were acknowledged: they now bound what we receive."""
        self._decoder.max_table_size = self.header_table_size
        self._recv_frame_size = self.max_frame_size
        delta = self.initial_window_size - self._local_initial_window
        self._local_initial_window = self.initial_window_size
        for stream in self._streams.values():
            stream.recv_window += delta

    def _on_window_update(self, frame: WindowUpdateFrame, events: list[Event]) -> None:
        self._count_control("WINDOW_UPDATE frames")  # our DATA (progress) restarts it
        stream_id = frame.stream_id
        if not stream_id:
            self._send_window += frame.increment
            if self._send_window > MAX_31_BIT:
                raise HTTP2ProtocolError("WINDOW_UPDATE overflows the connection window",
                                         error_code=ErrorCode.FLOW_CONTROL_ERROR)  # fmt: skip
            events.append(WindowUpdated(0))
            return
        stream = self._streams.get(stream_id)
        if stream is None:
            if self.stream_state(stream_id) == "IDLE":
                raise HTTP2ProtocolError(f"WINDOW_UPDATE on idle stream {stream_id}")
            return
        stream.send_window += frame.increment
        if stream.send_window > MAX_31_BIT:
            self._stream_error(
                stream_id,
                HTTP2ProtocolError(f"WINDOW_UPDATE overflows the window of stream {stream_id}",
                                   error_code=ErrorCode.FLOW_CONTROL_ERROR, stream_id=stream_id),
                events,
            )  # fmt: skip
            return
        events.append(WindowUpdated(stream_id))

    def _on_rst_stream(self, frame: RstStreamFrame, events: list[Event]) -> None:
        self._count_control("RST_STREAM frames")
        stream_id = frame.stream_id
        stream = self._streams.get(stream_id)
        if stream is None:
            if self.stream_state(stream_id) == "IDLE":
                raise HTTP2ProtocolError(f"RST_STREAM on idle stream {stream_id}")
            return
        transition(stream.state, _RECV_RST, stream_id)
        self._forget(stream, _PEER_RESET)
        events.append(StreamReset(stream_id, frame.error_code, True))

    def _on_ping(self, frame: PingFrame, events: list[Event]) -> None:
        self._count_control("PING frames")
        if frame.ack:
            events.append(PingAcknowledged(frame.opaque))
        else:
            self._queue_ack(PingFrame(frame.opaque, ack=True).serialize())

    def _on_ignored(self, frame: object, events: list[Event]) -> None:
        """PRIORITY (deprecated) and frames of unknown types: ignored (sections 5.3.2,
        5.5), but counted: a flood of them costs us as much as one of PINGs."""
        self._count_control("PRIORITY and unknown frames")

    def _count_control(self, what: str) -> None:
        """One more control frame with no progress since the last: a flood past
        ``max_control_frames`` (the count restarts at each progress, see "Floods")."""
        count = self._control_count + 1
        self._control_count = count
        if count > self.max_control_frames:
            raise ControlFrameFlood(
                f"flood: {count} control frames with no progress (the last {what}), more "
                f"than max_control_frames={self.max_control_frames}",
                limit_name="max_control_frames",
                limit=self.max_control_frames,
            )

    def _queue_ack(self, frame: bytes) -> None:
        """Queue an acknowledgement, bounding those not yet taken by ``data_to_send``."""
        queued = self._queued_acks + len(frame)
        if queued > self.max_queued_acks:
            raise ControlFrameFlood(
                f"flood: {queued} bytes of acknowledgements left unsent, more than "
                f"max_queued_acks={self.max_queued_acks} (the peer does not read them)",
                limit_name="max_queued_acks",
                limit=self.max_queued_acks,
            )
        self._queued_acks = queued
        self._out.append(frame)

    def _on_goaway(self, frame: GoAwayFrame, events: list[Event]) -> None:
        last = frame.last_stream_id
        if self.last_stream_id_accepted is not None:
            last = min(last, self.last_stream_id_accepted)
        self.last_stream_id_accepted = last
        self._goaway_received = True
        for stream_id in sorted(sid for sid in self._streams if sid > last):
            self._forget(self._streams[stream_id], _PEER_RESET)
            events.append(StreamReset(stream_id, ErrorCode.REFUSED_STREAM, True))
        self._terminated = True
        events.append(ConnectionTerminated(frame.error_code, last, frame.debug_data))

    def _on_push_promise(self, frame: PushPromiseFrame, events: list[Event]) -> None:
        raise HTTP2ProtocolError("PUSH_PROMISE received although SETTINGS_ENABLE_PUSH=0")


def _remember(checked: dict[_K, _V], key: _K, value: _V) -> None:
    """Note fields that passed their checks, forgetting the oldest past ``_CHECKED``.
    Only fields of up to ``_CHECKED_SIZE`` bytes (or from a block that small) are kept:
    the memory held stays small whatever the peer sends."""
    if len(checked) >= _CHECKED:
        del checked[next(iter(checked))]
    checked[key] = value


def _data_run(
    view: memoryview, start: int, stop: int, end: int, stream_id: int, max_size: int
) -> tuple[int, int, bytes]:
    """The unpadded, non-empty DATA frames that follow the one at ``view[start:stop]`` on
    the same stream, whole in ``view[:end]``, up to the first with END_STREAM (an empty
    one ends the run: it is counted as a control frame on its own): where they end,
    the last one's flags, and their payloads joined (one copy). A server sends a body in
    8 or 16 KiB frames: handled one by one, they cost an event and a copy each. The run
    is checked as one frame of their total length, which no window or content-length
    check can tell apart from the frames in turn (an overrun is an error either way)."""
    parts = [view[start:stop]]
    append = parts.append
    flags = 0
    while end - stop >= 9:
        # length << 8 | type, flags, stream id (a reserved bit set: not this stream here)
        word, next_flags, next_id = _unpack_run_header(view, stop)
        start = stop + 9
        after = start + (word >> 8)
        if (word & 0xFF or not word or next_flags & _PADDED or next_id != stream_id
                or after > end or word >> 8 > max_size):  # fmt: skip
            break
        append(view[start:after])
        stop = after
        flags = next_flags
        if flags & _END_STREAM:
            break
    return stop, flags, b"".join(parts)


def _too_large(length: int, frame_type: int, limit: int) -> FrameTooLarge:
    return FrameTooLarge(
        f"frame of {length} bytes (type {frame_type}) is larger than max_frame_size={limit}",
        limit=limit,
    )
