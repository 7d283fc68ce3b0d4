"""``AsyncConnection`` against real servers: requests, bodies, 100-continue, 101, traces."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

import reqivo_async._http11 as http11
from reqivo_async._connection import AsyncConnection, ConnectionInfo
from reqivo_async._models import AsyncRequest
from reqivo_async._pool import AsyncConnectionPool
from reqivo_protocol._exceptions import (
    ConnectError,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
)
from reqivo_protocol._url import URL
from servers.models import Server, UnixServer
from servers.raw import (
    Close,
    ReadBody,
    ReadBytes,
    ReadHead,
    ReadRequest,
    Send,
    Sleep,
    http_response,
)


async def test_get_echo_and_keep_alive(http_server: Server) -> None:
    async with AsyncConnection(http_server.url) as conn:
        first = await conn.request("GET", http_server.join("/echo?x=1"))
        second = await conn.request("GET", http_server.join("/echo"))
        assert conn.info().requests == 2
        assert conn.info().state == "idle"
        assert conn.is_available()
    assert first.status_code == 200
    assert first.http_version == "HTTP/1.1"
    assert first.reason == "OK"
    echoed = first.json()
    assert echoed["method"] == "GET"
    assert echoed["query"] == "x=1"
    headers = {name.lower(): value for name, value in echoed["headers"]}
    assert headers["host"] == URL(http_server.url).netloc
    assert "content-length" not in headers
    assert second.status_code == 200
    assert conn.is_closed()


@pytest.mark.parametrize(
    ("content", "length", "chunked"),
    [
        (b"", 0, False),
        (b"hello", 5, False),
        (b"x" * 200_000, 200_000, False),
        ([b"ab", b"", b"cd"], 4, True),
    ],
)
async def test_upload_bodies(
    uvicorn_h11_server: Server, content: Any, length: int, chunked: bool
) -> None:
    async with AsyncConnection(uvicorn_h11_server.url) as conn:
        response = await conn.request("POST", uvicorn_h11_server.join("/upload"), content=content)
    result = response.json()
    assert result["length"] == length
    assert (result["transfer_encoding"] == "chunked") is chunked
    if not chunked:
        assert result["content_length"] == str(length)


async def test_upload_async_stream_with_back_pressure(uvicorn_httptools_server: Server) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"z" * 65536

    async with AsyncConnection(uvicorn_httptools_server.url) as conn:
        response = await conn.request(
            "PUT", uvicorn_httptools_server.join("/upload"), content=chunks()
        )
    assert response.json()["length"] == 64 * 65536


async def test_user_framing_headers_are_kept(uvicorn_h11_server: Server) -> None:
    async with AsyncConnection(uvicorn_h11_server.url) as conn:
        response = await conn.request(
            "POST",
            uvicorn_h11_server.join("/upload"),
            headers={"Content-Length": "70000"},
            content=b"q" * 70000,
        )
    assert response.json()["length"] == 70000


async def test_streaming_chunked_download(hypercorn_server: Server) -> None:
    async with AsyncConnection(hypercorn_server.url) as conn:
        request = AsyncRequest("GET", hypercorn_server.join("/stream/300000?chunk=4096"))
        response = await conn.handle_async_request(request)
        total = 0
        async for chunk in response.aiter_raw():
            total += len(chunk)
        assert total == 300000
        assert conn.is_available()
        head = await conn.request("HEAD", hypercorn_server.join("/bytes/10"))
        assert head.content == b""
        assert head.headers["content-length"] == "10"
        empty = await conn.request("GET", hypercorn_server.join("/status/204"))
        assert empty.status_code == 204
        assert conn.info().requests == 3


async def test_large_download_pauses_reading(
    uvicorn_h11_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http11, "HIGH_WATER", 64 * 1024)
    monkeypatch.setattr(http11, "LOW_WATER", 16 * 1024)
    async with AsyncConnection(uvicorn_h11_server.url) as conn:
        request = AsyncRequest("GET", uvicorn_h11_server.join("/bytes/4000000"))
        response = await conn.handle_async_request(request)
        await asyncio.sleep(0.2)  # let the body pile up: reading must pause
        protocol = conn._http.protocol  # type: ignore[union-attr]
        assert isinstance(protocol, http11.HTTP11Protocol)
        assert protocol._read_paused
        # Over the mark by at most one read (reads grow up to MAX_RECV_SIZE).
        assert protocol._buffered < 64 * 1024 + http11.MAX_RECV_SIZE + 64 * 1024
        assert len(await response.aread()) == 4_000_000
        assert not protocol._read_paused


async def test_expect_continue(http_server: Server) -> None:
    async with AsyncConnection(http_server.url) as conn:
        response = await conn.request(
            "POST",
            http_server.join("/expect"),
            headers={"Expect": "100-continue"},
            content=b"e" * 1000,
        )
        assert response.json()["length"] == 1000
        assert conn.is_available()


async def test_expect_continue_rejected_early(uvicorn_h11_server: Server) -> None:
    async with AsyncConnection(uvicorn_h11_server.url) as conn:
        response = await conn.request(
            "POST",
            uvicorn_h11_server.join("/expect?reject=417"),
            headers={"Expect": "100-continue"},
            content=b"e" * 1000,
        )
        assert response.status_code == 417
        # The body was never sent: the connection cannot be reused.
        assert not conn.is_available()


async def test_expect_continue_without_answer_sends_body_after_delay(
    raw_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http11, "EXPECT_CONTINUE_DELAY", 0.05)
    server = raw_server([ReadHead(), ReadBody(), Send(http_response(200, b"done"))])
    async with AsyncConnection(server.url) as conn:
        response = await conn.request(
            "POST", server.url + "/", headers={"Expect": "100-continue"}, content=b"b" * 100
        )
    assert response.content == b"done"
    assert server.requests[0].body == b"b" * 100


async def test_expect_continue_then_100_and_final_in_one_block(raw_server: Any) -> None:
    server = raw_server(
        [
            ReadHead(),
            Send(b"HTTP/1.1 100 Continue\r\n\r\n"),
            ReadBody(),
            Send(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + http_response(201, b"ok")),
        ]
    )
    async with AsyncConnection(server.url) as conn:
        response = await conn.request(
            "POST", server.url + "/", headers={"Expect": "100-continue"}, content=b"y" * 70000
        )
    assert response.status_code == 201
    assert response.content == b"ok"


async def test_switching_protocols_hands_over_the_stream(raw_server: Any) -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"
    server = raw_server(
        [ReadHead(), Send(head + b"early"), ReadBytes(4), Send(b"pong-pong"), Sleep(0.05), Close()]
    )
    conn = AsyncConnection(server.url)
    request = AsyncRequest(
        "GET", server.url + "/ws", headers={"Upgrade": "test", "Connection": "Upgrade"}
    )
    response = await conn.handle_async_request(request)
    assert response.status_code == 101
    assert response.extensions["trailing_data"] == b"early"
    stream = response.extensions["network_stream"]
    assert stream.get_extra_info("peername")[0] == "127.0.0.1"
    assert stream.protocol is conn._http.protocol  # type: ignore[union-attr]
    stream.write(b"ping")
    await stream.drain()
    assert await stream.read(4) == b"pong"
    assert await stream.read(100) == b"-pong"
    assert await stream.read(100) == b""
    assert conn.is_closed()
    await stream.aclose()
    assert stream.transport.is_closing()
    await stream.aclose()


async def test_network_stream_read_timeout_and_errors(raw_server: Any) -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
    server = raw_server([ReadHead(), Send(head), Sleep(5)])
    conn = AsyncConnection(server.url)
    request = AsyncRequest("GET", server.url, headers={"Upgrade": "x", "Connection": "Upgrade"})
    response = await conn.handle_async_request(request)
    stream = response.extensions["network_stream"]
    with pytest.raises(ReadTimeout):
        await stream.read(10, timeout=0.05)
    await stream.aclose()
    await asyncio.sleep(0.01)
    from reqivo_protocol._exceptions import WriteError

    with pytest.raises(WriteError):
        stream.write(b"late")


async def test_unix_socket(unix_server: UnixServer) -> None:
    async with AsyncConnection(unix_server.url, uds=unix_server.path) as conn:
        response = await conn.request("GET", unix_server.url + "/echo")
    assert response.json()["path"] == "/echo"


async def test_local_address_nodelay_and_socket_options(uvicorn_h11_server: Server) -> None:
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    async with AsyncConnection(
        uvicorn_h11_server.url, local_address="127.0.0.1", socket_options=options
    ) as conn:
        await conn.request("GET", uvicorn_h11_server.join("/health"))
        sock = conn._http.protocol.transport.get_extra_info("socket")  # type: ignore[union-attr]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        assert sock.getsockname()[0] == "127.0.0.1"


async def test_bad_socket_option_is_a_connect_error(uvicorn_h11_server: Server) -> None:
    conn = AsyncConnection(uvicorn_h11_server.url, socket_options=[(socket.SOL_SOCKET, 9999, 1)])
    with pytest.raises(ConnectError):
        await conn.request("GET", uvicorn_h11_server.join("/health"))


async def test_reconnects_after_server_closed(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(http_response(200, b"a", [("Connection", "close")]))])
    async with AsyncConnection(server.url) as conn:
        assert (await conn.request("GET", server.url)).content == b"a"
        assert conn.is_closed()
        assert (await conn.request("GET", server.url)).content == b"a"
    assert server.connections == 2
    with pytest.raises(ConnectError):
        await conn.request("GET", server.url)


async def test_busy_connection_refuses_a_second_request(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(http_response(200, b"12345"))])
    async with AsyncConnection(server.url) as conn:
        response = await conn.handle_async_request(AsyncRequest("GET", server.url))
        assert conn.info().state == "active"
        assert not conn.is_idle()
        with pytest.raises(LocalProtocolError) as info:
            await conn.handle_async_request(AsyncRequest("GET", server.url))
        assert info.value.request is not None
        assert await response.aread() == b"12345"
        assert conn.is_idle()


async def test_invalid_request_leaves_connection_usable(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(http_response(200, b"ok"))])
    async with AsyncConnection(server.url) as conn:
        await conn.request("GET", server.url)
        with pytest.raises(LocalProtocolError):
            await conn.request("GET", server.url, headers={"Bad Name": "x"})
        assert conn.is_available()
    assert "connecting" in repr(AsyncConnection(server.url))


async def test_trace_events_and_logging(
    uvicorn_h11_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[str] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        events.append(event)

    caplog.set_level(logging.DEBUG, logger="reqivo")
    async with AsyncConnection(uvicorn_h11_server.url) as conn:
        await conn.request("GET", uvicorn_h11_server.join("/echo"), extensions={"trace": trace})
    assert events == [
        "connection.connect.started",
        "connection.connect.complete",
        "http11.send_request.started",
        "http11.send_request.complete",
        "http11.receive_response_head.started",
        "http11.receive_response_head.complete",
        "http11.response_body.complete",
    ]
    assert any("connection opened" in message for message in caplog.messages)


async def test_trace_failed_events(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), Close()]
    )
    events: list[str] = []
    conn = AsyncConnection(server.url)
    request = AsyncRequest(
        "GET", server.url, extensions={"trace": lambda event, info: events.append(event)}
    )
    response = await conn.handle_async_request(request)
    with pytest.raises(Exception, match="peer closed"):
        await response.aread()
    assert events[-1] == "http11.response_body.failed"
    events.clear()
    request = AsyncRequest(
        "GET", "http://127.0.0.1:1/", extensions={"trace": lambda e, i: events.append(e)}
    )
    with pytest.raises(ConnectError):
        await AsyncConnection(request.url).handle_async_request(request)
    assert events == ["connection.connect.started", "connection.connect.failed"]


async def test_info_and_origin(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(http_response(200, b""))])
    conn = AsyncConnection(URL(server.url).origin)
    assert conn.info() == ConnectionInfo(str(conn.origin), "connecting", "HTTP/1.1", 0, None)
    assert conn.is_available()
    await conn.request("GET", server.url)
    assert conn.info().idle_for is not None
    assert not conn.has_expired(0.0)
    conn.close()
    assert conn.info().state == "closed"
    assert json.dumps(conn.info().state)


async def test_trace_payloads(raw_server: Any) -> None:
    """Each event's fields, exactly: a refactoring of tracing must not change them."""
    server = raw_server(
        [ReadRequest(), Send(http_response(200, b"ok")), ReadRequest(), Send(b"HTTP/9 2\r\n\r\n")]
    )
    seen: list[tuple[str, list[str]]] = []

    async def trace(event: str, info: dict[str, Any]) -> None:  # a coroutine callback
        seen.append((event, sorted(info)))

    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(
            AsyncRequest("GET", server.url, extensions={"trace": trace})
        )
        await response.aread()
        with pytest.raises(RemoteProtocolError):
            await pool.handle_async_request(
                AsyncRequest("GET", server.url, extensions={"trace": trace})
            )
    assert seen == [
        ("connection.connect.started", ["host", "port", "time"]),
        ("connection.connect.complete", ["elapsed", "time"]),
        ("http11.send_request.started", ["time"]),
        ("http11.send_request.complete", ["elapsed", "time"]),
        ("http11.receive_response_head.started", ["time"]),
        ("http11.receive_response_head.complete", ["elapsed", "status_code", "time"]),
        ("http11.response_body.complete", ["time"]),
        ("connection.reused", ["origin", "time"]),
        ("http11.send_request.started", ["time"]),
        ("http11.send_request.complete", ["elapsed", "time"]),
        ("http11.receive_response_head.started", ["time"]),
        ("http11.receive_response_head.failed", ["error", "time"]),
    ]
