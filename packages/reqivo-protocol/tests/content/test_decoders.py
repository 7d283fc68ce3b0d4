"""Content-Encoding decoders: gzip, deflate, stacks, limits, unknown codings."""

from __future__ import annotations

import gzip
import itertools
import struct
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import DecodingError, DecompressionLimitExceeded, LimitExceeded
from reqivo_protocol.content import ContentDecoder, parse_content_encoding, supported_encodings
from reqivo_protocol.content._stages import ZlibStage, make_stage

TEXT = b"The quick brown fox jumps over the lazy dog. " * 2000


def deflate(data: bytes, wbits: int = 15, level: int = 6) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


def decode_all(decoder: ContentDecoder, body: bytes, step: int | None = None) -> bytes:
    if step is None:
        out = decoder.decode(body)
    else:
        out = b"".join(decoder.decode(body[i : i + step]) for i in range(0, len(body), step))
    return out + decoder.flush()


def zero_bomb(gib: int = 1) -> bytes:
    """A gzip stream of `gib` GiB of zeros, built without compressing a GiB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    count = 1024 * gib
    crc = 0
    zeros = bytes(1 << 20)
    one = zlib.crc32(zeros)
    crc = one  # the CRC of n MiB of zeros, by chaining
    for _ in range(count - 1):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)
    return header + segment * count + b"\x03\x00" + trailer


# -- parsing the header -------------------------------------------------------------


def test_parse_content_encoding() -> None:
    assert parse_content_encoding(None) == []
    assert parse_content_encoding("") == []
    assert parse_content_encoding(" GZIP , identity,, br ") == ["gzip", "br"]
    assert parse_content_encoding(["x-gzip", "deflate, zstd"]) == ["gzip", "deflate", "zstd"]


def test_supported_encodings_lists_the_builtin_ones_first() -> None:
    names = supported_encodings()
    assert names[:2] == ["gzip", "deflate"]
    assert set(names) <= {"gzip", "deflate", "br", "zstd"}


def test_identity_passes_data_through() -> None:
    for value in (None, "", "identity", "Identity, identity"):
        d = ContentDecoder.for_encoding(value)
        assert d.is_identity
        assert not d.passthrough
        assert d.encodings == ()
        chunk = b"abc"
        assert d.decode(chunk) is chunk
        assert list(d.iter_decode(b"x")) == [b"x"]
        assert list(d.iter_decode(b"")) == []
        assert d.decompressed_size == 0
        assert d.flush() == b""


# -- gzip ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", [None, 1, 7, 4096])
def test_gzip(step: int | None) -> None:
    d = ContentDecoder.for_encoding("gzip")
    assert d.encodings == ("gzip",)
    assert decode_all(d, gzip.compress(TEXT), step) == TEXT
    assert d.decompressed_size == len(TEXT)


def test_x_gzip_alias() -> None:
    assert decode_all(ContentDecoder.for_encoding("x-gzip"), gzip.compress(b"hi")) == b"hi"


@pytest.mark.parametrize("step", [None, 1, 3])
def test_gzip_multi_member(step: int | None) -> None:
    body = gzip.compress(b"one ") + gzip.compress(b"") + gzip.compress(b"two")
    assert decode_all(ContentDecoder.for_encoding("gzip"), body, step) == b"one two"


@pytest.mark.parametrize("trailer", [b"\x00\x00\x00", b"garbage", b"\x1f", b"\x1fX rest"])
def test_gzip_trailing_garbage_is_ignored(trailer: bytes) -> None:
    body = gzip.compress(b"data") + trailer
    for step in (None, 1):
        d = ContentDecoder.for_encoding("gzip")
        out = d.decode(body) if step is None else b"".join(d.decode(bytes([b])) for b in body)
        assert out == b"data"
        assert d.decode(b"more garbage") == b""
        assert d.flush() == b""


def test_gzip_corrupt_second_member_is_an_error() -> None:
    body = gzip.compress(b"data") + b"\x1f\x8b\x08garbage-garbage"
    with pytest.raises(DecodingError):
        decode_all(ContentDecoder.for_encoding("gzip"), body)


def test_gzip_empty_body_is_fine() -> None:
    d = ContentDecoder.for_encoding("gzip")
    assert d.decode(b"") == b""
    assert d.flush() == b""


@pytest.mark.parametrize("cut", [1, 5, 10, 20, -8, -1])
def test_gzip_truncated(cut: int) -> None:
    body = gzip.compress(TEXT)
    d = ContentDecoder.for_encoding("gzip")
    d.decode(body[:cut])
    with pytest.raises(DecodingError, match="truncated"):
        d.flush()


def test_gzip_truncated_second_member() -> None:
    body = gzip.compress(b"a") + gzip.compress(b"b")[:-4]
    d = ContentDecoder.for_encoding("gzip")
    assert d.decode(body) == b"ab"
    with pytest.raises(DecodingError, match="truncated"):
        d.flush()


def test_corrupt_gzip_raises_decoding_error_with_cause() -> None:
    d = ContentDecoder.for_encoding("gzip")
    with pytest.raises(DecodingError, match="invalid gzip data") as info:
        d.decode(b"not gzip at all")
    assert isinstance(info.value.__cause__, zlib.error)
    assert not isinstance(info.value, DecompressionLimitExceeded)
    with pytest.raises(DecodingError, match="failed earlier"):
        d.decode(gzip.compress(b"x"))
    with pytest.raises(DecodingError, match="failed earlier"):
        d.flush()


def test_bad_crc_is_detected() -> None:
    body = bytearray(gzip.compress(b"hello"))
    body[-8] ^= 0xFF
    with pytest.raises(DecodingError):
        decode_all(ContentDecoder.for_encoding("gzip"), bytes(body))


def test_flush_twice_is_an_error() -> None:
    d = ContentDecoder.for_encoding("gzip")
    d.flush()
    with pytest.raises(DecodingError, match="already flushed"):
        d.flush()
    with pytest.raises(DecodingError, match="already flushed"):
        d.decode(b"")


# -- deflate ------------------------------------------------------------------------


@pytest.mark.parametrize("wbits", [15, 9, -15, -9])
@pytest.mark.parametrize("level", [0, 1, 9])
@pytest.mark.parametrize("step", [None, 1, 5])
def test_deflate_zlib_and_raw(wbits: int, level: int, step: int | None) -> None:
    body = deflate(TEXT[:5000], wbits, level)
    assert decode_all(ContentDecoder.for_encoding("deflate"), body, step) == TEXT[:5000]


def test_deflate_trailing_data_is_ignored() -> None:
    d = ContentDecoder.for_encoding("deflate")
    assert d.decode(deflate(b"abc") + b"junk") == b"abc"
    assert d.decode(b"more") == b""
    assert d.flush() == b""


@pytest.mark.parametrize("body", [b"x", deflate(TEXT)[:-6], deflate(TEXT, -15)[:100]])
def test_deflate_truncated(body: bytes) -> None:
    d = ContentDecoder.for_encoding("deflate")
    d.decode(body)
    with pytest.raises(DecodingError, match="truncated"):
        d.flush()


def test_deflate_empty_body_is_fine() -> None:
    assert decode_all(ContentDecoder.for_encoding("deflate"), b"") == b""


def test_deflate_corrupt() -> None:
    with pytest.raises(DecodingError, match="invalid deflate data"):
        decode_all(ContentDecoder.for_encoding("deflate"), b"\xff\xff\xff\xff")


# -- stacks and unknown codings -----------------------------------------------------


@pytest.mark.parametrize("step", [None, 1, 100])
def test_stacked_codings_decode_in_reverse_order(step: int | None) -> None:
    body = deflate(gzip.compress(TEXT), -15)  # gzip applied first, then deflate
    d = ContentDecoder.for_encoding("gzip, deflate")
    assert d.encodings == ("gzip", "deflate")
    assert decode_all(d, body, step) == TEXT


def test_stacked_truncation_in_inner_stream() -> None:
    body = gzip.compress(gzip.compress(TEXT)[:-10])
    d = ContentDecoder.for_encoding(["gzip", "gzip"])
    d.decode(body)
    with pytest.raises(DecodingError, match="truncated"):
        d.flush()


def test_too_many_stacked_codings() -> None:
    with pytest.raises(DecompressionLimitExceeded, match="max_encodings is 5") as info:
        ContentDecoder.for_encoding(", ".join(["gzip"] * 6))
    assert info.value.limit_name == "max_encodings"
    assert info.value.limit == 5
    assert ContentDecoder.for_encoding("gzip, gzip", max_encodings=2).encodings == ("gzip",) * 2


def test_unknown_coding_passes_the_body_through() -> None:
    d = ContentDecoder.for_encoding("gzip, compress, foo")
    assert d.passthrough
    assert d.is_identity
    assert d.unsupported == ("compress", "foo")
    assert d.encodings == ()
    assert d.decode(b"raw bytes") == b"raw bytes"
    assert d.flush() == b""


def test_unknown_coding_strict() -> None:
    with pytest.raises(DecodingError, match="unsupported Content-Encoding foo"):
        ContentDecoder.for_encoding("foo", strict=True)
    assert ContentDecoder.for_encoding("gzip", strict=True).encodings == ("gzip",)


def test_make_stage_unknown() -> None:
    assert make_stage("compress") is None
    assert isinstance(make_stage("gzip"), ZlibStage)


def test_iter_decode_chunk_size() -> None:
    d = ContentDecoder.for_encoding("gzip")
    pieces = list(d.iter_decode(gzip.compress(TEXT), chunk_size=1000))
    assert b"".join(pieces) == TEXT
    assert max(map(len, pieces)) <= 1000
    with pytest.raises(ValueError, match="chunk_size"):
        list(d.iter_decode(b"", chunk_size=0))


def test_abandoned_iter_decode_spends_the_decoder() -> None:
    d = ContentDecoder.for_encoding("gzip")
    it = d.iter_decode(gzip.compress(TEXT), chunk_size=100)
    next(it)
    it.close()
    with pytest.raises(DecodingError, match="failed earlier"):
        d.decode(b"")


# -- limits and bombs ---------------------------------------------------------------


def test_limit_exactly_reached_is_fine() -> None:
    body = gzip.compress(bytes(1000))
    d = ContentDecoder.for_encoding("gzip", max_decompressed_size=1000)
    assert decode_all(d, body, 10) == bytes(1000)


def test_limit_exceeded_by_one_byte() -> None:
    d = ContentDecoder.for_encoding("gzip", max_decompressed_size=999)
    with pytest.raises(DecompressionLimitExceeded) as info:
        d.decode(gzip.compress(bytes(1000)))
    err = info.value
    assert isinstance(err, DecodingError)
    assert isinstance(err, LimitExceeded)
    assert err.limit_name == "max_decompressed_size"
    assert err.limit == 999
    assert "max_decompressed_size (999 bytes)" in str(err)
    assert "gzip" in str(err)


def test_limit_applies_to_intermediate_streams() -> None:
    # deflate stored blocks that decode to nothing: a big middle, a tiny result.
    empty_blocks = b"\x00\x00\x00\xff\xff" * 100_000 + b"\x03\x00"
    body = gzip.compress(empty_blocks)
    d = ContentDecoder.for_encoding("deflate, gzip", max_decompressed_size=10_000)
    with pytest.raises(DecompressionLimitExceeded, match="intermediate stream"):
        d.decode(body)
    unlimited = ContentDecoder.for_encoding("deflate, gzip")
    assert decode_all(unlimited, body) == b""


def test_gzip_bomb_stops_at_the_limit_with_bounded_memory() -> None:
    bomb = zero_bomb(1)
    assert len(bomb) < 2 * 1024 * 1024
    limit = 8 * 1024 * 1024
    d = ContentDecoder.for_encoding("gzip", max_decompressed_size=limit)
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionLimitExceeded):  # noqa: PT012
            for i in range(0, len(bomb), 65536):
                d.decode(bomb[i : i + 65536])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit
    assert d.decompressed_size <= limit + 1


def test_gzip_bomb_without_limit_streams_in_bounded_pieces() -> None:
    bomb = zero_bomb(1)
    d = ContentDecoder.for_encoding("gzip")
    pieces = d.iter_decode(bomb[:65536], chunk_size=65536)
    sizes = [len(next(pieces)) for _ in range(200)]
    assert max(sizes) <= 65536
    pieces.close()


# -- properties ---------------------------------------------------------------------


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


ENCODERS = {
    "gzip": gzip.compress,
    "deflate": deflate,
    "raw-deflate": lambda data: deflate(data, -15),
    "gzip-members": lambda data: gzip.compress(data[:7]) + gzip.compress(data[7:]),
}


@settings(max_examples=150, deadline=None)
@given(
    payload=st.binary(max_size=3000) | st.text(max_size=500).map(lambda t: (t * 20).encode()),
    cuts=st.lists(st.integers(min_value=0, max_value=100_000), max_size=12),
    kind=st.sampled_from(sorted(ENCODERS)),
    limit=st.none() | st.integers(min_value=0, max_value=20_000),
)
def test_any_split_decodes_to_the_same_output(
    payload: bytes, cuts: list[int], kind: str, limit: int | None
) -> None:
    body = ENCODERS[kind](payload)
    coding = "gzip" if kind.startswith("gzip") else "deflate"
    d = ContentDecoder.for_encoding(coding, max_decompressed_size=limit)
    if limit is not None and len(payload) > limit:
        with pytest.raises(DecompressionLimitExceeded):  # noqa: PT012
            for piece in _split(body, cuts):
                d.decode(piece)
        return
    out = b"".join(d.decode(piece) for piece in _split(body, cuts)) + d.flush()
    assert out == payload


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=600),
    prefix=st.sampled_from([b"", b"\x1f\x8b\x08\x00", b"\x78\x9c", b"\x1f\x8b"]),
    coding=st.sampled_from(["gzip", "deflate", "gzip, deflate"]),
    cuts=st.lists(st.integers(min_value=0, max_value=1000), max_size=4),
)
def test_random_bytes_raise_only_decoding_error(
    data: bytes, prefix: bytes, coding: str, cuts: list[int]
) -> None:
    d = ContentDecoder.for_encoding(coding, max_decompressed_size=100_000)
    try:
        for piece in _split(prefix + data, cuts):
            d.decode(piece)
        d.flush()
    except DecodingError:
        pass


@settings(max_examples=100, deadline=None)
@given(payload=st.binary(max_size=2000), chunk=st.integers(min_value=1, max_value=300))
def test_iter_decode_pieces_are_bounded(payload: bytes, chunk: int) -> None:
    d = ContentDecoder.for_encoding("gzip, deflate")
    body = deflate(gzip.compress(payload))
    pieces = list(d.iter_decode(body, chunk_size=chunk))
    assert all(0 < len(p) <= chunk for p in pieces)
    assert b"".join(pieces) == payload
