"""HPACK beyond the RFC examples: interoperation with the hpack package, round trips,
table size changes, the encoder's choices and every decoding error."""

from __future__ import annotations

import hpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqivo_protocol import HeadersTooLarge, LimitExceeded, LocalProtocolError
from reqivo_protocol.http2 import ErrorCode, HTTP2ProtocolError
from reqivo_protocol.http2.hpack import (
    STATIC_TABLE,
    Decoder,
    Encoder,
    HeaderListTooLarge,
    HPACKDecodingError,
    decode_huffman,
    encode_huffman,
)
from reqivo_protocol.http2.hpack._decoder import BOMB_FACTOR, CACHED_BLOCK_SIZE, CACHED_BLOCKS
from reqivo_protocol.http2.hpack._encoder import CACHED_BLOCKS as CACHED_ENCODED
from reqivo_protocol.http2.hpack._integers import decode_integer, encode_integer

Fields = list[tuple[bytes, bytes]]

# -- strategies ---------------------------------------------------------------------------

_static_names = sorted({name for name, _ in STATIC_TABLE})
names = st.one_of(
    st.sampled_from(_static_names),
    st.binary(min_size=1, max_size=20).map(lambda b: bytes(c % 26 + 97 for c in b)),
)
values = st.one_of(
    st.sampled_from([value for _, value in STATIC_TABLE]),
    st.binary(max_size=40),
    st.binary(min_size=100, max_size=300),
)
fields = st.tuples(names, values)
header_lists = st.lists(fields, max_size=15)
#: A connection's worth of header lists, with an optional table size change before each.
sequences = st.lists(
    st.tuples(st.none() | st.sampled_from([0, 64, 256, 4096, 1000, 8192]), header_lists),
    min_size=1,
    max_size=6,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- interoperation with the hpack package -------------------------------------------------


@SETTINGS
@given(sequences)
def test_hpack_package_blocks_decode(sequence: list[tuple[int | None, Fields]]) -> None:
    theirs = hpack.Encoder()
    ours = Decoder(max_table_size=8192)
    for table_size, headers in sequence:
        if table_size is not None:
            theirs.header_table_size = table_size
        assert ours.decode(theirs.encode(headers)) == headers


@SETTINGS
@given(sequences, st.booleans())
def test_our_blocks_decode_with_the_hpack_package(
    sequence: list[tuple[int | None, Fields]], huffman: bool
) -> None:
    ours = Encoder(huffman=huffman)
    theirs = hpack.Decoder()
    theirs.max_allowed_table_size = 8192
    for table_size, headers in sequence:
        if table_size is not None:
            ours.header_table_size = table_size
        assert theirs.decode(ours.encode(headers), raw=True) == headers


@SETTINGS
@given(sequences, st.booleans(), st.sets(names, max_size=3))
def test_round_trip_with_table_size_changes(
    sequence: list[tuple[int | None, Fields]], huffman: bool, sensitive: set[bytes]
) -> None:
    encoder = Encoder(huffman=huffman, never_indexed=sensitive)
    decoder = Decoder(max_table_size=8192)
    for table_size, headers in sequence:
        if table_size is not None:
            encoder.header_table_size = table_size
        assert decoder.decode(encoder.encode(headers)) == headers
        assert decoder.dynamic_table == encoder.dynamic_table
        assert decoder.table_size == encoder.table_size <= encoder.header_table_size


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_huffman_round_trip_and_interop(data: bytes) -> None:
    from hpack.huffman import HuffmanEncoder
    from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
    from hpack.huffman_table import decode_huffman as their_decode

    coded = encode_huffman(data)
    assert decode_huffman(coded) == data
    assert their_decode(coded) == data
    assert coded == HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH).encode(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_a_decoding_error(block: bytes) -> None:
    decoder = Decoder(max_header_list_size=1000)
    error: HTTP2ProtocolError | None = None
    decoded: Fields = []
    try:
        decoded = decoder.decode(block)
    except HPACKDecodingError as exc:  # HeaderListTooLarge is not one
        error = exc
    except HeaderListTooLarge:
        pass
    if error is not None:
        assert error.error_code is ErrorCode.COMPRESSION_ERROR
    assert sum(len(n) + len(v) + 32 for n, v in decoded) <= 1000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_arbitrary_huffman_strings_decode_or_raise(coded: bytes) -> None:
    try:
        text = decode_huffman(coded)
    except HPACKDecodingError:
        return
    assert encode_huffman(text) == coded  # only canonical padding is accepted


# -- integers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "prefix", "wire"),
    [(10, 5, b"\x0a"), (1337, 5, b"\x1f\x9a\x0a"), (42, 8, b"\x2a"), (31, 5, b"\x1f\x00"),
     (127 + 128, 7, b"\x7f\x80\x01")],
)  # fmt: skip
def test_integers_of_section_5_1(value: int, prefix: int, wire: bytes) -> None:
    assert encode_integer(value, prefix, 0) == wire
    if len(wire) > 1:  # the decoder reads a one-byte integer inline
        assert decode_integer(wire, 1, wire[0]) == (value, len(wire))


