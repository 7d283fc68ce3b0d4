"""CONTINUATION floods and interrupted field blocks (RFC 9113 sections 4.3 and 6.10).

A field block that never ends (HEADERS without END_HEADERS, then CONTINUATION frames
without end, empty ones included: the CVE-2024-27316 class) is cut once it passes
``2 * max_header_list_size + 1024`` bytes, each frame's 9-byte header counted: a
connection error ENHANCE_YOUR_CALM, with bounded memory and CPU, long before any
timeout. Any other frame in the middle of a field block is a connection error
PROTOCOL_ERROR (section 4.3). The next request goes to a new connection.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from reqivo_async import Timeout
from reqivo_protocol import HeadersTooLarge, ReadTimeout
from reqivo_protocol.http2 import HeaderListTooLarge, HTTP2ProtocolError
from security.conftest import HostileH2
from security.h2wire import (
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    ENHANCE_YOUR_CALM,
    GOOD,
    HEADERS,
    PING,
    PRIORITY,
    PROTOCOL_ERROR,
    RST_STREAM,
    SETTINGS,
    STATUS_200,
    WINDOW_UPDATE,
    connection_error,
    frame,
    goaway_sent,
)
from servers.h2raw import Flood, Handshake, ReadRequest, ReadUntilEOF, Repeat, Send, Sleep

#: The start of a field block that goes on in CONTINUATION frames.
OPEN_BLOCK = frame(HEADERS, 0, 1, STATUS_200)
MIB = 1 << 20


@pytest.mark.parametrize("size", [0, 1, 16384], ids=["empty", "1-byte", "16-KiB"])
def test_continuation_flood_is_cut(hostile_h2: HostileH2, traced: None, size: int) -> None:
    # 64 KiB per write (the peer's buffers are in the measured peak too), 1.5-2 times what
    # we accept: for the client, a block without end. (A peer still writing when we hang
    # up may lose the GOAWAY we sent: its write fails before it reads.)
    flood = frame(CONTINUATION, 0, 1, b"\x00" * size) * (65536 // (size + 9))
    script = (Handshake(), ReadRequest(), Send(OPEN_BLOCK), Flood(flood, times=4))
    server, client = hostile_h2(script, GOOD)
    tracemalloc.reset_peak()
    started = time.monotonic()
    with pytest.raises(HeaderListTooLarge) as info:
        client.get("/a")
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1] / MIB
    assert isinstance(info.value, HeadersTooLarge) and info.value.stream_id == 0
    assert info.value.limit == 2 * 65536 + 1024
    assert elapsed < 5, f"{elapsed:.1f} s to cut the flood"
    assert peak < 16, f"peak {peak:.1f} MiB"
    assert client.get("/b").content == b"fine"
    # (after it: in async mode, no event loop runs between the calls)
    assert goaway_sent(server).error_code == ENHANCE_YOUR_CALM


def test_empty_continuations_are_fine_in_moderation(hostile_h2: HostileH2) -> None:
    block = (
        frame(HEADERS, 0, 1)
        + frame(CONTINUATION, 0, 1) * 10
        + frame(CONTINUATION, 0, 1, STATUS_200)
        + frame(CONTINUATION, END_HEADERS, 1)
        + frame(DATA, END_STREAM, 1, b"ok")
    )
    _, client = hostile_h2((Handshake(), ReadRequest(), Send(block), ReadUntilEOF()))
    assert client.get("/a").content == b"ok"


@pytest.mark.parametrize(
    "intruder",
    [
        frame(DATA, 0, 1, b"x"),
        frame(PING, 0, 0, b"12345678"),
        frame(HEADERS, END_HEADERS, 3, STATUS_200),
        frame(CONTINUATION, END_HEADERS, 3),
        frame(0xFA, 0, 1, b"unknown type"),
        frame(PRIORITY, 0, 1, bytes(5)),
        frame(SETTINGS, 0, 0),
        frame(WINDOW_UPDATE, 0, 0, (1).to_bytes(4, "big")),
        frame(RST_STREAM, 0, 1, bytes(4)),
        frame(HEADERS, END_HEADERS, 1, STATUS_200),
    ],
    ids=[
        "data", "ping", "headers-other-stream", "continuation-other-stream", "unknown-type",
        "priority", "settings", "window-update", "rst-stream", "headers-same-stream",
    ],
)  # fmt: skip
def test_frame_inside_a_field_block(hostile_h2: HostileH2, intruder: bytes) -> None:
    rest = frame(CONTINUATION, END_HEADERS, 1) + frame(DATA, END_STREAM, 1, b"no")
    script = (Handshake(), ReadRequest(), Send(OPEN_BLOCK + intruder + rest), ReadUntilEOF())
    server, client = hostile_h2(script, GOOD)
    with pytest.raises(HTTP2ProtocolError, match="in the middle of a field block") as info:
        client.get("/a")
    assert info.value.stream_id == 0 and info.value.error_code == PROTOCOL_ERROR
    assert client.get("/b").content == b"fine"
    assert server.connections == 2
    assert goaway_sent(server).error_code == PROTOCOL_ERROR


def test_continuation_without_a_field_block(hostile_h2: HostileH2) -> None:
    stray = frame(CONTINUATION, END_HEADERS | END_STREAM, 1, STATUS_200)
    error, code = connection_error(hostile_h2, Send(stray))
    assert code == PROTOCOL_ERROR and "without HEADERS" in str(error)


def test_a_field_block_trickled_without_end_times_out(hostile_h2: HostileH2) -> None:
    # One empty CONTINUATION every 50 ms, without end: each is within the bound, none
    # completes the head. The read timeout holds; the connection, stuck in the middle of
    # a field block, takes no new request: the next one goes to a new connection.
    trickle = Repeat((Sleep(0.05), Send(frame(CONTINUATION, 0, 1))), times=200)
    script = (Handshake(), ReadRequest(), Send(OPEN_BLOCK), trickle, ReadUntilEOF())
    server, client = hostile_h2(script, GOOD)
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        client.get("/a", timeout=Timeout(10.0, read=0.5))
    assert time.monotonic() - started < 2
    assert client.get("/b").content == b"fine"
    assert server.connections == 2
