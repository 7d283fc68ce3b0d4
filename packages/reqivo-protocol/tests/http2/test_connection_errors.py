"""ClientConnection's error paths: every connection and stream error with its code, the
validation of what we send and receive (RFC 9113 section 8), closed-stream rules (5.1),
and the misuse of the API. The server is made of our own frames (``RawServer``)."""

from __future__ import annotations

import pytest
from h2peers import RawServer, frames_of, request_fields

from reqivo_protocol import LimitExceeded, LocalProtocolError
from reqivo_protocol.http2 import (
    PREFACE,
    ClientConnection,
    ContinuationFrame,
    DataFrame,
    ErrorCode,
    Frame,
    FrameTooLarge,
    GoAwayFrame,
    HeaderListTooLarge,
    HeadersFrame,
    HPACKDecodingError,
    HTTP2ProtocolError,
    PingFrame,
    Priority,
    PriorityFrame,
    PushPromiseFrame,
    ResponseReceived,
    RstStreamFrame,
    SettingCode,
    SettingsFrame,
    StreamEnded,
    StreamReset,
    UnknownFrame,
    WindowUpdateFrame,
    frame_header,
)
from reqivo_protocol.http2._connection import CLOSED_RECORD

OK = [(b":status", b"200")]


def _connection_error(raw: RawServer, code: ErrorCode, *frames: object) -> HTTP2ProtocolError:
    with pytest.raises(HTTP2ProtocolError) as info:
        raw.feed(*frames)  # type: ignore[arg-type]
    exc = info.value
    assert exc.error_code == code and exc.stream_id == 0
    (goaway,) = [f for f in raw.sent() if isinstance(f, GoAwayFrame)]
    assert goaway.error_code == code and goaway.last_stream_id == 0
    assert raw.client.is_closed and not raw.client.can_open_stream
    return exc


def _stream_error(raw: RawServer, sid: int, code: ErrorCode, *frames: object) -> None:
    events = raw.feed(*frames)  # type: ignore[arg-type]
    reset = events[-1]
    assert isinstance(reset, StreamReset), events
    assert (reset.stream_id, reset.error_code, reset.remote) == (sid, code, False)
    assert reset.error is not None and reset.error.stream_id == sid
    assert RstStreamFrame(sid, code) in raw.sent()
    assert raw.client.stream_state(sid) == "CLOSED"
    # The connection goes on.
    other = raw.open()
    events = raw.feed(raw.headers(other, OK, end_stream=True))
    assert events == [ResponseReceived(other, 200, []), StreamEnded(other)]


# -- connection errors ------------------------------------------------------------------


def test_first_frame_must_be_settings(make_raw: type[RawServer]) -> None:
    client = ClientConnection()
    client.initiate()
    client.data_to_send()
    with pytest.raises(HTTP2ProtocolError, match="first frame"):
        client.receive_data(PingFrame().serialize())
    assert frames_of(client.data_to_send()) == [
        GoAwayFrame(0, ErrorCode.PROTOCOL_ERROR, b"the server's first frame is not SETTINGS")
    ]
    # Refused cleanly from now on; data_to_send still flushes the GOAWAY.
    for call in (
        lambda: client.receive_data(b""),
        lambda: client.send_headers(request_fields()),
        lambda: client.ping(),
        lambda: client.close(),
        lambda: client.acknowledge_received_data(1, 1),
    ):
        with pytest.raises(LocalProtocolError, match="failed"):
            call()
    assert client.receive_eof() == []


def test_push_promise_refused(raw: RawServer) -> None:
    sid = raw.open()
    _connection_error(raw, ErrorCode.PROTOCOL_ERROR, PushPromiseFrame(sid, 2, raw.block(OK)))


def test_enable_push_from_server_refused(raw: RawServer) -> None:
    _connection_error(raw, ErrorCode.PROTOCOL_ERROR, SettingsFrame(((SettingCode.ENABLE_PUSH, 1),)))


def test_settings_ack_without_settings(raw: RawServer) -> None:
    _connection_error(raw, ErrorCode.PROTOCOL_ERROR, SettingsFrame(ack=True))


