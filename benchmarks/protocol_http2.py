"""HTTP/2: reqivo-protocol's HPACK and client connection against hpack and h2.

HPACK: reqivo-protocol's encoder and decoder against the hpack package.

Each operation runs a fresh encoder or decoder over a page load's worth of header
blocks on one connection: ten browser-like GET requests (same origin, browser headers,
a session cookie, a different path each) or their ten responses (a date, length and
etag that change, the rest repeated). The first block fills the dynamic table and the
nine others profit from it, as on a real connection. Decoders get the same bytes:
the blocks as the hpack package encodes them (decoded with ``raw=True``, bytes out,
as ours returns). Rates are header blocks per second.

Connection: a client ``ClientConnection`` against an ``h2`` client ``H2Connection``, both
with the same windows (4 MiB per stream, 16 MiB for the connection), doing a client's
whole work: open the streams (HEADERS), then take a server's byte stream (built once
with our frames and HPACK encoder) in 64 KiB socket reads, pulling the events and
acknowledging each DATA as consumed (which queues WINDOW_UPDATEs), and collecting what
there is to send. Scenarios: 256 concurrent 1 KiB responses (responses/s), and one
64 MiB body in 16 KiB DATA frames (MB/s); for the download, reqivo's HTTP/1.1 machine
reading the same body (Content-Length, same reads) is the yardstick.
"""

from __future__ import annotations

from functools import partial

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

from benchmarks._harness import Measurement, measure
from reqivo_protocol import http11
from reqivo_protocol.http2 import (
    ClientConnection,
    DataFrame,
    DataReceived,
    HeadersFrame,
    SettingCode,
    SettingsFrame,
    StreamEnded,
)
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


# -- the client connection -------------------------------------------------------------

CONCURRENT = 256
SMALL_BODY = 1024
BIG_BODY = 64 * 2**20
DATA_FRAME = 16384
READ_SIZE = 64 * 1024
STREAM_WINDOW = 4 * 2**20
CONNECTION_WINDOW = 16 * 2**20

_REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example.com"),
            (b":path", b"/1k"), (b"user-agent", b"bench"), (b"accept", b"*/*")]  # fmt: skip


def _reads(data: bytes) -> list[bytes]:
    return [data[i : i + READ_SIZE] for i in range(0, len(data), READ_SIZE)]


def _server_stream(streams: int, body: int) -> list[bytes]:
    """What a server sends: its SETTINGS and ACK, then each response (HEADERS with
    nginx-like fields, the body in 16 KiB DATA frames) stream after stream."""
    encoder = Encoder()
    parts = [SettingsFrame(((SettingCode.MAX_CONCURRENT_STREAMS, 1000),)).serialize(),
             SettingsFrame(ack=True).serialize()]  # fmt: skip
    payload = b"x" * DATA_FRAME
    for i in range(streams):
        sid = 2 * i + 1
        fields = [(b":status", b"200"), (b"server", b"nginx/1.22.1"),
                  (b"date", b"Sat, 05 Dec 2026 01:30:00 GMT"),
                  (b"content-type", b"application/octet-stream"),
                  (b"content-length", b"%d" % body), (b"etag", b'"6747723c-%x"' % i),
                  (b"accept-ranges", b"bytes")]  # fmt: skip
        parts.append(HeadersFrame(sid, encoder.encode(fields)).serialize())
        left = body
        while left:
            size = min(left, DATA_FRAME)
            left -= size
            frame = DataFrame(sid, payload[:size], end_stream=not left)
            parts.append(frame.serialize())
    return _reads(b"".join(parts))


SMALL_READS = _server_stream(CONCURRENT, SMALL_BODY)
BIG_READS = _server_stream(1, BIG_BODY)
HTTP11_READS = _reads(
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: %d\r\n\r\n" % BIG_BODY + b"x" * BIG_BODY
)


