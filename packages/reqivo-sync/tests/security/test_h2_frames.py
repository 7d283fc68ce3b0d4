"""Frames a hostile HTTP/2 peer should not send (RFC 9113 sections 4.2, 5.1, 5.5, 6.6).

Oversized frames, PUSH_PROMISE after ENABLE_PUSH=0 and frames on idle streams or on
streams the peer ended are connection errors: the request in flight fails with an
exception of our hierarchy, the client sends GOAWAY with the RFC's code, and the next
request goes to a new connection. (A response that the same read completed is still
delivered; a bad frame that comes after a response ended is read, and fails, with the
next request on that connection.) Frames on a stream the peer reset are a stream error (RST_STREAM
STREAM_CLOSED), frames on a stream we reset are ignored: the connection goes on. Unknown
frame types, flags and settings are ignored.
"""

from __future__ import annotations

import pytest
from hyperframe.frame import PingFrame, RstStreamFrame, SettingsFrame

from reqivo_protocol import LimitExceeded, RemoteProtocolError
from reqivo_protocol.http2 import FrameTooLarge, HTTP2ProtocolError
from security.conftest import HostileH2
from security.h2wire import (
    CANCEL,
    DATA,
    END_HEADERS,
    END_STREAM,
    FRAME_SIZE_ERROR,
    GOOD,
    HEADERS,
    PING,
    PROTOCOL_ERROR,
    SETTINGS,
    STATUS_200,
    STREAM_CLOSED,
    WINDOW_UPDATE,
    connection_error,
    frame,
    goaway_sent,
    our_settings,
    reset_sent,
)
from servers.h2raw import (
    Handshake,
    PushPromise,
    ReadFrame,
    ReadRequest,
    ReadUntilEOF,
    Repeat,
    Respond,
    RstStream,
    Send,
    SendData,
    SendHeaders,
    Sleep,
)

#: A whole response on stream 1 in one write: HEADERS, then DATA with END_STREAM.
RESPONSE_1 = frame(HEADERS, END_HEADERS, 1, STATUS_200) + frame(DATA, END_STREAM, 1, b"first")


@pytest.mark.parametrize(
    "frame_type", [DATA, HEADERS, PING, 0xFA], ids=["data", "headers", "ping", "unknown"]
)
def test_frame_above_our_max_frame_size(hostile_h2: HostileH2, frame_type: int) -> None:
    # We advertise the default SETTINGS_MAX_FRAME_SIZE (16384); section 4.2.
    oversized = frame(frame_type, 0, 0 if frame_type == PING else 1, bytes(16385))
    error, code = connection_error(hostile_h2, Send(oversized))
    assert isinstance(error, FrameTooLarge) and isinstance(error, LimitExceeded)
    assert error.limit == 16384 and code == FRAME_SIZE_ERROR


def test_huge_frame_length_fails_at_its_header(hostile_h2: HostileH2) -> None:
    # 16 MiB announced, never sent: refused from the 9-byte header, nothing is buffered.
    header_only = frame(DATA, 0, 1)[:9]
    header_only = (2**24 - 1).to_bytes(3, "big") + header_only[3:]
    error, code = connection_error(hostile_h2, Send(header_only))
    assert isinstance(error, FrameTooLarge) and code == FRAME_SIZE_ERROR


def test_unknown_types_flags_and_settings_are_ignored(hostile_h2: HostileH2) -> None:
    unknown_flags = 0x2 | 0x10 | 0x40 | 0x80  # none of END_STREAM, END_HEADERS, PADDED, PRIORITY
    noise = b"".join(
        (
            frame(0xFA, 0xFF, 0, b"on the connection"),
            frame(0x0B, 0x00, 1, b"on the stream"),
            frame(SETTINGS, unknown_flags & ~0x1, 0, (0x7F7F).to_bytes(2, "big") + bytes(4)),
            frame(PING, unknown_flags & ~0x1, 0, b"12345678"),
            frame(WINDOW_UPDATE, 0xFF, 1, (2**31 | 1).to_bytes(4, "big")),  # reserved bit
            frame(HEADERS, unknown_flags | END_HEADERS, 1 | 2**31, STATUS_200),
            frame(0xFB, 0x00, 7, b"on an idle stream"),
            frame(DATA, unknown_flags, 1, b"bo"),
            frame(DATA, unknown_flags | END_STREAM, 1, b"dy"),
        )
    )
    script = (Handshake(), ReadRequest(), Send(noise), ReadRequest(2), Respond(stream_id=3),
              ReadUntilEOF())  # fmt: skip
    server, client = hostile_h2(script)
    response = client.get("/a")
    assert (response.status_code, response.content) == (200, b"body")
    assert client.get("/b").status_code == 200
    assert server.connections == 1
    pings = [f for f in server.frames_of(PingFrame) if isinstance(f, PingFrame)]
    assert [p.opaque_data for p in pings if "ACK" in p.flags] == [b"12345678"]


