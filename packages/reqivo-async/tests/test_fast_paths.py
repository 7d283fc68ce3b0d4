"""The transport's fast paths: the shared read timer, ``aread_all``, large in-memory
uploads written in slices, and the pool's idle-connection shortcut."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest

import reqivo_async._http11 as http11
from reqivo_async._config import Timeout
from reqivo_async._connection import AsyncConnection
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._pool import AsyncConnectionPool
from reqivo_protocol._exceptions import (
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
    WriteTimeout,
)
from servers.models import Server
from servers.raw import Close, ReadBytes, ReadHead, ReadRequest, Reset, Send, Sleep, Stall
from servers.raw import http_response as reply


def _request(url: str, method: str = "GET", content: Any = None, **timeouts: float) -> AsyncRequest:
    return AsyncRequest(
        method, url, content=content, extensions={"timeout": Timeout(5.0, **timeouts)}
    )


async def test_read_timer_is_shared_and_moves(raw_server: Any) -> None:
    server = raw_server(
        [
            ReadRequest(),
            Send(reply(body=b"one")),
            ReadRequest(),
            Sleep(0.4),  # past the first request's deadline: the timer must move on
            Send(reply(body=b"two")),
            ReadRequest(),
            Stall(),
        ]
    )
    async with AsyncConnectionPool() as pool:
        first = await pool.handle_async_request(_request(server.url, read=0.2))
        assert await first.aread() == b"one"
        protocol = pool._idle[first.request.url.origin][0]._http.protocol  # type: ignore[union-attr]
        assert isinstance(protocol, http11.HTTP11Protocol)
        timer = protocol._timer
        assert timer is not None  # left pending for the next wait, not cancelled
        second = await pool.handle_async_request(_request(server.url, read=5.0))
        assert await second.aread() == b"two"
        assert protocol._timer is not None and protocol._timer is not timer
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            # A shorter deadline than the pending timer's: the timer is brought forward.
            await pool.handle_async_request(_request(server.url, read=0.2))
        assert time.monotonic() - started < 2.0
    assert protocol._timer is None  # cancelled when the connection went away


async def test_read_timer_fires_without_waiter(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(reply(body=b"ok")), ReadHead(), Close()])
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url, read=0.05))
        assert await response.aread() == b"ok"
        await asyncio.sleep(0.15)  # the timer fires with nobody waiting and goes away
        protocol = pool._idle[response.request.url.origin][0]._http.protocol  # type: ignore[union-attr]
        assert isinstance(protocol, http11.HTTP11Protocol)
        assert protocol._timer is None


async def test_aread_all_joins_blocks(raw_server: Any) -> None:
    body = b"0123456789" * 5000
    head = reply(body=body)[: -len(body)]
    server = raw_server([ReadRequest(), Send(head + body[:1000]), Sleep(0.05), Send(body[1000:])])
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))
        assert await response.aread() == body
        assert pool.idle_connections == 1
        # A finished stream has nothing more to give.
        assert await response._stream.aread_all() == b""  # type: ignore[attr-defined]


async def test_aread_all_failure_closes_the_connection(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), Close()]
    )
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))
        with pytest.raises(RemoteProtocolError) as info:
            await response.aread()
        assert info.value.request is response.request
        assert pool.active_connections == 0
        assert pool.idle_connections == 0


async def test_aread_all_cancelled(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"), Stall()]
    )
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))
        task = asyncio.ensure_future(response.aread())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.active_connections == 0


async def test_aread_without_aread_all() -> None:
    class Chunks:
        def __init__(self) -> None:
            self.closed = False

        async def __aiter__(self) -> Any:
            yield b"ab"
            yield b"cd"

        async def aclose(self) -> None:
            self.closed = True

    stream = Chunks()
    response = Response(200, stream=stream)
    assert await response.aread() == b"abcd"
    assert stream.closed


@pytest.mark.parametrize("size", [http11.WRITE_SLICE + 1, 3 * 1024 * 1024 + 17])
async def test_large_upload_in_slices(uvicorn_h11_server: Server, size: int) -> None:
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    async with AsyncConnectionPool() as pool:
        request = _request(uvicorn_h11_server.join("/upload"), "POST", body)
        response = await pool.handle_async_request(request)
        await response.aread()
        echoed = response.json()
        assert echoed["length"] == size
        assert echoed["sha256"] == hashlib.sha256(body).hexdigest()
        connection = pool._idle[request.url.origin][0]
        transport = connection._http.protocol.transport  # type: ignore[union-attr]
        assert transport is not None
        # The connection's write-buffer limits are back to asyncio's defaults.
        assert transport.get_write_buffer_limits() == (16 * 1024, 64 * 1024)


async def test_large_upload_write_timeout(raw_server: Any) -> None:
    server = raw_server([ReadHead(), Stall()])
    async with AsyncConnectionPool() as pool:
        request = _request(server.url, "POST", b"u" * (64 * 1024 * 1024), write=0.3)
        with pytest.raises(WriteTimeout) as info:
            await pool.handle_async_request(request)
        assert info.value.request is request
        assert pool.active_connections == 0


async def test_large_upload_peer_resets(raw_server: Any) -> None:
    server = raw_server([ReadHead(), ReadBytes(100_000), Reset()])
    async with AsyncConnectionPool() as pool:
        request = _request(server.url, "POST", b"r" * (64 * 1024 * 1024))

        async def send() -> None:
            response = await pool.handle_async_request(request)
            await response.aread()

        with pytest.raises((WriteError, RemoteProtocolError)):
            await send()
        assert pool.active_connections == 0


async def test_pool_fast_path_reuses_idle_connection(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(reply(body=b"a")), ReadRequest(), Send(reply(body=b"b"))]
    )
    async with AsyncConnectionPool() as pool:
        for expected in (b"a", b"b"):
            response = await pool.handle_async_request(_request(server.url))
            assert await response.aread() == expected
        assert len(pool.connections) == 1
        assert pool.connections[0].requests == 2


async def test_streamed_body_failure_and_end(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"), Reset()]
    )
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))
        stream = response._stream
        with pytest.raises((RemoteProtocolError, ReadError)) as info:
            async for _ in stream:
                pass
        assert info.value.request is response.request
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()  # type: ignore[attr-defined]
        assert pool.active_connections == 0


@pytest.mark.parametrize("whole", [True, False])
async def test_os_error_in_body_is_mapped(
    raw_server: Any, monkeypatch: pytest.MonkeyPatch, whole: bool
) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"), Stall()]
    )
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))

        async def broken(self: Any, seconds: Any, **options: Any) -> Any:
            raise ConnectionResetError("boom")

        monkeypatch.setattr(http11.HTTP11Connection, "_receive_event", broken)
        read = response.aread() if whole else response._stream.__anext__()  # type: ignore[attr-defined]
        with pytest.raises(ReadError) as info:
            await read
        assert isinstance(info.value.__cause__, ConnectionResetError)
        assert info.value.request is response.request
        assert pool.active_connections == 0


class _RecvTransport(asyncio.Transport):
    """A transport stand-in with a selector transport's adjustable ``max_size``."""

    max_size = 256 * 1024

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def test_recv_size_grows_on_full_reads_and_drops_on_short_ones() -> None:
    protocol = http11.HTTP11Protocol()
    transport = _RecvTransport()
    protocol.connection_made(transport)
    base = http11.BASE_RECV_SIZE  # below glibc's mmap threshold, not asyncio's 256 KiB
    assert transport.max_size == base
    protocol.data_received(b"a" * 1000)  # short at the base size: nothing changes
    assert transport.max_size == base
    sizes = []
    for _ in range(4):  # full reads: the socket holds more, read bigger (doubling)
        protocol.data_received(b"b" * transport.max_size)
        sizes.append(transport.max_size)
    assert sizes == [2 * base, 4 * base, http11.MAX_RECV_SIZE, http11.MAX_RECV_SIZE]
    protocol.data_received(b"d" * (base + 1))  # short: the smallest step that holds it
    assert transport.max_size == 2 * base
    protocol.data_received(b"e" * 100)  # a small read: back to the base size
    assert transport.max_size == base
    chunks = [protocol.pop() for _ in range(7)]
    assert [len(chunk) for chunk in chunks] == [
        1000,
        base,
        2 * base,
        4 * base,
        http11.MAX_RECV_SIZE,
        base + 1,
        100,
    ]


