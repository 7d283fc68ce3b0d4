"""Response parsing: heads, framing, limits, errors, states and connection reuse."""

from __future__ import annotations

import types

import pytest

from reqivo_protocol import (
    HeadersTooLarge,
    LineTooLong,
    LocalProtocolError,
    RemoteProtocolError,
    TooManyHeaders,
)
from reqivo_protocol.http11 import (
    NEED_DATA,
    ClientConnection,
    ClientState,
    Data,
    EndOfMessage,
    InformationalResponse,
    PeerClosed,
    Request,
    Response,
)

HOST = [("Host", "example.com")]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def test_simple_response(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    events = wire.feed(conn, OK)
    assert events == [
        Response(status_code=200, reason="OK", http_version="1.1", headers=events[0].headers),
        Data(b"hello"),
        EndOfMessage(),
    ]
    assert events[0].headers.multi_items() == [("Content-Length", "5")]
    assert conn.reusable
    conn.start_next_cycle()
    assert conn.our_state is conn.their_state is ClientState.IDLE


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_byte_by_byte(wire: types.SimpleNamespace, step: int) -> None:
    stream = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
        b"X: y\r\n\r\n5;a=b\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n"
    )
    whole = wire.merge_data(wire.feed(wire.sent(), stream))
    split = wire.merge_data(wire.feed(wire.sent(), stream, step=step))
    assert whole == split
    assert [type(e) for e in whole] == [InformationalResponse, Response, Data, EndOfMessage]
    assert whole[2].data == b"hello0123456789abcdef"
    assert whole[3].trailers.multi_items() == [("T", "1")]


