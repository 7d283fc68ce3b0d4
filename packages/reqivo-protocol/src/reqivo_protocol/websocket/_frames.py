"""Frame-level definitions: opcodes, close codes, the frame header, close payloads,
client frame encoding.

The frame header (RFC 6455 section 5.2) is defined here once, for both directions::

    byte 0: FIN (0x80) | RSV1-3 (0x70) | opcode (0x0F)
    byte 1: MASK (0x80) | payload length (0x7F): 0-125 as is; 126: a 16-bit length
            follows; 127: a 64-bit length follows (most significant bit clear)
    then the 4-byte masking key when MASK is set (client frames; never the server's)

``parse_header`` is the decoder of that layout: it gives a frame's first byte, payload
start and payload length. ``WebSocketConnection``'s receive paths take every header from
it, except that its two common cases (the short and the 16-bit length) are inlined in
the frame loop, and the short one in the one-small-message fast path: a function call
per frame costs 15-20% of decoding a frame of a few hundred bytes. They use the
constants below, and a property test checks that they read frames as it does.
``encode_frame`` is the encoder (its compiled twin writes the same bytes).
"""

from __future__ import annotations

import enum
import struct
from typing import Final, TypeAlias

from reqivo_protocol._exceptions import LocalProtocolError, WebSocketProtocolError
from reqivo_protocol.websocket._mask import ACCELERATED, mask_python

__all__ = [
    "CONTROL_BIT",
    "FIN",
    "LENGTH_16",
    "LENGTH_64",
    "MASK_BIT",
    "MAX_CLOSE_REASON",
    "MAX_CONTROL_PAYLOAD",
    "MAX_SHORT_LENGTH",
    "OPCODE_BITS",
    "RSV1",
    "RSV_BITS",
    "CloseCode",
    "FrameHeader",
    "Opcode",
    "build_close_payload",
    "encode_frame",
    "encode_frame_python",
    "is_valid_close_code",
    "parse_close_payload",
    "parse_header",
]


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 section 5.2): data frames below 8, control frames from 8."""

    CONT = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(enum.IntEnum):
    """Close codes defined by RFC 6455 section 7.4.1 and the IANA registry.

    NO_STATUS_RCVD (1005), ABNORMAL_CLOSURE (1006) and TLS_HANDSHAKE (1015) are never
    sent: they report a close frame without a code, a connection that ended without a
    close frame, and a failed TLS handshake. Codes 3000-4999 belong to libraries and
    applications and have no names here.
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


# The header layout (see the module docstring), as plain ints: the receive loop compares
# them with bytes, and the interpreter's int fast paths do not take enum members.
FIN: Final = 0x80
RSV1: Final = 0x40  # permessage-deflate's "compressed" bit (RFC 7692)
RSV_BITS: Final = 0x70
OPCODE_BITS: Final = 0x0F
MASK_BIT: Final = 0x80
MAX_SHORT_LENGTH: Final = 125  # the largest length that byte 1 holds itself
LENGTH_16: Final = 126
LENGTH_64: Final = 127
#: Opcodes with this bit set are control frames (RFC 6455 section 5.5).
CONTROL_BIT: Final = 0x08
#: A control frame's payload must fit the short form (RFC 6455 section 5.5).
MAX_CONTROL_PAYLOAD: Final = MAX_SHORT_LENGTH
#: A close reason's bytes: a control frame's payload after the 2-byte code.
MAX_CLOSE_REASON: Final = MAX_CONTROL_PAYLOAD - 2

FrameHeader: TypeAlias = tuple[int, int, int]
"""``(first byte, payload start, payload length)``, as ``parse_header`` returns it."""

_LENGTH_64 = struct.Struct("!Q")
_CLOSE_CODE = struct.Struct("!H")
_HEADER_SMALL = struct.Struct("!BB4s")
_HEADER_16 = struct.Struct("!BBH4s")
_HEADER_64 = struct.Struct("!BBQ4s")
_OPEN_RANGE_START = 3000  # 3000-4999: registered and private-use codes
_OPEN_RANGE_END = 4999


