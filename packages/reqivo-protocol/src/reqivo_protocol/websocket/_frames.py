"""Frame-level constants and helpers: opcodes, close payloads, client frame encoding.

The incremental frame *parser* lives in ``_connection.py``, inlined in the receive loop:
a per-frame function call and a per-frame object would cost more than the parsing itself.
"""

from __future__ import annotations

import struct

from reqivo_protocol._exceptions import LocalProtocolError, WebSocketProtocolError
from reqivo_protocol.websocket._mask import ACCELERATED, mask_python

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "build_close_payload",
    "encode_frame",
    "encode_frame_python",
    "is_valid_close_code",
    "parse_close_payload",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

FIN = 0x80
RSV1 = 0x40

_HEADER_SMALL = struct.Struct("!BB4s")
_HEADER_16 = struct.Struct("!BBH4s")
_HEADER_64 = struct.Struct("!BBQ4s")


def is_valid_close_code(code: int) -> bool:
    """Whether ``code`` may appear in a close frame on the wire (RFC 6455 section 7.4).

    1000-1003 and 1007-1014 are defined codes; 3000-4999 are for libraries and
    applications. 1004, 1005, 1006 and 1015 are reserved and never sent.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


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
    if len(encoded) > 123:
        raise LocalProtocolError(f"close reason is {len(encoded)} bytes long; at most 123")
    return code.to_bytes(2, "big") + encoded


def parse_close_payload(payload: bytes | memoryview) -> tuple[int, str]:
    """``(code, reason)`` of a received close frame; 1005 when it carries no code.

    Raises ``WebSocketProtocolError`` with close code 1002 for a one-byte payload or an
    invalid code, 1007 for a reason that is not UTF-8.
    """
    n = len(payload)
    if n == 0:
        return 1005, ""
    if n == 1:
        raise WebSocketProtocolError("close frame with a one-byte payload", close_code=1002)
    code = (payload[0] << 8) | payload[1]
    if not is_valid_close_code(code):
        raise WebSocketProtocolError(f"invalid close code {code}", close_code=1002)
    try:
        reason = str(payload[2:], "utf-8")
    except UnicodeDecodeError:
        raise WebSocketProtocolError("close reason is not valid UTF-8", close_code=1007) from None
    return code, reason


def encode_frame_python(
    first_byte: int, payload: bytes | bytearray | memoryview, key: bytes
) -> bytes:
    """A masked client frame: ``first_byte`` carries FIN, RSV and the opcode.

    ``encode_frame`` is this function, or its compiled twin (one allocation, no
    concatenation) when the speedups extension is in use (see ``_mask``).
    """
    n = len(payload)
    if n < 126:
        header = _HEADER_SMALL.pack(first_byte, 0x80 | n, key)
    elif n < 0x10000:
        header = _HEADER_16.pack(first_byte, 0xFE, n, key)
    else:
        header = _HEADER_64.pack(first_byte, 0xFF, n, key)
    return header + mask_python(payload, key)


if ACCELERATED:
    from reqivo_protocol.websocket._speedups import encode_frame
else:
    encode_frame = encode_frame_python
