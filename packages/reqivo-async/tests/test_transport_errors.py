"""Every transport failure becomes one Reqivo exception, with ``.request`` set.

Faults come from the scripted raw server (stalls, resets, truncated bodies, garbage) and
from real sockets (a refused port, a listener whose backlog is full).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from reqivo_async._config import Timeout
from reqivo_async._models import AsyncRequest
from reqivo_async._network import map_error
from reqivo_async._pool import AsyncConnectionPool
from reqivo_protocol._exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    RequestError,
    TlsError,
    WriteError,
    WriteTimeout,
)
from servers.raw import (
    Close,
    ReadBytes,
    ReadHead,
    ReadRequest,
    Reset,
    Send,
    Stall,
    http_response,
)


def _request(url: str, **timeouts: float) -> AsyncRequest:
    return AsyncRequest("GET", url, extensions={"timeout": Timeout(5.0, **timeouts)})


async def _send(request: AsyncRequest) -> bytes:
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(request)
        body = await response.aread()
        assert pool.active_connections == 0
        return body


@pytest.fixture
def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener that never accepts, its backlog filled: new connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


async def test_refused(refused_port: int) -> None:
    request = _request(f"http://127.0.0.1:{refused_port}/")
    with pytest.raises(ConnectError) as info:
        await _send(request)
    assert info.value.request is request
    assert isinstance(info.value.__cause__, OSError)


async def test_unresolvable_host() -> None:
    with pytest.raises(ConnectError):
        await _send(_request("http://name.invalid/"))


async def test_connect_timeout_full_backlog(full_backlog: int) -> None:
    request = _request(f"http://127.0.0.1:{full_backlog}/", connect=0.2)
    with pytest.raises(ConnectTimeout) as info:
        await _send(request)
    assert info.value.request is request
    assert isinstance(info.value, TimeoutError)


async def test_connect_timeout_in_tls_handshake(raw_server: Any) -> None:
    server = raw_server([Stall()])
    request = _request(server.url.replace("http:", "https:"), connect=0.2)
    with pytest.raises(ConnectTimeout):
        await _send(request)


async def test_tls_handshake_reset(raw_server: Any) -> None:
    # Read the start of the ClientHello first: a reset right at accept time may reach
    # the client while it is still connecting (a ConnectError, not a TLS failure).
    server = raw_server([ReadBytes(5), Reset()])
    with pytest.raises(TlsError):
        await _send(_request(server.url.replace("http:", "https:")))


async def test_read_timeout_waiting_for_head(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Stall()])
    request = _request(server.url, read=0.1)
    with pytest.raises(ReadTimeout) as info:
        await _send(request)
    assert info.value.request is request


async def test_read_timeout_in_body(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"), Stall()]
    )
    async with AsyncConnectionPool() as pool:
        request = _request(server.url, read=0.1)
        response = await pool.handle_async_request(request)
        with pytest.raises(ReadTimeout) as info:
            await response.aread()
        assert info.value.request is request
        assert pool.active_connections == 0
        assert pool.idle_connections == 0


async def test_reset_mid_body(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"), Reset()]
    )
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))
        with pytest.raises(ReadError) as info:
            await response.aread()
        assert isinstance(info.value.__cause__, ConnectionError)
        assert pool.active_connections == 0


async def test_reset_before_response(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Reset()])
    with pytest.raises(ReadError):
        await _send(_request(server.url))


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"",
    ],
    ids=["content-length", "chunked", "head", "nothing"],
)
async def test_truncated(raw_server: Any, reply: bytes) -> None:
    server = raw_server([ReadRequest(), Send(reply), Close()])
    with pytest.raises(RemoteProtocolError, match="peer closed") as info:
        await _send(_request(server.url))
    assert info.value.request is not None


async def test_read_until_close_body(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(b"HTTP/1.1 200 OK\r\n\r\nuntil close"), Close()])
    assert await _send(_request(server.url)) == b"until close"


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
    ],
)
async def test_garbage(raw_server: Any, reply: bytes) -> None:
    server = raw_server([ReadRequest(), Send(reply), Close()])
    with pytest.raises(RemoteProtocolError):
        await _send(_request(server.url))


async def test_header_limits(raw_server: Any) -> None:
    big = http_response(200, b"", [("X-Big", "v" * 5000)])
    server = raw_server([ReadRequest(), Send(big)])
    from reqivo_protocol._exceptions import HeadersTooLarge

    async with AsyncConnectionPool(max_header_size=1024) as pool:
        with pytest.raises(HeadersTooLarge):
            await pool.handle_async_request(_request(server.url))


async def test_write_timeout(raw_server: Any) -> None:
    server = raw_server([ReadHead(), Stall()])
    request = AsyncRequest(
        "POST",
        server.url,
        content=b"w" * (64 * 1024 * 1024),
        extensions={"timeout": Timeout(5.0, write=0.2)},
    )
    async with AsyncConnectionPool() as pool:
        with pytest.raises(WriteTimeout) as info:
            await pool.handle_async_request(request)
        assert info.value.request is request
        assert pool.active_connections == 0


async def test_write_error_when_server_resets_during_upload(raw_server: Any) -> None:
    server = raw_server([ReadHead(), Reset()])

    async def chunks() -> Any:
        for _ in range(2000):
            yield b"u" * 65536

    request = AsyncRequest("POST", server.url, content=chunks())
    async with AsyncConnectionPool() as pool:
        with pytest.raises(WriteError):
            await pool.handle_async_request(request)
        assert pool.active_connections == 0


async def test_write_error_on_large_body(raw_server: Any) -> None:
    server = raw_server([ReadHead(), Reset()])
    request = AsyncRequest("POST", server.url, content=b"L" * (64 * 1024 * 1024))
    with pytest.raises((WriteError, ReadError)):
        await _send(request)


def test_map_error_table() -> None:
    marker = object()
    assert isinstance(map_error(ConnectionResetError(), "read", marker), ReadError)
    assert isinstance(map_error(BrokenPipeError(), "write"), WriteError)
    assert isinstance(map_error(TimeoutError(), "write"), WriteTimeout)
    assert isinstance(map_error(TimeoutError(), "read"), ReadTimeout)
    assert isinstance(map_error(ssl.SSLError(1, "bad record"), "read"), TlsError)
    error = ReadError("x")
    assert map_error(error, "read", marker) is error
    assert error.request is marker
    assert isinstance(map_error(OSError("boom"), "connect"), RequestError)
    assert str(map_error(TimeoutError(), "connect")) == "connect timed out"


async def test_cancelled_error_is_not_swallowed(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Stall()])
    async with AsyncConnectionPool() as pool:
        task = asyncio.ensure_future(pool.handle_async_request(_request(server.url)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.active_connections == 0
