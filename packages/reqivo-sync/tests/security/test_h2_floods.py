"""Floods from a hostile HTTP/2 peer (CVE-2019-9512 PING, -9514 RST_STREAM, -9515 SETTINGS,
-9518 empty frames; the server side of "rapid reset").

A flood is a connection error: the client sends GOAWAY ENHANCE_YOUR_CALM, the requests in
flight fail with ``ControlFrameFlood`` (a ``RemoteProtocolError`` and a ``LimitExceeded``
naming the limit), and the next request goes to a new connection. Our answers stay
bounded when the peer never reads them: they are held back while the transport is full,
and ``max_queued_acks`` bytes of them end the connection.
"""

from __future__ import annotations

import time

import pytest
from hyperframe.frame import (
    DataFrame,
    Frame,
    GoAwayFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from reqivo_protocol import LimitExceeded, RemoteProtocolError
from reqivo_protocol.http2 import ControlFrameFlood, ErrorCode
from security.conftest import HostileH2
from security.h2wire import goaway_sent
from servers.h2raw import (
    REFUSED_STREAM,
    H2Step,
    Handshake,
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

GOOD = (Handshake(), Repeat((ReadRequest(), Respond(body=b"fine"))))
#: A frame of an unknown type (0xFA), no flags, stream 0, a 6-byte payload.
GREASE = b"\x00\x00\x06\xfa\x00\x00\x00\x00\x00grease"
#: ``ClientConnection``'s default ``max_control_frames``: one more is a flood.
LIMIT = 10_000


def _many(frame: Frame, count: int = LIMIT + 1) -> bytes:
    return frame.serialize() * count


def _answered(frame: Frame, batches: int = 10, batch: int = LIMIT // 10) -> tuple[H2Step, ...]:
    """``batches * batch`` copies of ``frame`` (one the client answers), then one more:
    each batch is sent once the last one's answers were read (the peer reads, so the
    client's transport never fills and the count of frames alone decides)."""
    steps: list[H2Step] = []
    for _ in range(batches):
        steps += [Send(_many(frame, batch)), Repeat((ReadFrame(type(frame)),), times=batch)]
    return (*steps, Send(frame.serialize()))


FLOODS: dict[str, tuple[H2Step, ...]] = {
    "PING": (ReadRequest(), *_answered(PingFrame(0, b"flooding"))),
    "PING ACK": (ReadRequest(), Send(_many(PingFrame(0, b"flooding", flags=["ACK"])))),
    "SETTINGS": (ReadRequest(), *_answered(SettingsFrame(0))),
    # stream 1 answered (closed), then a flood of resets of it while /b waits
    "RST_STREAM": (
        ReadRequest(),
        Respond(body=b"first"),
        ReadRequest(),
        Send(_many(RstStreamFrame(1, ErrorCode.CANCEL))),
    ),
    "empty DATA": (
        ReadRequest(),
        SendHeaders([(":status", "200")]),
        Send(_many(DataFrame(1, b""))),
    ),
    "WINDOW_UPDATE": (ReadRequest(), Send(_many(WindowUpdateFrame(0, 1)))),
    "PRIORITY": (ReadRequest(), Send(_many(PriorityFrame(1, depends_on=3)))),
    "unknown frame type": (ReadRequest(), Send(GREASE * (LIMIT + 1))),
    "informational heads": (
        ReadRequest(),
        *[SendHeaders([(":status", "103"), ("link", "</a.css>")])] * (LIMIT + 1),
    ),
}


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS.keys())
def test_flood_ends_the_connection_with_enhance_your_calm(
    hostile_h2: HostileH2, flood: tuple[H2Step, ...]
) -> None:
    server, client = hostile_h2((Handshake(), *flood, ReadUntilEOF()), GOOD)
    answers_first = isinstance(flood[1], Respond)  # the RST_STREAM flood
    if answers_first:
        assert client.get("/a").content == b"first"
    started = time.monotonic()
    with pytest.raises(ControlFrameFlood) as info:
        client.get("/b" if answers_first else "/a")
    assert time.monotonic() - started < 5
    assert isinstance(info.value, RemoteProtocolError) and isinstance(info.value, LimitExceeded)
    assert info.value.error_code == ErrorCode.ENHANCE_YOUR_CALM
    assert (info.value.limit_name, info.value.limit) == ("max_control_frames", LIMIT)
    response = client.get("/c")
    assert (response.status_code, response.content) == (200, b"fine")
    assert [r.path for r in server.h2_requests if r.connection == 1] == ["/c"]
    assert goaway_sent(server).error_code == ErrorCode.ENHANCE_YOUR_CALM
    assert len(server.frames_of(GoAwayFrame)) == 1


def test_a_peer_that_floods_without_reading_meets_max_queued_acks(hostile_h2: HostileH2) -> None:
    # Each round restarts the control-frame count (a byte of DATA is progress), so only
    # the answers left unsent can tell: the peer never reads, our PING acknowledgements
    # fill the sockets' buffers, then the transport's, then the machine's bounded queue;
    # the transport, which cannot flush, is aborted (else: an unclosed socket warning).
    round_ = _many(PingFrame(0, b"flooding"), 2500) + DataFrame(1, b"x").serialize()
    flood = (
        Handshake(),
        ReadRequest(),
        SendHeaders([(":status", "200")]),
        *[Send(round_), Sleep(0.006)] * 1000,
        SendData(b"", end_stream=True),
        ReadUntilEOF(),
    )
    server, client = hostile_h2(flood, GOOD)
    with pytest.raises(ControlFrameFlood) as info:
        client.get("/a")
    assert info.value.limit_name == "max_queued_acks"
    response = client.get("/b")
    assert (response.status_code, response.content) == (200, b"fine")
    assert [r.path for r in server.h2_requests if r.connection == 1] == ["/b"]


def test_every_stream_refused_is_retried_a_bounded_number_of_times(
    hostile_h2: HostileH2,
) -> None:
    # The server resets every stream at once ("rapid reset" from the server's side):
    # a refused request is sent again a few times, then the user gets the refusal.
    refusing = (Handshake(), Repeat((ReadRequest(), RstStream(error_code=REFUSED_STREAM))))
    server, client = hostile_h2(refusing)
    with pytest.raises(RemoteProtocolError, match="REFUSED_STREAM"):
        client.get("/a")
    assert 2 <= len(server.h2_requests) <= 4