def test_frame_too_large(raw: RawServer) -> None:
    exc = _connection_error(raw, ErrorCode.FRAME_SIZE_ERROR, frame_header(16385, 0, 0, 1))
    assert isinstance(exc, FrameTooLarge) and isinstance(exc, LimitExceeded)


def test_larger_frames_accepted_once_our_settings_are_acked(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_frame_size=32768)
    sid = raw.open()
    events = raw.feed(raw.headers(sid, OK), DataFrame(sid, b"x" * 30000, True))
    assert events[-1] == StreamEnded(sid)


def test_malformed_frame_is_a_connection_error(raw: RawServer) -> None:
    _connection_error(raw, ErrorCode.FRAME_SIZE_ERROR, frame_header(3, 6, 0, 0) + b"abc")


def test_hpack_garbage(raw: RawServer) -> None:
    sid = raw.open()
    exc = _connection_error(raw, ErrorCode.COMPRESSION_ERROR, HeadersFrame(sid, b"\xff\xff\xff"))
    assert isinstance(exc, HPACKDecodingError)


def test_continuation_interleaved(raw: RawServer) -> None:
    sid = raw.open()
    block = raw.block(OK)
    _connection_error(
        raw, ErrorCode.PROTOCOL_ERROR, HeadersFrame(sid, block[:1], end_headers=False), PingFrame()
    )


def test_continuation_on_another_stream(raw: RawServer) -> None:
    sid = raw.open()
    other = raw.open()
    block = raw.block(OK)
    _connection_error(
        raw,
        ErrorCode.PROTOCOL_ERROR,
        HeadersFrame(sid, block[:1], end_headers=False),
        ContinuationFrame(other, block[1:], True),
    )


def test_continuation_without_headers(raw: RawServer) -> None:
    sid = raw.open()
    _connection_error(raw, ErrorCode.PROTOCOL_ERROR, ContinuationFrame(sid, b"", True))


def test_continuation_joined(raw: RawServer) -> None:
    sid = raw.open()
    block = raw.block([(b":status", b"200"), (b"x-a", b"1" * 100)])
    events = raw.feed(
        HeadersFrame(sid, block[:10], True, end_headers=False),
        ContinuationFrame(sid, block[10:50]),
        ContinuationFrame(sid, block[50:], True),
    )
    assert events == [ResponseReceived(sid, 200, [(b"x-a", b"1" * 100)]), StreamEnded(sid)]


def test_continuation_flood_is_bounded(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_header_list_size=1000)
    sid = raw.open()
    frames = [HeadersFrame(sid, b"", end_headers=False)] + [
        ContinuationFrame(sid, b"\x00" * 500)
    ] * 10
    exc = _connection_error(raw, ErrorCode.ENHANCE_YOUR_CALM, *frames)
    assert isinstance(exc, LimitExceeded)


def test_empty_continuation_flood_is_bounded(make_raw: type[RawServer]) -> None:
    # CVE-2024-27316: empty frames add nothing to the block, but their headers count.
    raw = make_raw(max_header_list_size=1000)
    sid = raw.open()
    empty = ContinuationFrame(sid, b"").serialize()
    feed = HeadersFrame(sid, b"", end_headers=False).serialize() + empty * 500
    exc = _connection_error(raw, ErrorCode.ENHANCE_YOUR_CALM, feed)
    assert isinstance(exc, LimitExceeded) and exc.limit == 3024
    assert raw.client._cont_parts == [b""]  # only the HEADERS frame's (empty) fragment


def test_empty_continuations_within_the_bound(raw: RawServer) -> None:
    sid = raw.open()
    block = raw.block(OK)
    empty = ContinuationFrame(sid, b"")
    events = raw.feed(
        HeadersFrame(sid, b"", True, end_headers=False), *[empty] * 50,
        ContinuationFrame(sid, block), empty, ContinuationFrame(sid, b"", True),
    )  # fmt: skip
    assert events == [ResponseReceived(sid, 200, []), StreamEnded(sid)]


