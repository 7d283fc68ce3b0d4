"""What only ``AsyncWebSocket`` has: connect()/repr, async iterables, concurrent tasks,
ping's awaitable, backpressure and drain on the protocol, constructor checks.

The behaviour both APIs share (messages, closing, handshake, reconnect) is tested once,
in both modes, by the dual suite (``dual/``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection

from reqivo_async import AsyncSession
from reqivo_ws import (
    AsyncWebSocket,
    ConnectionClosedError,
    ConnectionClosedOK,
    DeflateOffer,
    InvalidURL,
    Reconnect,
)

from .conftest import echo, settle, ws_server


async def test_connect_without_context_manager_and_repr(echo_url: str) -> None:
    ws = AsyncWebSocket(echo_url, compression=None)
    assert "new" in repr(ws)
    with pytest.raises(RuntimeError):
        await ws.recv()
    await ws.close()  # not connected: nothing to close
    assert not ws.closed and ws.close_code is None
    ws = AsyncWebSocket(echo_url, compression=None)
    await ws.connect()
    assert ws.compression is None and "open" in repr(ws)
    assert ws.get_extra_info("peername")[0] == "127.0.0.1"
    assert ws.response.status_code == 101
    with pytest.raises(RuntimeError):
        await ws.connect()
    await ws.close()
    await ws.close()  # idempotent
    assert "closed" in repr(ws) and ws.close_code == 1000


def test_repr_shows_the_ws_url_without_its_password() -> None:
    text = repr(AsyncWebSocket("wss://ann:secret@example.test:8443/chat?room=1"))
    assert text == "<AsyncWebSocket [wss://ann:[secure]@example.test:8443/chat?room=1 new]>"
    assert "secret" not in text
    assert repr(AsyncWebSocket("ws://example.test/")) == "<AsyncWebSocket [ws://example.test/ new]>"


async def test_send_from_an_async_iterable(echo_url: str) -> None:
    async def parts() -> AsyncIterator[str]:
        for part in ("a", "b", "c"):
            yield part

    async def broken() -> AsyncIterator[bytes]:
        yield b"1"
        yield b"2"  # the first fragment is out: the message cannot be finished
        raise ValueError("source broke")

    async with AsyncWebSocket(echo_url, compression=None) as ws:
        await ws.send(parts())
        assert await ws.recv() == "abc"
        with pytest.raises(ValueError, match="source broke"):
            await ws.send(broken())
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert info.value.code == 1011


async def test_connection_lost_during_a_fragmented_send() -> None:
    async def handler(ws: ServerConnection) -> None:
        await asyncio.sleep(0.1)
        ws.transport.abort()

    async def slow() -> AsyncIterator[bytes]:
        yield b"1"
        yield b"2"
        await asyncio.sleep(0.3)  # the connection drops meanwhile
        yield b"3"

    async with ws_server(handler) as url, AsyncWebSocket(url, compression=None) as ws:
        with pytest.raises(ConnectionClosedError) as info:
            await ws.send(slow())
        assert info.value.code == 1006


async def test_sends_while_the_close_handshake_runs() -> None:
    async def handler(ws: ServerConnection) -> None:
        ws.transport.pause_reading()  # our close frame is not answered for a while
        await ws.wait_closed()

    async with ws_server(handler, close_timeout=0.2) as url:
        ws = await AsyncWebSocket(url, close_timeout=0.3).connect()
        closing = asyncio.create_task(ws.close())
        await settle()
        assert not ws.closed  # the handshake is under way
        buffer: Any = bytearray(b"x")
        for call in (ws.send("x"), ws.send(b"x"), ws.send(buffer), ws.send(["x"]), ws.pong()):
            with pytest.raises(ConnectionClosedOK, match="closing"):
                await call
        with pytest.raises(ConnectionClosedOK, match="closing"):
            await ws.ping()
        await closing
        assert ws.close_code == 1006  # never answered


class _DropsFirstConnection:
    """A server handler that drops its first connection (1006), then echoes."""

    def __init__(self) -> None:
        self.connections = 0

    async def __call__(self, ws: ServerConnection) -> None:
        self.connections += 1
        if self.connections == 1:
            ws.transport.abort()
            return
        await echo(ws)


async def test_async_on_reconnect_and_concurrent_waiters() -> None:
    flaky = _DropsFirstConnection()
    reconnected: list[int] = []

    async def on_reconnect(ws: AsyncWebSocket) -> None:
        await asyncio.sleep(0.01)
        reconnected.append(ws.reconnects)

    policy = Reconnect(initial_delay=0.05, max_attempts=3, jitter=0.0)
    async with ws_server(flaky) as url:
        async with AsyncWebSocket(url, reconnect=policy, on_reconnect=on_reconnect) as ws:
            while not ws.closed:  # noqa: ASYNC110 - no event says "dropped"
                await asyncio.sleep(0.01)
            # Two tasks find the connection gone: they wait for one reconnection.
            await asyncio.gather(ws.send("a"), ws.send("b"))
            assert sorted([await ws.recv(), await ws.recv()]) == ["a", "b"]
            assert reconnected == [1] and flaky.connections == 2


async def test_close_while_others_wait_for_a_reconnection() -> None:
    async def drop(ws: ServerConnection) -> None:
        ws.transport.abort()  # 1006, on every connection

    policy = Reconnect(initial_delay=0.5, jitter=0.0)
    async with ws_server(drop) as url:
        ws = await AsyncWebSocket(url, reconnect=policy).connect()
        while not ws.closed:  # noqa: ASYNC110 - no event says "dropped"
            await asyncio.sleep(0.01)
        waiting = [asyncio.create_task(ws.recv()), asyncio.create_task(ws.send("x"))]
        await asyncio.sleep(0.1)  # both wait for the reconnection, which waits 0.5 s
        await ws.close()  # stops reconnecting: the waiters get the connection's end
        for task in waiting:
            with pytest.raises(ConnectionClosedError) as info:
                await task
            assert info.value.code == 1006
        assert ws.closed and ws.close_code == 1006 and ws.reconnects == 0


async def test_cancelling_a_waiter_does_not_stop_reconnecting() -> None:
    flaky = _DropsFirstConnection()
    policy = Reconnect(initial_delay=0.2, jitter=0.0)
    async with ws_server(flaky) as url:
        async with AsyncWebSocket(url, reconnect=policy) as ws:
            while not ws.closed:  # noqa: ASYNC110 - no event says "dropped"
                await asyncio.sleep(0.01)
            waiter = asyncio.create_task(ws.recv())
            await asyncio.sleep(0.05)
            waiter.cancel()  # this caller gives up; the reconnection goes on
            with pytest.raises(asyncio.CancelledError):
                await waiter
            await ws.send("after")
            assert await ws.recv() == "after"
            assert ws.reconnects == 1 and flaky.connections == 2


async def test_concurrent_send_waits_for_fragmented_message(echo_url: str) -> None:
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"1"
        await gate.wait()
        yield b"2"

    async with AsyncWebSocket(echo_url, compression=None) as ws:
        first = asyncio.create_task(ws.send(slow()))
        await settle()
        second = asyncio.create_task(ws.send(b"after"))
        await settle()
        assert not second.done()
        gate.set()
        await asyncio.gather(first, second)
        assert await ws.recv() == b"12"
        assert await ws.recv() == b"after"


async def test_ping_returns_an_awaitable(echo_url: str) -> None:
    async with AsyncWebSocket(echo_url) as ws:
        first = await ws.ping(b"a")
        second = await ws.ping("b")
        assert await second >= 0
        assert asyncio.ensure_future(first).done()  # pongs answer pings in order
        await ws.ping(b"c")
        with pytest.raises(ValueError, match="already waiting"):
            await ws.ping(b"c")


async def test_backpressure_pauses_reading() -> None:
    # 64 KiB of random bytes each (permessage-deflate cannot shrink them): one read holds
    # a few at most, so pausing the reads keeps the queue short. 50 tiny messages could
    # all come in one read and be queued at once, as a loaded machine showed.
    messages = [os.urandom(65536) for _ in range(50)]

    async def handler(ws: ServerConnection) -> None:
        for message in messages:
            await ws.send(message)
        await ws.recv()

    async with ws_server(handler) as url, AsyncWebSocket(url, max_queue=8) as ws:
        await asyncio.sleep(0.2)
        protocol = ws._p
        assert protocol is not None and protocol.read_paused
        assert len(protocol.queue) < 50
        got = [await ws.recv() for _ in range(50)]
        assert got == messages
        assert not ws._p.read_paused  # type: ignore[union-attr]
        await ws.send("done")


async def test_send_waits_for_drain() -> None:
    async def handler(ws: ServerConnection) -> None:
        ws.transport.pause_reading()
        await asyncio.sleep(0.3)
        ws.transport.resume_reading()
        async for _ in ws:
            pass

    async with ws_server(handler) as url, AsyncWebSocket(url, compression=None) as ws:
        protocol = ws._p
        assert protocol is not None
        task = asyncio.create_task(ws.send(bytes(32 * 2**20)))
        await asyncio.sleep(0.1)
        assert not task.done() and protocol.write_paused
        await asyncio.wait_for(task, 10)
        # A fragmented message waits between fragments the same way.
        await asyncio.wait_for(ws.send([bytes(16 * 2**20)] * 4), 10)
        await asyncio.wait_for(ws.send([bytearray(16 * 2**20)]), 10)  # type: ignore[list-item]
        await asyncio.wait_for(ws.send(bytearray(32 * 2**20)), 10)  # type: ignore[arg-type]
        assert not protocol.write_paused


def test_invalid_arguments() -> None:
    with pytest.raises(InvalidURL):
        AsyncWebSocket("ftp://example.com/")
    with pytest.raises(InvalidURL):
        AsyncWebSocket("example.com")
    with pytest.raises(ValueError, match="compression"):
        AsyncWebSocket("ws://h/", compression="gzip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_queue"):
        AsyncWebSocket("ws://h/", max_queue=0)
    with pytest.raises(ValueError, match="session"):
        AsyncWebSocket("ws://h/", session=AsyncSession(), verify=False)
    offer = DeflateOffer(client_max_window_bits=10)
    assert AsyncWebSocket("wss://h/", compression=offer)._deflate is offer