async def test_recv_size_untouched_without_an_adjustable_transport() -> None:
    class Plain(asyncio.Transport):
        def pause_reading(self) -> None:
            pass

    class Odd(Plain):
        max_size = "not a size"

    for transport in (Plain(), Odd()):
        protocol = http11.HTTP11Protocol()
        protocol.connection_made(transport)
        protocol.data_received(b"x" * (256 * 1024))
        assert "max_size" not in vars(transport)
        assert protocol.pop() == b"x" * (256 * 1024)


async def test_bulk_download_reads_bigger_blocks() -> None:
    size = 8 * 1024 * 1024 + 5
    body = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    sizes: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + body)
        await writer.drain()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    try:
        async with AsyncConnection(url) as conn:
            response = await conn.handle_async_request(_request(url))
            protocol = conn._http.protocol  # type: ignore[union-attr]
            assert isinstance(protocol, http11.HTTP11Protocol)
            await asyncio.sleep(0.2)  # let the body pile up: reads fill their buffer
            received = bytearray()
            async for chunk in response.aiter_raw():
                sizes.append(len(chunk))
                received += chunk
            assert received == body
            if protocol._recv_transport is None:
                # uvloop's transports have no ``max_size``: they read in their own blocks,
                # which the protocol leaves alone.
                assert protocol._recv_size == 0
                assert max(sizes) > 64 * 1024
            else:
                assert max(sizes) == http11.MAX_RECV_SIZE  # reads grew while the body piled up
                assert protocol._recv_size in (protocol._base_recv_size, http11.MAX_RECV_SIZE)
            assert conn.is_available()
    finally:
        server.close()
        await server.wait_closed()