def test_open_field_block(raw: RawServer) -> None:
    sid = raw.open()
    assert raw.client.open_field_block == 0
    raw.feed(HeadersFrame(sid, b"", end_headers=False), ContinuationFrame(sid, b""))
    assert raw.client.open_field_block == sid
    raw.client.reset_stream(sid)  # the block must still end (and be decoded)
    assert raw.client.open_field_block == sid
    assert raw.feed(ContinuationFrame(sid, raw.block(OK), True)) == []
    assert raw.client.open_field_block == 0


def test_headers_self_dependency_ends_the_connection(raw: RawServer) -> None:
    sid = raw.open()
    _connection_error(
        raw,
        ErrorCode.PROTOCOL_ERROR,
        HeadersFrame(sid, raw.block(OK), priority=Priority(depends_on=0)).serialize()[:9]
        + (sid).to_bytes(4, "big")
        + b"\x10"
        + raw.block(OK),
    )


@pytest.mark.parametrize("frame_type", [0, 1, 3, 8])
def test_frames_on_idle_streams(raw: RawServer, frame_type: int) -> None:
    payloads = {0: b"x", 1: raw.block(OK), 3: bytes(4), 8: b"\x00\x00\x00\x01"}
    wire = frame_header(len(payloads[frame_type]), frame_type, 0x4, 5) + payloads[frame_type]
    _connection_error(raw, ErrorCode.PROTOCOL_ERROR, wire)


def test_headers_on_even_stream(raw: RawServer) -> None:
    _connection_error(raw, ErrorCode.PROTOCOL_ERROR, raw.headers(2, OK))


def test_data_after_end_stream(raw: RawServer) -> None:
    sid = raw.open()
    raw.feed(raw.headers(sid, OK, end_stream=True))
    _connection_error(raw, ErrorCode.STREAM_CLOSED, DataFrame(sid, b"late"))


def test_connection_window_overrun(make_raw: type[RawServer]) -> None:
    raw = make_raw(connection_window_size=65535, max_frame_size=2**20)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    raw.feed(DataFrame(sid, b"x" * 60000))
    _connection_error(raw, ErrorCode.FLOW_CONTROL_ERROR, DataFrame(sid, b"x" * 6000))


def test_connection_window_overrun_on_a_closed_stream(make_raw: type[RawServer]) -> None:
    raw = make_raw(connection_window_size=65535, initial_window_size=65535)
    sid = raw.open()
    raw.client.reset_stream(sid)
    raw.feed(*[DataFrame(sid, b"x" * 16000)] * 4)  # ignored, credited back
    assert WindowUpdateFrame(0, 48000) in raw.sent()  # 16000 more owed: below half
    other = raw.open()
    raw.feed(raw.headers(other, OK), *[DataFrame(other, b"x" * 16000)] * 3)
    _connection_error(raw, ErrorCode.FLOW_CONTROL_ERROR, DataFrame(sid, b"x" * 16000))


def test_window_update_overflows_connection(raw: RawServer) -> None:
    _connection_error(raw, ErrorCode.FLOW_CONTROL_ERROR, WindowUpdateFrame(0, 2**31 - 1))


