"""``WebSocketConnection``: the sans-IO client side of an open WebSocket (RFC 6455).

Contract
--------
* ``receive_data(data)`` feeds bytes from the server (``b""`` means end of file). It
  never raises for anything the server sends: a protocol violation or an exceeded
  limit becomes a final ``ConnectionFailed`` event, a close frame with the right code
  is queued (``CloseCode.PROTOCOL_ERROR``, ``INVALID_DATA`` for invalid UTF-8,
  ``MESSAGE_TOO_BIG``) and the state becomes CLOSED. ``failure`` keeps the exception.
* ``events()`` returns (and forgets) the events parsed so far, in order. Messages are
  delivered whole: fragments are joined, text is validated incrementally (a
  text frame that arrives in pieces is checked as each piece arrives, so invalid UTF-8
  fails fast).
* ``send_*`` methods return the bytes of the frame to write; they raise
  ``LocalProtocolError`` (before producing anything) when the frame would be invalid
  or the state does not allow sending (after our close frame, or once CLOSED). The
  I/O layer maps that to ``ConnectionClosed`` for its users.
* ``data_to_send()`` returns the frames the machine decided to send on its own: pongs
  answering pings, the echo of the server's close frame, the close frame of a
  failure. Control frames may go out between any two frames, so the I/O layer can
  write these whenever convenient, typically right after ``receive_data``.

After we sent a close frame, data messages from the server are still delivered until
its close frame arrives. Nothing after the server's close frame is parsed.

Frame headers are read by ``_frames.parse_header``'s rules, in one place per path: the
one-small-message fast path of ``receive_data`` and the frame loop of ``_parse`` (which
inline its common cases, see ``_frames``); a large binary frame collected block by
block keeps the first byte the loop read.

``defer_close=True`` lets the I/O layer decide when the close frame answering the
server's close (or the close frame of a failure) goes out: input stops as usual, but
the frame is held and the state stays OPEN, so messages that arrived before it can
still be answered (an echo server's client echoes them first, as RFC 6455 section 5.5.1
allows). ``close_pending`` is then true until ``take_close_reply()`` returns the frame
and moves the state on (``send_close()`` does the same).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from typing import Final

from reqivo_protocol._exceptions import (
    LocalProtocolError,
    MessageTooBig,
    WebSocketProtocolError,
)
from reqivo_protocol.websocket._deflate import DeflateParams, Deflater, Inflater
from reqivo_protocol.websocket._events import (
    BytesMessage,
    CloseReceived,
    ConnectionFailed,
    Event,
    Ping,
    Pong,
    TextMessage,
)
from reqivo_protocol.websocket._frames import (
    CONTROL_BIT,
    FIN,
    LENGTH_16,
    MAX_CLOSE_REASON,
    MAX_CONTROL_PAYLOAD,
    MAX_SHORT_LENGTH,
    OPCODE_BITS,
    RSV1,
    RSV_BITS,
    CloseCode,
    Opcode,
    build_close_payload,
    encode_frame,
    parse_close_payload,
    parse_header,
)
from reqivo_protocol.websocket._state import TRANSITIONS, ConnectionState, Trigger

__all__ = ["WebSocketConnection"]

# Opcodes and first header bytes as plain ints: the receive loop compares them with
# bytes, and the interpreter's int comparison fast path does not take enum members.
_CONT: Final = int(Opcode.CONT)
_TEXT: Final = int(Opcode.TEXT)
_BINARY: Final = int(Opcode.BINARY)
_PING: Final = int(Opcode.PING)
_PONG: Final = int(Opcode.PONG)
_FIN_TEXT: Final = FIN | _TEXT  # a whole, uncompressed text message in one frame
_FIN_BINARY: Final = FIN | _BINARY
_FIN_TEXT_DEFLATED: Final = FIN | RSV1 | _TEXT
_FIN_BINARY_DEFLATED: Final = FIN | RSV1 | _BINARY
_FIN_CLOSE: Final = FIN | Opcode.CLOSE
_FIN_PING: Final = FIN | _PING
_FIN_PONG: Final = FIN | _PONG
_OPEN = ConnectionState.OPEN
_CLOSED = ConnectionState.CLOSED
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")
_KEY_POOL = 1024  # bytes of os.urandom fetched at once: one syscall per 256 frames
#: An incomplete uncompressed binary frame with at least this many payload bytes still
#: to come is collected as a list of received blocks and joined once (one copy), instead
#: of growing the receive buffer and slicing the payload out of it (two copies).
_COLLECT_MIN = 65536


class WebSocketConnection:
    """The client side of an open WebSocket connection, without I/O.

    ``deflate`` is the negotiated permessage-deflate configuration (from the
    handshake), or ``None``. ``max_message_size`` bounds a message after
    decompression and ``max_frame_size`` a frame's payload on the wire (``None``:
    unlimited); exceeding either fails the connection with close code 1009
    (``CloseCode.MESSAGE_TOO_BIG``). ``mask_key_source`` returns a 4-byte masking key
    per frame (tests inject one); by default keys come from ``os.urandom``.
    """

    __slots__ = (
        "_buf",
        "_close_code",
        "_close_reason",
        "_collect_b0",
        "_collect_left",
        "_collect_parts",
        "_decoder",
        "_defer",
        "_deflate",
        "_deflater",
        "_events",
        "_failure",
        "_fast_limit",
        "_fed",
        "_inflater",
        "_key_pool",
        "_key_pos",
        "_key_source",
        "_max_frame",
        "_max_message",
        "_msg_compressed",
        "_msg_opcode",
        "_msg_parts",
        "_msg_size",
        "_need",
        "_out",
        "_partial",
        "_reply",
        "_reply_trigger",
        "_send_opcode",
        "_state",
    )

    def __init__(
        self,
        *,
        deflate: DeflateParams | None = None,
        max_message_size: int | None = 2**20,
        max_frame_size: int | None = None,
        mask_key_source: Callable[[], bytes] | None = None,
        defer_close: bool = False,
    ) -> None:
        self._state = _OPEN
        self._buf = bytearray()
        self._need = 2
        self._events: list[Event] = []
        self._out = bytearray()
        self._max_message = max_message_size
        self._max_frame = max_frame_size
        # The largest payload the one-small-message fast path of receive_data may take.
        self._fast_limit = min(
            limit
            for limit in (MAX_SHORT_LENGTH, max_message_size, max_frame_size)
            if limit is not None
        )
        self._deflate = deflate
        self._inflater = Inflater(deflate) if deflate is not None else None
        # zlib cannot compress with an 8-bit window: then we send uncompressed.
        self._deflater = (
            Deflater(deflate)
            if deflate is not None and deflate.client_max_window_bits >= 9
            else None
        )
        self._msg_opcode = 0  # opcode of the incoming message in progress, 0 if none
        self._msg_compressed = False
        self._msg_parts: list[str] | list[bytes] = []
        self._msg_size = 0
        self._decoder = _Utf8Decoder()
        self._partial = False  # the frame at the buffer head is partly decoded already
        self._collect_parts: list[bytes | memoryview] | None = None  # payload collected so far
        self._collect_left = 0  # payload bytes of the collected frame still to come
        self._collect_b0 = 0  # first header byte of the collected frame
        self._fed = 0  # how many payload bytes of that frame
        self._send_opcode = 0  # opcode of the fragmented message we are sending, 0 if none
        self._key_source = mask_key_source
        self._key_pool = b""
        self._key_pos = _KEY_POOL
        self._close_code: int | None = None
        self._close_reason = ""
        self._failure: WebSocketProtocolError | None = None
        self._defer = defer_close
        self._reply: bytes | None = None  # the held close frame (defer_close)
        self._reply_trigger = Trigger.RECEIVE_CLOSE

    # -- public state ----------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """OPEN, CLOSING (we sent a close frame) or CLOSED."""
        return self._state

    @property
    def close_code(self) -> int | None:
        """The server's close code (1005: its close frame had none; 1006: no close
        frame before end of file); the failure's code if we failed; else ``None``."""
        return self._close_code

    @property
    def close_reason(self) -> str:
        """The reason that goes with ``close_code``."""
        return self._close_reason

    @property
    def failure(self) -> WebSocketProtocolError | None:
        """The error that failed the connection, if the server violated the protocol."""
        return self._failure

    @property
    def close_pending(self) -> bool:
        """Whether a close frame is held for ``take_close_reply()`` (``defer_close``)."""
        return self._reply is not None

    def take_close_reply(self) -> bytes:
        """The held close frame (``b""`` if none); the state then becomes CLOSED."""
        reply = self._reply
        if reply is None:
            return b""
        self._reply = None
        self._transition(self._reply_trigger)
        return reply

    @property
    def sending_fragmented(self) -> bool:
        """Whether a fragmented message we send has begun and not ended (its last
        fragment, ``final=True``, is still to come; other messages must wait)."""
        return self._send_opcode != 0

    @property
    def deflate(self) -> DeflateParams | None:
        """The permessage-deflate settings in use, if negotiated."""
        return self._deflate

    # -- input -----------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes received from the server; ``b""`` signals end of file."""
        if self._state is _CLOSED or self._reply is not None:
            return
        if not data:
            self._collect_parts = None
            self._close_code = CloseCode.ABNORMAL_CLOSURE
            self._close_reason = "connection closed without a close frame"
            self._events.append(
                ConnectionFailed(CloseCode.ABNORMAL_CLOSURE, self._close_reason, None)
            )
            self._transition(Trigger.EOF)
            return
        if self._collect_parts is not None:
            left = self._collect_left
            if len(data) < left:
                # Keep only immutable blocks: a caller may reuse its bytearray.
                self._collect_parts.append(data if type(data) is bytes else bytes(data))
                self._collect_left = left - len(data)
                return
            data = self._finish_collect(data)
            if not data or self._state is _CLOSED or self._reply is not None:
                return
        buf = self._buf
        if not buf and not self._msg_opcode:
            # Fast path: the block is exactly one small, whole, uncompressed message: a
            # short-form header (see parse_header) whose length fills the block.
            length = len(data) - 2
            if 0 <= length <= self._fast_limit and data[1] == length:
                b0 = data[0]
                if b0 == _FIN_BINARY:
                    payload = data[2:]
                    self._events.append(
                        BytesMessage(payload if type(payload) is bytes else bytes(payload))
                    )
                    return
                if b0 == _FIN_TEXT:
                    try:
                        self._events.append(TextMessage(str(data[2:], "utf-8")))
                    except UnicodeDecodeError:
                        self._fail(_invalid_utf8())
                    return
        if buf:
            buf += data
            if len(buf) < self._need:
                return
            source: bytes | bytearray = buf
        else:
            # Empty buffer: parse straight from ``data``, keeping only what is left over.
            if len(data) < self._need:
                buf += data
                return
            source = data.tobytes() if isinstance(data, memoryview) else data
        try:
            consumed, self._need = self._parse(source)
        except WebSocketProtocolError as exc:
            self._fail(exc)
            return
        except UnicodeDecodeError:
            self._fail(_invalid_utf8())
            return
        if self._state is _CLOSED or self._reply is not None:
            self._buf = bytearray()
        elif self._collect_parts is not None:
            # _parse consumed the header of a large frame: its payload is collected.
            view = memoryview(source)[consumed:]
            rest = view if type(source) is bytes else view.tobytes()
            self._buf = bytearray()
            self._need = 2
            self._collect_parts.append(rest)
            self._collect_left -= len(rest)
        elif source is buf:
            del buf[:consumed]
        elif consumed < len(source):
            buf += memoryview(source)[consumed:]

    def _finish_collect(
        self, data: bytes | bytearray | memoryview
    ) -> bytes | bytearray | memoryview:
        """Complete the collected frame with ``data``; return what follows the frame."""
        parts = self._collect_parts
        assert parts is not None
        left = self._collect_left
        if len(data) == left:
            parts.append(memoryview(data))
            rest: bytes | bytearray | memoryview = b""
        else:
            view = memoryview(data)
            parts.append(view[:left])
            rest = view[left:]
        self._collect_parts = None
        self._collect_left = 0
        payload = b"".join(parts)
        b0 = self._collect_b0
        if b0 == _FIN_BINARY and not self._msg_opcode:
            self._events.append(BytesMessage(payload))
        else:
            self._data_frame(b0 & OPCODE_BITS, b0 & FIN, 0, payload)
        return rest

    def events(self) -> list[Event]:
        """The events parsed since the last call, oldest first."""
        events = self._events
        if events:
            self._events = []
        return events

    def data_to_send(self) -> bytes:
        """Frames the machine queued by itself (pongs, close echo, failure close)."""
        if not self._out:
            return b""
        out = bytes(self._out)
        self._out.clear()
        return out

    def _parse(self, buf: bytes | bytearray) -> tuple[int, int]:
        """Parse every complete frame in ``buf``; return (consumed, bytes needed next)."""
        n = len(buf)
        pos = 0
        append = self._events.append
        max_message = self._max_message
        max_frame = self._max_frame
        # Locals: loading them costs less than loading module globals, once per frame.
        fin_text, fin_binary, short_max = _FIN_TEXT, _FIN_BINARY, MAX_SHORT_LENGTH
        with memoryview(buf) as mv:
            while True:
                # The header, by parse_header's rules; its two common cases (the short
                # and the 16-bit length) are inlined, because a call per frame costs
                # 15-20% of decoding a frame of up to a few hundred bytes (measured).
                avail = n - pos
                if avail < 2:
                    return pos, 2
                b0 = buf[pos]
                length = buf[pos + 1]
                if length <= short_max:
                    start = pos + 2
                elif length == LENGTH_16 and avail >= 4:
                    start = pos + 4
                    length = (buf[pos + 2] << 8) | buf[pos + 3]
                else:
                    b0, start, length = parse_header(buf, pos, n)
                    if start > n:
                        return pos, start - pos  # the header is incomplete
                end = start + length
                # Two comparisons: faster than ``in`` a tuple (measured).
                if (b0 == fin_text or b0 == fin_binary) and not self._msg_opcode:  # noqa: SIM109
                    # Hot path: a whole, uncompressed message in one frame.
                    if max_frame is not None and length > max_frame:
                        raise _too_big("frame", length, "max_frame_size", max_frame)
                    if max_message is not None and length > max_message:
                        raise _too_big("message", length, "max_message_size", max_message)
                    if end <= n:
                        if b0 == fin_text:
                            append(TextMessage(buf[start:end].decode("utf-8")))
                        else:
                            append(BytesMessage(mv[start:end].tobytes()))
                        pos = end
                        continue
                else:
                    self._check_header(b0, length)
                    if end <= n:
                        pos = end
                        opcode = b0 & OPCODE_BITS
                        if not opcode & CONTROL_BIT:
                            self._data_frame(opcode, b0 & FIN, b0 & RSV1, mv[start:end])
                        elif opcode == _PING:
                            payload = mv[start:end].tobytes()
                            append(Ping(payload))
                            if self._state is _OPEN:
                                self._out += encode_frame(_FIN_PONG, payload, self._key())
                        elif opcode == _PONG:
                            append(Pong(mv[start:end].tobytes()))
                        else:
                            self._close_frame(mv[start:end])
                            return pos, 2
                        continue
                # An incomplete frame: wait for the rest, validating text as it comes.
                # For text, ask for one more byte so that every later call feeds the
                # newly arrived payload bytes (and only those) to the decoder, whether
                # or not they came with the header.
                if self._partial or self._begin_partial(b0):
                    if n > start + self._fed:
                        self._feed_partial(mv[start + self._fed : n])
                    return pos, n - pos + 1
                if end - n >= _COLLECT_MIN and self._collectable(b0):
                    self._collect_parts = []
                    self._collect_left = length
                    self._collect_b0 = b0
                    return start, 2
                return pos, end - pos

    def _check_header(self, b0: int, length: int) -> None:
        """Reject a frame header the server must not send (every path but the hot one)."""
        opcode = b0 & OPCODE_BITS
        if opcode & CONTROL_BIT:
            if opcode > _PONG:
                raise WebSocketProtocolError(
                    f"reserved opcode {opcode:#x}", close_code=CloseCode.PROTOCOL_ERROR
                )
            if b0 & RSV_BITS:
                raise WebSocketProtocolError("reserved bits set on a control frame")
            if not b0 & FIN:
                raise WebSocketProtocolError("fragmented control frame")
            if length > MAX_CONTROL_PAYLOAD:
                raise WebSocketProtocolError(f"control frame payload of {length} bytes")
            return
        if opcode > _BINARY:
            raise WebSocketProtocolError(
                f"reserved opcode {opcode:#x}", close_code=CloseCode.PROTOCOL_ERROR
            )
        rsv = b0 & RSV_BITS
        if rsv and (rsv != RSV1 or opcode == _CONT or self._inflater is None):
            raise WebSocketProtocolError(
                f"reserved bits {rsv >> 4:03b} set without a negotiated extension"
            )
        if opcode == _CONT:
            if not self._msg_opcode:
                raise WebSocketProtocolError("continuation frame without a message to continue")
            compressed = self._msg_compressed
        elif self._msg_opcode and not self._partial:
            raise WebSocketProtocolError("new data frame inside a fragmented message")
        else:
            compressed = bool(rsv)
        max_frame = self._max_frame
        if max_frame is not None and length > max_frame:
            raise _too_big("frame", length, "max_frame_size", max_frame)
        max_message = self._max_message
        if not compressed and max_message is not None:
            size = length + (self._msg_size if opcode == _CONT else 0)  # a new one starts at 0
            if size > max_message:
                raise _too_big("message", size, "max_message_size", max_message)

    def _collectable(self, b0: int) -> bool:
        """Whether a frame is an uncompressed binary one (a whole message or a piece)."""
        opcode = b0 & OPCODE_BITS
        if b0 & RSV1:
            return False
        if opcode == _BINARY:
            return True
        return opcode == _CONT and self._msg_opcode == _BINARY and not self._msg_compressed

    def _begin_partial(self, b0: int) -> bool:
        """Whether the incomplete frame at the buffer head is uncompressed text, which
        is then validated piece by piece; starts the message for a text frame."""
        opcode = b0 & OPCODE_BITS
        if opcode == _TEXT and not b0 & RSV1:
            self._msg_opcode = _TEXT
            self._msg_compressed = False
            self._msg_parts = []
            self._msg_size = 0
            self._decoder.reset()
        elif opcode != _CONT or self._msg_opcode != _TEXT or self._msg_compressed:
            return False
        self._partial = True
        self._fed = 0
        return True

    def _feed_partial(self, data: memoryview) -> None:
        # Validate the part of a text frame that has arrived, so invalid UTF-8 fails
        # before the rest of the frame comes in.
        parts: list[str] = self._msg_parts  # type: ignore[assignment]
        parts.append(self._decoder.decode(data, False))
        self._fed += len(data)

    def _data_frame(self, opcode: int, fin: int, rsv1: int, payload: bytes | memoryview) -> None:
        if self._partial:
            self._partial = False
            self._msg_size += self._fed
            payload = payload[self._fed :]
            self._fed = 0
        elif opcode != _CONT:
            self._msg_opcode = opcode
            self._msg_compressed = bool(rsv1)
            self._msg_parts = []
            self._msg_size = 0
            if opcode == _TEXT:
                self._decoder.reset()
        data = payload
        if self._msg_compressed:
            max_message = self._max_message
            budget = None if max_message is None else max_message - self._msg_size
            inflater: Inflater = self._inflater  # type: ignore[assignment]
            data = inflater.decompress(payload, bool(fin), budget)
        self._msg_size += len(data)
        if self._msg_opcode == _TEXT:
            text_parts: list[str] = self._msg_parts  # type: ignore[assignment]
            text_parts.append(self._decoder.decode(data, bool(fin)))
            if fin:
                self._events.append(TextMessage("".join(text_parts)))
                self._msg_opcode = 0
        else:
            byte_parts: list[bytes] = self._msg_parts  # type: ignore[assignment]
            byte_parts.append(data.tobytes() if isinstance(data, memoryview) else data)
            if fin:
                self._events.append(BytesMessage(b"".join(byte_parts)))
                self._msg_opcode = 0
        if fin:
            self._msg_parts = []
            self._msg_size = 0

    def _close_frame(self, payload: memoryview) -> None:
        code, reason = parse_close_payload(payload)
        self._close_code = code
        self._close_reason = reason
        self._events.append(CloseReceived(code, reason))
        if self._state is _OPEN:
            frame = encode_frame(_FIN_CLOSE, payload, self._key())
            if self._defer:
                self._reply = frame
                self._reply_trigger = Trigger.RECEIVE_CLOSE
                return
            self._out += frame
        self._transition(Trigger.RECEIVE_CLOSE)

    def _fail(self, exc: WebSocketProtocolError) -> None:
        code = exc.close_code
        reason = exc.message.encode("utf-8")[:MAX_CLOSE_REASON].decode("utf-8", "ignore")
        self._failure = exc
        self._close_code = code
        self._close_reason = reason
        self._events.append(ConnectionFailed(code, reason, exc))
        if self._state is _OPEN:
            frame = encode_frame(_FIN_CLOSE, build_close_payload(code, reason), self._key())
            if self._defer:
                self._reply = frame
                self._reply_trigger = Trigger.FAIL
                self._buf = bytearray()
                self._msg_parts = []
                return
            self._out += frame
        self._transition(Trigger.FAIL)
        self._buf = bytearray()
        self._msg_parts = []

    def _transition(self, trigger: Trigger) -> None:
        new_state = TRANSITIONS.get((self._state, trigger))
        if new_state is None:
            raise LocalProtocolError(f"cannot {trigger.value} in state {self._state.name}")
        self._state = new_state

    # -- output ----------------------------------------------------------------------

    def _key(self) -> bytes:
        if self._key_source is not None:
            return self._key_source()
        pos = self._key_pos
        if pos >= _KEY_POOL:
            self._key_pool = os.urandom(_KEY_POOL)
            pos = 0
        self._key_pos = pos + 4
        return self._key_pool[pos : pos + 4]

    def _check_send(self, what: str) -> None:
        if self._state is not _OPEN:
            raise LocalProtocolError(f"cannot send {what}: connection is {self._state.name}")
        if self._send_opcode:
            raise LocalProtocolError(f"cannot send {what} while a fragmented message is being sent")

    def send_text(self, text: str) -> bytes:
        """The frame of a whole text message."""
        self._check_send("a message")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(f"text is not valid Unicode: {exc}") from None
        deflater = self._deflater
        if deflater is not None:
            return encode_frame(_FIN_TEXT_DEFLATED, deflater.compress(data, True), self._key())
        return encode_frame(_FIN_TEXT, data, self._key())

    def send_bytes(self, data: bytes | bytearray | memoryview) -> bytes:
        """The frame of a whole binary message."""
        self._check_send("a message")
        if type(data) is memoryview:
            data = _flat(data)
        deflater = self._deflater
        if deflater is not None:
            return encode_frame(_FIN_BINARY_DEFLATED, deflater.compress(data, True), self._key())
        return encode_frame(_FIN_BINARY, data, self._key())

    def send_fragment(self, data: str | bytes | bytearray | memoryview, *, final: bool) -> bytes:
        """One frame of a fragmented message.

        The first fragment's type (``str`` for text, bytes for binary) sets the
        message type; later fragments must have the same type. ``final=True`` ends the
        message. Control frames may be sent between fragments; other messages may not
        (``sending_fragmented`` says whether one is under way).
        """
        if self._state is not _OPEN:
            raise LocalProtocolError(f"cannot send a fragment: connection is {self._state.name}")
        is_text = isinstance(data, str)
        message_opcode = _TEXT if is_text else _BINARY
        first = not self._send_opcode
        if first:
            opcode = message_opcode
        elif self._send_opcode != message_opcode:
            raise LocalProtocolError("fragments of one message must all be str or all bytes")
        else:
            opcode = _CONT
        payload: bytes | bytearray | memoryview
        if isinstance(data, str):
            try:
                payload = data.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise LocalProtocolError(f"text is not valid Unicode: {exc}") from None
        else:
            payload = _flat(data) if type(data) is memoryview else data
        first_byte = opcode | (FIN if final else 0)
        if self._deflater is not None:
            payload = self._deflater.compress(payload, final)
            if first:
                first_byte |= RSV1
        self._send_opcode = 0 if final else message_opcode
        return encode_frame(first_byte, payload, self._key())

    def send_ping(self, payload: bytes = b"") -> bytes:
        """A ping frame (payload at most 125 bytes)."""
        return self._control(_FIN_PING, payload, "a ping")

    def send_pong(self, payload: bytes = b"") -> bytes:
        """An unsolicited pong frame (payload at most 125 bytes)."""
        return self._control(_FIN_PONG, payload, "a pong")

    def _control(self, first_byte: int, payload: bytes, what: str) -> bytes:
        if self._state is not _OPEN:
            raise LocalProtocolError(f"cannot send {what}: connection is {self._state.name}")
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError(
                f"{what} payload is {len(payload)} bytes; at most {MAX_CONTROL_PAYLOAD}"
            )
        return encode_frame(first_byte, payload, self._key())

    def send_close(self, code: int | None = CloseCode.NORMAL_CLOSURE, reason: str = "") -> bytes:
        """Our close frame (``code=None`` sends none); the state becomes CLOSING.

        Valid codes are 1000-1003, 1007-1014 and 3000-4999; ``reason`` is at most 123
        bytes of UTF-8. While a close frame is held (``defer_close``), that frame is
        returned instead: it is the answer the server waits for.
        """
        if self._reply is not None:
            return self.take_close_reply()
        payload = build_close_payload(code, reason)
        self._transition(Trigger.SEND_CLOSE)
        return encode_frame(_FIN_CLOSE, payload, self._key())


def _flat(view: memoryview) -> memoryview | bytes:
    """``view`` as plain bytes: a multi-dimensional, strided or non-byte view (where
    ``len`` does not count bytes) is copied, a flat byte view is used as it is."""
    if view.c_contiguous and view.ndim == 1 and view.itemsize == 1:
        return view
    return view.tobytes()


def _invalid_utf8() -> WebSocketProtocolError:
    return WebSocketProtocolError(
        "invalid UTF-8 in a text message", close_code=CloseCode.INVALID_DATA
    )


def _too_big(what: str, size: int, limit_name: str, limit: int) -> MessageTooBig:
    return MessageTooBig(
        f"{what} of {size} bytes exceeds {limit_name}={limit}", limit_name=limit_name, limit=limit
    )
