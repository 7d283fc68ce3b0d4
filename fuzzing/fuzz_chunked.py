#!/usr/bin/env python3
"""Fuzz target: the chunked body decoder, through ``ClientConnection``.

The payload is the body of a ``Transfer-Encoding: chunked`` response (its head is fed
first, whole); the invariants are those of ``fuzz_http11``: only ``RemoteProtocolError``
escapes, and the whole and split feeds give the same ``Data`` bytes, trailers, error
class and final state.

Flags: bit 0 end of file after the payload, bit 1 small limits (16-byte chunk-size
lines, 256-byte trailer section, 8 trailer fields), bit 2 a HEAD-less ``Connection:
close`` response (framing still chunked, connection not reusable).
"""

from __future__ import annotations

from collections.abc import Sequence

from common import Input, check_same, main, pieces, unpack
from fuzz_http11 import Outcome, drive

HEADS = [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
]


def run(item: Input, chunks: Sequence[bytes]) -> Outcome:
    """Feed the chunked head, then ``chunks``, with the choices ``item.flags`` makes."""
    return drive(
        chunks,
        eof=bool(item.flags & 1),
        small_limits=bool(item.flags & 2),
        prefix=HEADS[(item.flags >> 2) & 1],
    )


def test_one_input(data: bytes) -> None:
    item = unpack(data)
    whole = run(item, [item.payload] if item.payload else [])
    split = run(item, pieces(item))
    check_same(whole, split, item)


if __name__ == "__main__":
    main(test_one_input)