def parse_header(buf: bytes | bytearray, pos: int, end: int) -> FrameHeader:
    """The header of the server frame at ``buf[pos:end]``: ``(first byte, payload start,
    payload length)``, positions counted in ``buf``.

    While the header is incomplete the payload start lies past ``end``: the header then
    needs ``start - pos`` bytes, and the other two values mean nothing. Raises
    ``WebSocketProtocolError`` (1002) for a masked frame or a 64-bit length with its most
    significant bit set. The first byte's fields are not checked here: what is allowed
    depends on the connection's state.
    """
    avail = end - pos
    if avail < 2:
        return 0, pos + 2, 0
    length = buf[pos + 1]
    if length <= MAX_SHORT_LENGTH:
        return buf[pos], pos + 2, length
    if length == LENGTH_16:
        if avail < 4:
            return 0, pos + 4, 0
        return buf[pos], pos + 4, (buf[pos + 2] << 8) | buf[pos + 3]
    if length == LENGTH_64:
        if avail < 10:
            return 0, pos + 10, 0
        length = _LENGTH_64.unpack_from(buf, pos + 2)[0]
        if length >> 63:
            raise WebSocketProtocolError(
                "frame length has its most significant bit set",
                close_code=CloseCode.PROTOCOL_ERROR,
            )
        return buf[pos], pos + 10, length
    raise WebSocketProtocolError(
        "masked frame from the server", close_code=CloseCode.PROTOCOL_ERROR
    )


def is_valid_close_code(code: int) -> bool:
    """Whether ``code`` may appear in a close frame on the wire (RFC 6455 section 7.4).

    1000-1003 and 1007-1014 are defined codes; 3000-4999 are for libraries and
    applications. 1004, 1005, 1006 and 1015 are reserved and never sent.
    """
    return (
        CloseCode.NORMAL_CLOSURE <= code <= CloseCode.UNSUPPORTED_DATA
        or CloseCode.INVALID_DATA <= code <= CloseCode.BAD_GATEWAY
        or _OPEN_RANGE_START <= code <= _OPEN_RANGE_END
    )


def build_close_payload(code: int | None, reason: str) -> bytes:
    """The payload of a close frame we send; ``LocalProtocolError`` if it is invalid."""
    if code is None:
        if reason:
            raise LocalProtocolError("a close reason requires a close code")
        return b""
    if not is_valid_close_code(code):
        raise LocalProtocolError(f"invalid close code {code}")
    try:
        encoded = reason.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"close reason is not valid Unicode: {exc}") from None
    if len(encoded) > MAX_CLOSE_REASON:
        raise LocalProtocolError(
            f"close reason is {len(encoded)} bytes long; at most {MAX_CLOSE_REASON}"
        )
    return _CLOSE_CODE.pack(code) + encoded


def parse_close_payload(payload: bytes | memoryview) -> tuple[int, str]:
    """``(code, reason)`` of a received close frame; 1005 when it carries no code.

    Raises ``WebSocketProtocolError`` with close code 1002 for a one-byte payload or an
    invalid code, 1007 for a reason that is not UTF-8.
    """
    n = len(payload)
    if n == 0:
        return CloseCode.NO_STATUS_RCVD, ""
    if n == 1:
        raise WebSocketProtocolError(
            "close frame with a one-byte payload", close_code=CloseCode.PROTOCOL_ERROR
        )
    code = _CLOSE_CODE.unpack_from(payload)[0]
    if not is_valid_close_code(code):
        raise WebSocketProtocolError(
            f"invalid close code {code}", close_code=CloseCode.PROTOCOL_ERROR
        )
    try:
        reason = str(payload[2:], "utf-8")
    except UnicodeDecodeError:
        raise WebSocketProtocolError(
            "close reason is not valid UTF-8", close_code=CloseCode.INVALID_DATA
        ) from None
    return code, reason


def encode_frame_python(
    first_byte: int, payload: bytes | bytearray | memoryview, key: bytes
) -> bytes:
    """A masked client frame: ``first_byte`` carries FIN, RSV and the opcode.

    ``encode_frame`` is this function, or its compiled twin (one allocation, no
    concatenation) when the speedups extension is in use (see ``_mask``).
    """
    n = len(payload)
    if n <= MAX_SHORT_LENGTH:
        header = _HEADER_SMALL.pack(first_byte, MASK_BIT | n, key)
    elif n < 0x10000:
        header = _HEADER_16.pack(first_byte, MASK_BIT | LENGTH_16, n, key)
    else:
        header = _HEADER_64.pack(first_byte, MASK_BIT | LENGTH_64, n, key)
    return header + mask_python(payload, key)


if ACCELERATED:
    from reqivo_protocol.websocket._speedups import encode_frame
else:
    encode_frame = encode_frame_python
