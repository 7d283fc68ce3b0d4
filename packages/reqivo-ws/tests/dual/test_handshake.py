"""The opening handshake in both modes: refusals, subprotocols, compression, the session's
settings and cookie jar (direct and through a proxy), redirects, TLS (to the server and
to an ``https://`` proxy)."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers as WsHeaders
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from reqivo_ws import (
    ConnectError,
    DeflateOffer,
    HandshakeError,
    ProxyError,
    TlsError,
    TransportError,
)

from .conftest import Connect, Idle, MakeSession
from .servers import (
    Servers,
    TcpHandler,
    read_handshake,
    request_headers,
    send_request_headers,
    switching_protocols,
)


def test_handshake_refused_carries_the_response(connect: Connect, servers: Servers) -> None:
    def refuse(conn: ServerConnection, request: WsRequest) -> WsResponse:
        headers = WsHeaders([("Content-Length", "4"), ("X-Reason", "banned")])
        return WsResponse(403, "Forbidden", headers, b"nope")

    with pytest.raises(HandshakeError) as info:
        connect(servers.websockets(process_request=refuse))
    response = info.value.response
    assert (response.status_code, response.reason) == (403, "Forbidden")
    assert response.headers["x-reason"] == "banned"
    assert response.content == b"nope"
    assert "403" in str(info.value) and "nope" in str(info.value)


def test_a_large_refusal_body_is_cut(connect: Connect, servers: Servers) -> None:
    body = b"e" * 200_000

    def refuse(conn: ServerConnection, request: WsRequest) -> WsResponse:
        headers = WsHeaders([("Content-Length", str(len(body)))])
        return WsResponse(503, "Service Unavailable", headers, body)

    with pytest.raises(HandshakeError) as info:
        connect(servers.websockets(process_request=refuse))
    assert info.value.response.status_code == 503
    assert info.value.response.content == body[: 64 * 1024]


def test_a_refusal_whose_body_breaks_off(connect: Connect, servers: Servers) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_handshake(reader)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nshort")
        await writer.drain()  # and the connection ends, 95 bytes short

    with pytest.raises(HandshakeError) as info:
        connect(servers.tcp(handler))
    assert info.value.response.status_code == 403  # the status is the error
    assert info.value.response.content == b"short"  # what came of the body


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (b"", "Sec-WebSocket-Accept"),  # the accept key answers another request
        (b"Sec-WebSocket-Protocol: unasked\r\n", "subprotocol"),
        (b"Sec-WebSocket-Extensions: x-unknown\r\n", "extension"),
    ],
    ids=["accept", "subprotocol", "extension"],
)
def test_an_invalid_101_is_refused(
    connect: Connect, servers: Servers, idle: Idle, extra: bytes, error: str
) -> None:
    closed: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        key = await read_handshake(reader)
        if not extra:
            key = b"dGhlIHNhbXBsZSBub25jZQ=="  # not the client's
        writer.write(switching_protocols(key).removesuffix(b"\r\n") + extra + b"\r\n")
        closed.append(await reader.read())  # the client hangs up: EOF, nothing else

    with pytest.raises(HandshakeError, match=error) as info:
        connect(servers.tcp(handler))
    assert info.value.response.status_code == 101
    idle.until(lambda: closed)
    assert closed == [b""]


def test_a_plain_http_server_is_refused(connect: Connect, servers: Servers) -> None:
    async def not_a_websocket(request: web.Request) -> web.Response:
        return web.Response(status=200, text="hello", headers={"X-Kind": "plain"})

    with pytest.raises(HandshakeError) as info:
        connect(servers.aiohttp(not_a_websocket, path="/"))
    assert info.value.response.status_code == 200
    assert info.value.response.headers["x-kind"] == "plain"
    assert info.value.response.content == b"hello"
    assert str(info.value) == (
        "the server answered 200 OK where 101 Switching Protocols was expected "
        "(is the URL a WebSocket endpoint?): 'hello'"
    )


@pytest.mark.parametrize(
    ("content_type", "body", "shown"),
    [
        # The Content-Type's charset; whitespace collapsed; cut after 200 characters.
        (
            "text/html; charset=iso-8859-1",
            b"<p>caf\xe9</p>\r\n\t   " + b"word " * 100,
            "'<p>café</p> " + "word " * 37 + "wor…'",
        ),
        # Undecodable bytes replaced; a terminal escape is shown escaped, not sent as is.
        ("text/plain", b"bad \xff\xfe byte \x1b[31mred", "'bad \ufffd\ufffd byte \\x1b[31mred'"),
        ("text/plain; charset=no-such-codec", b"utf-8 then: \xc3\xa9", "'utf-8 then: é'"),
    ],
    ids=["latin-1-long", "invalid-bytes", "unknown-charset"],
)
def test_refusal_message_quotes_the_body_as_text(
    connect: Connect, servers: Servers, content_type: str, body: bytes, shown: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_handshake(reader)
        head = f"HTTP/1.1 403 Forbidden\r\nContent-Type: {content_type}\r\n"
        writer.write(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    with pytest.raises(HandshakeError) as info:
        connect(servers.tcp(handler))
    assert str(info.value) == f"the server refused the WebSocket upgrade: 403 Forbidden: {shown}"
    assert info.value.response.content == body  # the whole body is kept


def test_connection_refused(connect: Connect) -> None:
    with pytest.raises(ConnectError):
        connect("ws://127.0.0.1:1/", open_timeout=5.0)


def test_subprotocols(connect: Connect, servers: Servers) -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.send(conn.subprotocol or "-")
        await conn.wait_closed()

    url = servers.websockets(handler, subprotocols=["chat.v2", "chat.v3"])
    ws = connect(url, subprotocols=["chat.v1", "chat.v2"])
    assert ws.subprotocol == "chat.v2"
    assert ws.response.headers["sec-websocket-protocol"] == "chat.v2"
    assert ws.recv() == "chat.v2"
    for offered in (["other"], None):  # this server requires one of its own
        with pytest.raises(HandshakeError) as info:
            connect(url, subprotocols=offered)
        assert info.value.response.status_code == 400
        assert b"subprotocol" in info.value.response.content
    # A server that speaks no subprotocol chooses none of those offered.
    ws = connect(servers.websockets(handler), subprotocols=["chat.v1"])
    assert ws.subprotocol is None
    assert ws.recv() == "-"


def test_subprotocol_with_aiohttp(connect: Connect, servers: Servers) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        conn = web.WebSocketResponse(protocols=("chat",))
        await conn.prepare(request)
        async for msg in conn:
            if msg.type is WSMsgType.TEXT:
                await conn.send_str(conn.ws_protocol or "-")
        return conn

    ws = connect(servers.aiohttp(handler), subprotocols=["chat"])
    assert ws.subprotocol == "chat"
    ws.send("which")
    assert ws.recv() == "chat"


@pytest.mark.parametrize("server", ["deflate", None])
@pytest.mark.parametrize(
    "client", ["deflate", None, DeflateOffer(client_max_window_bits=10)], ids=["on", "off", "w10"]
)
def test_compression_on_and_off(
    connect: Connect, servers: Servers, server: Any, client: Any
) -> None:
    async def handler(conn: ServerConnection) -> None:
        assert conn.request is not None
        offer = conn.request.headers.get("Sec-WebSocket-Extensions", "")
        await conn.send(offer)
        await conn.send("x" * 100_000)  # compressible: sent compressed when negotiated
        async for message in conn:
            await conn.send(message)

    ws = connect(servers.websockets(handler, compression=server), compression=client)
    offer = ws.recv()
    assert ("permessage-deflate" in offer) == (client is not None)
    negotiated = server is not None and client is not None
    assert (ws.compression is not None) == negotiated
    assert ("sec-websocket-extensions" in ws.response.headers) == negotiated
    if isinstance(client, DeflateOffer) and negotiated:
        assert "client_max_window_bits=10" in offer
        assert ws.compression.client_max_window_bits == 10
    assert ws.recv() == "x" * 100_000
    ws.send("y" * 100_000)
    assert ws.recv() == "y" * 100_000
    ws.send(b"\x00" * 50_000)
    assert ws.recv() == b"\x00" * 50_000


def test_session_headers_cookies_and_auth_apply(
    connect: Connect, servers: Servers, make_session: MakeSession
) -> None:
    url = servers.websockets(send_request_headers)
    session = make_session(
        headers={"X-Token": "s", "X-Session": "1"}, cookies={"sid": "42"}, auth=("u", "p")
    )
    headers = request_headers(connect(url, session=session, headers={"X-Token": "t"}))
    assert headers["x-token"] == ["t"]  # the socket's own headers win
    assert headers["x-session"] == ["1"]
    assert headers["cookie"] == ["sid=42"]
    assert headers["authorization"] == ["Basic dTpw"]
    assert headers["upgrade"] == ["websocket"]
    headers = request_headers(connect(url, headers={"Origin": "http://example.com"}))
    assert headers["origin"] == ["http://example.com"]
    assert "cookie" not in headers and "authorization" not in headers


@pytest.mark.parametrize("route", ["direct", "proxy"])
def test_cookies_set_during_the_handshake_go_to_the_session(
    connect: Connect,
    servers: Servers,
    make_session: MakeSession,
    request: pytest.FixtureRequest,
    route: str,
) -> None:
    def redirect(conn: ServerConnection, request: WsRequest) -> WsResponse | None:
        if request.path == "/start":
            headers = WsHeaders(
                [("Location", "/login"), ("Set-Cookie", "step=1"), ("Content-Length", "0")]
            )
            return WsResponse(302, "Found", headers, b"")
        return None

    def set_cookie(conn: ServerConnection, request: WsRequest, response: WsResponse) -> None:
        if request.path == "/login":
            response.headers["Set-Cookie"] = "token=abc; Path=/"

    url = servers.websockets(
        send_request_headers, process_request=redirect, process_response=set_cookie
    )
    options: dict[str, Any] = {}
    if route == "proxy":  # ws:// through a forward proxy: a CONNECT tunnel for each hop
        proxy = request.getfixturevalue("proxy_server")
        options["proxy"] = proxy.url
    session = make_session(cookies={"sid": "42"}, **options)
    ws = connect(url + "start", session=session)
    if route == "proxy":  # the connection is the proxy's: the tunnel was used
        assert ws.get_extra_info("peername")[1] == proxy.port
    assert ws.response.headers["set-cookie"] == "token=abc; Path=/"
    # The redirect's cookie went with the request it led to...
    assert request_headers(ws)["cookie"] == ["sid=42; step=1"]
    # ... and both are in the session's jar, as after any HTTP request.
    assert session.cookies.get("step") == "1"
    assert session.cookies.get("token") == "abc"
    ws = connect(url + "login", session=session)
    assert request_headers(ws)["cookie"] == ["sid=42; step=1; token=abc"]


def test_a_redirect_is_followed(connect: Connect, servers: Servers) -> None:
    def redirect(conn: ServerConnection, request: WsRequest) -> WsResponse | None:
        if request.path == "/old":
            headers = WsHeaders([("Location", "/new"), ("Content-Length", "0")])
            return WsResponse(302, "Found", headers, b"")
        return None

    async def handler(conn: ServerConnection) -> None:
        assert conn.request is not None
        await conn.send(conn.request.path)
        await conn.wait_closed()

    ws = connect(servers.websockets(handler, process_request=redirect) + "old")
    assert ws.recv() == "/new"


def test_wss_with_a_test_ca(
    connect: Connect, servers: Servers, make_session: MakeSession, tls_certs: Any
) -> None:
    url = servers.websockets(ssl=tls_certs.server_context())
    assert url.startswith("wss://")
    ws = connect(url, verify=str(tls_certs.ca_bundle))
    assert ws.get_extra_info("ssl_object") is not None
    ws.send("secret")
    assert ws.recv() == "secret"
    ws = connect(url, session=make_session(verify=tls_certs.client_context()))
    ws.send(b"bytes")
    assert ws.recv() == b"bytes"
    with pytest.raises(TlsError):
        connect(url, trust_env=False)  # the system CAs do not know ours


def test_a_proxy_that_refuses_the_tunnel(
    connect: Connect, servers: Servers, auth_proxy_server: Any
) -> None:
    url = servers.websockets()
    with pytest.raises(ProxyError, match="407"):
        connect(url, proxy=auth_proxy_server.url)  # no credentials
    ws = connect(url, proxy=auth_proxy_server.auth_url)
    assert ws.get_extra_info("peername")[1] == auth_proxy_server.port
    ws.send("let in")
    assert ws.recv() == "let in"


@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_through_a_proxy_tunnel(
    connect: Connect, servers: Servers, proxy_server: Any, tls_certs: Any, scheme: str
) -> None:
    if scheme == "wss":
        url = servers.websockets(ssl=tls_certs.server_context())
        ws = connect(url, proxy=proxy_server.url, verify=str(tls_certs.ca_bundle))
        assert ws.get_extra_info("ssl_object") is not None
    else:
        ws = connect(servers.websockets(), proxy=proxy_server.url)
    assert ws.get_extra_info("peername")[1] == proxy_server.port  # the proxy's connection
    ws.send("through")
    assert ws.recv() == "through"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until EOF or a broken connection; then close ``writer``."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:  # reset, or a TLS error on the client's side: the relay just ends
        pass
    finally:
        writer.close()


def tls_front(upstream_port: int, context: ssl.SSLContext, handshakes: list[str]) -> TcpHandler:
    """A TLS-terminating front for the plain proxy at 127.0.0.1:``upstream_port``: with it,
    that proxy is an ``https://`` proxy. Each connection's TLS handshake (server side,
    ``context``) is recorded in ``handshakes`` ("ok" or "failed"), then bytes are relayed
    both ways."""

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await writer.start_tls(context)
        except OSError:  # ssl.SSLError included: the client refused us, or we it
            handshakes.append("failed")
            return
        handshakes.append("ok")
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    return relay


def _https_proxy(servers: Servers, handler: TcpHandler) -> tuple[str, int]:
    """Start ``handler`` as a server; its ``https://`` proxy URL and port."""
    port = int(servers.tcp(handler).rstrip("/").rsplit(":", 1)[1])
    return f"https://127.0.0.1:{port}", port


