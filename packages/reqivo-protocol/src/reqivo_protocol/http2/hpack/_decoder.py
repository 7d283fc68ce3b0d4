"""The HPACK decoder (RFC 7541 sections 3, 4 and 6).

Strategy: one loop over the block with the common cases inline: a one-byte index, a
string length below 127. The static and dynamic tables share one list, indexed by the
HPACK index itself (``entries[0]`` is a placeholder; 1-61 are static; the dynamic entries
follow, newest first), so an indexed field is one list subscript, and the decoded list
holds the table's own tuples (no copy per field). Adding an entry is a
``list.insert(62, ...)``: a ``memmove`` of at most a few hundred pointers.

Bounds against header bombs (RFC 7541 section 7.3, RFC 9113 section 10.5.1):

* The header list size (each field's name and value lengths plus 32) is counted as
  fields are decoded. Past ``max_header_list_size`` the fields are no longer kept but
  the block is still decoded to its end, so the dynamic table stays in step with the
  peer's; then ``HeaderListTooLarge`` is raised and the connection may reset the one
  stream. Nothing grows past the limit. A list past ``BOMB_FACTOR`` times the limit (a
  bomb: one byte can stand for a 4 KB table entry) stops the decoding there
  (``HeaderListTooLarge`` with ``decoded=False``: the tables may no longer agree, the
  connection must end), so the work is bounded by that size, not by the block's length.
* The dynamic table never exceeds the size last announced by the peer, which never
  exceeds ``max_table_size``, the size we allow (our SETTINGS_HEADER_TABLE_SIZE).
* Integers longer than 4 continuation bytes, lengths past the end of the block,
  invalid indexes, Huffman errors (EOS, padding longer than 7 bits or not all ones),
  dynamic table size updates anywhere but at the start of a block, or more than two of
  them (section 4.2: "at most two") all raise ``HPACKDecodingError`` (a connection error
  of type COMPRESSION_ERROR).
* After ``max_table_size`` is lowered below the table size in force, the next block
  must start with a size update that honours it (section 4.2), as nghttp2 requires.

Representations (section 6): ``1xxxxxxx`` indexed field; ``01xxxxxx`` literal with
incremental indexing; ``001xxxxx`` dynamic table size update; ``0001xxxx`` literal never
indexed; ``0000xxxx`` literal without indexing. The decoded list does not say which
fields were sent never-indexed.
"""

from __future__ import annotations

from reqivo_protocol.http2._errors import HeaderListTooLarge, HPACKDecodingError
from reqivo_protocol.http2.hpack._huffman import decode_huffman
from reqivo_protocol.http2.hpack._integers import decode_integer
from reqivo_protocol.http2.hpack._table import (
    DEFAULT_TABLE_SIZE,
    ENTRY_OVERHEAD,
    MAX_HEADER_LIST_SIZE,
    STATIC_TABLE,
)

__all__ = ["BOMB_FACTOR", "CACHED_BLOCKS", "CACHED_BLOCK_SIZE", "Decoder"]

_FIRST_DYNAMIC = len(STATIC_TABLE) + 1  # 62
_Fields = tuple[tuple[bytes, bytes], ...]
#: The decoded blocks remembered (how many, and up to what size): see ``Decoder``.
CACHED_BLOCKS = 32
CACHED_BLOCK_SIZE = 1024
#: A header list this many times ``max_header_list_size`` is not decoded further.
BOMB_FACTOR = 4