def test_integer_limits() -> None:
    assert decode_integer(b"\x1f\xff\xff\xff\x7f", 1, 31) == (31 + (1 << 28) - 1, 5)
    with pytest.raises(HPACKDecodingError, match="longer than 4"):
        decode_integer(b"\x1f\xff\xff\xff\xff\x01", 1, 31)
    with pytest.raises(HPACKDecodingError, match="truncated inside an integer"):
        decode_integer(b"\x1f\xff\xff", 1, 31)
    with pytest.raises(HPACKDecodingError, match="truncated inside an integer"):
        decode_integer(b"\x1f\xff\xff\xff\xff", 1, 31)


# -- the encoder's choices ---------------------------------------------------------------


def test_sensitive_fields_are_never_indexed() -> None:
    encoder = Encoder(huffman=False)
    block = encoder.encode(
        [(b"authorization", b"Basic dXNlcjpwYXNz"), (b"proxy-authorization", b"x"),
         (b"cookie", b"a=1"), (b"cookie", b"session=0123456789abcdef")]
    )  # fmt: skip
    assert block.startswith(b"\x1f\x08\x12Basic dXNlcjpwYXNz")  # 0001 + index 23
    assert b"\x1f\x22\x01x" in block  # proxy-authorization: index 49
    assert b"\x1f\x11\x03a=1" in block  # a short cookie: index 32
    assert encoder.dynamic_table == [(b"cookie", b"session=0123456789abcdef")]


def test_changing_fields_are_not_indexed_and_large_entries_are_not_either() -> None:
    encoder = Encoder()
    encoder.encode([(b":path", b"/a"), (b"content-length", b"12"), (b"x", b"y" * 3100)])
    assert encoder.dynamic_table == []
    encoder.encode([(b"x", b"y" * 3100)])
    assert encoder.dynamic_table == []


def test_names_are_reused_from_the_dynamic_table() -> None:
    encoder = Encoder(huffman=False)
    encoder.encode([(b"x-trace", b"a")])
    assert encoder.encode([(b"x-trace", b"b")]) == b"\x7e\x01b"  # name index 62
    assert encoder.encode([(b"x-trace", b"a")]) == b"\xbf"  # whole field, index 63


def test_str_input_is_latin_1_and_other_types_are_refused() -> None:
    decoder = Decoder()
    encoder = Encoder()
    block = encoder.encode([("x-name", "caf\xe9"), (bytearray(b"x-b"), memoryview(b"v"))])  # type: ignore[list-item]
    assert decoder.decode(block) == [(b"x-name", b"caf\xe9"), (b"x-b", b"v")]
    with pytest.raises(LocalProtocolError, match="Latin-1"):
        encoder.encode([("x-name", "\u20ac")])
    with pytest.raises(LocalProtocolError, match="must be str or bytes, not int"):
        encoder.encode([("x-name", 1)])  # type: ignore[list-item]


def test_long_strings_and_large_indexes() -> None:
    encoder = Encoder()
    decoder = Decoder(max_table_size=1 << 20, max_header_list_size=1 << 22)
    encoder.header_table_size = 1 << 20
    many = [(b"n%d" % i, b"%d" % i) for i in range(600)]
    long = [(b"x-" + b"k" * 200, bytes(range(256)) * 2), (b"x-text", b"a" * 300)]
    assert decoder.decode(encoder.encode(many + long)) == many + long
    again = encoder.encode(many + long)
    assert decoder.decode(again) == many + long
    assert len(again) < 3 * len(many + long)  # all indexed, some with 2-byte indexes


