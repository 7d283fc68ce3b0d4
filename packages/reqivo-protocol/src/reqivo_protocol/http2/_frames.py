"""HTTP/2 frames (RFC 9113 sections 4 and 6): one frozen dataclass per type.

Every frame serializes itself (``serialize()``, which refuses with
``LocalProtocolError`` what RFC 9113 forbids to send) and ``parse_frame`` builds one
from a frame header and payload, checking what the frame alone can tell:

* the stream identifier each type requires (zero for SETTINGS, PING and GOAWAY,
  non-zero for the others; WINDOW_UPDATE takes both): a connection error of type
  PROTOCOL_ERROR otherwise;
* the payload length each type requires (RST_STREAM 4, PRIORITY 5, PING 8,
  WINDOW_UPDATE 4, SETTINGS a multiple of 6 and 0 with ACK, GOAWAY at least 8):
  FRAME_SIZE_ERROR, a stream error only for PRIORITY (section 6.3);
* padding (DATA, HEADERS, PUSH_PROMISE; section 6.1): the pad length octet is
  removed with the padding, whose length must be less than what follows the octet
  (PROTOCOL_ERROR); ``padding`` keeps its length (``None``: the frame was not padded)
  because flow control counts it;
* SETTINGS values (section 6.5.2): ENABLE_PUSH, ENABLE_CONNECT_PROTOCOL and
  NO_RFC7540_PRIORITIES 0 or 1, MAX_FRAME_SIZE within 2**14..2**24-1 (PROTOCOL_ERROR),
  INITIAL_WINDOW_SIZE at most 2**31-1 (FLOW_CONTROL_ERROR); unknown settings are
  kept, to be ignored;
* WINDOW_UPDATE increments of 0 (PROTOCOL_ERROR: a stream error on a stream), a
  stream depending on itself in HEADERS or PRIORITY (a stream error, section 5.3.1),
  and PUSH_PROMISE promising stream 0 or an odd stream (only servers push, on even
  streams: section 5.1.1).

Frames of unknown types become ``UnknownFrame`` (section 5.5: to be ignored). Unknown
flags are ignored and the reserved bit of stream identifiers is cleared. Error codes
of RST_STREAM and GOAWAY are ``ErrorCode`` members when known, plain ints otherwise.
What depends on the connection's state (which streams exist, CONTINUATION following
HEADERS, flow control windows) is the connection's to check.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final, NoReturn, TypeAlias

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol.http2._errors import ErrorCode, HTTP2ProtocolError, error_code

__all__ = [
    "PREFACE",
    "ContinuationFrame",
    "DataFrame",
    "Frame",
    "FrameType",
    "GoAwayFrame",
    "HeadersFrame",
    "PingFrame",
    "Priority",
    "PriorityFrame",
    "PushPromiseFrame",
    "RstStreamFrame",
    "SettingCode",
    "SettingsFrame",
    "UnknownFrame",
    "WindowUpdateFrame",
    "frame_header",
    "parse_frame",
]

#: What a client sends first on a connection, before its SETTINGS (section 3.4).
PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: Largest stream identifier, window size and window increment: 2**31 - 1.
MAX_31_BIT: Final = 0x7FFFFFFF

_HEADER: Final = struct.Struct(">BHBBL")
_PRIORITY: Final = struct.Struct(">LB")
_PAIR: Final = struct.Struct(">LL")
_SETTING: Final = struct.Struct(">HL")

END_STREAM: Final = 0x1
ACK: Final = 0x1
END_HEADERS: Final = 0x4
PADDED: Final = 0x8
PRIORITY_FLAG: Final = 0x20


class FrameType(enum.IntEnum):
    """Frame type codes (RFC 9113 section 6)."""

    DATA = 0x0
    HEADERS = 0x1
    PRIORITY = 0x2
    RST_STREAM = 0x3
    SETTINGS = 0x4
    PUSH_PROMISE = 0x5
    PING = 0x6
    GOAWAY = 0x7
    WINDOW_UPDATE = 0x8
    CONTINUATION = 0x9


class SettingCode(enum.IntEnum):
    """SETTINGS parameters (RFC 9113 section 6.5.2, RFC 8441, RFC 9218)."""

    HEADER_TABLE_SIZE = 0x1
    ENABLE_PUSH = 0x2
    MAX_CONCURRENT_STREAMS = 0x3
    INITIAL_WINDOW_SIZE = 0x4
    MAX_FRAME_SIZE = 0x5
    MAX_HEADER_LIST_SIZE = 0x6
    ENABLE_CONNECT_PROTOCOL = 0x8
    NO_RFC7540_PRIORITIES = 0x9


def frame_header(length: int, frame_type: int, flags: int, stream_id: int) -> bytes:
    """The 9-byte header of a frame (section 4.1)."""
    return _HEADER.pack(length >> 16, length & 0xFFFF, frame_type, flags, stream_id)


@dataclass(frozen=True, slots=True)
class Priority:
    """A stream's priority (RFC 9113 section 5.3.2, deprecated but still parsed):
    ``weight`` is 1-256."""

    depends_on: int = 0
    weight: int = 16
    exclusive: bool = False

    def _serialize(self) -> bytes:
        _check_stream_id(self.depends_on, "depends_on", zero=True)
        if not 1 <= self.weight <= 256:
            raise LocalProtocolError(f"priority weight must be 1-256, not {self.weight}")
        return _PRIORITY.pack(self.depends_on | (self.exclusive << 31), self.weight - 1)


@dataclass(frozen=True, slots=True)
class DataFrame:
    """DATA (section 6.1). ``padding``: the padding's length, ``None`` if unpadded."""

    stream_id: int
    data: bytes = b""
    end_stream: bool = False
    padding: int | None = None

    @property
    def flow_controlled_length(self) -> int:
        """What the frame counts against flow control windows: its whole payload."""
        return len(self.data) + (0 if self.padding is None else self.padding + 1)

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "DATA")
        return _padded(FrameType.DATA, self.end_stream, self.stream_id, b"", self.data,
                       self.padding)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HeadersFrame:
    """HEADERS (section 6.2): the first fragment of a field block."""

    stream_id: int
    block: bytes = b""
    end_stream: bool = False
    end_headers: bool = True
    priority: Priority | None = None
    padding: int | None = None

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "HEADERS")
        flags = self.end_stream | (self.end_headers << 2)
        prefix = b""
        if self.priority is not None:
            flags |= PRIORITY_FLAG
            prefix = self.priority._serialize()
        return _padded(FrameType.HEADERS, flags, self.stream_id, prefix, self.block,
                       self.padding)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PriorityFrame:
    """PRIORITY (section 6.3): deprecated; parsed so that it can be ignored."""

    stream_id: int
    priority: Priority = Priority()

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "PRIORITY")
        return frame_header(5, FrameType.PRIORITY, 0, self.stream_id) + self.priority._serialize()


