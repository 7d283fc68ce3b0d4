"""HTTP/2 error codes (RFC 9113 section 7) and the exceptions that carry them.

Every error a peer can cause is a ``RemoteProtocolError`` carrying the RFC 9113 error
code to answer with and the stream it concerns: ``stream_id == 0`` asks for a
connection error (GOAWAY, RFC 9113 section 5.4.1), any other value for a stream error
(RST_STREAM on that stream, section 5.4.2). Limits exceeded by the peer are also
``LimitExceeded`` subclasses naming the limit, as for HTTP/1.1.
"""

from __future__ import annotations

import enum

from reqivo_protocol._exceptions import HeadersTooLarge, LimitExceeded, RemoteProtocolError

__all__ = [
    "ControlFrameFlood",
    "ErrorCode",
    "FrameTooLarge",
    "HPACKDecodingError",
    "HTTP2ProtocolError",
    "HeaderListTooLarge",
    "error_code",
]


class ErrorCode(enum.IntEnum):
    """The error codes of RST_STREAM and GOAWAY frames (RFC 9113 section 7)."""

    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    SETTINGS_TIMEOUT = 0x4
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9
    CONNECT_ERROR = 0xA
    ENHANCE_YOUR_CALM = 0xB
    INADEQUATE_SECURITY = 0xC
    HTTP_1_1_REQUIRED = 0xD


_KNOWN_CODES = {code.value: code for code in ErrorCode}


def error_code(value: int) -> int:
    """``value`` as an ``ErrorCode`` when it is one, else the plain ``int``: unknown
    codes are kept and must not trigger special behaviour (RFC 9113 section 7)."""
    return _KNOWN_CODES.get(value, value)


class HTTP2ProtocolError(RemoteProtocolError):
    """The peer violated RFC 9113 (or RFC 7541).

    ``error_code`` is the ``ErrorCode`` to send; ``stream_id`` is 0 for a connection
    error (answer with GOAWAY and close) or the stream to reset with RST_STREAM.
    ``events``: when ``ClientConnection.receive_data`` raises it, the events the same
    call produced before the error (responses completed in the same read).
    """

    events: tuple[object, ...] = ()

    def __init__(
        self,
        message: str = "",
        *,
        error_code: ErrorCode = ErrorCode.PROTOCOL_ERROR,
        stream_id: int = 0,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.stream_id = stream_id


class HPACKDecodingError(HTTP2ProtocolError):
    """A header block could not be decoded (RFC 7541): always a connection error of
    type COMPRESSION_ERROR, since the two dynamic tables may no longer agree."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message, error_code=ErrorCode.COMPRESSION_ERROR)


class HeaderListTooLarge(HTTP2ProtocolError, HeadersTooLarge):
    """A decoded header list exceeded ``max_header_list_size`` (the sum of each field's
    name and value lengths plus 32, as SETTINGS_MAX_HEADER_LIST_SIZE counts it).

    ``decoded``: whether the block was still decoded to its end, so that the dynamic
    table is intact and the connection can reset the one stream (``stream_id`` is filled
    in by the caller). A list past ``BOMB_FACTOR`` times the limit (an HPACK bomb) is
    not decoded further: the connection cannot go on.
    """

    decoded = True

    def __init__(self, message: str = "", *, limit: int = 0, stream_id: int = 0) -> None:
        LimitExceeded.__init__(self, message, limit_name="max_header_list_size", limit=limit)
        self.error_code = ErrorCode.ENHANCE_YOUR_CALM
        self.stream_id = stream_id


class FrameTooLarge(HTTP2ProtocolError, LimitExceeded):
    """A frame's payload exceeded ``max_frame_size`` (SETTINGS_MAX_FRAME_SIZE): a
    connection error of type FRAME_SIZE_ERROR (RFC 9113 section 4.2)."""

    def __init__(self, message: str = "", *, limit: int = 0) -> None:
        LimitExceeded.__init__(self, message, limit_name="max_frame_size", limit=limit)
        self.error_code = ErrorCode.FRAME_SIZE_ERROR
        self.stream_id = 0


class ControlFrameFlood(HTTP2ProtocolError, LimitExceeded):
    """The peer flooded us (CVE-2019-9512, -9514, -9515, -9518): more control frames
    than ``max_control_frames`` with no progress in between, or more than
    ``max_queued_acks`` bytes of our answers left unsent. A connection error of type
    ENHANCE_YOUR_CALM; ``limit_name`` says which limit."""

    def __init__(self, message: str = "", *, limit_name: str = "", limit: int = 0) -> None:
        LimitExceeded.__init__(self, message, limit_name=limit_name, limit=limit)
        self.error_code = ErrorCode.ENHANCE_YOUR_CALM
        self.stream_id = 0
