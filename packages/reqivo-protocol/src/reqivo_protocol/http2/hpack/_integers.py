"""Integer representation (RFC 7541 section 5.1).

An integer fills the low ``N`` bits of a first byte whose high bits carry the
representation's flags; a value of ``2**N - 1`` or more continues in 7-bit groups,
least significant first, the high bit of each byte saying whether another follows.
Callers read the common one-byte case inline and call ``decode_integer`` only for the
continuation bytes.
"""

from __future__ import annotations

from typing import Final

from reqivo_protocol.http2._errors import HPACKDecodingError

__all__ = ["MAX_INTEGER_BYTES", "decode_integer", "encode_integer"]

#: Continuation bytes accepted after the prefix: values up to about 2**28, far above
#: any length or index a block can use. More is refused rather than computed.
MAX_INTEGER_BYTES: Final = 4


def encode_integer(value: int, prefix_bits: int, flags: int) -> bytes:
    """``value`` with an ``prefix_bits``-bit prefix, ``flags`` set in the first byte."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((flags | value,))
    out = bytearray((flags | limit,))
    value -= limit
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_integer(data: bytes, pos: int, value: int) -> tuple[int, int]:
    """Add the continuation bytes at ``data[pos:]`` to ``value`` (the full prefix);
    return the integer and the position after it."""
    shift = 0
    end = min(len(data), pos + MAX_INTEGER_BYTES)
    while pos < end:
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    if end < len(data):
        raise HPACKDecodingError(f"integer longer than {MAX_INTEGER_BYTES} continuation bytes")
    raise HPACKDecodingError("header block truncated inside an integer")