@dataclass(frozen=True, slots=True)
class RstStreamFrame:
    """RST_STREAM (section 6.4)."""

    stream_id: int
    error_code: int = ErrorCode.NO_ERROR

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "RST_STREAM")
        return frame_header(4, FrameType.RST_STREAM, 0, self.stream_id) + _u32(self.error_code)


@dataclass(frozen=True, slots=True)
class SettingsFrame:
    """SETTINGS (section 6.5): ``(parameter, value)`` pairs in order, or an ACK."""

    settings: tuple[tuple[int, int], ...] = ()
    ack: bool = False
    stream_id: ClassVar[int] = 0

    def serialize(self) -> bytes:
        """The frame's bytes."""
        if self.ack and self.settings:
            raise LocalProtocolError("a SETTINGS acknowledgement carries no settings")
        for parameter, value in self.settings:
            _check_setting(parameter, value, LocalProtocolError)
        payload = b"".join([_SETTING.pack(p, v) for p, v in self.settings])
        return frame_header(len(payload), FrameType.SETTINGS, self.ack, 0) + payload


@dataclass(frozen=True, slots=True)
class PushPromiseFrame:
    """PUSH_PROMISE (section 6.6)."""

    stream_id: int
    promised_stream_id: int
    block: bytes = b""
    end_headers: bool = True
    padding: int | None = None

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "PUSH_PROMISE")
        _check_stream_id(self.promised_stream_id, "promised")
        if self.promised_stream_id & 1:
            raise LocalProtocolError(
                f"promised stream id must be even (a server's), not {self.promised_stream_id}"
            )
        return _padded(FrameType.PUSH_PROMISE, self.end_headers << 2, self.stream_id,
                       _u32(self.promised_stream_id), self.block, self.padding)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PingFrame:
    """PING (section 6.7): 8 opaque bytes, echoed back with ``ack``."""

    opaque: bytes = bytes(8)
    ack: bool = False
    stream_id: ClassVar[int] = 0

    def serialize(self) -> bytes:
        """The frame's bytes."""
        if len(self.opaque) != 8:
            raise LocalProtocolError(f"PING carries 8 bytes, not {len(self.opaque)}")
        return frame_header(8, FrameType.PING, self.ack, 0) + self.opaque


