#!/usr/bin/env python3
"""Fuzz target: the HPACK decoder (``reqivo_protocol.http2.hpack.Decoder``).

The payload is a sequence of header blocks, cut at the fuzzer's points (HPACK blocks
arrive whole, so the cuts delimit blocks, decoded in order on one connection's
decoder). Invariants:

* ``decode`` returns a list or raises ``HPACKDecodingError`` (then the connection is
  over: nothing more is decoded) or ``HeaderListTooLarge`` (the table stays in step:
  decoding goes on; unless ``decoded`` is false, a bomb: the connection is over);
  nothing else escapes;
* a decoded list stays within ``max_header_list_size``; the dynamic table within the
  size the peer announced, itself within ``max_table_size``;
* what was decoded, encoded again by our ``Encoder`` (one per connection, like the
  decoder) and decoded by a second ``Decoder``, gives the same list, and both sides'
  tables agree.

Flags: bits 0-1 ``max_table_size`` (4096, 256, 0, 65536), bits 2-3
``max_header_list_size`` (65536, 1000, 100, 16384), bit 4 Huffman off in the
re-encoding, bit 5 lowers ``max_table_size`` to 128 after the first block (the next
block must then start with a size update).
"""

from __future__ import annotations

from common import Mismatch, instrumented, main, pieces, unpack

with instrumented():
    from reqivo_protocol.http2.hpack import (
        Decoder,
        Encoder,
        HeaderListTooLarge,
        HPACKDecodingError,
    )

TABLE_SIZES = [4096, 256, 0, 65536]
LIST_SIZES = [65536, 1000, 100, 16384]


def _check_table(decoder: Decoder) -> None:
    if not decoder.table_size <= decoder.table_limit <= max(decoder.max_table_size, 4096):
        raise Mismatch(f"table {decoder.table_size}/{decoder.table_limit} over its limit")


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    flags = item.flags
    list_limit = LIST_SIZES[flags >> 2 & 3]
    decoder = Decoder(TABLE_SIZES[flags & 3], max_header_list_size=list_limit)
    encoder = Encoder(huffman=not flags & 16)
    mirror = Decoder(1 << 20, max_header_list_size=1 << 30)
    for number, block in enumerate(pieces(item) or [b""]):
        if number == 1 and flags & 32:
            decoder.max_table_size = 128
        try:
            fields = decoder.decode(block)
        except HPACKDecodingError:
            return  # the connection is over: its table no longer matters
        except HeaderListTooLarge as exc:
            if not exc.decoded:
                return
            _check_table(decoder)
            continue
        _check_table(decoder)
        size = sum(len(name) + len(value) + 32 for name, value in fields)
        if size > list_limit:
            raise Mismatch(f"decoded list of {size} bytes, over {list_limit}")
        encoder.header_table_size = decoder.table_limit
        again = mirror.decode(encoder.encode(fields))
        if again != fields:
            raise Mismatch(f"re-encoding changed the fields: {fields!r} -> {again!r}")
        if mirror.dynamic_table != encoder.dynamic_table:
            raise Mismatch("the re-encoding's tables disagree")


if __name__ == "__main__":
    main(test_one_input)