def test_head_fields(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    (response, _) = wire.feed(
        conn, b"HTTP/1.0 404 \r\nA:  spaced \t\r\nB:\r\nA: 2\r\nContent-Length: 0\r\n\r\n"
    )
    assert response.status_code == 404
    assert response.reason == ""
    assert response.http_version == "1.0"
    assert response.headers.get_list("a") == ["spaced", "2"]
    assert response.headers["B"] == ""


def test_status_line_without_reason_space(wire: types.SimpleNamespace) -> None:
    events = wire.feed(wire.sent(), b"HTTP/1.1 204\r\n\r\n")
    assert events[0].reason == ""
    assert isinstance(events[1], EndOfMessage)


def test_bare_lf_line_endings_accepted(wire: types.SimpleNamespace) -> None:
    for stream in (
        b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nhi",
        b"HTTP/1.1 200 OK\nContent-Length: 2\r\n\nhi",
    ):
        for step in (0, 1):
            events = wire.feed(wire.sent(), stream, step=step)
            assert events[0].headers["content-length"] == "2"
            assert wire.body(events) == b"hi"


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version"),
        (b"HTTP/0.9 200 OK\r\n\r\n", "unsupported HTTP version"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 099 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 \xb2\xb3\xb9 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1  200 OK\r\n\r\n", "invalid status line"),
        (b"http/1.1 200 OK\r\n\r\n", "invalid status line"),
        (b"\r\nHTTP/1.1 200 OK\r\n\r\n", "invalid status line"),
        (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "invalid header name .* line 2"),
        (b"HTTP/1.1 200 OK\r\nName : x\r\n\r\n", "invalid header name"),
        (b"HTTP/1.1 200 OK\r\n: x\r\n\r\n", "invalid header name"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\nNoColon\r\n\r\n", "without a colon .* line 3"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", "obs-fold"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\n\tfo:lded\r\n\r\n", "obs-fold"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r2\r\n\r\n", "bare CR"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r2\n\r\n", "bare CR"),
        (b"HTTP/1.1 200 OK\rX\r\n\r\n", "bare CR"),
        (b"HTTP/1.1 200 OK\r\nA: 1\x002\r\n\r\n", "control character"),
        (b"HTTP/1.1 200 OK\r\nA: 1\x7f\n\n", "control character"),
        (b"HTTP/1.1 200 O\x01K\r\n\r\n", "control character"),
        (b"XTTP/1.1 200 OK\r\n\r\n", "invalid status line"),
        (b"garbage", "invalid status line"),
    ],
)
def test_invalid_heads(wire: types.SimpleNamespace, stream: bytes, message: str) -> None:
    for step in (0, 1):
        conn = wire.sent()
        with pytest.raises(RemoteProtocolError, match=message):
            wire.feed(conn, stream, step=step)
        assert conn.their_state is ClientState.ERROR
        assert not conn.reusable
        with pytest.raises(RemoteProtocolError, match="unusable after a protocol error"):
            conn.next_event()


def test_early_garbage_detected_before_terminator(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    conn.receive_data(b"HTX")
    with pytest.raises(RemoteProtocolError, match="invalid status line"):
        conn.next_event()


def test_header_size_limit(wire: types.SimpleNamespace) -> None:
    head = b"HTTP/1.1 200 OK\r\nX: " + b"a" * 100 + b"\r\n\r\n"
    limit = len(head)
    events = wire.feed(wire.sent(max_header_size=limit), head)
    assert isinstance(events[0], Response)
    for step in (0, 1, 10):
        conn = wire.sent(max_header_size=limit - 1)
        with pytest.raises(HeadersTooLarge, match=f"max_header_size={limit - 1} bytes") as info:
            wire.feed(conn, head, step=step)
        assert info.value.limit == limit - 1
        assert info.value.limit_name == "max_header_size"


def test_header_size_limit_without_terminator(wire: types.SimpleNamespace) -> None:
    conn = wire.sent(max_header_size=1024)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n")
    assert conn.next_event() is NEED_DATA
    for _ in range(56):  # 17 + 56 * 18 = 1025 bytes, no blank line yet
        assert conn.next_event() is NEED_DATA
        conn.receive_data(b"X-Long: " + b"a" * 10)
    with pytest.raises(HeadersTooLarge, match="response head exceeds max_header_size=1024 bytes"):
        conn.next_event()


def test_header_count_limit(wire: types.SimpleNamespace) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 5 + b"Content-Length: 0\r\n\r\n"
    assert isinstance(wire.feed(wire.sent(max_header_count=6), head)[0], Response)
    with pytest.raises(TooManyHeaders, match="7 header fields, more than max_header_count=6"):
        wire.feed(wire.sent(max_header_count=6), head.replace(b"X: 1", b"X: 1\r\nY: 2", 1))


def test_informational_responses(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    events = wire.feed(
        conn,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\n\r\n" + OK,
    )
    assert [type(e) for e in events] == [
        InformationalResponse,
        InformationalResponse,
        InformationalResponse,
        Response,
        Data,
        EndOfMessage,
    ]
    assert events[1].status_code == 103
    assert events[1].headers["link"] == "</s.css>"


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
)
def test_no_body_statuses(wire: types.SimpleNamespace, stream: bytes) -> None:
    conn = wire.sent()
    events = wire.feed(conn, stream)
    assert [type(e) for e in events] == [Response, EndOfMessage]
    assert conn.reusable


def test_head_request_ignores_length(wire: types.SimpleNamespace) -> None:
    conn = wire.sent("HEAD")
    events = wire.feed(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    assert [type(e) for e in events] == [Response, EndOfMessage]
    assert conn.reusable


def test_content_length_repeated_identical(wire: types.SimpleNamespace) -> None:
    for head in (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
    ):
        conn = wire.sent()
        assert wire.body(wire.feed(conn, head)) == b"abc"
        assert conn.reusable


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"3, 4", "conflicting Content-Length"),
        (b"-3", "invalid Content-Length"),
        (b"+3", "invalid Content-Length"),
        (b"", "invalid Content-Length"),
        (b"0x10", "invalid Content-Length"),
        (b"1" * 30, "invalid Content-Length"),
        (b"3 4", "invalid Content-Length"),
    ],
)
def test_invalid_content_length(wire: types.SimpleNamespace, value: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        wire.feed(wire.sent(), b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n")


def test_chunked_wins_over_content_length(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    events = wire.feed(
        conn,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    )
    assert wire.body(events) == b"abc"
    assert isinstance(events[-1], EndOfMessage)
    assert not conn.reusable
    assert conn.their_state is ClientState.MUST_CLOSE


def test_chunked_in_http10_not_reusable(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    wire.feed(
        conn,
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert not conn.reusable


def test_transfer_encoding_not_chunked_reads_until_close(wire: types.SimpleNamespace) -> None:
    for coding in (b"gzip", b"chunked, gzip"):
        conn = wire.sent()
        events = wire.feed(
            conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\nabc", eof=True
        )
        assert wire.body(events) == b"abc"
        assert [type(e) for e in events[-2:]] == [EndOfMessage, PeerClosed]
        assert not conn.reusable


def test_transfer_encoding_with_chunked_and_empty_elements(wire: types.SimpleNamespace) -> None:
    events = wire.feed(
        wire.sent(), b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, , Chunked\r\n\r\n0\r\n\r\n"
    )
    assert isinstance(events[-1], EndOfMessage)


@pytest.mark.parametrize("coding", [b"", b" , ", b"chunked, chunked"])
def test_invalid_transfer_encoding(wire: types.SimpleNamespace, coding: bytes) -> None:
    with pytest.raises(RemoteProtocolError, match="invalid Transfer-Encoding"):
        wire.feed(wire.sent(), b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n")


def test_until_close_body(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    events = wire.feed(conn, b"HTTP/1.1 200 OK\r\n\r\nsome", step=2)
    assert wire.body(events) == b"some"
    assert conn.their_state is ClientState.SEND_BODY
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), EndOfMessage)
    assert isinstance(conn.next_event(), PeerClosed)
    assert isinstance(conn.next_event(), PeerClosed)
    assert conn.their_state is ClientState.CLOSED
    assert not conn.reusable


def test_eof_in_content_length_body(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    with pytest.raises(
        RemoteProtocolError,
        match="without sending complete message body: received 2 of 5 bytes",
    ):
        wire.feed(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", eof=True)


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n",
    ],
)
def test_eof_in_chunked_body(wire: types.SimpleNamespace, stream: bytes) -> None:
    with pytest.raises(RemoteProtocolError, match="without sending complete message body"):
        wire.feed(wire.sent(), stream, eof=True)


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"", "without sending a response"),
        (b"HTTP/1.1 200 OK\r\n", "in the middle of the response head .received 17 bytes"),
        (b"HTT", "in the middle of the response head"),
    ],
)
def test_eof_in_head(wire: types.SimpleNamespace, stream: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        wire.feed(wire.sent(), stream, eof=True)


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        (b"x\r\n", "invalid chunk-size line"),
        (b"\r\n", "invalid chunk-size line"),
        (b"-5\r\n", "invalid chunk-size line"),
        (b"0x5\r\n", "invalid chunk-size line"),
        (b"5\n\r\n", "invalid chunk-size line"),
        (b"5;a\x00\r\n", "invalid chunk-size line"),
        (b"1" * 17 + b"\r\n", "invalid chunk-size line"),
        (b"5\r\nhelloXY", "missing CRLF after chunk data"),
        (b"5\r\nhello\rX", "missing CRLF after chunk data"),
        (b"5\r\nhelloX", "missing CRLF after chunk data"),
        (b"0\r\nBad Name: 1\r\n\r\n", "invalid header name in trailer section"),
        (b"0\r\nA: 1\r2\r\n\r\n", "bare CR in trailer section"),
        (b"0\r\n\rX\r\n\r\n", "bare CR in trailer section"),
    ],
)
def test_invalid_chunked(wire: types.SimpleNamespace, chunks: bytes, message: str) -> None:
    stream = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    for step in (0, 1):
        with pytest.raises(RemoteProtocolError, match=message):
            wire.feed(wire.sent(), stream, step=step)


def test_chunk_extensions_and_whitespace(wire: types.SimpleNamespace) -> None:
    events = wire.feed(
        wire.sent(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3 ;name=value;q="x y"\r\nabc\r\nA\t\r\n0123456789\r\n0;last\r\n\r\n',
    )
    assert wire.body(events) == b"abc0123456789"


def test_chunk_line_limit(wire: types.SimpleNamespace) -> None:
    ok = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;" + b"x" * 14 + b"\r\nabc\r\n"
    assert wire.body(wire.feed(wire.sent(max_line_size=16), ok)) == b"abc"
    for step in (0, 1):
        with pytest.raises(LineTooLong, match="max_line_size=15 bytes") as info:
            wire.feed(wire.sent(max_line_size=15), ok, step=step)
        assert info.value.limit == 15


def test_trailers(wire: types.SimpleNamespace) -> None:
    events = wire.feed(
        wire.sent(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB:  2 \r\n\r\n",
    )
    assert events[-1].trailers.multi_items() == [("A", "1"), ("B", "2")]
    lf = wire.feed(wire.sent(), b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n")
    assert lf[-1] == EndOfMessage()


def test_trailer_limits(wire: types.SimpleNamespace) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    with pytest.raises(TooManyHeaders, match="trailer section has 3 fields"):
        wire.feed(wire.sent(max_header_count=2), head + b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n")
    for step in (0, 1):
        with pytest.raises(HeadersTooLarge, match="trailer section exceeds max_header_size=100"):
            wire.feed(
                wire.sent(max_header_size=100), head + b"A: " + b"x" * 200 + b"\r\n\r\n", step=step
            )


def test_big_body_is_not_copied(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n")
    assert isinstance(conn.next_event(), Response)
    block = b"x" * 100000
    conn.receive_data(block)
    event = conn.next_event()
    assert event.data is block  # handed over as is
    conn.receive_data(block)
    assert conn.next_event().data is block
    assert isinstance(conn.next_event(), EndOfMessage)


def test_split_data_keeps_bytes_objects(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab")
    conn.receive_data(bytearray(b"cd"))
    conn.receive_data(memoryview(b"ef"))
    events = wire.drain(conn)
    assert wire.body(events) == b"abcdef"
    assert all(type(e.data) is bytes for e in events if isinstance(e, Data))


# -- keep-alive and reuse -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "reusable"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", True),
    ],
)
def test_keep_alive(wire: types.SimpleNamespace, head: bytes, reusable: bool) -> None:
    conn = wire.sent()
    wire.feed(conn, head)
    assert conn.reusable is reusable
    if not reusable:
        assert conn.their_state is ClientState.MUST_CLOSE
        with pytest.raises(LocalProtocolError, match="cannot carry another request"):
            conn.start_next_cycle()


def test_request_connection_close_makes_cycle_final(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send_request("GET", "/", [*HOST, ("Connection", "close")])
    wire.feed(conn, OK)
    assert not conn.reusable
    assert conn.our_state is conn.their_state is ClientState.MUST_CLOSE


def test_keepalive_sequence(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    for _ in range(3):
        conn.send_request("GET", "/", HOST)
        assert wire.body(wire.feed(conn, OK, step=3)) == b"hello"
        conn.start_next_cycle()


def test_unsolicited_bytes_after_response(wire: types.SimpleNamespace) -> None:
    for step in (0, 1):
        conn = wire.sent()
        events = wire.merge_data(wire.feed(conn, OK + b"HTTP/1.1 200 OK\r\n", step=step))
        assert [type(e) for e in events] == [Response, Data, EndOfMessage]
        assert not conn.reusable
        assert conn.their_state is ClientState.MUST_CLOSE
        with pytest.raises(LocalProtocolError):
            conn.start_next_cycle()


def test_unsolicited_bytes_on_idle_connection() -> None:
    conn = ClientConnection()
    conn.receive_data(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert conn.next_event() is NEED_DATA
    with pytest.raises(LocalProtocolError, match="no request was outstanding"):
        conn.send_request("GET", "/", HOST)
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), PeerClosed)


def test_peer_closed_on_idle_connection() -> None:
    conn = ClientConnection()
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"")
    conn.receive_data(b"")  # repeated EOF is harmless
    assert isinstance(conn.next_event(), PeerClosed)
    assert conn.their_state is ClientState.CLOSED
    assert conn.our_state is ClientState.MUST_CLOSE
    with pytest.raises(LocalProtocolError, match="after the end of file"):
        conn.receive_data(b"x")


def test_peer_closed_after_complete_response(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    events = wire.feed(conn, OK, eof=True)
    assert [type(e) for e in events] == [Response, Data, EndOfMessage, PeerClosed]
    assert not conn.reusable


# -- early responses, Expect: 100-continue -------------------------------------------------


def test_expect_continue_flow(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send(
        Request(
            method="POST",
            target="/",
            headers=[*HOST, ("Expect", "100-continue")],
            body_length=3,
        )
    )
    (info,) = wire.feed(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
    assert isinstance(info, InformationalResponse)
    assert info.status_code == 100
    conn.send(Data(b"abc"))
    conn.send(EndOfMessage())
    wire.feed(conn, OK)
    assert conn.reusable


def test_early_final_response(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send(Request(method="POST", target="/", headers=HOST, body_length=3))
    events = wire.feed(conn, b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
    assert events[0].status_code == 413
    assert conn.their_state is ClientState.DONE
    assert conn.our_state is ClientState.SEND_BODY
    assert not conn.reusable  # our body is unfinished
    conn.send(Data(b"abc"))
    conn.send(EndOfMessage())
    assert conn.reusable


def test_early_response_with_close(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send(Request(method="POST", target="/", headers=HOST, body_length=3))
    wire.feed(conn, b"HTTP/1.1 413 Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    conn.send(Data(b"abc"))
    conn.send(EndOfMessage())
    assert conn.our_state is ClientState.MUST_CLOSE
    assert not conn.reusable


# -- switching protocols -------------------------------------------------------------------


def test_switching_protocols(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send_request("GET", "/chat", [*HOST, ("Upgrade", "websocket"), ("Connection", "Upgrade")])
    conn.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00")
    event = conn.next_event()
    assert isinstance(event, Response)
    assert event.status_code == 101
    assert conn.their_state is conn.our_state is ClientState.SWITCHED_PROTOCOL
    conn.receive_data(b"more")
    assert conn.trailing_data == b"\x81\x00more"
    assert not conn.reusable
    with pytest.raises(LocalProtocolError, match="switched protocols"):
        conn.next_event()
    with pytest.raises(LocalProtocolError, match="cannot send"):
        conn.send(Data(b"x"))


def test_unexpected_101(wire: types.SimpleNamespace) -> None:
    with pytest.raises(RemoteProtocolError, match="without Upgrade"):
        wire.feed(wire.sent(), b"HTTP/1.1 101 Switching Protocols\r\n\r\n")


def test_connect_tunnel(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send(Request(method="CONNECT", target="example.com:443", headers=HOST))
    conn.send(EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01")
    event = conn.next_event()
    assert isinstance(event, Response)
    assert conn.their_state is ClientState.SWITCHED_PROTOCOL
    assert conn.trailing_data == b"\x16\x03\x01"


def test_connect_refused_has_body(wire: types.SimpleNamespace) -> None:
    conn = ClientConnection()
    conn.send_request("CONNECT", "example.com:443", HOST)
    events = wire.feed(conn, b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno")
    assert wire.body(events) == b"no"
    assert conn.reusable


def test_trailing_data_empty_normally(wire: types.SimpleNamespace) -> None:
    conn = wire.sent()
    wire.feed(conn, OK)
    assert conn.trailing_data == b""


def test_state_properties_and_repr() -> None:
    conn = ClientConnection()
    assert conn.our_state is ClientState.IDLE
    assert repr(NEED_DATA) == str(NEED_DATA) == "NEED_DATA"
    assert Response(status_code=200).headers == []
    assert InformationalResponse(status_code=100).http_version == "1.1"