@dataclass(frozen=True, slots=True)
class GoAwayFrame:
    """GOAWAY (section 6.8)."""

    last_stream_id: int
    error_code: int = ErrorCode.NO_ERROR
    debug_data: bytes = b""
    stream_id: ClassVar[int] = 0

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.last_stream_id, "last", zero=True)
        payload = _PAIR.pack(self.last_stream_id, self.error_code) + self.debug_data
        return frame_header(len(payload), FrameType.GOAWAY, 0, 0) + payload


@dataclass(frozen=True, slots=True)
class WindowUpdateFrame:
    """WINDOW_UPDATE (section 6.9): on stream 0, for the whole connection."""

    stream_id: int
    increment: int

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "WINDOW_UPDATE", zero=True)
        if not 1 <= self.increment <= MAX_31_BIT:
            raise LocalProtocolError(f"window increment must be 1 to 2**31-1, not {self.increment}")
        return frame_header(4, FrameType.WINDOW_UPDATE, 0, self.stream_id) + _u32(self.increment)


@dataclass(frozen=True, slots=True)
class ContinuationFrame:
    """CONTINUATION (section 6.10): a further fragment of a field block."""

    stream_id: int
    block: bytes = b""
    end_headers: bool = False

    def serialize(self) -> bytes:
        """The frame's bytes."""
        _check_stream_id(self.stream_id, "CONTINUATION")
        header = frame_header(len(self.block), FrameType.CONTINUATION, self.end_headers << 2,
                              self.stream_id)  # fmt: skip
        return header + self.block


@dataclass(frozen=True, slots=True)
class UnknownFrame:
    """A frame of a type this module does not know (section 5.5: ignore it)."""

    type: int
    flags: int
    stream_id: int
    payload: bytes = b""

    def serialize(self) -> bytes:
        """The frame's bytes."""
        if not 0 <= self.type <= 0xFF or not 0 <= self.flags <= 0xFF:
            raise LocalProtocolError("frame type and flags are single bytes")
        _check_stream_id(self.stream_id, "frame", zero=True)
        return frame_header(len(self.payload), self.type, self.flags, self.stream_id) + self.payload


Frame: TypeAlias = (
    DataFrame | HeadersFrame | PriorityFrame | RstStreamFrame | SettingsFrame
    | PushPromiseFrame | PingFrame | GoAwayFrame | WindowUpdateFrame | ContinuationFrame
    | UnknownFrame
)  # fmt: skip


# -- serializing ---------------------------------------------------------------------------


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def _check_stream_id(stream_id: int, what: str, *, zero: bool = False) -> None:
    if not (0 if zero else 1) <= stream_id <= MAX_31_BIT:
        allowed = "0" if zero else "1"
        raise LocalProtocolError(f"{what} stream id must be {allowed} to 2**31-1, not {stream_id}")


