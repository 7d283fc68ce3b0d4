"""The sans-IO building blocks of HTTP/2 (RFC 9113) and HPACK (RFC 7541).

- ``reqivo_protocol.http2.hpack``: ``Encoder`` and ``Decoder`` of header blocks.
- Frames (RFC 9113 sections 4 and 6): one frozen dataclass per frame type, each with
  ``serialize()``; ``FrameBuffer`` turns received byte chunks into frames.
- ``ErrorCode`` and the exceptions that carry it (``HTTP2ProtocolError`` and its
  subclasses): ``stream_id == 0`` means a connection error, anything else a stream error.

The client connection state machine that ties them together is not written yet.
"""

from __future__ import annotations

from reqivo_protocol.http2._errors import (
    ErrorCode,
    FrameTooLarge,
    HeaderListTooLarge,
    HPACKDecodingError,
    HTTP2ProtocolError,
)

__all__ = [
    "ErrorCode",
    "FrameTooLarge",
    "HPACKDecodingError",
    "HTTP2ProtocolError",
    "HeaderListTooLarge",
]