def test_ws_through_an_https_proxy_uses_the_tls_settings(
    connect: Connect,
    servers: Servers,
    make_session: MakeSession,
    idle: Idle,
    proxy_server: Any,
    tls_certs: Any,
) -> None:
    handshakes: list[str] = []
    proxy, port = _https_proxy(
        servers, tls_front(proxy_server.port, tls_certs.server_context(), handshakes)
    )
    url = servers.websockets()  # ws://: the pool tunnels the upgrade (CONNECT)
    choices: list[dict[str, Any]] = [
        {"verify": str(tls_certs.ca_bundle)},  # a CA bundle file
        {"session": make_session(proxy=proxy, verify=tls_certs.client_context())},
        {"verify": False},
    ]
    for options in choices:
        if "session" not in options:
            options["proxy"] = proxy
        ws = connect(url, **options)
        assert ws.get_extra_info("peername")[1] == port  # the proxy's connection...
        assert ws.get_extra_info("ssl_object") is not None  # ... in TLS
        ws.send("via an https proxy")
        assert ws.recv() == "via an https proxy"
    # The default (the system's CAs, not the environment's) does not know the test CA.
    with pytest.raises(TlsError, match="certificate verify failed"):
        connect(url, proxy=proxy, trust_env=False)
    idle.until(lambda: len(handshakes) == 4)
    assert sorted(handshakes) == ["failed", "ok", "ok", "ok"]  # the failure was the proxy's