def _padded(
    frame_type: int, flags: int, stream_id: int, prefix: bytes, body: bytes, padding: int | None
) -> bytes:
    if padding is None:
        header = frame_header(len(prefix) + len(body), frame_type, flags, stream_id)
        return header + prefix + body if prefix else header + body
    if not 0 <= padding <= 255:
        raise LocalProtocolError(f"padding must be 0-255 bytes, not {padding}")
    length = 1 + len(prefix) + len(body) + padding
    header = frame_header(length, frame_type, flags | PADDED, stream_id)
    return b"".join((header, bytes((padding,)), prefix, body, bytes(padding)))


# -- parsing -------------------------------------------------------------------------------


def _error(
    message: str, code: ErrorCode = ErrorCode.PROTOCOL_ERROR, stream_id: int = 0
) -> NoReturn:
    raise HTTP2ProtocolError(message, error_code=code, stream_id=stream_id)


def _on_stream(name: str, stream_id: int) -> None:
    if not stream_id:
        _error(f"{name} frame on stream 0")


def _on_connection(name: str, stream_id: int) -> None:
    if stream_id:
        _error(f"{name} frame on stream {stream_id}, not 0")


def _length(name: str, payload: bytes, expected: int, stream_id: int = 0) -> None:
    if len(payload) != expected:
        _error(f"{name} frame of {len(payload)} bytes, not {expected}",
               ErrorCode.FRAME_SIZE_ERROR, stream_id)  # fmt: skip


def _unpad(name: str, flags: int, payload: bytes, fixed: int) -> tuple[bytes, int | None]:
    """The payload without its padding (and pad length octet), and the padding length;
    ``fixed`` bytes after the pad length octet must be present."""
    if not flags & PADDED:
        if len(payload) < fixed:
            _error(f"{name} frame of {len(payload)} bytes is too short", ErrorCode.FRAME_SIZE_ERROR)
        return payload, None
    if len(payload) < 1 + fixed:
        _error(f"padded {name} frame of {len(payload)} bytes is too short",
               ErrorCode.FRAME_SIZE_ERROR)  # fmt: skip
    padding = payload[0]
    end = len(payload) - padding
    if end < 1 + fixed:
        _error(f"{name} frame's padding ({padding} bytes) does not fit in its payload "
               f"({len(payload)} bytes)")  # fmt: skip
    return payload[1:end], padding


def _priority(data: bytes, stream_id: int) -> Priority:
    dependency, weight = _PRIORITY.unpack_from(data)
    depends_on = dependency & MAX_31_BIT
    if depends_on == stream_id:
        _error(f"stream {stream_id} depends on itself", stream_id=stream_id)
    return Priority(depends_on, weight + 1, bool(dependency >> 31))


