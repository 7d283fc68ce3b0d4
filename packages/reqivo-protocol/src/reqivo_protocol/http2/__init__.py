"""The sans-IO building blocks of HTTP/2 (RFC 9113) and HPACK (RFC 7541).

::

    buffer = FrameBuffer(max_frame_size=16384)
    buffer.feed(received)
    for frame in buffer:                 # DataFrame, HeadersFrame, SettingsFrame, ...
        ...
    wire = SettingsFrame(((SettingCode.ENABLE_PUSH, 0),)).serialize()

- ``reqivo_protocol.http2.hpack``: ``Encoder`` and ``Decoder`` of field blocks.
- Frames (RFC 9113 sections 4 and 6): one frozen dataclass per type, each with
  ``serialize()``; ``FrameBuffer`` turns received byte chunks into frames, checking
  what each frame alone can tell (lengths, padding, stream identifiers, settings).
- ``ErrorCode`` and the exceptions that carry it (``HTTP2ProtocolError`` and its
  subclasses): ``stream_id == 0`` asks for a connection error (GOAWAY), anything else
  for a stream error (RST_STREAM on that stream).

The client connection state machine (streams, flow control, settings negotiation)
that ties them together is not written yet.
"""

from __future__ import annotations

from reqivo_protocol.http2._buffer import DEFAULT_MAX_FRAME_SIZE, FrameBuffer
from reqivo_protocol.http2._connection import ClientConnection
from reqivo_protocol.http2._errors import (
    ErrorCode,
    FrameTooLarge,
    HeaderListTooLarge,
    HPACKDecodingError,
    HTTP2ProtocolError,
)
from reqivo_protocol.http2._events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    InformationalResponse,
    PingAcknowledged,
    RemoteSettingsChanged,
    ResponseReceived,
    SettingsAcknowledged,
    StreamEnded,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from reqivo_protocol.http2._frames import (
    PREFACE,
    ContinuationFrame,
    DataFrame,
    Frame,
    FrameType,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    Priority,
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
from reqivo_protocol.http2._stream import TRANSITIONS, StreamInput, StreamState

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "PREFACE",
    "TRANSITIONS",
    "ClientConnection",
    "ConnectionTerminated",
    "ContinuationFrame",
    "DataFrame",
    "DataReceived",
    "ErrorCode",
    "Event",
    "Frame",
    "FrameBuffer",
    "FrameTooLarge",
    "FrameType",
    "GoAwayFrame",
    "HPACKDecodingError",
    "HTTP2ProtocolError",
    "HeaderListTooLarge",
    "HeadersFrame",
    "InformationalResponse",
    "PingAcknowledged",
    "PingFrame",
    "Priority",
    "PriorityFrame",
    "PushPromiseFrame",
    "RemoteSettingsChanged",
    "ResponseReceived",
    "RstStreamFrame",
    "SettingCode",
    "SettingsAcknowledged",
    "SettingsFrame",
    "StreamEnded",
    "StreamInput",
    "StreamReset",
    "StreamState",
    "TrailersReceived",
    "UnknownFrame",
    "WindowUpdateFrame",
    "WindowUpdated",
    "frame_header",
    "parse_frame",
]