def test_table_size_changes_are_signalled_at_the_start_of_the_next_block() -> None:
    encoder = Encoder()
    encoder.encode([(b"x-a", b"1")])
    encoder.header_table_size = 0
    assert encoder.dynamic_table == []
    encoder.header_table_size = 1000
    block = encoder.encode([(b"x-a", b"1")])
    assert block.startswith(b"\x20\x3f\xc9\x07")  # 0, then 1000
    assert encoder.encode([]) == b""
    encoder.header_table_size = 2000
    encoder.header_table_size = 3000
    assert encoder.encode([]) == b"\x3f\xb1\x0f\x3f\x99\x17"  # the smallest, the final
    encoder.header_table_size = 500
    assert encoder.encode([]) == encode_integer(500, 5, 0x20)
    decoder = Decoder()
    with pytest.raises(ValueError, match=">= 0"):
        encoder.header_table_size = -1
    with pytest.raises(ValueError, match=">= 0"):
        decoder.max_table_size = -1


# -- the decoder's table and limits --------------------------------------------------------


def test_a_lowered_maximum_requires_a_size_update() -> None:
    decoder = Decoder()
    decoder.decode(b"\x40\x01a\x01b")  # adds (a, b)
    decoder.max_table_size = 100
    assert decoder.max_table_size == 100
    with pytest.raises(HPACKDecodingError, match="does not start with the dynamic table"):
        decoder.decode(b"\x82")
    with pytest.raises(HPACKDecodingError, match="does not start with the dynamic table"):
        decoder.decode(b"")
    with pytest.raises(HPACKDecodingError, match="above the allowed maximum 100"):
        decoder.decode(b"\x3f\x46")  # 101
    assert decoder.decode(b"\x20\x3f\x45\x82") == [(b":method", b"GET")]  # 0, then 100
    assert decoder.table_limit == 100
    assert decoder.dynamic_table == []
    decoder.max_table_size = 4096  # raising it needs no update
    assert decoder.decode(b"\x82") == [(b":method", b"GET")]
    assert Decoder(max_table_size=0).decode(b"\x20") == []


def test_size_update_shrinks_the_table() -> None:
    decoder = Decoder()
    decoder.decode(b"\x40\x01a\x01b\x40\x01c\x01d")
    assert decoder.table_size == 68
    assert decoder.decode(b"\x3f\x15\xbe") == [(b"c", b"d")]  # limit 52: (a, b) evicted
    assert decoder.dynamic_table == [(b"c", b"d")]


def test_an_entry_larger_than_the_table_empties_it() -> None:
    decoder = Decoder()
    decoder.decode(b"\x40\x01a\x01b")
    big = b"v" * 4096
    block = b"\x40\x01x" + encode_integer(len(big), 7, 0) + big
    assert decoder.decode(block) == [(b"x", big)]
    assert decoder.dynamic_table == []
    assert decoder.table_size == 0


def test_header_list_limit_keeps_the_table_in_step() -> None:
    encoder = Encoder()
    decoder = Decoder(max_header_list_size=200)
    block = encoder.encode([(b"x-a", b"a" * 50), (b"x-b", b"b" * 50), (b"x-c", b"c" * 50)])
    with pytest.raises(HeaderListTooLarge) as caught:
        decoder.decode(block)
    error = caught.value
    assert isinstance(error, HeadersTooLarge | LimitExceeded | HTTP2ProtocolError)
    assert (error.limit_name, error.limit) == ("max_header_list_size", 200)
    assert error.error_code is ErrorCode.ENHANCE_YOUR_CALM
    assert "max_header_list_size=200" in str(error)
    again = [(b"x-c", b"c" * 50), (b"x-a", b"a" * 50)]
    assert decoder.decode(encoder.encode(again)) == again  # indexed: the tables agree