def _data(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_stream("DATA", stream_id)
    data, padding = _unpad("DATA", flags, payload, 0)
    return DataFrame(stream_id, data, bool(flags & END_STREAM), padding)


def _headers(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_stream("HEADERS", stream_id)
    has_priority = flags & PRIORITY_FLAG
    block, padding = _unpad("HEADERS", flags, payload, 5 if has_priority else 0)
    priority = None
    if has_priority:
        priority = _priority(block, stream_id)
        block = block[5:]
    return HeadersFrame(stream_id, block, bool(flags & END_STREAM), bool(flags & END_HEADERS),
                        priority, padding)  # fmt: skip


def _priority_frame(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_stream("PRIORITY", stream_id)
    _length("PRIORITY", payload, 5, stream_id)
    return PriorityFrame(stream_id, _priority(payload, stream_id))


def _rst_stream(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_stream("RST_STREAM", stream_id)
    _length("RST_STREAM", payload, 4)
    return RstStreamFrame(stream_id, error_code(int.from_bytes(payload, "big")))


def _check_setting(parameter: int, value: int, error: Callable[..., Exception]) -> None:
    if not 0 <= parameter <= 0xFFFF or not 0 <= value <= 0xFFFFFFFF:
        raise error(f"setting {parameter}={value} does not fit its 16 and 32 bits")
    if parameter in (2, 8, 9) and value > 1:
        name = SettingCode(parameter).name
        raise error(f"{name} must be 0 or 1, not {value}")
    if parameter == SettingCode.MAX_FRAME_SIZE and not 0x4000 <= value <= 0xFFFFFF:
        raise error(f"MAX_FRAME_SIZE must be 16384 to 16777215, not {value}")
    if parameter == SettingCode.INITIAL_WINDOW_SIZE and value > MAX_31_BIT:
        if error is LocalProtocolError:
            raise error(f"INITIAL_WINDOW_SIZE must be at most 2**31-1, not {value}")
        raise HTTP2ProtocolError(f"INITIAL_WINDOW_SIZE must be at most 2**31-1, not {value}",
                                 error_code=ErrorCode.FLOW_CONTROL_ERROR)  # fmt: skip


def _settings(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_connection("SETTINGS", stream_id)
    if flags & ACK:
        _length("SETTINGS acknowledgement", payload, 0)
        return SettingsFrame(ack=True)
    if len(payload) % 6:
        _error(f"SETTINGS frame of {len(payload)} bytes, not a multiple of 6",
               ErrorCode.FRAME_SIZE_ERROR)  # fmt: skip
    settings = tuple(_SETTING.iter_unpack(payload))
    for parameter, value in settings:
        _check_setting(parameter, value, HTTP2ProtocolError)
    return SettingsFrame(settings)


def _push_promise(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_stream("PUSH_PROMISE", stream_id)
    block, padding = _unpad("PUSH_PROMISE", flags, payload, 4)
    promised = int.from_bytes(block[:4], "big") & MAX_31_BIT
    if not promised or promised & 1:
        _error(f"PUSH_PROMISE frame promising stream {promised}, not a server's (even) stream")
    return PushPromiseFrame(stream_id, promised, block[4:], bool(flags & END_HEADERS), padding)


def _ping(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_connection("PING", stream_id)
    _length("PING", payload, 8)
    return PingFrame(payload, bool(flags & ACK))


def _goaway(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_connection("GOAWAY", stream_id)
    if len(payload) < 8:
        _error(f"GOAWAY frame of {len(payload)} bytes, less than 8", ErrorCode.FRAME_SIZE_ERROR)
    last, code = _PAIR.unpack_from(payload)
    return GoAwayFrame(last & MAX_31_BIT, error_code(code), payload[8:])


def _window_update(flags: int, stream_id: int, payload: bytes) -> Frame:
    _length("WINDOW_UPDATE", payload, 4)
    increment = int.from_bytes(payload, "big") & MAX_31_BIT
    if not increment:
        _error("WINDOW_UPDATE with an increment of 0", stream_id=stream_id)
    return WindowUpdateFrame(stream_id, increment)


def _continuation(flags: int, stream_id: int, payload: bytes) -> Frame:
    _on_stream("CONTINUATION", stream_id)
    return ContinuationFrame(stream_id, payload, bool(flags & END_HEADERS))


_PARSERS: Final[list[Callable[[int, int, bytes], Frame]]] = [
    _data, _headers, _priority_frame, _rst_stream, _settings, _push_promise, _ping, _goaway,
    _window_update, _continuation,
]  # fmt: skip


def parse_frame(frame_type: int, flags: int, stream_id: int, payload: bytes) -> Frame:
    """The frame of this header and payload (``stream_id`` without its reserved bit);
    ``HTTP2ProtocolError`` if the frame is malformed."""
    if frame_type < len(_PARSERS):
        return _PARSERS[frame_type](flags, stream_id, payload)
    return UnknownFrame(frame_type, flags, stream_id, payload)
