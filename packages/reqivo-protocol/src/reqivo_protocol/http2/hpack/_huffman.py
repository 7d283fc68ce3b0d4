"""Huffman coding of string literals (RFC 7541 section 5.2 and appendix B).

Encoding works on text, mostly in C: each byte maps to its code written as
``"0"``/``"1"`` characters, one ``"".join`` builds the bit string of the whole literal,
``int(bits, 2)`` reads it, ones pad it to a byte boundary (the most significant bits of
EOS, as section 5.2 requires) and ``to_bytes`` packs it. Base-2 conversions are linear
and exempt from Python's int/str digit limit. The encoder inlines this.

Decoding is a byte-at-a-time state machine: the 256 internal nodes of the code tree
are the states (a state is the part of a code read so far), plus a failure state that
EOS leads to (section 5.2: EOS inside a literal is an error) and never leaves. One row
lookup per input byte gives the next state and the 0, 1 or 2 bytes decoded on the way
(codes are 5 bits or longer). At the end, the state must be the root or one of the
seven all-ones nodes above it: anything else is padding longer than 7 bits, padding that
is not a prefix of EOS, or a truncated code.

Each state's row of 256 transitions is built the first time the state is reached, by
composing two 4-bit steps: real text visits a few dozen states (the short codes of
common characters), so the first decodes build a fraction of the 65,792 transitions
(about 40 us a row) and importing the module builds nothing. Rows of 256 entries,
indexed by state then byte, also proved a little faster to walk than one flat table.
"""

from __future__ import annotations

from typing import Final, TypeAlias

from reqivo_protocol.http2._errors import HPACKDecodingError

__all__ = ["BITS", "decode_huffman", "encode_huffman"]

