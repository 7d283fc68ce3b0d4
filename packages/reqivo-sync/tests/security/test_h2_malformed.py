"""Malformed HTTP/2 responses (RFC 9113 sections 8.1.1, 8.2 and 8.3.2) from a hostile peer.

A malformed response is a stream error of type PROTOCOL_ERROR (section 8.1.1): the
client resets that stream alone (RST_STREAM PROTOCOL_ERROR, which the peer records), the
request fails with ``HTTP2ProtocolError`` (a ``RemoteProtocolError``), and the next
request goes over the same connection and succeeds.
"""

from __future__ import annotations

import pytest
from hyperframe.frame import RstStreamFrame

from reqivo_protocol import RemoteProtocolError
from reqivo_protocol.http2 import ErrorCode, HTTP2ProtocolError
from security.conftest import HostileH2
from servers.h2raw import (
    Close,
    GoAway,
    H2Step,
    Handshake,
    ReadFrame,
    ReadRequest,
    Repeat,
    Respond,
    SendData,
    SendHeaders,
)

GOOD = (Handshake(), Repeat((ReadRequest(), Respond(body=b"fine"))))


def _head(*fields: tuple[str, str], end_stream: bool = True) -> tuple[H2Step, ...]:
    return (SendHeaders(fields, end_stream=end_stream),)


_OK = (":status", "200")

#: What the hostile peer answers to the first request, by what is wrong with it.
MALFORMED: dict[str, tuple[H2Step, ...]] = {
    # section 8.2: field names are lowercase
    "uppercase name": _head(_OK, ("X-Powered-By", "php")),
    # section 8.2.2: connection-specific fields
    "connection": _head(_OK, ("connection", "keep-alive")),
    "keep-alive": _head(_OK, ("keep-alive", "timeout=5")),
    "proxy-connection": _head(_OK, ("proxy-connection", "keep-alive")),
    "transfer-encoding": _head(_OK, ("transfer-encoding", "chunked")),
    "upgrade": _head(_OK, ("upgrade", "h2c")),
    "te other than trailers": _head(_OK, ("te", "gzip")),
    # section 8.3: pseudo-header fields
    "missing :status": _head(("server", "x")),
    "duplicate :status": _head(_OK, (":status", "204")),
    "request pseudo :method": _head(_OK, (":method", "GET")),
    "request pseudo :path": _head(_OK, (":path", "/")),
    "request pseudo :scheme": _head(_OK, (":scheme", "https")),
    "request pseudo :authority": _head(_OK, (":authority", "example.com")),
    "pseudo after a regular field": _head(("server", "x"), _OK),
    "unknown pseudo": _head(_OK, (":colour", "blue")),
    "invalid :status": _head((":status", "2x0")),
    "pseudo in trailers": (
        *_head(_OK, end_stream=False),
        SendData(b"body"),
        SendHeaders([(":status", "200")], end_stream=True),
    ),
    # section 8.1.1: content-length and the DATA received
    "more DATA than content-length": (
        *_head(_OK, ("content-length", "4"), end_stream=False),
        SendData(b"too long", end_stream=True),
    ),
    "less DATA than content-length": (
        *_head(_OK, ("content-length", "40"), end_stream=False),
        SendData(b"short", end_stream=True),
    ),
    "content-length without DATA": _head(_OK, ("content-length", "4")),
    # section 8.2.1: field names and values
    "NUL in value": _head(_OK, ("x-a", "a\x00b")),
    "CR in value": _head(_OK, ("x-a", "a\rb")),
    "LF in value": _head(_OK, ("x-a", "a\nb")),
    "CRLF injection": _head(_OK, ("x-a", "a\r\nset-cookie: evil=1")),
    "NUL in name": _head(_OK, ("x\x00a", "1")),
    "space in name": _head(_OK, ("x a", "1")),
    "colon in name": _head(_OK, ("x:a", "1")),
    "leading space in value": _head(_OK, ("x-a", " a")),
    "trailing space in value": _head(_OK, ("x-a", "a ")),
    "leading tab in value": _head(_OK, ("x-a", "\ta")),
    "trailing tab in value": _head(_OK, ("x-a", "a\t")),
    "invalid trailer value": (
        *_head(_OK, end_stream=False),
        SendData(b"body"),
        SendHeaders([("x-t", "a\nb")], end_stream=True),
    ),
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_response_resets_its_stream_alone(
    hostile_h2: HostileH2, answer: tuple[H2Step, ...]
) -> None:
    script = (
        Handshake(),
        ReadRequest(),
        *answer,
        ReadFrame(RstStreamFrame),  # our reset (it also drops the request from the queue)
        Repeat((ReadRequest(), Respond(body=b"fine"))),
    )
    server, client = hostile_h2(script)
    with pytest.raises(HTTP2ProtocolError) as info:
        client.get("/a")
    assert isinstance(info.value, RemoteProtocolError)
    assert (info.value.error_code, info.value.stream_id) == (ErrorCode.PROTOCOL_ERROR, 1)
    assert "malformed response on stream 1" in str(info.value)
    response = client.get("/b")
    assert (response.status_code, response.content) == (200, b"fine")
    resets = [f for f in server.frames_of(RstStreamFrame) if isinstance(f, RstStreamFrame)]
    assert [(r.stream_id, r.error_code) for r in resets] == [(1, ErrorCode.PROTOCOL_ERROR)]
    # One connection: the stream error left it open for the next request.
    assert [(r.connection, r.path) for r in server.h2_requests] == [(0, "/a"), (0, "/b")]


def test_te_trailers_and_a_matching_content_length_are_fine(hostile_h2: HostileH2) -> None:
    script = (
        Handshake(),
        ReadRequest(),
        SendHeaders([_OK, ("te", "trailers"), ("content-length", "4")]),
        SendData(b"ab"),
        SendData(b"cd", end_stream=True),
    )
    server, client = hostile_h2(script)
    response = client.get("/a")
    assert (response.status_code, response.content) == (200, b"abcd")
    assert not server.frames_of(RstStreamFrame)


def test_malformed_response_then_goaway_the_next_request_takes_a_new_connection(
    hostile_h2: HostileH2,
) -> None:
    hostile = (
        Handshake(),
        ReadRequest(),
        SendHeaders([("server", "x")], end_stream=True),
        ReadFrame(RstStreamFrame),
        GoAway(last_stream_id=1),
        Close(),
    )
    server, client = hostile_h2(hostile, GOOD)
    with pytest.raises(RemoteProtocolError, match=":status"):
        client.get("/a")
    response = client.get("/b")
    assert (response.status_code, response.content) == (200, b"fine")
    # /b went to the second connection, whether or not it was sent to the first one
    # before the GOAWAY arrived (above its last stream id, the server left it unprocessed).
    assert [r.path for r in server.h2_requests if r.connection == 1] == ["/b"]