def test_initial_window_size_overflows_a_stream(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    raw.feed(WindowUpdateFrame(sid, 2**31 - 1 - 65535))
    setting = SettingsFrame(((SettingCode.INITIAL_WINDOW_SIZE, 65536),))
    _connection_error(raw, ErrorCode.FLOW_CONTROL_ERROR, setting)


# -- stream errors ----------------------------------------------------------------------


def test_stream_window_overrun(make_raw: type[RawServer]) -> None:
    raw = make_raw(initial_window_size=1000)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    _stream_error(raw, sid, ErrorCode.FLOW_CONTROL_ERROR, DataFrame(sid, b"x" * 1001))
    # The overrunning DATA was credited back to the connection: nothing leaks.
    assert raw.client._conn_outstanding == 0


def test_stream_window_before_our_settings_are_acked() -> None:
    client = ClientConnection(initial_window_size=1 << 20)
    client.initiate()
    client.receive_data(SettingsFrame().serialize())  # no ACK yet
    sid = client.send_headers(request_fields(), True)
    client.data_to_send()
    from reqivo_protocol.http2.hpack import Encoder

    wire = HeadersFrame(sid, Encoder().encode(OK)).serialize()
    wire += DataFrame(sid, b"x" * 16384).serialize() * 4 + DataFrame(sid, b"x" * 3000).serialize()
    events = client.receive_data(wire)
    assert events[-1] == StreamReset(sid, ErrorCode.FLOW_CONTROL_ERROR, False)


def test_window_update_overflows_stream(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    _stream_error(raw, sid, ErrorCode.FLOW_CONTROL_ERROR, WindowUpdateFrame(sid, 2**31 - 1))


def test_window_update_of_zero_on_a_stream(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, frame_header(4, 8, 0, sid) + bytes(4))


def test_priority_self_dependency(raw: RawServer) -> None:
    sid = raw.open()
    wire = frame_header(5, 2, 0, sid) + sid.to_bytes(4, "big") + b"\x10"
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, wire)


def test_priority_self_dependency_on_an_idle_stream(raw: RawServer) -> None:
    wire = frame_header(5, 2, 0, 9) + (9).to_bytes(4, "big") + b"\x10"
    assert raw.feed(wire) == []
    assert raw.sent() == []


def test_data_on_half_closed_remote_stream(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    raw.feed(raw.headers(sid, OK, end_stream=True))
    assert raw.client.stream_state(sid) == "HALF_CLOSED_REMOTE"
    assert raw.client.sendable(sid) == 65535
    _stream_error(raw, sid, ErrorCode.STREAM_CLOSED, DataFrame(sid, b"late"))


def test_headers_on_half_closed_remote_stream(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    raw.feed(raw.headers(sid, OK, end_stream=True))
    _stream_error(raw, sid, ErrorCode.STREAM_CLOSED, raw.headers(sid, [(b"x", b"y")], True))


def test_data_before_the_response_head(raw: RawServer) -> None:
    sid = raw.open()
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, DataFrame(sid, b"early"))


def test_frames_after_peer_reset(raw: RawServer) -> None:
    sid = raw.open()
    events = raw.feed(RstStreamFrame(sid, ErrorCode.CANCEL))
    assert events == [StreamReset(sid, ErrorCode.CANCEL, True)]
    # A stream error STREAM_CLOSED: RST_STREAM, no event (the stream was reported).
    assert raw.feed(DataFrame(sid, b"x")) == []
    assert raw.sent() == [RstStreamFrame(sid, ErrorCode.STREAM_CLOSED)]
    # Then ignored, as on any stream we reset.
    assert raw.feed(DataFrame(sid, b"x"), raw.headers(sid, OK)) == []
    assert raw.sent() == []


def test_window_update_and_rst_on_closed_streams_ignored(raw: RawServer) -> None:
    sid = raw.open()
    raw.feed(raw.headers(sid, OK, end_stream=True))
    assert raw.feed(WindowUpdateFrame(sid, 10), RstStreamFrame(sid, 0), PriorityFrame(sid)) == []
    assert raw.sent() == []


def test_forgotten_closed_stream(raw: RawServer) -> None:
    first = raw.open()
    raw.client.reset_stream(first)
    for _ in range(CLOSED_RECORD):
        raw.client.reset_stream(raw.open())
    raw.sent()
    assert raw.feed(DataFrame(first, b"x")) == []
    assert raw.sent() == [RstStreamFrame(first, ErrorCode.STREAM_CLOSED)]


MALFORMED = {
    "uppercase name": [(b":status", b"200"), (b"X-Up", b"1")],
    "empty name": [(b":status", b"200"), (b"", b"1")],
    "no status": [(b"x", b"1")],
    "status too short": [(b":status", b"20")],
    "status not digits": [(b":status", b"2x0")],
    "status twice": [(b":status", b"200"), (b":status", b"200")],
    "request pseudo": [(b":status", b"200"), (b":path", b"/")],
    "request pseudo :method": [(b":status", b"200"), (b":method", b"GET")],
    "request pseudo :scheme": [(b":status", b"200"), (b":scheme", b"https")],
    "request pseudo :authority": [(b":status", b"200"), (b":authority", b"a.example")],
    "unknown pseudo": [(b":status", b"200"), (b":colour", b"blue")],
    "status after regular": [(b"x", b"1"), (b":status", b"200")],
    "LF in value": [(b":status", b"200"), (b"x", b"a\nb")],
    "NUL in name": [(b":status", b"200"), (b"x\x00y", b"1")],
    "space in name": [(b":status", b"200"), (b"x y", b"1")],
    "trailing space": [(b":status", b"200"), (b"x", b"a ")],
    "leading tab": [(b":status", b"200"), (b"x", b"\ta")],
    "pseudo after regular": [(b":status", b"200"), (b"x", b"1"), (b":status", b"200")],
    "connection": [(b":status", b"200"), (b"connection", b"close")],
    "keep-alive": [(b":status", b"200"), (b"keep-alive", b"5")],
    "transfer-encoding": [(b":status", b"200"), (b"transfer-encoding", b"chunked")],
    "upgrade": [(b":status", b"200"), (b"upgrade", b"h2c")],
    "proxy-connection": [(b":status", b"200"), (b"proxy-connection", b"x")],
    "te gzip": [(b":status", b"200"), (b"te", b"gzip")],
    "CR in value": [(b":status", b"200"), (b"x", b"a\rb")],
    "NUL in value": [(b":status", b"200"), (b"x", b"a\x00b")],
    "leading space": [(b":status", b"200"), (b"x", b" a")],
    "trailing tab": [(b":status", b"200"), (b"x", b"a\t")],
    "content-length not digits": [(b":status", b"200"), (b"content-length", b"12a")],
    "content-length list differs": [(b":status", b"200"), (b"content-length", b"1, 2")],
    "content-length conflict": [
        (b":status", b"200"),
        (b"content-length", b"1"),
        (b"content-length", b"2"),
    ],
    "101": [(b":status", b"101")],
    "status below 100": [(b":status", b"099")],
}


@pytest.mark.parametrize("fields", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_response(raw: RawServer, fields: list[tuple[bytes, bytes]]) -> None:
    sid = raw.open()
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, fields))


def test_informational_with_end_stream(raw: RawServer) -> None:
    sid = raw.open()
    _stream_error(
        raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, [(b":status", b"100")], True)
    )


