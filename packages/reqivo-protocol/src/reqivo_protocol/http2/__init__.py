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
from reqivo_protocol.http2._errors import (
    ErrorCode,
    FrameTooLarge,
    HeaderListTooLarge,
    HPACKDecodingError,
    HTTP2ProtocolError,
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

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "PREFACE",
    "ContinuationFrame",
    "DataFrame",
    "ErrorCode",
    "Frame",
    "FrameBuffer",
    "FrameTooLarge",
    "FrameType",
    "GoAwayFrame",
    "HPACKDecodingError",
    "HTTP2ProtocolError",
    "HeaderListTooLarge",
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