def reqivo_h2(streams: int, reads: list[bytes]) -> int:
    """Open ``streams`` streams, read the responses; bytes of content received."""
    conn = ClientConnection(initial_window_size=STREAM_WINDOW,
                            connection_window_size=CONNECTION_WINDOW)  # fmt: skip
    conn.initiate()
    for _ in range(streams):
        conn.send_headers(_REQUEST, end_stream=True)
    conn.data_to_send()
    received = ended = 0
    acknowledge = conn.acknowledge_received_data
    for piece in reads:
        for event in conn.receive_data(piece):
            if type(event) is DataReceived:
                received += len(event.data)
                acknowledge(event.stream_id, len(event.data))
            elif type(event) is StreamEnded:
                ended += 1
        conn.data_to_send()
    assert ended == streams
    return received


def h2_h2(streams: int, reads: list[bytes]) -> int:
    """The same with h2."""
    config = h2.config.H2Configuration(client_side=True, header_encoding=None)
    conn = h2.connection.H2Connection(config)
    conn.local_settings = h2.settings.Settings(
        client=True,
        initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
                        h2.settings.SettingCodes.ENABLE_PUSH: 0,
                        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100},
    )  # fmt: skip
    conn.initiate_connection()
    conn.increment_flow_control_window(CONNECTION_WINDOW - 65535)
    for i in range(streams):
        conn.send_headers(2 * i + 1, _REQUEST, end_stream=True)
    conn.data_to_send()
    received = ended = 0
    acknowledge = conn.acknowledge_received_data
    for piece in reads:
        for event in conn.receive_data(piece):
            if type(event) is h2.events.DataReceived:
                received += len(event.data)
                acknowledge(event.flow_controlled_length, event.stream_id)
            elif type(event) is h2.events.StreamEnded:
                ended += 1
        conn.data_to_send()
    assert ended == streams
    return received


def reqivo_http11(reads: list[bytes]) -> int:
    """The 64 MiB body through reqivo's HTTP/1.1 machine."""
    conn = http11.ClientConnection()
    conn.send(http11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
    conn.send(http11.EndOfMessage())
    received = 0
    for piece in reads:
        conn.receive_data(piece)
        while True:
            event = conn.next_event()
            if event is http11.NEED_DATA:
                break
            if type(event) is http11.Data:
                received += len(event.data)
            elif type(event) is http11.EndOfMessage:
                return received
    raise AssertionError("response did not complete")


def connection_scenarios() -> list[Measurement]:
    """The client connection scenarios (see the module docstring)."""
    from importlib.metadata import version

    other = f"h2 {version('h2')}"
    small = partial(reqivo_h2, CONCURRENT, SMALL_READS)
    small_h2 = partial(h2_h2, CONCURRENT, SMALL_READS)
    assert small() == small_h2() == CONCURRENT * SMALL_BODY
    big = partial(reqivo_h2, 1, BIG_READS)
    big_h2 = partial(h2_h2, 1, BIG_READS)
    big_http11 = partial(reqivo_http11, HTTP11_READS)
    assert big() == big_h2() == big_http11() == BIG_BODY
    scenario_small = f"{CONCURRENT} concurrent 1 KiB responses (responses/s)"
    scenario_big = "64 MiB body in 16 KiB DATA frames (MB/s)"
    megabytes = BIG_BODY / 1e6
    return [
        measure(scenario_small, "reqivo", small, unit="resp/s", work_per_call=CONCURRENT),
        measure(scenario_small, other, small_h2, unit="resp/s", work_per_call=CONCURRENT),
        measure(scenario_big, "reqivo", big, unit="MB/s", work_per_call=megabytes),
        measure(scenario_big, other, big_h2, unit="MB/s", work_per_call=megabytes),
        measure(scenario_big, "reqivo HTTP/1.1 (yardstick)", big_http11, unit="MB/s",
                work_per_call=megabytes),
    ]  # fmt: skip


def run() -> list[Measurement]:
    """Measure HPACK encoding and decoding for both, then the client connections."""
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
    return results + connection_scenarios()