def test_push_promise_after_enable_push_0(hostile_h2: HostileH2) -> None:
    promise = PushPromise(
        [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/pushed")]
    )
    error, code = connection_error(hostile_h2, promise)
    assert code == PROTOCOL_ERROR and "PUSH_PROMISE" in str(error)


def test_we_advertise_enable_push_0(hostile_h2: HostileH2) -> None:
    server, client = hostile_h2(GOOD)
    client.get("/")
    assert our_settings(server)[SettingsFrame.ENABLE_PUSH] == 0


@pytest.mark.parametrize(
    "wire",
    [
        frame(DATA, 0, 3, b"x"),  # odd, never opened
        frame(DATA, 0, 2, b"x"),  # even: the server's, never opened (no push)
        frame(HEADERS, END_HEADERS, 5, STATUS_200),
        frame(HEADERS, END_HEADERS | END_STREAM, 2, STATUS_200),
    ],
    ids=["data-odd", "data-even", "headers-odd", "headers-even"],
)
def test_frames_on_idle_streams(hostile_h2: HostileH2, wire: bytes) -> None:
    # Section 5.1: "idle": anything but HEADERS or PRIORITY from the peer is a connection
    # error PROTOCOL_ERROR; a client never receives HEADERS opening a stream either.
    _, code = connection_error(hostile_h2, Send(wire))
    assert code == PROTOCOL_ERROR


@pytest.mark.parametrize(
    "late",
    [frame(DATA, 0, 1, b"late"), frame(HEADERS, END_HEADERS | END_STREAM, 1, STATUS_200)],
    ids=["data", "headers-reused-stream"],
)
def test_frames_after_the_peer_ended_the_stream(hostile_h2: HostileH2, late: bytes) -> None:
    # Section 5.1, "closed": frames after END_STREAM are a connection error STREAM_CLOSED.
    # The late frame comes after the response, which the request got whole; the
    # connection reads it with the next request in flight (no loop runs between the
    # calls), which fails with it; the one after goes to a new connection.
    script = (
        Handshake(), ReadRequest(), Send(RESPONSE_1), Sleep(0.1), Send(late), ReadUntilEOF()
    )  # fmt: skip
    server, client = hostile_h2(script, GOOD)
    assert client.get("/a").content == b"first"
    with pytest.raises(HTTP2ProtocolError, match="after its END_STREAM") as info:
        client.get("/b")
    assert info.value.stream_id == 0
    assert client.get("/c").content == b"fine"
    assert goaway_sent(server).error_code == STREAM_CLOSED
    assert server.connections == 2


def test_a_response_read_with_a_connection_error_is_delivered(hostile_h2: HostileH2) -> None:
    # The same, in one read: the response that completed before the bad frame is kept.
    late = frame(DATA, 0, 1, b"late")
    server, client = hostile_h2((Handshake(), ReadRequest(), Send(RESPONSE_1 + late),
                                 ReadUntilEOF()), GOOD)  # fmt: skip
    assert client.get("/a").content == b"first"
    assert client.get("/b").content == b"fine"
    assert goaway_sent(server).error_code == STREAM_CLOSED


def test_frames_after_the_peer_reset_the_stream(hostile_h2: HostileH2) -> None:
    # Section 5.1, "closed": frames after the peer's RST_STREAM are a stream error
    # STREAM_CLOSED: that stream is reset again, the connection goes on.
    late = frame(DATA, 0, 1, b"late") + frame(HEADERS, END_HEADERS, 1, STATUS_200)
    script = (
        Handshake(), ReadRequest(), RstStream(error_code=PROTOCOL_ERROR), Send(late),
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )  # fmt: skip
    server, client = hostile_h2(script)
    with pytest.raises(RemoteProtocolError, match="PROTOCOL_ERROR"):
        client.get("/a")
    assert client.get("/b").content == b"fine"
    assert reset_sent(server, 1).error_code == STREAM_CLOSED
    assert server.connections == 1


def test_frames_after_we_reset_the_stream_are_ignored(hostile_h2: HostileH2) -> None:
    # The response is abandoned (closed unread): RST_STREAM CANCEL. What the peer had in
    # flight still comes, and is ignored (its DATA credited back to the connection).
    script = (
        Handshake(), ReadRequest(), SendHeaders([(":status", "200")]), SendData(b"x" * 1000),
        ReadFrame(RstStreamFrame), SendData(b"y" * 30000, stream_id=1, end_stream=True),
        SendHeaders([(":status", "200")], stream_id=1, end_stream=True),
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )  # fmt: skip
    server, client = hostile_h2(script)
    with client.stream("GET", "/a") as response:
        assert response.status_code == 200
    assert client.get("/b").content == b"fine"
    assert reset_sent(server, 1).error_code == CANCEL
    assert client.get("/c").content == b"fine"
    assert server.connections == 1
