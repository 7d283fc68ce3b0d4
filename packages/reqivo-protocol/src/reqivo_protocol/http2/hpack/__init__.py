"""HPACK, the header compression of HTTP/2 (RFC 7541), without I/O or dependencies.

::

    encoder = Encoder()
    block = encoder.encode([(":method", "GET"), (":path", "/"), ...])   # -> bytes
    decoder = Decoder(max_table_size=4096)
    fields = decoder.decode(block)            # -> [(b":method", b"GET"), ...]

One ``Encoder`` and one ``Decoder`` per connection and direction: each keeps the
dynamic table that the other side mirrors, so blocks must be encoded and decoded in
the order they travel. ``Encoder.header_table_size`` is set from the peer's
SETTINGS_HEADER_TABLE_SIZE; ``Decoder.max_table_size`` is the size we allow the peer.
Decoding errors raise ``HPACKDecodingError`` (a ``RemoteProtocolError`` carrying
COMPRESSION_ERROR); a header list over ``max_header_list_size`` raises
``HeaderListTooLarge`` (a ``LimitExceeded``).
"""

from __future__ import annotations

from reqivo_protocol.http2._errors import HeaderListTooLarge, HPACKDecodingError
from reqivo_protocol.http2.hpack._decoder import Decoder
from reqivo_protocol.http2.hpack._encoder import NEVER_INDEXED, UNINDEXED, Encoder
from reqivo_protocol.http2.hpack._huffman import decode_huffman, encode_huffman
from reqivo_protocol.http2.hpack._table import (
    DEFAULT_TABLE_SIZE,
    MAX_HEADER_LIST_SIZE,
    STATIC_TABLE,
)

__all__ = [
    "DEFAULT_TABLE_SIZE",
    "MAX_HEADER_LIST_SIZE",
    "NEVER_INDEXED",
    "STATIC_TABLE",
    "UNINDEXED",
    "Decoder",
    "Encoder",
    "HPACKDecodingError",
    "HeaderListTooLarge",
    "decode_huffman",
    "encode_huffman",
]
