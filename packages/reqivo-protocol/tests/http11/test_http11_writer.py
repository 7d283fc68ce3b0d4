"""Request serialization: validation, target forms, body framing, fast path."""

from __future__ import annotations

import pytest

from reqivo_protocol import Headers, LocalProtocolError
from reqivo_protocol.http11 import (
    ClientConnection,
    ClientState,
    Data,
    EndOfMessage,
    Request,
)

HOST = [("Host", "example.com")]


def send(**kwargs: object) -> bytes:
    kwargs.setdefault("headers", HOST)
    return ClientConnection().send(Request(**kwargs))  # type: ignore[arg-type]


def test_simple_get() -> None:
    assert (
        send(method="GET", target="/p?q=1") == b"GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
    )


def test_bytes_method_target_and_headers() -> None:
    wire = send(method=b"GET", target=b"/", headers=[(b"Host", b"h"), ("X-A", b"\xe9")])
    assert wire == b"GET / HTTP/1.1\r\nHost: h\r\nX-A: \xe9\r\n\r\n"


def test_headers_object_and_mapping() -> None:
    assert send(method="GET", target="/", headers=Headers({"Host": "h"})).endswith(
        b"Host: h\r\n\r\n"
    )
    assert send(method="GET", target="/", headers={"Host": "h"}).endswith(b"Host: h\r\n\r\n")


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/"),
        ("GET", "http://example.com/a?b"),
        ("CONNECT", "example.com:443"),
        ("CONNECT", "[::1]:8080"),
        ("OPTIONS", "*"),
        ("OPTIONS", "/x"),
        ("M-SEARCH", "/"),
    ],
)
def test_valid_targets(method: str, target: str) -> None:
    assert send(method=method, target=target).startswith(f"{method} {target} HTTP/1.1".encode())


@pytest.mark.parametrize(
    ("method", "target", "message"),
    [
        ("GET", "", "invalid request target"),
        ("GET", "/a b", "invalid request target"),
        ("GET", "/a\r\nX: y", "invalid request target"),
        ("GET", "/a\x00", "invalid request target"),
        ("GET", "/\x7f", "invalid request target"),
        ("GET", "/é", "invalid request target"),
        ("GET", "*", "only for OPTIONS"),
        ("GET", "example.com:443", "origin-form"),
        ("GET", "relative", "origin-form"),
        ("CONNECT", "/", "authority-form"),
        ("CONNECT", "example.com", "authority-form"),
        ("GE T", "/", "invalid method"),
        ("", "/", "invalid method"),
        ("GET\r\n", "/", "invalid method"),
    ],
)
def test_invalid_method_or_target(method: str, target: str, message: str) -> None:
    conn = ClientConnection()
    with pytest.raises(LocalProtocolError, match=message):
        conn.send(Request(method=method, target=target, headers=HOST))
    assert conn.our_state is ClientState.IDLE  # nothing was produced, nothing changed


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([], "needs exactly one Host"),
        ([("Host", "a"), ("host", "b")], "several Host"),
        ([*HOST, ("Bad Name", "x")], "invalid header name"),
        ([*HOST, ("", "x")], "invalid header name"),
        ([*HOST, ("X:", "x")], "invalid header name"),
        ([*HOST, ("X", "a\r\nInjected: 1")], "control characters"),
        ([*HOST, ("X", "a\nb")], "control characters"),
        ([*HOST, ("X", "a\x00b")], "control characters"),
        ([*HOST, ("X", "a\rb")], "control characters"),
        ([*HOST, ("X", "€")], "Latin-1"),
        ([*HOST, ("X", 1)], "must be str or bytes"),
        ([*HOST, ("Content-Length", "5"), ("Transfer-Encoding", "chunked")], "both"),
        ([*HOST, ("Content-Length", "-1")], "invalid Content-Length"),
        ([*HOST, ("Content-Length", "1"), ("Content-Length", "1")], "invalid Content-Length"),
        ([*HOST, ("Transfer-Encoding", "gzip")], "must end with chunked"),
        ([*HOST, ("Transfer-Encoding", "chunked, chunked")], "must end with chunked"),
    ],
)
def test_invalid_headers(headers: list[tuple[str, object]], message: str) -> None:
    conn = ClientConnection()
    with pytest.raises(LocalProtocolError, match=message):
        conn.send(Request(method="GET", target="/", headers=headers))  # type: ignore[arg-type]
    assert conn.our_state is ClientState.IDLE
    # the connection is still usable after a refused request
    assert conn.send(Request(method="GET", target="/", headers=HOST))


def test_send_unknown_event() -> None:
    with pytest.raises(LocalProtocolError, match="cannot send"):
        ClientConnection().send(object())  # type: ignore[arg-type]


def test_body_length_adds_content_length() -> None:
    conn = ClientConnection()
    wire = conn.send(Request(method="POST", target="/", headers=HOST, body_length=3))
    assert b"Content-Length: 3\r\n" in wire
    assert conn.send(Data(b"ab")) == b"ab"
    assert conn.send(Data(bytearray(b"c"))) == b"c"
    assert conn.send(EndOfMessage()) == b""
    assert conn.our_state is ClientState.DONE


def test_body_length_zero() -> None:
    conn = ClientConnection()
    assert b"Content-Length: 0\r\n" in conn.send(
        Request(method="POST", target="/", headers=HOST, body_length=0)
    )
    assert conn.send(Data(b"")) == b""
    assert conn.send(EndOfMessage()) == b""