def test_a_header_bomb_is_refused_without_building_the_list() -> None:
    decoder = Decoder()
    value = b"v" * 4000
    block = b"\x40\x01x" + encode_integer(len(value), 7, 0) + value + b"\xbe" * 100_000
    with pytest.raises(HeaderListTooLarge, match="max_header_list_size=65536") as caught:
        decoder.decode(block)
    assert caught.value.limit == 65536 and not caught.value.decoded


def test_a_header_bomb_stops_the_decoding_at_its_bound() -> None:
    # Past BOMB_FACTOR times the limit, the rest of the block (here invalid) is not
    # read: the work is bounded by the decoded size, not by the block's length.
    decoder = Decoder(max_header_list_size=1000)
    block = b"\x82" * (BOMB_FACTOR * 1000 // 42) + b"\x82\x80"  # :method GET: 42 bytes
    with pytest.raises(HeaderListTooLarge, match="decoding stopped") as caught:
        decoder.decode(block)
    assert not caught.value.decoded
    with pytest.raises(HPACKDecodingError, match="index 0"):  # within the bound: read on
        Decoder(max_header_list_size=1000).decode(b"\x82" * 50 + b"\x80")
    with pytest.raises(HeaderListTooLarge) as within:
        Decoder(max_header_list_size=1000).decode(b"\x82" * 50)
    assert within.value.decoded


def test_at_most_two_size_updates() -> None:
    decoder = Decoder()
    assert decoder.decode(b"\x20\x3f\xe1\x1f\x82") == [(b":method", b"GET")]
    with pytest.raises(HPACKDecodingError, match="more than two"):
        decoder.decode(b"\x20\x20\x3f\xe1\x1f\x82")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"\x80", "index 0"),
        (b"\xbe", "index 62 is past the end of the table"),
        (b"\xff\x80\x01", "index 255 is past the end"),
        (b"\x7e\x01v", "index 62 is past the end"),
        (b"\x0f\x30\x01v", "index 63 is past the end"),
        (b"\xff", "truncated inside an integer"),
        (b"\x41", "truncated before a string literal"),
        (b"\x40\x05ab", "string literal of 5 bytes runs past the end"),
        (b"\x40\x7f\xff\xff\xff\xff\x01", "longer than 4 continuation bytes"),
        (b"\x82\x20", "size update after the start"),
        (b"\x3f\xe2\x1f", "update to 4097 is above the allowed maximum 4096"),
        (b"\x41\x81\xff", "invalid padding"),  # 8 bits of padding
        (b"\x41\x81\x18", "invalid padding"),  # "a" then 000 padding
        (b"\x41\x84\xff\xff\xff\xff", "contains EOS"),
        (b"\x10\x01a", "truncated before"),
    ],
)
def test_decoding_errors(block: bytes, message: str) -> None:
    with pytest.raises(HPACKDecodingError, match=message) as caught:
        Decoder().decode(block)
    assert caught.value.error_code is ErrorCode.COMPRESSION_ERROR
    assert caught.value.stream_id == 0


def test_never_indexed_and_unindexed_literals_decode_without_touching_the_table() -> None:
    decoder = Decoder()
    assert decoder.decode(b"\x10\x01a\x01b\x00\x01c\x01d\x1f\x22\x01e") == [
        (b"a", b"b"), (b"c", b"d"), (b"proxy-authorization", b"e")
    ]  # fmt: skip
    assert decoder.dynamic_table == []
    assert decoder.decode(bytearray(b"\x82")) == decoder.decode(memoryview(b"\x82"))


def test_literal_names_with_large_dynamic_indexes() -> None:
    encoder = Encoder()
    decoder = Decoder(max_table_size=1 << 20)
    encoder.header_table_size = 1 << 20
    many = [(b"n%d" % i, b"%d" % i) for i in range(400)]
    decoder.decode(encoder.encode(many))
    encoder.unindexed = frozenset({b"n1"})
    fresh = [(b"n0", b"new"), (b"n1", b"new")]  # the oldest entries, indexes 461 and 460
    block = encoder.encode(fresh)
    assert block[:3] == b"\x7f\x8e\x03"  # 01 + 461 with a 6-bit prefix
    assert decoder.decode(block) == fresh


