"""HTTP/2 frames: round trips, split feeding, every malformed frame, and hyperframe (h2)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reqivo_protocol import LimitExceeded, LocalProtocolError, RemoteProtocolError
from reqivo_protocol.http2 import (
    PREFACE,
    ContinuationFrame,
    DataFrame,
    ErrorCode,
    Frame,
    FrameBuffer,
    FrameTooLarge,
    GoAwayFrame,
    HeadersFrame,
    HTTP2ProtocolError,
    PingFrame,
    Priority,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    UnknownFrame,
    WindowUpdateFrame,
    frame_header,
)

stream_ids = st.integers(1, 2**31 - 1)
payloads = st.binary(max_size=64)
paddings = st.none() | st.integers(0, 255)
priorities = st.builds(Priority, st.integers(0, 2**31 - 1), st.integers(1, 256), st.booleans())
error_codes = st.sampled_from(list(ErrorCode)) | st.integers(0, 2**32 - 1)
setting_pairs = st.one_of(
    st.tuples(st.sampled_from([1, 3, 6]), st.integers(0, 2**32 - 1)),
    st.tuples(st.sampled_from([2, 8, 9]), st.integers(0, 1)),
    st.tuples(st.just(4), st.integers(0, 2**31 - 1)),
    st.tuples(st.just(5), st.integers(2**14, 2**24 - 1)),
    st.tuples(st.integers(10, 0xFFFF), st.integers(0, 2**32 - 1)),
)
frames: st.SearchStrategy[Frame] = st.one_of(
    st.builds(DataFrame, stream_ids, payloads, st.booleans(), paddings),
    st.builds(
        HeadersFrame, stream_ids, payloads, st.booleans(), st.booleans(),
        st.none() | priorities, paddings,
    ),
    st.builds(PriorityFrame, stream_ids, priorities),
    st.builds(RstStreamFrame, stream_ids, error_codes),
    st.builds(SettingsFrame, st.lists(setting_pairs, max_size=5).map(tuple)),
    st.just(SettingsFrame(ack=True)),
    st.builds(PushPromiseFrame, stream_ids, stream_ids.map(lambda i: i & ~1 or 2), payloads,
              st.booleans(), paddings),
    st.builds(PingFrame, st.binary(min_size=8, max_size=8), st.booleans()),
    st.builds(GoAwayFrame, st.integers(0, 2**31 - 1), error_codes, payloads),
    st.builds(WindowUpdateFrame, st.integers(0, 2**31 - 1), st.integers(1, 2**31 - 1)),
    st.builds(ContinuationFrame, stream_ids, payloads, st.booleans()),
    st.builds(UnknownFrame, st.integers(10, 255), st.integers(0, 255),
              st.integers(0, 2**31 - 1), payloads),
).filter(
    lambda f: not isinstance(f, HeadersFrame | PriorityFrame)
    or f.priority is None
    or f.priority.depends_on != f.stream_id
)  # fmt: skip


def parse_all(wire: bytes, *, max_frame_size: int = 16384) -> list[Frame]:
    buffer = FrameBuffer(max_frame_size)
    buffer.feed(wire)
    out = list(buffer)
    assert buffer.buffered == 0
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(frames, max_size=8))
def test_round_trip(sent: list[Frame]) -> None:
    assert parse_all(b"".join(frame.serialize() for frame in sent)) == sent


@settings(max_examples=200, deadline=None)
@given(st.lists(frames, min_size=1, max_size=8), st.data())
def test_split_feeding_equals_whole_feeding(sent: list[Frame], data: st.DataObject) -> None:
    wire = b"".join(frame.serialize() for frame in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    buffer = FrameBuffer()
    received: list[Frame] = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        buffer.feed(wire[start:end])
        received += buffer
    assert received == sent
    buffer = FrameBuffer()
    received = []
    for i in range(len(wire)):
        buffer.feed(memoryview(wire)[i : i + 1])
        received += buffer
    assert received == sent


def test_known_bytes() -> None:
    assert DataFrame(1, b"hi", end_stream=True).serialize() == bytes.fromhex(
        "000002 00 01 00000001 6869"
    )
    assert SettingsFrame(((SettingCode.ENABLE_PUSH, 0),)).serialize() == bytes.fromhex(
        "000006 04 00 00000000 0002 00000000"
    )
    assert SettingsFrame(ack=True).serialize() == bytes.fromhex("000000 04 01 00000000")
    assert HeadersFrame(3, b"x", padding=1, priority=Priority(1, 16, True)).serialize() == (
        bytes.fromhex("000008 01 2c 00000003 01 80000001 0f 78 00")
    )
    assert PREFACE == b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def test_padding_and_flow_control_length() -> None:
    (frame,) = parse_all(DataFrame(1, b"abc", padding=4).serialize())
    assert isinstance(frame, DataFrame)
    assert (frame.data, frame.padding, frame.flow_controlled_length) == (b"abc", 4, 8)
    assert DataFrame(1, b"abc").flow_controlled_length == 3
    assert DataFrame(1, b"", padding=0).flow_controlled_length == 1
    # The padding may take the whole payload after the pad length octet.
    assert parse_all(frame_header(3, 0, 0x8, 1) + b"\x02\x00\x00") == [DataFrame(1, padding=2)]
    wire = frame_header(7, 1, 0x2C, 1) + b"\x01\x00\x00\x00\x00\x0f\x00"
    assert parse_all(wire) == [HeadersFrame(1, priority=Priority(), padding=1)]


def test_reserved_bits_and_unknown_codes() -> None:
    wire = frame_header(4, 8, 0, 0x80000005) + b"\x80\x00\x00\x01"
    assert parse_all(wire) == [WindowUpdateFrame(5, 1)]
    (frame,) = parse_all(frame_header(8, 7, 0xFF, 0) + b"\x80\x00\x00\x03\x00\x00\x01\x00")
    assert frame == GoAwayFrame(3, 256)
    assert isinstance(frame, GoAwayFrame)
    assert type(frame.error_code) is int
    (reset,) = parse_all(RstStreamFrame(1, 0xD).serialize())
    assert reset.error_code is ErrorCode.HTTP_1_1_REQUIRED  # type: ignore[union-attr]
    wire = frame_header(5, 0x5, 0x4, 1) + b"\x80\x00\x00\x02z"
    assert parse_all(wire) == [PushPromiseFrame(1, 2, b"z")]


def test_a_frame_over_the_limit_is_refused_from_its_header() -> None:
    buffer = FrameBuffer(max_frame_size=16384)
    buffer.feed(frame_header(16385, 0, 0, 1))
    with pytest.raises(FrameTooLarge) as caught:
        buffer.next_frame()
    error = caught.value
    assert isinstance(error, LimitExceeded)
    assert (error.limit_name, error.limit) == ("max_frame_size", 16384)
    assert (error.error_code, error.stream_id) == (ErrorCode.FRAME_SIZE_ERROR, 0)
    assert parse_all(DataFrame(1, b"x" * 20000).serialize(), max_frame_size=20000)


def test_the_buffer_waits_for_whole_frames_and_compacts() -> None:
    buffer = FrameBuffer()
    wire = DataFrame(1, b"x" * 100).serialize()
    buffer.feed(wire[:5])
    assert buffer.next_frame() is None
    buffer.feed(wire[5:50])
    assert buffer.next_frame() is None
    assert buffer.buffered == 50
    for _ in range(1000):
        buffer.feed(wire[50:] + wire[:50])
        assert buffer.next_frame() == DataFrame(1, b"x" * 100)
        assert buffer.buffered == 50
    assert len(buffer._data) <= 4 * len(wire)  # the consumed prefix was dropped


def test_after_a_stream_error_the_buffer_goes_on() -> None:
    bad = frame_header(4, 8, 0, 3) + bytes(4)
    buffer = FrameBuffer()
    buffer.feed(bad + PingFrame().serialize())
    with pytest.raises(HTTP2ProtocolError) as caught:
        buffer.next_frame()
    assert (caught.value.error_code, caught.value.stream_id) == (ErrorCode.PROTOCOL_ERROR, 3)
    assert buffer.next_frame() == PingFrame()


def frame(frame_type: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return frame_header(len(payload), frame_type, flags, stream_id) + payload


PROTOCOL, FRAME_SIZE = ErrorCode.PROTOCOL_ERROR, ErrorCode.FRAME_SIZE_ERROR

MALFORMED = [
    # (wire, error code, stream id of the error (0: connection error), message)
    (frame(0, 0, 0, b"x"), PROTOCOL, 0, "DATA frame on stream 0"),
    (frame(0, 0x8, 1, b""), FRAME_SIZE, 0, "padded DATA frame of 0 bytes is too short"),
    (frame(0, 0x8, 1, b"\x03ab"), PROTOCOL, 0, "padding \\(3 bytes\\) does not fit"),
    (frame(0, 0x8, 1, b"\xff"), PROTOCOL, 0, "padding \\(255 bytes\\) does not fit"),
    (frame(1, 0x4, 0, b"x"), PROTOCOL, 0, "HEADERS frame on stream 0"),
    (frame(1, 0x20, 1, b"\x00\x00\x00"), FRAME_SIZE, 0, "HEADERS frame of 3 bytes is too short"),
    (frame(1, 0x28, 1, b"\x02\x00\x00\x00\x00\x10\x00"), PROTOCOL, 0, "padding \\(2 bytes\\)"),
    (frame(1, 0x20, 1, b"\x00\x00\x00\x01\x10"), PROTOCOL, 1, "stream 1 depends on itself"),
    (frame(2, 0, 0, bytes(5)), PROTOCOL, 0, "PRIORITY frame on stream 0"),
    (frame(2, 0, 3, bytes(4)), FRAME_SIZE, 3, "PRIORITY frame of 4 bytes, not 5"),
    (frame(2, 0, 3, b"\x80\x00\x00\x03\x00"), PROTOCOL, 3, "stream 3 depends on itself"),
    (frame(3, 0, 0, bytes(4)), PROTOCOL, 0, "RST_STREAM frame on stream 0"),
    (frame(3, 0, 1, bytes(5)), FRAME_SIZE, 0, "RST_STREAM frame of 5 bytes, not 4"),
    (frame(4, 0, 1, b""), PROTOCOL, 0, "SETTINGS frame on stream 1, not 0"),
    (frame(4, 1, 0, bytes(6)), FRAME_SIZE, 0, "SETTINGS acknowledgement frame of 6 bytes"),
    (frame(4, 0, 0, bytes(7)), FRAME_SIZE, 0, "SETTINGS frame of 7 bytes, not a multiple"),
    (frame(4, 0, 0, b"\x00\x02\x00\x00\x00\x02"), PROTOCOL, 0, "ENABLE_PUSH must be 0 or 1"),
    (frame(4, 0, 0, b"\x00\x08\x00\x00\x00\x02"), PROTOCOL, 0, "ENABLE_CONNECT_PROTOCOL"),
    (frame(4, 0, 0, b"\x00\x09\x00\x00\x01\x00"), PROTOCOL, 0, "NO_RFC7540_PRIORITIES"),
    (frame(4, 0, 0, b"\x00\x05\x00\x00\x3f\xff"), PROTOCOL, 0, "MAX_FRAME_SIZE must be"),
    (frame(4, 0, 0, b"\x00\x05\x01\x00\x00\x00"), PROTOCOL, 0, "MAX_FRAME_SIZE must be"),
    (frame(4, 0, 0, b"\x00\x04\x80\x00\x00\x00"), ErrorCode.FLOW_CONTROL_ERROR, 0,
     "INITIAL_WINDOW_SIZE"),
    (frame(5, 0x4, 0, bytes(4)), PROTOCOL, 0, "PUSH_PROMISE frame on stream 0"),
    (frame(5, 0x4, 1, bytes(3)), FRAME_SIZE, 0, "PUSH_PROMISE frame of 3 bytes is too short"),
    (frame(5, 0xC, 1, b"\x01\x00\x00\x00\x02"), PROTOCOL, 0, "padding \\(1 bytes\\)"),
    (frame(5, 0x4, 1, bytes(4)), PROTOCOL, 0, "promising stream 0"),
    (frame(5, 0x4, 1, b"\x00\x00\x00\x03"), PROTOCOL, 0, "promising stream 3"),
    (frame(6, 0, 1, bytes(8)), PROTOCOL, 0, "PING frame on stream 1"),
    (frame(6, 0, 0, bytes(7)), FRAME_SIZE, 0, "PING frame of 7 bytes, not 8"),
    (frame(7, 0, 1, bytes(8)), PROTOCOL, 0, "GOAWAY frame on stream 1"),
    (frame(7, 0, 0, bytes(7)), FRAME_SIZE, 0, "GOAWAY frame of 7 bytes, less than 8"),
    (frame(8, 0, 1, bytes(3)), FRAME_SIZE, 0, "WINDOW_UPDATE frame of 3 bytes, not 4"),
    (frame(8, 0, 0, bytes(4)), PROTOCOL, 0, "increment of 0"),
    (frame(8, 0, 7, b"\x80\x00\x00\x00"), PROTOCOL, 7, "increment of 0"),
    (frame(9, 0x4, 0, b"x"), PROTOCOL, 0, "CONTINUATION frame on stream 0"),
]  # fmt: skip


@pytest.mark.parametrize(("wire", "code", "stream_id", "message"), MALFORMED)
def test_malformed_frames(wire: bytes, code: ErrorCode, stream_id: int, message: str) -> None:
    buffer = FrameBuffer()
    buffer.feed(wire)
    with pytest.raises(HTTP2ProtocolError, match=message) as caught:
        buffer.next_frame()
    assert isinstance(caught.value, RemoteProtocolError)
    assert (caught.value.error_code, caught.value.stream_id) == (code, stream_id)
    assert buffer.buffered == 0


REFUSED = [
    (DataFrame(0, b"x"), "DATA stream id must be 1 to 2\\*\\*31-1, not 0"),
    (DataFrame(2**31, b"x"), "not 2147483648"),
    (DataFrame(1, b"x", padding=256), "padding must be 0-255"),
    (HeadersFrame(1, priority=Priority(weight=0)), "weight must be 1-256"),
    (HeadersFrame(1, priority=Priority(depends_on=-1)), "depends_on stream id must be 0"),
    (PriorityFrame(0), "PRIORITY stream id"),
    (RstStreamFrame(0), "RST_STREAM stream id"),
    (SettingsFrame(((1, 1),), ack=True), "acknowledgement carries no settings"),
    (SettingsFrame(((2, 2),)), "ENABLE_PUSH must be 0 or 1"),
    (SettingsFrame(((4, 2**31),)), "INITIAL_WINDOW_SIZE must be at most"),
    (SettingsFrame(((5, 100),)), "MAX_FRAME_SIZE must be"),
    (SettingsFrame(((0x10000, 1),)), "does not fit"),
    (PushPromiseFrame(1, 0), "promised stream id"),
    (PushPromiseFrame(0, 2), "PUSH_PROMISE stream id"),
    (PushPromiseFrame(1, 3), "promised stream id must be even"),
    (PingFrame(b"short"), "PING carries 8 bytes, not 5"),
    (GoAwayFrame(-1), "last stream id"),
    (WindowUpdateFrame(1, 0), "window increment must be 1"),
    (WindowUpdateFrame(-1, 1), "WINDOW_UPDATE stream id must be 0"),
    (ContinuationFrame(0), "CONTINUATION stream id"),
    (UnknownFrame(256, 0, 0), "single bytes"),
    (UnknownFrame(20, 0, -1), "frame stream id"),
]


@pytest.mark.parametrize(("frame_", "message"), REFUSED)
def test_invalid_frames_are_not_serialized(frame_: Frame, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        frame_.serialize()


# -- against hyperframe (h2's frame layer, installed with the test servers) --------------


def _hyperframe() -> Any:
    return pytest.importorskip("hyperframe.frame")


def _flag(frame: Any, name: str) -> bool:
    return name in frame.flags


def _padding(frame: Any) -> int | None:
    return frame.pad_length if _flag(frame, "PADDED") else None


def _priority(frame: Any) -> Priority:
    return Priority(frame.depends_on, frame.stream_weight + 1, frame.exclusive)


def from_hyperframe(frame: Any) -> Frame:
    """Our frame with the same content as hyperframe's."""
    hf = _hyperframe()
    sid = frame.stream_id
    if isinstance(frame, hf.DataFrame):
        return DataFrame(sid, frame.data, _flag(frame, "END_STREAM"), _padding(frame))
    if isinstance(frame, hf.HeadersFrame):
        priority = _priority(frame) if _flag(frame, "PRIORITY") else None
        return HeadersFrame(sid, frame.data, _flag(frame, "END_STREAM"),
                            _flag(frame, "END_HEADERS"), priority, _padding(frame))  # fmt: skip
    if isinstance(frame, hf.PriorityFrame):
        return PriorityFrame(sid, _priority(frame))
    if isinstance(frame, hf.RstStreamFrame):
        return RstStreamFrame(sid, frame.error_code)
    if isinstance(frame, hf.SettingsFrame):
        return SettingsFrame(tuple(frame.settings.items()), _flag(frame, "ACK"))
    if isinstance(frame, hf.PushPromiseFrame):
        return PushPromiseFrame(sid, frame.promised_stream_id, frame.data,
                                _flag(frame, "END_HEADERS"), _padding(frame))  # fmt: skip
    if isinstance(frame, hf.PingFrame):
        return PingFrame(bytes(frame.opaque_data), _flag(frame, "ACK"))
    if isinstance(frame, hf.GoAwayFrame):
        return GoAwayFrame(frame.last_stream_id, frame.error_code, frame.additional_data)
    if isinstance(frame, hf.WindowUpdateFrame):
        return WindowUpdateFrame(sid, frame.window_increment)
    if isinstance(frame, hf.ContinuationFrame):
        return ContinuationFrame(sid, frame.data, _flag(frame, "END_HEADERS"))
    assert isinstance(frame, hf.ExtensionFrame)
    return UnknownFrame(frame.type, frame.flag_byte, sid, frame.body)