def test_content_length_repeated_identical_is_fine(raw: RawServer) -> None:
    sid = raw.open()
    fields = [(b":status", b"200"), (b"content-length", b"2, 2"), (b"content-length", b"2")]
    events = raw.feed(raw.headers(sid, fields), DataFrame(sid, b"ab", True))
    assert events[-1] == StreamEnded(sid)


@pytest.mark.parametrize(
    "body",
    [[b"abcdef"], [b"abc", b"def"], [b"ab"]],
    ids=["too long", "too long later", "too short"],
)
def test_content_length_mismatch(raw: RawServer, body: list[bytes]) -> None:
    sid = raw.open()
    raw.feed(raw.headers(sid, [(b":status", b"200"), (b"content-length", b"4")]))
    frames = [DataFrame(sid, b, end_stream=i == len(body) - 1) for i, b in enumerate(body)]
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, *frames)


def test_content_length_without_data(raw: RawServer) -> None:
    sid = raw.open()
    length = [(b":status", b"200"), (b"content-length", b"4")]
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, length, end_stream=True))


def test_content_length_checked_at_trailers(raw: RawServer) -> None:
    sid = raw.open()
    raw.feed(
        raw.headers(sid, [(b":status", b"200"), (b"content-length", b"4")]), DataFrame(sid, b"ab")
    )
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, [(b"x", b"1")], True))


def test_204_and_304_may_announce_a_length(raw: RawServer) -> None:
    for status in (b"204", b"304"):
        sid = raw.open()
        fields = [(b":status", status), (b"content-length", b"10")]
        assert raw.feed(raw.headers(sid, fields, True))[-1] == StreamEnded(sid)


