"""The HPACK encoder (RFC 7541 sections 2.3, 4, 6 and 7).

Choices, per field:

1. A whole (name, value) match in the static table, then in the dynamic table, is sent
   as an index (one byte for the first 127 entries).
2. Otherwise a literal, its name as an index when the name is known (static table
   first: lower indexes are shorter), and each string Huffman-coded unless that
   makes it longer.
3. The literal is added to the dynamic table, except:

   * never indexed (``0001xxxx``, section 7.1.3): names in ``never_indexed``
     (authorization and proxy-authorization by default) and cookies shorter than 20
     bytes (few enough values to guess), as h2 does; intermediaries must forward these
     unindexed too;
   * without indexing (``0000xxxx``): names in ``unindexed``, fields whose values
     change with every message and would only push useful entries out (by default
     ``:path``, ``content-length``, ``etag``, ``if-modified-since``, ``if-none-match``,
     ``location``, ``age``, ``set-cookie``: the set nghttp2 leaves out), and entries
     larger than three quarters of the table.

Both tables are mirrored by two dicts per encoder, ``(name, value) -> index`` and
``name -> index`` (one lookup finds a field in either table). Static entries map to
their index; a dynamic entry to ``-1 - serial``, where its serial counts insertions:
its index is then ``inserted + 61 - serial``, so nothing needs renumbering when entries
are added. A name keeps its static index when it also enters the dynamic table, and an
evicted entry leaves the name dict only if it still points at that entry.

``header_table_size`` is the size the peer allows (its SETTINGS_HEADER_TABLE_SIZE).
Changing it evicts at once and makes the next block start with a size update: the
smallest size set since the last block, then the final one if larger (section 4.2).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Final

from reqivo_protocol._exceptions import LocalProtocolError
from reqivo_protocol.http2.hpack._huffman import BITS
from reqivo_protocol.http2.hpack._integers import encode_integer
from reqivo_protocol.http2.hpack._table import (
    DEFAULT_TABLE_SIZE,
    ENTRY_OVERHEAD,
    STATIC_FIELDS,
    STATIC_NAMES,
    STATIC_TABLE,
)

__all__ = ["CACHED_BLOCKS", "CACHED_BLOCK_SIZE", "NEVER_INDEXED", "UNINDEXED", "Encoder"]

#: How many blocks ``Encoder.encode_cached`` remembers, of up to how many bytes.
CACHED_BLOCKS: Final = 16
CACHED_BLOCK_SIZE: Final = 1024

#: Fields sent never-indexed by default (section 7.1.3).
NEVER_INDEXED: Final = frozenset({b"authorization", b"proxy-authorization"})
#: Fields sent without indexing by default: their values rarely repeat.
UNINDEXED: Final = frozenset(
    {b":path", b"age", b"content-length", b"etag", b"if-modified-since", b"if-none-match",
     b"location", b"set-cookie"}
)  # fmt: skip
#: Cookies shorter than this are sent never-indexed.
_SHORT_COOKIE: Final = 20

_FIRST_DYNAMIC = len(STATIC_TABLE) + 1
#: Indexes whose representations are built once: a 4096-byte table holds at most 128
#: entries (indexes up to 189).
_PRECOMPUTED = 256
#: Indexed-field representations of the first indexes.
_INDEXED: Final = [encode_integer(index, 7, 0x80) for index in range(_PRECOMPUTED)]
#: First bytes of literals with an indexed name (or 0: a literal name follows):
#: never indexed, without indexing, with incremental indexing.
_NEVER_HEADS: Final = [encode_integer(index, 4, 0x10) for index in range(_PRECOMPUTED)]
_PLAIN_HEADS: Final = [encode_integer(index, 4, 0x00) for index in range(_PRECOMPUTED)]
_INDEXING_HEADS: Final = [encode_integer(index, 6, 0x40) for index in range(_PRECOMPUTED)]
#: String length prefixes below 127: raw, then Huffman-coded.
_RAW_LENGTHS: Final = [bytes((length,)) for length in range(127)]
_HUFFMAN_LENGTHS: Final = [bytes((0x80 | length,)) for length in range(127)]

HeaderInput = Iterable[tuple[bytes | str, bytes | str]]


class Encoder:
    """Encodes the header blocks of one connection, in the order they are sent.

    ``huffman=False`` sends every string as is (the default Huffman-codes a string
    unless that makes it longer). ``never_indexed`` and ``unindexed`` name the fields
    (lower-case bytes) sent as never-indexed literals and as literals without indexing.
    """

    __slots__ = ("_blocks", "_entries", "_fields", "_inserted", "_max_size", "_names",
                 "_pending", "_pending_min", "_size", "_version", "huffman", "never_indexed",
                 "unindexed")  # fmt: skip

    def __init__(
        self,
        *,
        huffman: bool = True,
        never_indexed: Iterable[bytes] = NEVER_INDEXED,
        unindexed: Iterable[bytes] = UNINDEXED,
    ) -> None:
        self._entries: deque[tuple[bytes, bytes]] = deque()  # oldest first
        self._fields: dict[tuple[bytes, bytes], int] = dict(STATIC_FIELDS)
        self._names: dict[bytes, int] = dict(STATIC_NAMES)
        self._inserted = 0
        self._size = 0
        self._max_size = DEFAULT_TABLE_SIZE
        self._pending = False
        self._pending_min = DEFAULT_TABLE_SIZE
        # Blocks that changed nothing in the table, by their fields (``encode_cached``),
        # with the table's version they were encoded against (it changes with the table).
        self._blocks: dict[tuple[tuple[bytes, bytes], ...], tuple[int, bytes]] = {}
        self._version = 0
        self.huffman = huffman
        self.never_indexed = frozenset(never_indexed)
        self.unindexed = frozenset(unindexed)

    @property
    def header_table_size(self) -> int:
        """The dynamic table's maximum size (the peer's SETTINGS_HEADER_TABLE_SIZE)."""
        return self._max_size

    @header_table_size.setter
    def header_table_size(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"header_table_size must be >= 0, not {value}")
        self._pending_min = min(self._pending_min, value) if self._pending else value
        self._pending = True
        self._max_size = value
        self._version += 1
        self._evict(0)

    @property
    def table_size(self) -> int:
        """The size of the dynamic table's entries now."""
        return self._size

    @property
    def dynamic_table(self) -> list[tuple[bytes, bytes]]:
        """The dynamic table's entries, newest (index 62) first."""
        return list(reversed(self._entries))

    def encode(self, headers: HeaderInput) -> bytes:
        """Encode ``(name, value)`` pairs (``bytes``, or ``str`` sent as Latin-1) into one
        header block. Names are sent as given: HTTP/2 requires them in lower case."""
        parts: list[bytes] = []
        append = parts.append
        if self._pending:
            if self._pending_min < self._max_size:
                append(encode_integer(self._pending_min, 5, 0x20))
            append(encode_integer(self._max_size, 5, 0x20))
            self._pending = False
        fields = self._fields
        for name, value in headers:
            if type(name) is not bytes:
                name = _as_bytes(name, "name")
            if type(value) is not bytes:
                value = _as_bytes(value, "value")
            index = fields.get((name, value))
            if index is None:
                append(self._literal(name, value))
                continue
            if index < 0:  # dynamic: -1 - serial
                index += self._inserted + _FIRST_DYNAMIC
                if index >= _PRECOMPUTED:
                    append(encode_integer(index, 7, 0x80))
                    continue
            append(_INDEXED[index])
        return b"".join(parts)

    def encode_cached(self, headers: tuple[tuple[bytes, bytes], ...]) -> bytes:
        """``encode`` for a tuple of ``bytes`` pairs, remembering the last
        ``CACHED_BLOCKS`` blocks (of up to ``CACHED_BLOCK_SIZE`` bytes) that changed
        nothing in the table: the same fields again, the table unchanged, give the same
        bytes (a client sends the same request fields again and again). Changing
        ``huffman``, ``never_indexed`` or ``unindexed`` does not forget them."""
        cached = self._blocks.get(headers)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        version = -1 if self._pending else self._version
        block = self.encode(headers)
        if version == self._version and len(block) <= CACHED_BLOCK_SIZE:
            blocks = self._blocks
            if len(blocks) >= CACHED_BLOCKS and headers not in blocks:
                del blocks[next(iter(blocks))]
            blocks[headers] = (version, block)
        return block

    def _literal(self, name: bytes, value: bytes) -> bytes:
        """A literal representation of a field without a whole match in either table."""
        size = len(name) + len(value) + ENTRY_OVERHEAD
        indexing = False
        if name in self.never_indexed or (name == b"cookie" and len(value) < _SHORT_COOKIE):
            heads = _NEVER_HEADS
        elif name in self.unindexed or size * 4 > self._max_size * 3:
            heads = _PLAIN_HEADS
        else:
            heads, indexing = _INDEXING_HEADS, True
        index = self._names.get(name)
        if index is None:
            head = heads[0] + self._string(name)
        else:
            if index < 0:
                index += self._inserted + _FIRST_DYNAMIC
            if index < _PRECOMPUTED:
                head = heads[index]
            else:
                head = encode_integer(index, 6 if indexing else 4, heads[0][0])
        if indexing:
            self._add(name, value, size)
        return head + self._string(value)

    def _string(self, data: bytes) -> bytes:
        """A string literal (section 5.2), Huffman-coded unless that is longer."""
        length = len(data)
        if self.huffman and length:
            codes = BITS
            bits = "".join([codes[byte] for byte in data])
            pad = -len(bits) & 7
            coded = (len(bits) + pad) >> 3
            if coded <= length:  # the padding: the most significant bits of EOS, all ones
                huffman = (int(bits, 2) << pad | (0xFF >> (8 - pad))).to_bytes(coded, "big")
                if coded < 127:
                    return _HUFFMAN_LENGTHS[coded] + huffman
                return encode_integer(coded, 7, 0x80) + huffman
        return (_RAW_LENGTHS[length] if length < 127 else encode_integer(length, 7, 0)) + data

    def _add(self, name: bytes, value: bytes, size: int) -> None:
        self._version += 1
        self._evict(size)  # it fits: larger entries are not indexed
        serial = self._inserted
        self._inserted = serial + 1
        self._entries.append((name, value))
        self._fields[name, value] = -1 - serial
        if self._names.get(name, -1) < 0:  # a static index is shorter: keep it
            self._names[name] = -1 - serial
        self._size += size

    def _evict(self, room: int) -> None:
        """Evict the oldest entries until ``room`` more bytes fit (all, if they can't)."""
        entries = self._entries
        fields = self._fields
        names = self._names
        while entries and self._size + room > self._max_size:
            serial = self._inserted - len(entries)
            field = entries.popleft()
            self._size -= len(field[0]) + len(field[1]) + ENTRY_OVERHEAD
            del fields[field]  # a whole field is never added twice: it would be indexed
            if names.get(field[0]) == -1 - serial:
                del names[field[0]]


def _as_bytes(text: object, what: str) -> bytes:
    if isinstance(text, str):
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            raise LocalProtocolError(
                f"header {what} cannot be encoded as Latin-1: {text!r}"
            ) from None
    if isinstance(text, bytearray | memoryview):
        return bytes(text)
    raise LocalProtocolError(f"header {what} must be str or bytes, not {type(text).__name__}")