def _comparable(frame: Frame) -> bool:
    # hyperframe keeps SETTINGS in a dict (a repeated parameter keeps its last value), and
    # writes only the low byte of a parameter's 16-bit identifier.
    if isinstance(frame, SettingsFrame):
        ids = {p for p, _ in frame.settings}
        return len(ids) == len(frame.settings) and all(p < 256 for p in ids)
    # hyperframe refuses a padded HEADERS frame whose padding is all that follows the pad
    # length octet; RFC 9113 section 6.2 refuses only padding that exceeds that room.
    if isinstance(frame, HeadersFrame) and frame.padding and frame.priority is None:
        return bool(frame.block)
    # hyperframe knows more types than RFC 9113's (ALTSVC, RFC 7838).
    if isinstance(frame, UnknownFrame):
        return frame.type not in _hyperframe().FRAMES
    return True


@settings(max_examples=300, deadline=None)
@given(frames.filter(_comparable))
def test_hyperframe_parses_ours_and_we_parse_theirs(frame: Frame) -> None:
    wire = frame.serialize()
    theirs, length = _hyperframe().Frame.parse_frame_header(memoryview(wire[:9]))
    theirs.parse_body(memoryview(wire[9 : 9 + length]))
    assert from_hyperframe(theirs) == frame
    buffer = FrameBuffer()
    buffer.feed(theirs.serialize())
    assert buffer.next_frame() == frame
    assert buffer.buffered == 0