def test_trailers_without_end_stream(raw: RawServer) -> None:
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, [(b"x", b"1")]))


def test_trailers_with_pseudo_header(raw: RawServer) -> None:
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, OK, True))


def test_trailers_invalid_field(raw: RawServer) -> None:
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    _stream_error(raw, sid, ErrorCode.PROTOCOL_ERROR, raw.headers(sid, [(b"Bad", b"1")], True))


def test_header_list_too_large(make_raw: type[RawServer]) -> None:
    raw = make_raw(max_header_list_size=200)
    sid = raw.open()
    fields = [(b":status", b"200"), (b"x-big", b"v" * 300)]
    events = raw.feed(raw.headers(sid, fields))
    assert isinstance(events[-1], StreamReset)
    assert events[-1].error_code == ErrorCode.ENHANCE_YOUR_CALM
    error: object = events[-1].error
    assert isinstance(error, LimitExceeded)
    # The block was decoded: the HPACK tables still agree.
    other = raw.open()
    assert raw.feed(raw.headers(other, OK, True))[0] == ResponseReceived(other, 200, [])


def test_header_bomb_ends_the_connection(raw: RawServer) -> None:
    # Past 4 times the list size the block is not decoded further: the tables may
    # disagree, so the connection cannot go on.
    sid = raw.open()
    entry = b"\x40\x01x\x7f\xa1\x1e" + b"v" * 4000  # x: 4000 bytes, into the table
    block = b"\x88" + entry + b"\xbe" * 100  # then 100 references to it: 400 KB
    exc = _connection_error(raw, ErrorCode.ENHANCE_YOUR_CALM, HeadersFrame(sid, block))
    assert isinstance(exc, HeaderListTooLarge) and not exc.decoded


# -- what closed streams receive ---------------------------------------------------------


def test_late_frames_after_our_reset_are_ignored_and_credited(make_raw: type[RawServer]) -> None:
    raw = make_raw(connection_window_size=65535)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK), DataFrame(sid, b"x" * 10000))
    raw.client.reset_stream(sid)  # 10000 bytes undelivered to the app: credited now
    assert raw.sent() == [RstStreamFrame(sid, ErrorCode.CANCEL)]
    late: list[Frame] = [
        raw.headers(sid, [(b"x-late", b"1")]),
        DataFrame(sid, b"y" * 15000),
        DataFrame(sid, b"y" * 15000, True),
    ]
    assert raw.feed(*late) == []
    assert raw.sent() == [WindowUpdateFrame(0, 40000)]


def test_padding_is_credited(make_raw: type[RawServer]) -> None:
    raw = make_raw(connection_window_size=65535, initial_window_size=65535)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK))
    events = raw.feed(DataFrame(sid, b"abc", padding=200), DataFrame(sid, b"", padding=255))
    assert [(e.data, e.flow_controlled_length) for e in events] == [(b"abc", 204)]  # type: ignore[union-attr]
    raw.client.acknowledge_received_data(sid, 204)  # clamped to the 3 data bytes
    assert raw.client._conn_outstanding == 0
    events = raw.feed(DataFrame(sid, b"z" * 16000, True, padding=255))
    assert events[-1] == StreamEnded(sid)


def test_acknowledge_after_the_stream_ended(make_raw: type[RawServer]) -> None:
    raw = make_raw(connection_window_size=65535)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK), *[DataFrame(sid, b"x" * 10000)] * 4, DataFrame(sid, b"", True))
    assert raw.client.stream_state(sid) == "CLOSED"
    raw.client.acknowledge_received_data(sid, 33000)
    assert raw.sent() == [WindowUpdateFrame(0, 33000)]
    raw.client.acknowledge_received_data(sid, 20000)  # 7000 were left
    raw.client.acknowledge_received_data(sid, 1)
    raw.client.acknowledge_received_data(99, 1)
    assert raw.client._conn_outstanding == 0
    with pytest.raises(ValueError, match="size"):
        raw.client.acknowledge_received_data(sid, -1)