#: (code, length in bits) of each symbol, 0-255 and EOS (256): RFC 7541 appendix B.
CODES: Final = (
    (0x1ff8, 13), (0x7fffd8, 23), (0xfffffe2, 28), (0xfffffe3, 28), (0xfffffe4, 28),
    (0xfffffe5, 28), (0xfffffe6, 28), (0xfffffe7, 28), (0xfffffe8, 28), (0xffffea, 24),
    (0x3ffffffc, 30), (0xfffffe9, 28), (0xfffffea, 28), (0x3ffffffd, 30), (0xfffffeb, 28),
    (0xfffffec, 28), (0xfffffed, 28), (0xfffffee, 28), (0xfffffef, 28), (0xffffff0, 28),
    (0xffffff1, 28), (0xffffff2, 28), (0x3ffffffe, 30), (0xffffff3, 28), (0xffffff4, 28),
    (0xffffff5, 28), (0xffffff6, 28), (0xffffff7, 28), (0xffffff8, 28), (0xffffff9, 28),
    (0xffffffa, 28), (0xffffffb, 28), (0x14, 6), (0x3f8, 10), (0x3f9, 10),
    (0xffa, 12), (0x1ff9, 13), (0x15, 6), (0xf8, 8), (0x7fa, 11),
    (0x3fa, 10), (0x3fb, 10), (0xf9, 8), (0x7fb, 11), (0xfa, 8),
    (0x16, 6), (0x17, 6), (0x18, 6), (0x0, 5), (0x1, 5),
    (0x2, 5), (0x19, 6), (0x1a, 6), (0x1b, 6), (0x1c, 6),
    (0x1d, 6), (0x1e, 6), (0x1f, 6), (0x5c, 7), (0xfb, 8),
    (0x7ffc, 15), (0x20, 6), (0xffb, 12), (0x3fc, 10), (0x1ffa, 13),
    (0x21, 6), (0x5d, 7), (0x5e, 7), (0x5f, 7), (0x60, 7),
    (0x61, 7), (0x62, 7), (0x63, 7), (0x64, 7), (0x65, 7),
    (0x66, 7), (0x67, 7), (0x68, 7), (0x69, 7), (0x6a, 7),
    (0x6b, 7), (0x6c, 7), (0x6d, 7), (0x6e, 7), (0x6f, 7),
    (0x70, 7), (0x71, 7), (0x72, 7), (0xfc, 8), (0x73, 7),
    (0xfd, 8), (0x1ffb, 13), (0x7fff0, 19), (0x1ffc, 13), (0x3ffc, 14),
    (0x22, 6), (0x7ffd, 15), (0x3, 5), (0x23, 6), (0x4, 5),
    (0x24, 6), (0x5, 5), (0x25, 6), (0x26, 6), (0x27, 6),
    (0x6, 5), (0x74, 7), (0x75, 7), (0x28, 6), (0x29, 6),
    (0x2a, 6), (0x7, 5), (0x2b, 6), (0x76, 7), (0x2c, 6),
    (0x8, 5), (0x9, 5), (0x2d, 6), (0x77, 7), (0x78, 7),
    (0x79, 7), (0x7a, 7), (0x7b, 7), (0x7ffe, 15), (0x7fc, 11),
    (0x3ffd, 14), (0x1ffd, 13), (0xffffffc, 28), (0xfffe6, 20), (0x3fffd2, 22),
    (0xfffe7, 20), (0xfffe8, 20), (0x3fffd3, 22), (0x3fffd4, 22), (0x3fffd5, 22),
    (0x7fffd9, 23), (0x3fffd6, 22), (0x7fffda, 23), (0x7fffdb, 23), (0x7fffdc, 23),
    (0x7fffdd, 23), (0x7fffde, 23), (0xffffeb, 24), (0x7fffdf, 23), (0xffffec, 24),
    (0xffffed, 24), (0x3fffd7, 22), (0x7fffe0, 23), (0xffffee, 24), (0x7fffe1, 23),
    (0x7fffe2, 23), (0x7fffe3, 23), (0x7fffe4, 23), (0x1fffdc, 21), (0x3fffd8, 22),
    (0x7fffe5, 23), (0x3fffd9, 22), (0x7fffe6, 23), (0x7fffe7, 23), (0xffffef, 24),
    (0x3fffda, 22), (0x1fffdd, 21), (0xfffe9, 20), (0x3fffdb, 22), (0x3fffdc, 22),
    (0x7fffe8, 23), (0x7fffe9, 23), (0x1fffde, 21), (0x7fffea, 23), (0x3fffdd, 22),
    (0x3fffde, 22), (0xfffff0, 24), (0x1fffdf, 21), (0x3fffdf, 22), (0x7fffeb, 23),
    (0x7fffec, 23), (0x1fffe0, 21), (0x1fffe1, 21), (0x3fffe0, 22), (0x1fffe2, 21),
    (0x7fffed, 23), (0x3fffe1, 22), (0x7fffee, 23), (0x7fffef, 23), (0xfffea, 20),
    (0x3fffe2, 22), (0x3fffe3, 22), (0x3fffe4, 22), (0x7ffff0, 23), (0x3fffe5, 22),
    (0x3fffe6, 22), (0x7ffff1, 23), (0x3ffffe0, 26), (0x3ffffe1, 26), (0xfffeb, 20),
    (0x7fff1, 19), (0x3fffe7, 22), (0x7ffff2, 23), (0x3fffe8, 22), (0x1ffffec, 25),
    (0x3ffffe2, 26), (0x3ffffe3, 26), (0x3ffffe4, 26), (0x7ffffde, 27), (0x7ffffdf, 27),
    (0x3ffffe5, 26), (0xfffff1, 24), (0x1ffffed, 25), (0x7fff2, 19), (0x1fffe3, 21),
    (0x3ffffe6, 26), (0x7ffffe0, 27), (0x7ffffe1, 27), (0x3ffffe7, 26), (0x7ffffe2, 27),
    (0xfffff2, 24), (0x1fffe4, 21), (0x1fffe5, 21), (0x3ffffe8, 26), (0x3ffffe9, 26),
    (0xffffffd, 28), (0x7ffffe3, 27), (0x7ffffe4, 27), (0x7ffffe5, 27), (0xfffec, 20),
    (0xfffff3, 24), (0xfffed, 20), (0x1fffe6, 21), (0x3fffe9, 22), (0x1fffe7, 21),
    (0x1fffe8, 21), (0x7ffff3, 23), (0x3fffea, 22), (0x3fffeb, 22), (0x1ffffee, 25),
    (0x1ffffef, 25), (0xfffff4, 24), (0xfffff5, 24), (0x3ffffea, 26), (0x7ffff4, 23),
    (0x3ffffeb, 26), (0x7ffffe6, 27), (0x3ffffec, 26), (0x3ffffed, 26), (0x7ffffe7, 27),
    (0x7ffffe8, 27), (0x7ffffe9, 27), (0x7ffffea, 27), (0x7ffffeb, 27), (0xffffffe, 28),
    (0x7ffffec, 27), (0x7ffffed, 27), (0x7ffffee, 27), (0x7ffffef, 27), (0x7fffff0, 27),
    (0x3ffffee, 26), (0x3fffffff, 30),
)  # fmt: skip

