"""Runs of DATA frames: the unpadded DATA frames of one stream that arrive together are
delivered as one ``DataReceived`` (one copy, one event), checked as one frame of their
total length; anything else ends the run. Also ``data_pending``."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import pytest
from h2peers import RawServer

from reqivo_protocol.http2 import (
    DataFrame,
    DataReceived,
    ErrorCode,
    FrameTooLarge,
    PingAcknowledged,
    PingFrame,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    frame_header,
)

OK = [(b":status", b"200")]


def _opened(raw: RawServer, *streams: int, fields: list[tuple[bytes, bytes]] = OK) -> list[int]:
    sids = [raw.open() for _ in streams]
    events = raw.feed(*[raw.headers(sid, fields) for sid in sids])
    assert [type(e) for e in events] == [ResponseReceived] * len(sids)
    return sids


def _summary(events: Sequence[object]) -> list[tuple[str, int, bytes | int]]:
    out: list[tuple[str, int, bytes | int]] = []
    for event in events:
        if isinstance(event, DataReceived):
            out.append(("data", event.stream_id, event.data))
            assert event.flow_controlled_length == len(event.data)
        elif isinstance(event, StreamEnded):
            out.append(("end", event.stream_id, 0))
        else:
            out.append((type(event).__name__, getattr(event, "stream_id", 0), 0))
    return out


def test_a_run_is_one_event(raw: RawServer) -> None:
    (sid,) = _opened(raw, 1)
    frames = [DataFrame(sid, b"%d" % i * 100) for i in range(5)]
    events = raw.feed(*frames, DataFrame(sid, b"end", end_stream=True))
    body = b"".join(f.data for f in frames) + b"end"
    assert _summary(events) == [("data", sid, body), ("end", sid, 0)]
    raw.client.acknowledge_received_data(sid, len(body))
    assert raw.client.stream_state(sid) == "CLOSED"


def test_runs_end_at_another_stream_padding_other_frames_and_end_stream(raw: RawServer) -> None:
    one, three = _opened(raw, 1, 3)
    events = raw.feed(
        DataFrame(one, b"a"),
        DataFrame(one, b"b"),
        DataFrame(three, b"c"),
        DataFrame(three, b"d", padding=2),
        DataFrame(three, b"e"),
        PingFrame(b"12345678", ack=True),
        DataFrame(three, b"f"),
        DataFrame(three, b"g", end_stream=True),
        DataFrame(one, b"h", end_stream=True),
    )
    assert _summary(events[:2]) == [("data", one, b"ab"), ("data", three, b"c")]
    padded = events[2]
    assert isinstance(padded, DataReceived) and padded.data == b"d"
    assert padded.flow_controlled_length == 4
    assert isinstance(events[4], PingAcknowledged)
    assert _summary([events[3], *events[5:]]) == [
        ("data", three, b"e"),
        ("data", three, b"fg"),
        ("end", three, 0),
        ("data", one, b"h"),
        ("end", one, 0),
    ]


def test_a_run_ends_where_the_bytes_do(raw: RawServer) -> None:
    (sid,) = _opened(raw, 1)
    wire = b"".join(DataFrame(sid, bytes([65 + i]) * 10).serialize() for i in range(4))
    first = raw.feed(wire[:45])  # frames of 19 bytes: 2 whole, then 7 bytes of the third
    second = raw.feed(wire[45:])  # the third completed alone, then the fourth
    assert _summary(first) == [("data", sid, b"A" * 10 + b"B" * 10)]
    assert _summary(second) == [("data", sid, b"C" * 10), ("data", sid, b"D" * 10)]


def test_a_frame_too_large_after_a_run(raw: RawServer) -> None:
    (sid,) = _opened(raw, 1)
    with pytest.raises(FrameTooLarge) as info:
        raw.feed(DataFrame(sid, b"x"), DataFrame(sid, b"y"), frame_header(16385, 0, 0, sid))
    assert _summary(list(info.value.events)) == [("data", sid, b"xy")]


def test_a_run_over_the_stream_window_resets_the_stream(make_raw: type[RawServer]) -> None:
    raw = make_raw(initial_window_size=1000)
    (sid,) = _opened(raw, 1)
    events = raw.feed(*[DataFrame(sid, b"z" * 300) for _ in range(4)])
    (reset,) = events
    assert isinstance(reset, StreamReset) and reset.error_code == ErrorCode.FLOW_CONTROL_ERROR
    assert raw.client.stream_state(sid) == "CLOSED"


def test_a_run_past_the_content_length_resets_the_stream(raw: RawServer) -> None:
    (sid,) = _opened(raw, 1, fields=[*OK, (b"content-length", b"5")])
    events = raw.feed(DataFrame(sid, b"abc"), DataFrame(sid, b"def"))
    (reset,) = events
    assert isinstance(reset, StreamReset) and reset.error_code == ErrorCode.PROTOCOL_ERROR


def test_data_pending(raw: RawServer) -> None:
    pending = [raw.client.data_pending]
    raw.client.ping(b"pingpong")
    pending.append(raw.client.data_pending)
    raw.client.data_to_send()
    pending.append(raw.client.data_pending)
    assert pending == [False, True, False]


def test_the_reserved_bit_of_a_stream_id_is_ignored_in_a_run(raw: RawServer) -> None:
    (sid,) = _opened(raw, 1)
    reserved = struct.pack(">IBI", 2 << 8, 0, sid | 0x80000000) + b"cd"
    events = raw.feed(DataFrame(sid, b"ab"), reserved, DataFrame(sid, b"ef", end_stream=True))
    assert b"".join(e.data for e in events if isinstance(e, DataReceived)) == b"abcdef"
    assert isinstance(events[-1], StreamEnded)
