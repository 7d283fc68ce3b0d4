"""CR, LF and NUL injection is refused before a byte is sent (docs/security.md).

Every vector goes to a raw server that records everything it receives: a refused request
raises ``LocalProtocolError`` (or ``InvalidURL`` for a URL) and the server receives
nothing. Values the client encodes (query parameters, form fields, Basic credentials)
arrive percent- or base64-encoded instead: no raw control character reaches the wire.
The client stays usable after a refusal (no connection is left half-written in the pool).
"""

from __future__ import annotations

from typing import Any

import pytest

from reqivo_protocol import InvalidURL, LocalProtocolError
from reqivo_sync import BearerAuth
from servers.raw import RawServer, ReadRequest, Repeat, Send, http_response

EVIL = ["\r\nX-Injected: 1", "\nX-Injected: 1", "\rX-Injected: 1", "\x00X-Injected: 1"]
EVIL_IDS = ["crlf", "lf", "cr", "nul"]


def _server(raw_server: Any) -> RawServer:
    server: RawServer = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    return server


def _assert_nothing_sent(server: RawServer, client: Any) -> None:
    assert server.request_count == 0
    # The refusal left the client usable, and the next request is the first thing the
    # server ever received (so no byte of the refused one went out, on any connection).
    assert client.get(server.url + "/after").content == b"ok"
    assert server.request_count == 1
    assert server.received.startswith(b"GET /after HTTP/1.1\r\n")
    assert len(server.received) == len(server.requests[0].head) + 4  # + the blank line


def _assert_no_raw_injection(server: RawServer) -> None:
    """The request went out, but every evil character was encoded."""
    head = server.requests[0].head
    assert b"\x00" not in head and b"\r\nX-Injected" not in head
    assert head.count(b"\r\n") == head.count(b"\n") and b"\r\r" not in head
    assert server.requests[0].header("x-injected") is None


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
def test_method(client: Any, raw_server: Any, evil: str) -> None:
    server = _server(raw_server)
    with pytest.raises(LocalProtocolError, match="method"):
        client.request("GET" + evil, server.url + "/")
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("method", ["GE T", "GET /x HTTP/1.1\r\n", "", "G(ET"])
def test_method_not_a_token(client: Any, raw_server: Any, method: str) -> None:
    server = _server(raw_server)
    with pytest.raises(LocalProtocolError):
        client.request(method, server.url + "/")
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
@pytest.mark.parametrize("part", ["path", "query", "fragment"])
def test_url_path_query_fragment(client: Any, raw_server: Any, evil: str, part: str) -> None:
    server = _server(raw_server)
    url = {
        "path": f"{server.url}/a{evil}/b",
        "query": f"{server.url}/a?q={evil}",
        "fragment": f"{server.url}/a#{evil}",
    }[part]
    with pytest.raises(InvalidURL, match="control character"):
        client.get(url)
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
def test_url_host(client: Any, raw_server: Any, evil: str) -> None:
    server = _server(raw_server)
    with pytest.raises(InvalidURL, match="control character"):
        client.get(f"http://127.0.0.1{evil}:{server.port}/")
    with pytest.raises(InvalidURL, match="control character"):
        client.get(f"http://127.0.0.1:{server.port}{evil}/")
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
def test_url_userinfo(client: Any, raw_server: Any, evil: str) -> None:
    server = _server(raw_server)
    with pytest.raises(InvalidURL, match="control character"):
        client.get(f"http://us{evil}er:pa{evil}ss@127.0.0.1:{server.port}/")
    _assert_nothing_sent(server, client)


def test_query_params_are_encoded(client: Any, raw_server: Any) -> None:
    server = _server(raw_server)
    client.get(server.url + "/", params={"q\r\nX-Injected: 1": "\r\n\x00X-Injected: 1"})
    _assert_no_raw_injection(server)
    assert "%0D%0A" in server.requests[0].target.upper()


@pytest.mark.parametrize(
    "name",
    ["X\r\nX-Injected", "X\nX-Injected", "X\rY", "X\x00Y", "X Y", "X:Y", "", "X\tY", " X"],
)
def test_header_name(client: Any, raw_server: Any, name: str) -> None:
    server = _server(raw_server)
    with pytest.raises(LocalProtocolError, match="header name"):
        client.get(server.url + "/", headers={name: "1"})
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
@pytest.mark.parametrize("where", ["request", "session", "bytes"])
def test_header_value(make_client: Any, raw_server: Any, evil: str, where: str) -> None:
    server = _server(raw_server)
    value = "a" + evil
    if where == "session":
        client = make_client(headers={"X-Test": value})
        with pytest.raises(LocalProtocolError, match="header value"):
            client.get(server.url + "/")
        del client.headers["X-Test"]
    else:
        client = make_client()
        headers: Any = (
            {b"X-Test": value.encode("latin-1")} if where == "bytes" else {"X-Test": value}
        )
        with pytest.raises(LocalProtocolError, match="header value"):
            client.get(server.url + "/", headers=headers)
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
def test_host_header_override(client: Any, raw_server: Any, evil: str) -> None:
    server = _server(raw_server)
    with pytest.raises(LocalProtocolError):
        client.get(server.url + "/", headers={"Host": "example.com" + evil})
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
def test_bearer_token(client: Any, raw_server: Any, evil: str) -> None:
    server = _server(raw_server)
    with pytest.raises(LocalProtocolError):
        client.get(server.url + "/", auth=BearerAuth("token" + evil))
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
@pytest.mark.parametrize("where", ["request", "session"])
def test_cookie_value(make_client: Any, raw_server: Any, evil: str, where: str) -> None:
    server = _server(raw_server)
    if where == "session":
        with pytest.raises(LocalProtocolError, match="cookie"):
            make_client(cookies={"sid": "a" + evil})
        _assert_nothing_sent(server, make_client())
        return
    client = make_client()
    with pytest.raises(LocalProtocolError, match="cookie"):
        client.get(server.url + "/", cookies={"sid": "a" + evil})
    _assert_nothing_sent(server, client)


@pytest.mark.parametrize("value", ["a; admin=1", "a, admin=1"])
def test_cookie_value_cannot_add_a_cookie(client: Any, raw_server: Any, value: str) -> None:
    """A ``;`` in a value must not smuggle a second cookie to the server."""
    server = _server(raw_server)
    try:
        client.get(server.url + "/", cookies={"sid": value})
    except LocalProtocolError:
        _assert_nothing_sent(server, client)
        return
    sent = server.requests[0].header("cookie") or ""
    names = {part.split("=", 1)[0].strip() for part in sent.split(";")}
    assert "admin" not in names, sent


@pytest.mark.parametrize("evil", EVIL, ids=EVIL_IDS)
def test_multipart_filename_and_field(client: Any, raw_server: Any, evil: str) -> None:
    """A file name or field name cannot add a header to its multipart part."""
    server = _server(raw_server)
    files = {"f" + evil: ('name"' + evil + ".txt", b"data", "text/plain")}
    try:
        client.post(server.url + "/", files=files)
    except (LocalProtocolError, ValueError):
        _assert_nothing_sent(server, client)
        return
    body = server.requests[0].body
    assert b"\r\nX-Injected" not in body and b"\nX-Injected" not in body, body[:400]
    assert b"\x00" not in body.partition(b"\r\n\r\n")[0]