class Decoder:
    """Decodes the header blocks of one connection, in the order they arrive.

    ``max_table_size`` is the dynamic table size we allow the peer (the
    SETTINGS_HEADER_TABLE_SIZE we sent; set it when the peer acknowledges a change).
    ``max_header_list_size`` bounds the decoded list of one block.

    A server tends to send the same response head again and again (nginx: the same
    block within each second, its literals indexed but never referred to). The last
    ``CACHED_BLOCKS`` blocks of up to ``CACHED_BLOCK_SIZE`` bytes that read nothing from
    the dynamic table (their fields do not depend on it) and start with no size update
    are remembered with their fields and the entries they add: such a block again costs
    a dict lookup and the table insertions, and decodes to the same fields.
    """

    __slots__ = ("_cache", "_entries", "_limit", "_max_table_size", "_size",
                 "_update_required", "max_header_list_size")  # fmt: skip

    def __init__(
        self,
        max_table_size: int = DEFAULT_TABLE_SIZE,
        *,
        max_header_list_size: int = MAX_HEADER_LIST_SIZE,
    ) -> None:
        self._entries: list[tuple[bytes, bytes]] = [(b"", b""), *STATIC_TABLE]
        self._size = 0
        self._limit = DEFAULT_TABLE_SIZE  # the size the peer's encoder last announced
        self._max_table_size = DEFAULT_TABLE_SIZE
        self._update_required = False
        #: block -> (its fields, the entries it adds (newest first) and their size, the
        #: size of its header list)
        self._cache: dict[bytes, tuple[_Fields, _Fields, int, int]] = {}
        self.max_table_size = max_table_size
        self.max_header_list_size = max_header_list_size

    @property
    def max_table_size(self) -> int:
        """The largest dynamic table size the peer may announce."""
        return self._max_table_size

    @max_table_size.setter
    def max_table_size(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"max_table_size must be >= 0, not {value}")
        self._max_table_size = value
        if value < self._limit:
            self._update_required = True

    @property
    def table_size(self) -> int:
        """The size of the dynamic table's entries now."""
        return self._size

    @property
    def table_limit(self) -> int:
        """The dynamic table size the peer last announced (4096 until it does)."""
        return self._limit

    @property
    def dynamic_table(self) -> list[tuple[bytes, bytes]]:
        """The dynamic table's entries, newest (index 62) first."""
        return self._entries[_FIRST_DYNAMIC:]

    def decode(self, block: bytes | bytearray | memoryview) -> list[tuple[bytes, bytes]]:
        """Decode one complete header block into ``(name, value)`` pairs."""
        data = block if type(block) is bytes else bytes(block)
        end = len(data)
        pos = 0
        list_limit = self.max_header_list_size
        if self._update_required or (end and data[0] & 0xE0 == 0x20):
            pos = self._size_updates(data)
        else:
            cached = self._cache.get(data)
            if cached is not None and cached[3] <= list_limit:
                fields, added, added_size, _ = cached
                if added:
                    self._insert(added, added_size)
                return list(fields)
        entries = self._entries
        headers: list[tuple[bytes, bytes]] = []
        append = headers.append
        added_fields: list[tuple[bytes, bytes]] = []
        list_size = 0
        bound = list_limit  # then BOMB_FACTOR times it, once past it
        # Whether the block may be cached: no size update, no dynamic table entry read.
        cacheable = not pos and end <= CACHED_BLOCK_SIZE
        try:
            while pos < end:
                byte = data[pos]
                pos += 1
                if byte & 0x80:  # indexed field
                    index = byte & 0x7F
                    if index == 0x7F:
                        index, pos = decode_integer(data, pos, index)
                    elif not index:
                        raise HPACKDecodingError("indexed field with index 0")
                    if index >= _FIRST_DYNAMIC:
                        cacheable = False
                    field = entries[index]
                else:
                    if byte & 0x40:  # literal with incremental indexing
                        index = byte & 0x3F
                        if index == 0x3F:
                            index, pos = decode_integer(data, pos, index)
                    elif byte & 0x20:
                        raise HPACKDecodingError(
                            "dynamic table size update after the start of a header block"
                        )
                    else:  # literal without indexing or never indexed
                        index = byte & 0x0F
                        if index == 0x0F:
                            index, pos = decode_integer(data, pos, index)
                    if index:
                        if index >= _FIRST_DYNAMIC:
                            cacheable = False
                        name = entries[index][0]
                    else:
                        name, pos = _string(data, pos, end)
                    value, pos = _string(data, pos, end)
                    field = (name, value)
                    if byte & 0x40:
                        self._add(field)
                        added_fields.append(field)
                list_size += len(field[0]) + len(field[1]) + ENTRY_OVERHEAD
                if list_size > bound:
                    if append is _discard:
                        raise _bomb(list_limit)
                    append = _discard
                    bound = list_limit * BOMB_FACTOR
                append(field)
        except IndexError:  # only ``entries[index]`` can raise it
            raise HPACKDecodingError(
                f"field index {index} is past the end of the table ({len(entries) - 1} entries)"
            ) from None
        if list_size > list_limit:
            raise HeaderListTooLarge(
                f"header list of {list_size} bytes is larger than "
                f"max_header_list_size={list_limit}",
                limit=list_limit,
            )
        if cacheable:
            cache = self._cache
            if len(cache) >= CACHED_BLOCKS:
                del cache[next(iter(cache))]
            added = tuple(reversed(added_fields))
            added_size = sum([len(name) + len(value) for name, value in added])
            cache[data] = (tuple(headers), added, added_size + ENTRY_OVERHEAD * len(added),
                           list_size)  # fmt: skip
        return headers

    def _insert(self, added: tuple[tuple[bytes, bytes], ...], size: int) -> None:
        """Add the entries of a cached block (newest first, ``size`` in all) at once:
        when they fit together, the same table as adding them one by one."""
        limit = self._limit
        if size > limit:
            for field in reversed(added):
                self._add(field)
            return
        entries = self._entries
        total = self._size + size
        while total > limit:
            name, value = entries.pop()
            total -= len(name) + len(value) + ENTRY_OVERHEAD
        entries[_FIRST_DYNAMIC:_FIRST_DYNAMIC] = added
        self._size = total

    def _add(self, field: tuple[bytes, bytes]) -> None:
        entries = self._entries
        size = len(field[0]) + len(field[1]) + ENTRY_OVERHEAD
        if size > self._limit:  # section 4.4: the table is emptied, nothing is added
            del entries[_FIRST_DYNAMIC:]
            self._size = 0
            return
        total = self._size + size
        while total > self._limit:
            name, value = entries.pop()
            total -= len(name) + len(value) + ENTRY_OVERHEAD
        entries.insert(_FIRST_DYNAMIC, field)
        self._size = total

    def _size_updates(self, data: bytes) -> int:
        """Apply the size updates at the start of a block; return where they end."""
        pos = 0
        end = len(data)
        updates = 0
        while pos < end and data[pos] & 0xE0 == 0x20:
            updates += 1
            if updates > 2:
                raise HPACKDecodingError("more than two dynamic table size updates in a block")
            size = data[pos] & 0x1F
            pos += 1
            if size == 0x1F:
                size, pos = decode_integer(data, pos, size)
            if size > self._max_table_size:
                raise HPACKDecodingError(
                    f"dynamic table size update to {size} is above the allowed maximum "
                    f"{self._max_table_size}"
                )
            self._limit = size
            self._update_required = False
            self._evict()
        if self._update_required:
            raise HPACKDecodingError(
                f"header block does not start with the dynamic table size update that "
                f"max_table_size={self._max_table_size} requires"
            )
        return pos

    def _evict(self) -> None:
        entries = self._entries
        while self._size > self._limit:
            name, value = entries.pop()
            self._size -= len(name) + len(value) + ENTRY_OVERHEAD


def _string(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    """The string literal at ``data[pos:]`` (section 5.2) and the position after it."""
    if pos >= end:
        raise HPACKDecodingError("header block truncated before a string literal")
    byte = data[pos]
    length = byte & 0x7F
    pos += 1
    if length == 0x7F:
        length, pos = decode_integer(data, pos, length)
    stop = pos + length
    if stop > end:
        raise HPACKDecodingError(
            f"string literal of {length} bytes runs past the end of the header block"
        )
    if byte & 0x80:
        return decode_huffman(data[pos:stop]), stop
    return data[pos:stop], stop


def _bomb(limit: int) -> HeaderListTooLarge:
    error = HeaderListTooLarge(
        f"header list of more than {limit * BOMB_FACTOR} bytes (max_header_list_size="
        f"{limit}): decoding stopped",
        limit=limit,
    )
    error.decoded = False
    return error


def _discard(field: tuple[bytes, bytes]) -> None:
    """Stands in for ``list.append`` once the header list is over its limit."""