def test_chunked_flag_frames_body_and_trailers() -> None:
    conn = ClientConnection()
    wire = conn.send(Request(method="POST", target="/", headers=HOST, chunked=True))
    assert b"Transfer-Encoding: chunked\r\n" in wire
    assert conn.send(Data(b"hello")) == b"5\r\nhello\r\n"
    assert conn.send(Data(b"")) == b""  # an empty chunk would end the body
    assert conn.send(Data(b"x" * 26)) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    trailers = Headers([("X-Sum", "1")])
    assert conn.send(EndOfMessage(trailers=trailers)) == b"0\r\nX-Sum: 1\r\n\r\n"


def test_chunked_from_headers_without_trailers() -> None:
    conn = ClientConnection()
    conn.send(
        Request(method="POST", target="/", headers=[*HOST, ("Transfer-Encoding", "gzip, chunked")])
    )
    assert conn.send(EndOfMessage()) == b"0\r\n\r\n"


@pytest.mark.parametrize(
    ("trailers", "message"),
    [
        ([("Bad Name", "x")], "invalid trailer name"),
        ([("X", "a\r\nb")], "invalid trailer value"),
        ([("X", "€")], "Latin-1"),
    ],
)
def test_invalid_trailers(trailers: list[tuple[str, str]], message: str) -> None:
    conn = ClientConnection()
    conn.send(Request(method="POST", target="/", headers=HOST, chunked=True))
    with pytest.raises(LocalProtocolError, match=message):
        conn.send(EndOfMessage(trailers=Headers(trailers)))
    assert conn.our_state is ClientState.ERROR


def test_content_length_from_headers_enforced() -> None:
    conn = ClientConnection()
    conn.send(Request(method="PUT", target="/", headers=[*HOST, ("Content-Length", "4")]))
    assert conn.send(Data(b"abc")) == b"abc"
    with pytest.raises(LocalProtocolError, match="exceeds the 1 bytes left"):
        conn.send(Data(b"de"))
    assert conn.our_state is ClientState.ERROR


def test_content_length_short_body() -> None:
    conn = ClientConnection()
    conn.send(Request(method="PUT", target="/", headers=[*HOST, ("Content-Length", "4")]))
    conn.send(Data(b"ab"))
    with pytest.raises(LocalProtocolError, match="2 bytes short"):
        conn.send(EndOfMessage())
    assert conn.our_state is ClientState.ERROR
    assert not conn.reusable


def test_trailers_need_chunked() -> None:
    conn = ClientConnection()
    conn.send(Request(method="PUT", target="/", headers=HOST, body_length=0))
    with pytest.raises(LocalProtocolError, match="trailers"):
        conn.send(EndOfMessage(trailers=Headers([("X", "1")])))


def test_no_body_refuses_data() -> None:
    conn = ClientConnection()
    conn.send(Request(method="GET", target="/", headers=HOST))
    assert conn.send(Data(b"")) == b""
    with pytest.raises(LocalProtocolError, match="has no body"):
        conn.send(Data(b"x"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"body_length": 3, "chunked": True}, "not both"),
        ({"body_length": -1}, "negative"),
        ({"body_length": 3, "headers": [*HOST, ("Content-Length", "3")]}, "conflict"),
        ({"chunked": True, "headers": [*HOST, ("Content-Length", "3")]}, "conflict"),
    ],
)
def test_body_options_conflicts(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        send(method="POST", target="/", **kwargs)


def test_send_order_enforced() -> None:
    conn = ClientConnection()
    with pytest.raises(LocalProtocolError, match="cannot send Data"):
        conn.send(Data(b"x"))
    with pytest.raises(LocalProtocolError, match="cannot send EndOfMessage"):
        conn.send(EndOfMessage())
    conn.send(Request(method="GET", target="/", headers=HOST))
    with pytest.raises(LocalProtocolError, match="cannot send a Request now"):
        conn.send(Request(method="GET", target="/", headers=HOST))


def test_connection_close_in_request() -> None:
    conn = ClientConnection()
    conn.send(Request(method="GET", target="/", headers=[*HOST, ("Connection", "Close")]))
    conn.send(EndOfMessage())
    assert conn.our_state is ClientState.MUST_CLOSE


def test_send_request_fast_path() -> None:
    conn = ClientConnection()
    assert conn.send_request("GET", "/", HOST) == b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    assert conn.our_state is ClientState.DONE
    assert conn.their_state is ClientState.SEND_RESPONSE


def test_send_request_with_body() -> None:
    assert ClientConnection().send_request("POST", "/", HOST, b"abc") == (
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert (
        ClientConnection()
        .send_request("POST", "/", HOST, b"")
        .endswith(b"Content-Length: 0\r\n\r\n")
    )
    headers = [*HOST, ("Content-Length", "3")]
    assert ClientConnection().send_request("POST", "/", headers, b"abc").endswith(b"\r\n\r\nabc")
    chunked = [*HOST, ("Transfer-Encoding", "chunked")]
    assert (
        ClientConnection()
        .send_request("POST", "/", chunked, b"abc")
        .endswith(b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    )
    assert ClientConnection().send_request("POST", "/", chunked).endswith(b"\r\n\r\n0\r\n\r\n")


def test_send_request_length_mismatch() -> None:
    conn = ClientConnection()
    with pytest.raises(LocalProtocolError, match="says 5 bytes but the body has 3"):
        conn.send_request("POST", "/", [*HOST, ("Content-Length", "5")], b"abc")
    assert conn.our_state is ClientState.IDLE
    with pytest.raises(LocalProtocolError, match="says 5 bytes but the body has 0"):
        conn.send_request("POST", "/", [*HOST, ("Content-Length", "5")])
