"""HPACK: reqivo-protocol's encoder and decoder against the hpack package.

Each operation runs a fresh encoder or decoder over a page load's worth of header
blocks on one connection: ten browser-like GET requests (same origin, browser headers,
a session cookie, a different path each) or their ten responses (a date, length and
etag that change, the rest repeated). The first block fills the dynamic table and the
nine others profit from it, as on a real connection. Decoders get the same bytes:
the blocks as the hpack package encodes them (decoded with ``raw=True``, bytes out,
as ours returns). Rates are header blocks per second.
"""

from __future__ import annotations

from functools import partial

import hpack

from benchmarks._harness import Measurement, measure
from reqivo_protocol.http2.hpack import Decoder, Encoder

TITLE = "HPACK (reqivo-protocol vs hpack)"

BLOCKS = 10

REQUESTS = [
    [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"www.example.com"),
        (b":path", b"/static/js/chunk-%d.8f3a2c1b.js" % i),
        (b"sec-ch-ua", b'"Chromium";v="131", "Not_A Brand";v="24"'),
        (b"sec-ch-ua-mobile", b"?0"),
        (b"sec-ch-ua-platform", b'"Linux"'),
        (
            b"user-agent",
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            b"Chrome/131.0.0.0 Safari/537.36",
        ),
        (b"accept", b"*/*"),
        (b"sec-fetch-site", b"same-origin"),
        (b"sec-fetch-mode", b"no-cors"),
        (b"sec-fetch-dest", b"script"),
        (b"referer", b"https://www.example.com/"),
        (b"accept-encoding", b"gzip, deflate, br, zstd"),
        (b"accept-language", b"en-US,en;q=0.9"),
        (b"cookie", b"session=9f86d081884c7d659a2feaa0c55ad015; theme=dark; lang=en"),
    ]
    for i in range(BLOCKS)
]

RESPONSES = [
    [
        (b":status", b"200"),
        (b"date", b"Sat, 05 Dec 2026 01:30:%02d GMT" % i),
        (b"content-type", b"application/javascript; charset=utf-8"),
        (b"content-length", b"%d" % (10_000 + 37 * i)),
        (b"cache-control", b"public, max-age=31536000, immutable"),
        (b"etag", b'"6747723c-%x"' % (10_000 + 37 * i)),
        (b"last-modified", b"Fri, 04 Dec 2026 19:00:00 GMT"),
        (b"server", b"nginx/1.22.1"),
        (b"vary", b"Accept-Encoding"),
        (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload"),
        (b"x-content-type-options", b"nosniff"),
        (b"accept-ranges", b"bytes"),
    ]
    for i in range(BLOCKS)
]


def _encoded_by_hpack(lists: list[list[tuple[bytes, bytes]]]) -> list[bytes]:
    encoder = hpack.Encoder()
    return [encoder.encode(headers) for headers in lists]


REQUEST_BLOCKS = _encoded_by_hpack(REQUESTS)
RESPONSE_BLOCKS = _encoded_by_hpack(RESPONSES)


def reqivo_encode(lists: list[list[tuple[bytes, bytes]]]) -> int:
    """Encode every list on one fresh connection; bytes produced."""
    encoder = Encoder()
    return sum(len(encoder.encode(headers)) for headers in lists)


def hpack_encode(lists: list[list[tuple[bytes, bytes]]]) -> int:
    """The same with the hpack package."""
    encoder = hpack.Encoder()
    return sum(len(encoder.encode(headers)) for headers in lists)


def reqivo_decode(blocks: list[bytes]) -> int:
    """Decode every block on one fresh connection; fields decoded."""
    decoder = Decoder()
    return sum(len(decoder.decode(block)) for block in blocks)


def hpack_decode(blocks: list[bytes]) -> int:
    """The same with the hpack package."""
    decoder = hpack.Decoder()
    decode = decoder.decode
    count = 0
    for block in blocks:
        fields: list[object] = decode(block, raw=True)  # type: ignore[assignment]
        count += len(fields)
    return count


def _version() -> str:
    from importlib.metadata import version

    return f"hpack {version('hpack')}"


def _check() -> None:
    """Both decoders read the same blocks, and each reads what the other encodes."""
    for lists, blocks in ((REQUESTS, REQUEST_BLOCKS), (RESPONSES, RESPONSE_BLOCKS)):
        decoder = Decoder()
        assert [decoder.decode(block) for block in blocks] == lists
        their_decoder = hpack.Decoder()
        encoder = Encoder()
        assert [their_decoder.decode(encoder.encode(h), raw=True) for h in lists] == lists


def run() -> list[Measurement]:
    """Measure encoding and decoding of requests and responses for both."""
    _check()
    other = _version()
    results = []
    for what, lists, blocks in (
        ("requests", REQUESTS, REQUEST_BLOCKS),
        ("responses", RESPONSES, RESPONSE_BLOCKS),
    ):
        encode = f"encode {BLOCKS} {what} (blocks/s)"
        decode = f"decode {BLOCKS} {what} (blocks/s)"
        results += [
            measure(encode, "reqivo", partial(reqivo_encode, lists), unit="blocks/s",
                    work_per_call=BLOCKS),
            measure(encode, other, partial(hpack_encode, lists), unit="blocks/s",
                    work_per_call=BLOCKS),
            measure(decode, "reqivo", partial(reqivo_decode, blocks), unit="blocks/s",
                    work_per_call=BLOCKS),
            measure(decode, other, partial(hpack_decode, blocks), unit="blocks/s",
                    work_per_call=BLOCKS),
        ]  # fmt: skip
    return results