_EOS: Final = 256
#: Each byte's code as a string of "0" and "1" characters.
BITS: Final = [format(code, f"0{length}b") for code, length in CODES[:_EOS]]


def encode_huffman(data: bytes) -> bytes:
    """The Huffman encoding of ``data``, padded with the most significant bits of EOS."""
    codes = BITS
    bits = "".join([codes[byte] for byte in data])
    pad = -len(bits) & 7
    if not bits:
        return b""
    return (int(bits, 2) << pad | (0xFF >> (8 - pad))).to_bytes((len(bits) + pad) >> 3, "big")


Row: TypeAlias = list[tuple[int, bytes]]


class _Tables:
    """The code tree and the state machine's rows, each built when first needed."""

    def __init__(self) -> None:
        # children[2 * node + bit]: an inner node's number, or ~symbol for a leaf.
        children = [0, 0]
        for symbol, (code, length) in enumerate(CODES):
            node = 0
            for shift in range(length - 1, 0, -1):
                slot = 2 * node + (code >> shift & 1)
                if not children[slot]:  # 0 is the root, never a child: "no node yet"
                    children[slot] = len(children) // 2
                    children += (0, 0)
                node = children[slot]
            children[2 * node + (code & 1)] = ~symbol
        self.children = children
        node = 0
        accepting = {node}
        for _ in range(7):
            node = children[2 * node + 1]
            accepting.add(node)
        self.accepting = frozenset(accepting)
        #: ``rows[state][byte]`` -> (next state, decoded bytes); ``None``: not built yet.
        self.rows: list[Row | None] = [None] * _FAIL + [[(_FAIL, b"")] * 256]
        self.nibbles: list[Row | None] = [None] * _FAIL + [[(_FAIL, b"")] * 16]

    def nibble_row(self, state: int) -> Row:
        """The 16 transitions of one 4-bit step from ``state``."""
        row = self.nibbles[state]
        if row is None:
            children = self.children
            row = []
            for nibble in range(16):
                node, decoded = state, b""
                for shift in (3, 2, 1, 0):
                    node = children[2 * node + (nibble >> shift & 1)]
                    if node == ~_EOS:
                        node = _FAIL
                        break
                    if node < 0:
                        decoded, node = _SINGLE[~node], 0
                row.append((node, decoded))
            self.nibbles[state] = row
        return row

    def row(self, state: int) -> Row:
        """The 256 transitions of one byte from ``state``: two 4-bit steps."""
        row = [
            (low_state, high + low)
            for high_state, high in self.nibble_row(state)
            for low_state, low in self.nibble_row(high_state)
        ]
        self.rows[state] = row
        return row


_FAIL: Final = 256  # a full binary tree of 257 leaves has 256 inner nodes: 0-255
_SINGLE: Final = [bytes((byte,)) for byte in range(256)]
_tables: _Tables | None = None


def decode_huffman(data: bytes) -> bytes:
    """Decode a Huffman-coded string literal; ``HPACKDecodingError`` if it is invalid."""
    global _tables
    tables = _tables or (_tables := _Tables())
    rows = tables.rows
    state = 0
    parts: list[bytes] = []
    append = parts.append
    for byte in data:
        row = rows[state]
        if row is None:
            row = tables.row(state)
        state, decoded = row[byte]
        append(decoded)
    if state not in tables.accepting:
        raise HPACKDecodingError(_failure(data, state))
    return b"".join(parts)


def _failure(data: bytes, state: int) -> str:
    if state == _FAIL:
        return "Huffman-coded string contains EOS"
    return f"invalid padding at the end of a Huffman-coded string of {len(data)} bytes"