def test_reset_returns_undelivered_credit(make_raw: type[RawServer]) -> None:
    raw = make_raw(connection_window_size=65535)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK), *[DataFrame(sid, b"x" * 10000)] * 4)
    raw.feed(RstStreamFrame(sid, ErrorCode.INTERNAL_ERROR))
    assert raw.sent() == [WindowUpdateFrame(0, 40000)]


def test_stream_window_update_while_streaming(make_raw: type[RawServer]) -> None:
    raw = make_raw(initial_window_size=65535)
    sid = raw.open()
    raw.feed(raw.headers(sid, OK), *[DataFrame(sid, b"x" * 10000)] * 4)
    raw.client.acknowledge_received_data(sid, 40000)
    assert WindowUpdateFrame(sid, 40000) in raw.sent()


def test_unknown_and_priority_frames_ignored(raw: RawServer) -> None:
    sid = raw.open()
    assert raw.feed(UnknownFrame(0xFA, 0, 0, b"??"), PriorityFrame(sid), PriorityFrame(11)) == []


def test_goaway_twice_keeps_the_lowest(raw: RawServer) -> None:
    s1, s3 = raw.open(), raw.open()
    raw.feed(GoAwayFrame(3))
    events = raw.feed(GoAwayFrame(5, ErrorCode.NO_ERROR, b"again"))
    assert raw.client.last_stream_id_accepted == 3
    events = raw.feed(GoAwayFrame(1))
    assert events[0] == StreamReset(s3, ErrorCode.REFUSED_STREAM, True)
    assert s1 == 1


# -- what we send ---------------------------------------------------------------------


BAD_REQUESTS = {
    "no method": [(b":scheme", b"https"), (b":authority", b"a"), (b":path", b"/")],
    "no path": [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"a")],
    "no authority": [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/")],
    "connect with path": [(b":method", b"CONNECT"), (b":authority", b"a:1"), (b":path", b"/")],
    "connect without authority": [(b":method", b"CONNECT"), (b":scheme", b"https")],
    "unknown pseudo": [*request_fields(), (b":status", b"200")],
    "duplicate pseudo": [(b":method", b"GET"), *request_fields()],
    "pseudo after regular": [*request_fields()[:3], (b"x", b"1"), request_fields()[3]],
    "empty path": request_fields(b""),
    "CR in pseudo": request_fields(b"/\r\n"),
    "uppercase name": request_fields(b"/", b"GET", (b"Accept", b"*/*")),
    "space in name": request_fields(b"/", b"GET", (b"a b", b"1")),
    "LF in value": request_fields(b"/", b"GET", (b"x", b"a\nb")),
    "connection": request_fields(b"/", b"GET", (b"connection", b"keep-alive")),
    "transfer-encoding": request_fields(b"/", b"GET", (b"transfer-encoding", b"chunked")),
    "upgrade": request_fields(b"/", b"GET", (b"upgrade", b"websocket")),
    "te gzip": request_fields(b"/", b"GET", (b"te", b"gzip")),
}


