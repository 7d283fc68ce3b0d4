"""HPACK bombs and limits (RFC 7541 sections 4.2, 6.3 and 7.3; RFC 9113 sections 6.5.2
and 10.5.1).

We advertise SETTINGS_MAX_HEADER_LIST_SIZE (the pool's ``max_header_size``, 65536) and
keep the default dynamic table (4096 bytes). A field block whose decoded list passes the
list size is decoded to its end with the fields past the bound dropped: a stream error
(RST_STREAM ENHANCE_YOUR_CALM, ``HeaderListTooLarge``), the HPACK tables still agree and
the connection serves the next request. A list past 4 times the limit (a bomb: a large
table entry referenced thousands of times, one byte each) is not decoded further: a
connection error ENHANCE_YOUR_CALM, so the work is bounded by the decoded size, not by
the block's length. A table size update above what we allow (or a third one in a block)
is a decoding error: a connection error COMPRESSION_ERROR.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest
from hyperframe.frame import RstStreamFrame, SettingsFrame

from reqivo_protocol import HeadersTooLarge, TooManyHeaders
from reqivo_protocol.http2 import HeaderListTooLarge, HPACKDecodingError
from security.conftest import HostileH2
from security.h2wire import (
    COMPRESSION_ERROR,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    GOOD,
    HEADERS,
    connection_error,
    frame,
    goaway_sent,
    our_settings,
    reset_sent,
)
from servers.h2raw import (
    H2Step,
    Handshake,
    ReadFrame,
    ReadRequest,
    ReadUntilEOF,
    Repeat,
    Respond,
    Send,
    SendHeaders,
)

MIB = 1 << 20
LIST_SIZE = 65536
#: A 4038-byte entry (name, value and 32): it just fits the 4096-byte table.
BIG = ("x-bomb", "v" * 4000)


def _stream_error_script(*steps: H2Step) -> tuple[H2Step, ...]:
    """``steps`` for the first request, then the client's RST_STREAM, then fine answers
    on the same connection."""
    return (
        Handshake(), ReadRequest(), *steps, ReadFrame(RstStreamFrame),
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )  # fmt: skip


def test_we_advertise_max_header_list_size(hostile_h2: HostileH2) -> None:
    server, client = hostile_h2(GOOD)
    client.get("/")
    ours = our_settings(server)
    assert ours[SettingsFrame.MAX_HEADER_LIST_SIZE] == LIST_SIZE
    assert SettingsFrame.HEADER_TABLE_SIZE not in ours  # the default, 4096


def test_hpack_bomb_stops_at_the_header_list_size(hostile_h2: HostileH2, traced: None) -> None:
    # The peer's encoder adds BIG to the table once, then refers to it: one byte a field.
    # 15000 references: a 19 KB block (HEADERS + CONTINUATION) that decodes to 60 MB.
    # Decoding stops past 4 times the list size: a connection error.
    fields = [(":status", "200"), BIG, *[BIG] * 15000]
    bomb = SendHeaders(fields, end_stream=True, continuation=16384)
    server, client = hostile_h2((Handshake(), ReadRequest(), bomb, ReadUntilEOF()), GOOD)
    tracemalloc.reset_peak()
    started = time.monotonic()
    with pytest.raises(HeaderListTooLarge, match="decoding stopped") as info:
        client.get("/a")
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / MIB
    assert isinstance(info.value, HeadersTooLarge)
    assert (info.value.limit_name, info.value.limit) == ("max_header_list_size", LIST_SIZE)
    assert info.value.stream_id == 0 and not info.value.decoded
    assert peak < 8, f"peak {peak:.1f} MiB for a 60 MB header list"
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert client.get("/b").content == b"fine"
    assert server.connections == 2
    assert goaway_sent(server).error_code == ENHANCE_YOUR_CALM


def test_header_list_beyond_what_we_advertise(hostile_h2: HostileH2) -> None:
    # 80 distinct fields of 1 KB: 83 KB decoded, above the 64 KiB we advertise (but below
    # 4 times it): decoded to its end, a stream error; the connection goes on.
    fields = [(":status", "200"), *[(f"x-f{i}", "v" * 1000) for i in range(80)]]
    server, client = hostile_h2(_stream_error_script(SendHeaders(fields, continuation=16384)))
    with pytest.raises(HeaderListTooLarge, match="max_header_list_size=65536"):
        client.get("/a")
    assert client.get("/b").content == b"fine"
    assert reset_sent(server, 1).error_code == ENHANCE_YOUR_CALM
    assert client.get("/c").content == b"fine"
    assert server.connections == 1


def test_header_list_just_within_the_limit(hostile_h2: HostileH2) -> None:
    fields = [(f"x-f{i}", "v" * 1000) for i in range(60)]  # 62 KB
    script = (Handshake(), ReadRequest(), Respond(headers=fields, continuation=16384),
              ReadRequest(), Respond())  # fmt: skip
    _, client = hostile_h2(script)
    response = client.get("/a")
    assert response.headers["x-f59"] == "v" * 1000
    assert client.get("/b").status_code == 200


@pytest.mark.parametrize(
    "block",
    [
        b"\x3f\xe1\x3f\x88",  # size update to 8192, above the 4096 we allow
        b"\x3f\xe1\xff\xff\x0f\x88",  # to 2**32-ish
        b"\x88\x20",  # a size update after a field: only allowed at the start
        b"\x20\x20\x20\x88",  # three updates: "at most two" (RFC 7541 section 4.2)
    ],
    ids=["above-allowed", "huge", "not-at-the-start", "three-updates"],
)
def test_table_size_update_we_did_not_allow(hostile_h2: HostileH2, block: bytes) -> None:
    error, code = connection_error(
        hostile_h2, Send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
    )
    assert isinstance(error, HPACKDecodingError) and code == COMPRESSION_ERROR
    assert error.error_code == COMPRESSION_ERROR


def test_more_fields_than_max_header_count(hostile_h2: HostileH2) -> None:
    # Within the list size, above the pool's max_header_count (128), as on HTTP/1.1.
    fields = [(f"x-f{i}", "1") for i in range(200)]
    script = (Handshake(), ReadRequest(), Respond(headers=fields),
              Repeat((ReadRequest(), Respond(body=b"fine"))))  # fmt: skip
    server, client = hostile_h2(script)
    with pytest.raises(TooManyHeaders) as info:
        client.get("/a")
    assert info.value.limit_name == "max_header_count"
    assert client.get("/b").content == b"fine"
    assert server.connections == 1
