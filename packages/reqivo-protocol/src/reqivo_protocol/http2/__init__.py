"""Sans-IO HTTP/2 (RFC 9113) and HPACK (RFC 7541): the client connection and its parts.

::

    conn = ClientConnection()
    conn.initiate()                       # preface, SETTINGS (ENABLE_PUSH=0), window update
    sid = conn.send_headers([(b":method", b"GET"), (b":scheme", b"https"),
                             (b":authority", b"example.com"), (b":path", b"/")],
                            end_stream=True)
    sock.sendall(conn.data_to_send())
    for event in conn.receive_data(sock.recv(65536)):   # ResponseReceived, DataReceived, ...
        if isinstance(event, DataReceived):
            conn.acknowledge_received_data(event.stream_id, len(event.data))
    sock.sendall(conn.data_to_send())     # after every call: PING/SETTINGS answers, windows

- ``ClientConnection`` and its events (``ResponseReceived``, ``InformationalResponse``,
  ``DataReceived``, ``TrailersReceived``, ``StreamEnded``, ``StreamReset``,
  ``WindowUpdated``, ``RemoteSettingsChanged``, ``SettingsAcknowledged``,
  ``PingAcknowledged``, ``ConnectionTerminated``): streams, flow control both ways,
  SETTINGS negotiation, field validation (RFC 9113 section 8). Stream states and their
  transition table: ``StreamState``, ``StreamInput``, ``TRANSITIONS``.
- ``reqivo_protocol.http2.hpack``: ``Encoder`` and ``Decoder`` of field blocks.
- Frames (RFC 9113 sections 4 and 6): one frozen dataclass per type, each with
  ``serialize()``; ``FrameBuffer`` turns received byte chunks into frames, checking
  what each frame alone can tell (lengths, padding, stream identifiers, settings).
- ``ErrorCode`` and the exceptions that carry it (``HTTP2ProtocolError`` and its
  subclasses): ``stream_id == 0`` asks for a connection error (GOAWAY), anything else
  for a stream error (RST_STREAM on that stream). ``ClientConnection`` raises only
  connection errors; stream errors become ``StreamReset(remote=False)`` events.

This package is loaded on first use: ``import reqivo_protocol`` does not import it.
"""

from __future__ import annotations

from reqivo_protocol.http2._buffer import DEFAULT_MAX_FRAME_SIZE, FrameBuffer
from reqivo_protocol.http2._connection import ClientConnection
from reqivo_protocol.http2._errors import (
    ControlFrameFlood,
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
    "ControlFrameFlood",
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
