"""Floods of control frames (CVE-2019-9512 PING, -9514 RST_STREAM, -9515 SETTINGS,
-9518 empty frames): ``max_control_frames`` in a row with no progress, and
``max_queued_acks`` bytes of acknowledgements not taken, end the connection with
GOAWAY ENHANCE_YOUR_CALM (``ControlFrameFlood``); progress restarts the count, and a
legitimate exchange never comes near either limit."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from h2peers import H2Pair, RawServer

from reqivo_protocol import LimitExceeded
from reqivo_protocol.http2 import (
    ClientConnection,
    ControlFrameFlood,
    DataFrame,
    ErrorCode,
    Frame,
    GoAwayFrame,
    PingFrame,
    PriorityFrame,
    ResponseReceived,
    RstStreamFrame,
    SettingsFrame,
    StreamEnded,
    UnknownFrame,
    WindowUpdateFrame,
)

OK = [(b":status", b"200")]


def _flood(raw: RawServer, limit_name: str, *frames: Frame | bytes) -> ControlFrameFlood:
    with pytest.raises(ControlFrameFlood) as info:
        raw.feed(*frames)
    exc = info.value
    assert isinstance(exc, LimitExceeded) and exc.limit_name == limit_name
    assert (exc.error_code, exc.stream_id) == (ErrorCode.ENHANCE_YOUR_CALM, 0)
    (goaway,) = [f for f in raw.sent() if isinstance(f, GoAwayFrame)]
    assert goaway.error_code == ErrorCode.ENHANCE_YOUR_CALM
    assert raw.client.is_closed and not raw.client.can_open_stream
    return exc


def _within_limit(raw: RawServer, frames: Sequence[Frame]) -> None:
    """Feed ``frames`` one at a time, taking the answers each time (the peer reads)."""
    for frame in frames:
        raw.feed(frame)
        raw.client.data_to_send()


FLOODS = {
    "PING": lambda sid: PingFrame(b"12345678"),
    "PING ACK": lambda sid: PingFrame(b"12345678", ack=True),
    "SETTINGS": lambda sid: SettingsFrame(()),
    "RST_STREAM on a closed stream": lambda sid: RstStreamFrame(1, ErrorCode.CANCEL),
    "empty DATA": lambda sid: DataFrame(sid, b""),
    "WINDOW_UPDATE on the connection": lambda sid: WindowUpdateFrame(0, 1),
    "WINDOW_UPDATE on a stream": lambda sid: WindowUpdateFrame(sid, 1),
    "PRIORITY": lambda sid: PriorityFrame(sid),
    "unknown frame type": lambda sid: UnknownFrame(0xFA, 0, 0, b"grease"),
}


@pytest.mark.parametrize("make", FLOODS.values(), ids=FLOODS.keys())
def test_flood_of_control_frames(make_raw: type[RawServer], make: object) -> None:
    raw = make_raw(max_control_frames=50)
    closed = raw.open()
    raw.feed(raw.headers(closed, OK, end_stream=True))  # stream 1, closed
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    frame = make(sid)  # type: ignore[operator]
    _within_limit(raw, [frame] * 50)
    exc = _flood(raw, "max_control_frames", frame)
    assert exc.limit == 50 and "max_control_frames=50" in str(exc)


def test_flood_in_one_read(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_control_frames=50)
    _flood(raw, "max_control_frames", b"".join(PingFrame(bytes(8)).serialize()
                                             for _ in range(51)))  # fmt: skip


def test_empty_data_frames_in_one_read_are_counted_one_by_one(make_raw: type[RawServer]) -> None:
    # A run of DATA frames (one event for frames that arrived together) stops at an
    # empty one, so that each is counted.
    raw = make_raw(max_control_frames=50)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    _flood(raw, "max_control_frames", DataFrame(sid, b"a"), *[DataFrame(sid, b"")] * 51)


def test_informational_responses_flood(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_control_frames=20)
    sid = raw.open()
    continues = [raw.headers(sid, [(b":status", b"100")]) for _ in range(21)]
    _within_limit(raw, continues[:20])
    _flood(raw, "max_control_frames", continues[20])


def test_a_reset_stream_flood(make_raw: type[RawServer]) -> None:
    # Every stream reset by the server at once ("rapid reset" from the server side):
    # one RST_STREAM per stream we opened is progress enough; more is a flood.
    raw = make_raw(max_control_frames=20)
    streams = [raw.open() for _ in range(20)]
    _within_limit(raw, [RstStreamFrame(sid, ErrorCode.REFUSED_STREAM) for sid in streams])
    _flood(raw, "max_control_frames", RstStreamFrame(streams[0], ErrorCode.REFUSED_STREAM))


@pytest.mark.parametrize("progress", ["request", "upload", "response head", "DATA"])
def test_progress_restarts_the_count(make_raw: type[RawServer], progress: str) -> None:
    raw = make_raw(max_control_frames=10)
    sid = raw.open(end_stream=False)
    if progress == "DATA":
        raw.feed(raw.headers(sid, OK))
    heads = [raw.open() for _ in range(5)] if progress == "response head" else []
    for index in range(5):
        _within_limit(raw, [PingFrame(bytes(8))] * 10)
        if progress == "request":
            raw.open()
        elif progress == "upload":
            raw.client.send_data(sid, b"x")
        elif progress == "response head":
            raw.feed(raw.headers(heads[index], OK))
        else:
            raw.feed(DataFrame(sid, b"data"))
    _within_limit(raw, [PingFrame(bytes(8))] * 10)
    _flood(raw, "max_control_frames", PingFrame(bytes(8)))


def test_the_end_of_a_stream_is_not_a_flood(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_control_frames=3)
    sid = raw.open()
    events = raw.feed(raw.headers(sid, OK), *[PingFrame(bytes(8))] * 3, DataFrame(sid, b"", True))
    assert events[-1] == StreamEnded(sid)


def test_unread_acknowledgements_are_bounded(make_raw: type[RawServer]) -> None:
    # 17 bytes per PING acknowledgement: 10 fit in 170 bytes, the 11th does not.
    raw = make_raw(max_queued_acks=170)
    raw.feed(*[PingFrame(bytes(8))] * 10)
    exc = _flood(raw, "max_queued_acks", PingFrame(bytes(8)))
    assert exc.limit == 170


def test_settings_acknowledgements_count_too(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_queued_acks=90)
    raw.feed(*[SettingsFrame(())] * 10)
    _flood(raw, "max_queued_acks", SettingsFrame(()))


def test_taken_acknowledgements_free_the_queue(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_queued_acks=170)
    for _ in range(5):
        raw.feed(*[PingFrame(bytes(8))] * 10)
        assert raw.sent() == [PingFrame(bytes(8), ack=True)] * 10


def test_default_limits_hold_a_long_exchange() -> None:
    # A server that PINGs and changes SETTINGS at every response (far more than real
    # servers do) over 2,000 requests stays far below the default limits.
    pair = H2Pair()
    client = pair.client
    assert (client.max_control_frames, client.max_queued_acks) == (10_000, 65536)
    for index in range(2000):
        sid = pair.request()
        pair.server.ping(index.to_bytes(8, "big"))
        pair.server.update_settings({0x3: 100 + index % 2})
        events = pair.respond(sid, body=b"ok")
        assert ResponseReceived(sid, 200, []) in events
    assert not client.is_closed


def test_default_flood_limit() -> None:
    raw = RawServer()
    raw.feed(*[PingFrame(bytes(8))] * 3000)
    raw.client.data_to_send()
    raw.feed(*[PingFrame(bytes(8))] * 3000)
    raw.client.data_to_send()
    raw.feed(*[PingFrame(bytes(8))] * 3000)
    raw.client.data_to_send()
    raw.feed(*[PingFrame(bytes(8))] * 999)  # and the SETTINGS of RawServer: 10,000
    _flood(raw, "max_control_frames", PingFrame(bytes(8)))


@pytest.mark.parametrize("kwargs", [{"max_control_frames": 0}, {"max_queued_acks": 0}])
def test_invalid_flood_limits(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ClientConnection(**kwargs)