def test_ws_through_an_https_proxy_with_a_client_certificate(
    connect: Connect,
    servers: Servers,
    make_session: MakeSession,
    idle: Idle,
    proxy_server: Any,
    tls_certs: Any,
) -> None:
    handshakes: list[str] = []
    proxy, port = _https_proxy(
        servers, tls_front(proxy_server.port, tls_certs.server_context(mtls=True), handshakes)
    )
    url = servers.websockets()
    client_cert = (str(tls_certs.client_cert), str(tls_certs.client_key))
    ws = connect(url, proxy=proxy, verify=str(tls_certs.ca_bundle), cert=client_cert)
    ws.send("with a certificate")
    assert ws.recv() == "with a certificate"
    session = make_session(proxy=proxy, verify=str(tls_certs.ca_bundle), cert=client_cert)
    ws = connect(url, session=session)
    assert ws.get_extra_info("peername")[1] == port
    ws.send("from the session")
    assert ws.recv() == "from the session"
    assert handshakes == ["ok", "ok"]  # the proxy required and got the certificate
    # Without one, the proxy refuses the handshake (TLS 1.3: the client learns it from the
    # proxy hanging up after the handshake, so the error is not always TlsError).
    with pytest.raises(TransportError):
        connect(url, proxy=proxy, verify=str(tls_certs.ca_bundle))
    idle.until(lambda: len(handshakes) == 3)
    assert handshakes[2] == "failed"
