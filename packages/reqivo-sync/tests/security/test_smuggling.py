"""Response splitting and smuggling vectors (RFC 9112), and the connection not reused.

Each hostile response comes from a raw server on a connection of its own; every later
connection answers a clean ``200 clean``. A response whose framing is ambiguous is refused
with ``RemoteProtocolError``; a response the RFC says to repair (obs-fold, bare CR) may be
repaired instead, but no control character survives into a header value. Either way the
next request goes out on a NEW connection: a connection whose framing was in doubt is
never returned to the pool. See docs/security.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_protocol import RemoteProtocolError
from servers.raw import Close, RawServer, ReadRequest, Repeat, Send, http_response

CLEAN = http_response(body=b"clean")
SMUGGLED = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED"


def _server(raw_server: Any, reply: bytes) -> RawServer:
    hostile = (ReadRequest(), Send(reply), Repeat((ReadRequest(), Send(SMUGGLED))))
    server: RawServer = raw_server(hostile, [Repeat((ReadRequest(), Send(CLEAN)))])
    return server


def _assert_next_request_on_new_connection(client: Any, server: RawServer) -> None:
    response = client.get(server.url + "/next")
    assert response.content == b"clean"
    assert server.requests[-1].connection == 1  # not the hostile connection 0


REFUSED = {
    "conflicting-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
    b"Content-Length: 30\r\n\r\nhello",
    "content-length-list-conflict": b"HTTP/1.1 200 OK\r\nContent-Length: 5, 30\r\n\r\nhello",
    "content-length-plus": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "content-length-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
    "content-length-hex": b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
    "content-length-huge": b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
    "nul-in-header": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 5\r\n\r\nhello",
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-overflow": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ffffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "chunk-size-negative": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n",
    "header-without-colon": b"HTTP/1.1 200 OK\r\nX-A a\r\nContent-Length: 5\r\n\r\nhello",
    "bad-status-line": b"HTTP/1.1 2OO OK\r\nContent-Length: 5\r\n\r\nhello",
}


@pytest.mark.parametrize("reply", list(REFUSED.values()), ids=list(REFUSED))
def test_ambiguous_framing_refused(client: Any, raw_server: Any, reply: bytes) -> None:
    server = _server(raw_server, reply)
    with pytest.raises(RemoteProtocolError):
        client.get(server.url + "/")
    _assert_next_request_on_new_connection(client, server)


def test_transfer_encoding_overrides_content_length(client: Any, raw_server: Any) -> None:
    """RFC 9112 6.3: with both, Transfer-Encoding wins, and the connection is not reused."""
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n"
    )
    server = _server(raw_server, reply)
    try:
        response = client.get(server.url + "/")
    except RemoteProtocolError:
        pass  # refusing is allowed too ("ought to be handled as an error")
    else:
        assert response.content == b"hello"
    _assert_next_request_on_new_connection(client, server)


@pytest.mark.parametrize("coding", ["chunked, identity", "bogus", "gzip"])
def test_chunked_not_last_is_read_until_close(client: Any, raw_server: Any, coding: str) -> None:
    """RFC 9112 6.3: chunked not final -> the body lasts until close (or an error)."""
    reply = f"HTTP/1.1 200 OK\r\nTransfer-Encoding: {coding}\r\n\r\n".encode() + b"hello"
    server = raw_server(
        [ReadRequest(), Send(reply), Close()], [Repeat((ReadRequest(), Send(CLEAN)))]
    )
    try:
        response = client.get(server.url + "/")
    except RemoteProtocolError:
        pass
    else:
        assert response.content == b"hello"
    _assert_next_request_on_new_connection(client, server)


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n\tb\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n Content-Length: 30\r\n\r\nhello",
    ],
    ids=["space", "tab", "folded-content-length"],
)
def test_obs_fold(client: Any, raw_server: Any, reply: bytes) -> None:
    """RFC 9112 5.2 lets a user agent replace obs-fold with SP; Reqivo refuses it."""
    server = raw_server(
        [ReadRequest(), Send(reply), Close()], [Repeat((ReadRequest(), Send(CLEAN)))]
    )
    with pytest.raises(RemoteProtocolError, match="obs-fold"):
        client.get(server.url + "/")
    _assert_next_request_on_new_connection(client, server)


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nX-A: a\rX-Injected: 1\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\rContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\r\nhello",
    ],
    ids=["in-value", "after-status-line", "before-blank-line"],
)
def test_bare_cr(client: Any, raw_server: Any, reply: bytes) -> None:
    """RFC 9112 2.2: a bare CR is invalid (or replaced by SP); Reqivo refuses it."""
    server = raw_server(
        [ReadRequest(), Send(reply), Close()], [Repeat((ReadRequest(), Send(CLEAN)))]
    )
    with pytest.raises(RemoteProtocolError):
        client.get(server.url + "/")
    _assert_next_request_on_new_connection(client, server)


@pytest.mark.parametrize(
    "reply",
    [
        http_response(body=b"first") + SMUGGLED,
        http_response(body=b"first", chunked=True) + SMUGGLED,
        http_response(body=b"first") + b"HTTP/1.1 200 OK\r\n",
        http_response(204, reason="No Content", content_length=False) + SMUGGLED,
    ],
    ids=["after-content-length", "after-chunked", "partial-head", "after-204"],
)
def test_second_response_smuggled_after_the_first(
    client: Any, raw_server: Any, reply: bytes
) -> None:
    """Bytes after a complete response, before our next request: never a response."""
    server = _server(raw_server, reply)
    response = client.get(server.url + "/")
    assert response.status_code in (200, 204)
    assert response.content in (b"first", b"")
    for _ in range(2):
        assert client.get(server.url + "/next").content == b"clean"
    assert all(r.connection != 0 for r in server.requests[1:])


def test_response_to_head_with_body_is_not_the_next_response(client: Any, raw_server: Any) -> None:
    """A body sent after a HEAD response is not read as the next response."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 35\r\n\r\n" + SMUGGLED[:35]
    server = _server(raw_server, reply)
    assert client.head(server.url + "/").status_code == 200
    assert client.get(server.url + "/next").content == b"clean"
    assert all(r.connection != 0 for r in server.requests[1:])


def test_response_body_longer_than_content_length(client: Any, raw_server: Any) -> None:
    """Extra bytes after a Content-Length body do not start the next response."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA" + SMUGGLED
    server = _server(raw_server, reply)
    assert client.get(server.url + "/").content == b"hello"
    _assert_next_request_on_new_connection(client, server)
