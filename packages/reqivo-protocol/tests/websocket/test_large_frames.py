"""Large uncompressed binary frames are collected block by block and joined once:
the events do not depend on how the bytes were split, and nothing a caller passes in
is kept if it could change afterwards."""

from __future__ import annotations

import itertools
import os
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqivo_protocol.websocket import (
    BytesMessage,
    ConnectionFailed,
    ConnectionState,
    DeflateParams,
    Event,
    Ping,
    TextMessage,
    WebSocketConnection,
)
from reqivo_protocol.websocket._connection import _COLLECT_MIN

from .conftest import build_server_frame

BIG = os.urandom(3 * _COLLECT_MIN + 123)


def _feed(chunks: list[bytes | bytearray | memoryview], **options: object) -> list[Event]:
    conn = WebSocketConnection(max_message_size=None, **options)  # type: ignore[arg-type]
    events: list[Event] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        events += conn.events()
    return events


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


STREAM = (
    build_server_frame(2, b"small")
    + build_server_frame(2, BIG)
    + build_server_frame(9, b"ping")
    + build_server_frame(2, BIG[: _COLLECT_MIN * 2], fin=False)
    + build_server_frame(0, BIG[: _COLLECT_MIN * 2 + 1], fin=False)
    + build_server_frame(0, b"end")
    + build_server_frame(1, "täxt".encode())
)
EXPECTED = [
    BytesMessage(b"small"),
    BytesMessage(BIG),
    Ping(b"ping"),
    BytesMessage(BIG[: _COLLECT_MIN * 2] + BIG[: _COLLECT_MIN * 2 + 1] + b"end"),
    TextMessage("täxt"),
]


@pytest.mark.parametrize("block", [1000, 4096, _COLLECT_MIN - 1, _COLLECT_MIN, 262144, len(STREAM)])
def test_fixed_blocks(block: int) -> None:
    chunks = [STREAM[i : i + block] for i in range(0, len(STREAM), block)]
    assert _feed(chunks) == EXPECTED  # type: ignore[arg-type]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split(cuts: list[int]) -> None:
    assert _feed(_split(STREAM, cuts)) == EXPECTED  # type: ignore[arg-type]


def test_reused_caller_buffers_do_not_change_the_message() -> None:
    conn = WebSocketConnection(max_message_size=None)
    block = bytearray(8192)
    view = memoryview(block)
    for i in range(0, len(STREAM), len(block)):
        piece = STREAM[i : i + len(block)]
        block[: len(piece)] = piece
        conn.receive_data(view[: len(piece)])
        block[:] = b"\xff" * len(block)  # the caller reuses its buffer at once
    assert conn.events() == EXPECTED


def test_end_of_file_while_collecting() -> None:
    frame = build_server_frame(2, BIG)
    conn = WebSocketConnection(max_message_size=None)
    conn.receive_data(frame[:_COLLECT_MIN])
    conn.receive_data(frame[_COLLECT_MIN : 2 * _COLLECT_MIN])
    conn.receive_data(b"")
    (event,) = conn.events()
    assert isinstance(event, ConnectionFailed) and event.code == 1006
    assert conn.state is ConnectionState.CLOSED
    conn.receive_data(frame[2 * _COLLECT_MIN :])  # ignored once closed
    assert conn.events() == []


def test_limit_is_checked_before_collecting() -> None:
    conn = WebSocketConnection(max_message_size=len(BIG) - 1)
    conn.receive_data(build_server_frame(2, BIG)[:_COLLECT_MIN])
    (event,) = conn.events()
    assert isinstance(event, ConnectionFailed) and event.code == 1009
    assert conn.state is ConnectionState.CLOSED


def test_a_closing_frame_after_a_collected_one() -> None:
    stream = build_server_frame(2, BIG) + build_server_frame(8, b"\x03\xe8bye")
    events = _feed([stream[:100], stream[100:]])
    assert events[0] == BytesMessage(BIG)
    assert (events[1].code, events[1].reason) == (1000, "bye")  # type: ignore[attr-defined]


def test_compressed_frames_are_not_collected() -> None:
    compressor = zlib.compressobj(wbits=-15)
    body = compressor.compress(BIG) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(b"\x00\x00\xff\xff") and len(body) > 2 * _COLLECT_MIN
    stream = build_server_frame(2, body[:-4], rsv=4)
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    assert _feed(chunks, deflate=DeflateParams()) == [BytesMessage(BIG)]  # type: ignore[arg-type]


def test_a_block_ending_exactly_with_the_frame() -> None:
    frame = build_server_frame(2, BIG)
    assert _feed([frame[:10], frame[10:-5000], frame[-5000:], frame]) == [
        BytesMessage(BIG),
        BytesMessage(BIG),
    ]


# -- the other end: a block holding exactly one small message takes a shortcut -------


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_one_small_message_per_block(kind: type) -> None:
    conn = WebSocketConnection()
    payloads = [b"", b"x", os.urandom(125)]
    for payload in payloads:
        conn.receive_data(kind(build_server_frame(2, payload)))
        conn.receive_data(kind(build_server_frame(1, "tä".encode())))
    events = conn.events()
    assert events == [m for p in payloads for m in (BytesMessage(p), TextMessage("tä"))]
    assert all(type(e.data) in (bytes, str) for e in events)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (build_server_frame(1, b"\xff"), 1007),
        (build_server_frame(2, b"x" * 11), 1009),
        (build_server_frame(2, b"x", mask_key=b"abcd"), 1002),
        (build_server_frame(3, b"x"), 1002),
    ],
)
def test_small_blocks_are_checked_like_any_other(frame: bytes, code: int) -> None:
    conn = WebSocketConnection(max_message_size=10)
    conn.receive_data(frame)
    (event,) = conn.events()
    assert isinstance(event, ConnectionFailed) and event.code == code
    assert conn.state is ConnectionState.CLOSED


def test_a_small_block_inside_a_fragmented_message_is_a_fragment() -> None:
    conn = WebSocketConnection()
    conn.receive_data(build_server_frame(2, b"ab", fin=False))
    conn.receive_data(build_server_frame(0, b"cd"))
    conn.receive_data(build_server_frame(2, b"ef"))
    assert conn.events() == [BytesMessage(b"abcd"), BytesMessage(b"ef")]