@pytest.mark.parametrize("fields", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_invalid_request_refused(raw: RawServer, fields: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(LocalProtocolError):
        raw.client.send_headers(fields)
    assert raw.client.data_to_send() == b"" and raw.client.open_streams == 0
    assert raw.open() == 1  # no stream id was used


def test_te_trailers_allowed(raw: RawServer) -> None:
    raw.client.send_headers(request_fields(b"/", b"GET", (b"te", b"trailers")))


def test_non_bytes_fields(raw: RawServer) -> None:
    with pytest.raises(TypeError):
        raw.client.send_headers(request_fields(b"/", b"GET", ("x", "y")))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        raw.client.send_headers([(b":method", "GET")])  # type: ignore[list-item]


def test_peer_header_list_size(make_raw: type[RawServer]) -> None:
    raw = make_raw(settings=((SettingCode.MAX_HEADER_LIST_SIZE, 300),))
    with pytest.raises(LocalProtocolError, match="max header list size"):
        raw.client.send_headers(request_fields(b"/", b"GET", (b"x", b"v" * 200)))
    sid = raw.open(end_stream=False)
    with pytest.raises(LocalProtocolError, match="max header list size"):
        raw.client.send_trailers(sid, [(b"x", b"v" * 300)])


def test_invalid_trailers_refused(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    for trailers in ([(b":path", b"/")], [(b"Bad", b"1")], [(b"connection", b"x")]):
        with pytest.raises(LocalProtocolError):
            raw.client.send_trailers(sid, trailers)
    assert raw.client.stream_state(sid) == "OPEN"


def test_sending_on_wrong_streams(raw: RawServer) -> None:
    sid = raw.open()
    with pytest.raises(LocalProtocolError, match="HALF_CLOSED_LOCAL"):
        raw.client.send_data(sid, b"x")
    with pytest.raises(LocalProtocolError, match="HALF_CLOSED_LOCAL"):
        raw.client.send_trailers(sid, [])
    with pytest.raises(LocalProtocolError, match="idle"):
        raw.client.send_data(7, b"x")
    with pytest.raises(LocalProtocolError, match="never opened"):
        raw.client.reset_stream(7)
    raw.feed(raw.headers(sid, OK, True))
    with pytest.raises(LocalProtocolError, match="closed"):
        raw.client.end_stream(sid)
    assert raw.client.sendable(sid) == 0


def test_not_initiated() -> None:
    client = ClientConnection()
    assert not client.can_open_stream
    for call in (lambda: client.receive_data(b""), lambda: client.send_headers(request_fields())):
        with pytest.raises(LocalProtocolError, match="initiate"):
            call()
    client.initiate()
    with pytest.raises(LocalProtocolError, match="already"):
        client.initiate()
    assert client.data_to_send().startswith(PREFACE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_window_size": -1},
        {"initial_window_size": 2**31},
        {"connection_window_size": 100},
        {"max_frame_size": 100},
        {"max_header_list_size": -1},
        {"header_table_size": 2**32},
        {"max_concurrent_streams": -5},
    ],
)
def test_invalid_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ClientConnection(**kwargs)


def test_stream_ids_exhausted(raw: RawServer) -> None:
    raw.client._next_stream_id = 2**31 - 1
    assert raw.open() == 2**31 - 1
    assert not raw.client.can_open_stream
    with pytest.raises(LocalProtocolError, match="exhausted"):
        raw.client.send_headers(request_fields())


def test_byte_at_a_time_partial_frames(raw: RawServer) -> None:
    sid = raw.open()
    wire = raw.headers(sid, OK).serialize() + DataFrame(sid, b"hello" * 100, True).serialize()
    events = []
    for i in range(len(wire)):
        events += raw.client.receive_data(wire[i : i + 1])
    assert events[-1] == StreamEnded(sid)
    assert b"".join(e.data for e in events[1:-1]) == b"hello" * 100  # type: ignore[union-attr]


def test_send_data_accepts_bytes_like(raw: RawServer) -> None:
    sid = raw.open(end_stream=False)
    payload = bytearray(b"abc")
    raw.client.send_data(sid, payload, end_stream=True)
    payload[:] = b"xyz"  # the connection kept its own copy
    assert raw.sent() == [DataFrame(sid, b"abc", True)]


def test_padded_data_on_a_reset_stream(raw: RawServer) -> None:
    sid = raw.open()
    raw.client.reset_stream(sid)
    raw.sent()
    assert raw.feed(DataFrame(sid, b"x" * 100, padding=10)) == []
    assert raw.client._recv_window == 16 * 2**20 - 111


def test_frame_too_large_with_a_split_header(raw: RawServer) -> None:
    header = frame_header(16385, 0, 0, 1)
    assert raw.feed(header[:4]) == []
    with pytest.raises(FrameTooLarge):
        raw.feed(header[4:])


def test_events_before_a_connection_error_are_kept(raw: RawServer) -> None:
    sid = raw.open()
    with pytest.raises(HTTP2ProtocolError) as info:
        raw.feed(raw.headers(sid, OK, True), PushPromiseFrame(sid, 2, b""))
    assert info.value.events == (ResponseReceived(sid, 200, []), StreamEnded(sid))