def test_huffman_every_symbol_after_every_prefix() -> None:
    # Each symbol after each of 0-7 bits of a preceding code reaches every state the
    # decoder builds rows for, and every transition out of the shallow ones.
    for lead in (b"", b"0", b"a", b"%", b"\xff", b"\x00"):
        for byte in range(256):
            data = lead + bytes((byte,)) + lead
            assert decode_huffman(encode_huffman(data)) == data
    everything = bytes(range(256)) * 2
    assert decode_huffman(encode_huffman(everything)) == everything


# -- the decoder's cache of blocks ------------------------------------------------------------

_INDEXED_LITERAL = b"\x40\x01a\x01b"  # literal with incremental indexing: a: b


def test_a_cached_block_still_adds_its_entries() -> None:
    decoder = Decoder()
    block = b"\x88" + _INDEXED_LITERAL  # :status 200, a: b
    assert decoder.decode(block) == [(b":status", b"200"), (b"a", b"b")]
    assert decoder.decode(block) == [(b":status", b"200"), (b"a", b"b")]
    assert decoder.dynamic_table == [(b"a", b"b"), (b"a", b"b")]
    assert decoder.table_size == 2 * 34
    # An entry larger than the table empties it, from the cache as on the first decode.
    decoder.decode(b"\x3f\xe1\x01")  # a size update to 256
    big = b"\x40\x01x" + encode_integer(300, 7, 0) + b"y" * 300  # larger than the table
    for _ in range(2):
        assert decoder.decode(big) == [(b"x", b"y" * 300)]
        assert decoder.dynamic_table == []
        assert big in decoder._cache


def test_blocks_that_read_the_dynamic_table_are_not_cached() -> None:
    decoder = Decoder()
    decoder.decode(_INDEXED_LITERAL)
    assert decoder.decode(b"\xbe") == [(b"a", b"b")]  # index 62
    assert decoder.decode(b"\x7e\x01c") == [(b"a", b"c")]  # name from index 62, indexed
    decoder.decode(b"\x40\x01c\x01d")  # c: d is now index 62
    assert decoder.decode(b"\xbe") == [(b"c", b"d")]
    assert decoder.decode(b"\x7e\x01c") == [(b"c", b"c")]
    assert decoder.dynamic_table[:2] == [(b"c", b"c"), (b"c", b"d")]


def test_the_cache_is_bounded() -> None:
    decoder = Decoder()
    for i in range(CACHED_BLOCKS + 8):
        decoder.decode(b"\x00\x01a\x03%03d" % i)  # unindexed literals: a: 000, a: 001...
    assert len(decoder._cache) == CACHED_BLOCKS
    assert decoder.decode(b"\x00\x01a\x03000") == [(b"a", b"000")]  # evicted: decoded again
    large = b"\x00\x01a" + encode_integer(CACHED_BLOCK_SIZE, 7, 0) + b"z" * CACHED_BLOCK_SIZE
    assert decoder.decode(large) == [(b"a", b"z" * CACHED_BLOCK_SIZE)]
    assert large not in decoder._cache


def test_a_cached_block_over_a_lowered_list_limit_is_refused() -> None:
    decoder = Decoder()
    block = b"\x00\x01a\x01b" + _INDEXED_LITERAL
    decoder.decode(block)
    decoder.max_header_list_size = 40
    with pytest.raises(HeaderListTooLarge):
        decoder.decode(block)
    assert decoder.dynamic_table == [(b"a", b"b"), (b"a", b"b")]  # still in step


def test_blocks_starting_with_a_size_update_are_not_cached() -> None:
    decoder = Decoder()
    block = b"\x20" + _INDEXED_LITERAL  # size update to 0, then a: b (too large: dropped)
    for _ in range(2):
        assert decoder.decode(block) == [(b"a", b"b")]
    assert block not in decoder._cache


def test_a_cached_block_still_needs_the_size_update_a_lower_limit_requires() -> None:
    decoder = Decoder()
    decoder.decode(b"\x88")
    decoder.max_table_size = 100
    with pytest.raises(HPACKDecodingError, match="size update"):
        decoder.decode(b"\x88")
    assert decoder.decode(b"\x3f\x45\x88") == [(b":status", b"200")]  # update to 100


_literals = st.tuples(
    st.sampled_from([b"a", b"b", b"server", b"x-long"]),
    st.sampled_from([b"1", b"22", b"v" * 40, b"w" * 150]),
    st.booleans(),  # incremental indexing, or without
)
#: A small pool of blocks, so that blocks come again (from the cache).
_pools = st.lists(st.lists(_literals, max_size=5), min_size=1, max_size=4)


def _raw_block(literals: list[tuple[bytes, bytes, bool]]) -> bytes:
    out = b""
    for name, value, indexing in literals:
        out += (b"\x40" if indexing else b"\x00") + encode_integer(len(name), 7, 0) + name
        out += encode_integer(len(value), 7, 0) + value
    return out


@SETTINGS
@given(pool=_pools, picks=st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=25))
def test_cached_blocks_keep_the_table_as_hpack_does(
    pool: list[list[tuple[bytes, bytes, bool]]], picks: list[tuple[int, bool]]
) -> None:
    ours = Decoder()
    theirs = hpack.Decoder()
    blocks = [_raw_block(literals) for literals in pool]
    ours.decode(b"\x3f\xe1\x01")  # the table shrunk to 256 bytes: entries are evicted
    theirs.decode(b"\x3f\xe1\x01", raw=True)
    for index, dynamic_reference in picks:
        block = blocks[index % len(blocks)]
        if dynamic_reference and ours.table_size:
            block += b"\xbe"  # index 62: not cached
        assert ours.decode(block) == theirs.decode(block, raw=True)
        assert ours.dynamic_table == list(theirs.header_table.dynamic_entries)


# -- the encoder's cache of blocks ------------------------------------------------------------

_REQUEST = ((b":method", b"GET"), (b":path", b"/a"), (b"user-agent", b"reqivo"))


def test_fields_sent_again_reuse_their_block() -> None:
    encoder = Encoder()
    first = encoder.encode_cached(_REQUEST)  # adds user-agent: not remembered
    second = encoder.encode_cached(_REQUEST)
    assert first != second and encoder.encode_cached(_REQUEST) is second
    decoder = Decoder()
    assert [decoder.decode(block) for block in (first, second)] == [list(_REQUEST)] * 2


def test_a_changed_table_is_not_ignored() -> None:
    encoder = Encoder()
    plain = Encoder()
    decoder = Decoder()
    for change in (None, 256, None, 0, None, 4096, None):
        if change is not None:
            encoder.header_table_size = plain.header_table_size = change
        block = encoder.encode_cached(_REQUEST)
        assert block == plain.encode(_REQUEST)
        assert decoder.decode(block) == list(_REQUEST)
    new = ((b"x-new", b"1"),)  # an entry added: user-agent's index moves
    added = encoder.encode_cached(new)
    assert added == plain.encode(new) and decoder.decode(added) == list(new)
    block = encoder.encode_cached(_REQUEST)
    assert block == plain.encode(_REQUEST) and decoder.decode(block) == list(_REQUEST)


def test_the_encoders_cache_is_bounded() -> None:
    encoder = Encoder()
    for i in range(CACHED_ENCODED + 4):
        fields = ((b":path", b"/%d" % i),)  # :path is never indexed: nothing added
        assert encoder.encode_cached(fields) is encoder.encode_cached(fields)
    assert len(encoder._blocks) == CACHED_ENCODED
    large = ((b":path", b"/" + bytes(range(1, 128)) * 20),)
    assert encoder.encode_cached(large) is not encoder.encode_cached(large)
    assert large not in encoder._blocks


@SETTINGS
@given(
    pool=st.lists(header_lists.map(tuple), min_size=1, max_size=4),
    picks=st.lists(
        st.tuples(st.integers(0, 3), st.none() | st.sampled_from([0, 64, 256, 4096])),
        max_size=20,
    ),
)
def test_cached_encoding_is_encoding(
    pool: list[tuple[tuple[bytes, bytes], ...]], picks: list[tuple[int, int | None]]
) -> None:
    cached, plain, decoder = Encoder(), Encoder(), Decoder()
    for index, change in picks:
        if change is not None:
            cached.header_table_size = plain.header_table_size = change
        fields = pool[index % len(pool)]
        block = cached.encode_cached(fields)
        assert block == plain.encode(fields)
        assert decoder.decode(block) == list(fields)
