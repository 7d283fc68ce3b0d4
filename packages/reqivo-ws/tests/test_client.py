"""AsyncWebSocket against the websockets library's server: API, errors, limits, closing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection

from reqivo_async import AsyncSession
from reqivo_ws import (
    AsyncWebSocket,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    DeflateOffer,
    HandshakeError,
    InvalidURL,
    LocalProtocolError,
    ReadTimeout,
)

from .conftest import settle, ws_server


async def test_text_binary_and_iteration(echo_url: str) -> None:
    async with AsyncWebSocket(echo_url) as ws:
        assert ws.compression is not None  # negotiated by default
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\x01")
        assert await ws.recv() == b"\x00\x01"
        await ws.send(bytearray(b"ba"))  # type: ignore[arg-type]
        assert await ws.recv() == b"ba"
        await ws.send("close:1000")
        assert [m async for m in ws] == []
        assert ws.closed and ws.close_code == 1000
    with pytest.raises(ConnectionClosedOK):
        await ws.recv()
    with pytest.raises(ConnectionClosedOK):
        await ws.send("late")


async def test_connect_without_context_manager_and_repr(echo_url: str) -> None:
    ws = AsyncWebSocket(echo_url, compression=None)
    assert "new" in repr(ws)
    with pytest.raises(RuntimeError):
        await ws.recv()
    await ws.connect()
    assert ws.compression is None and "open" in repr(ws)
    assert ws.get_extra_info("peername")[0] == "127.0.0.1"
    assert ws.response.status_code == 101
    with pytest.raises(RuntimeError):
        await ws.connect()
    await ws.close()
    await ws.close()  # idempotent
    assert "closed" in repr(ws) and ws.close_code == 1000


async def test_large_messages_and_fragments(echo_url: str) -> None:
    big = os.urandom(3 * 2**20)
    async with AsyncWebSocket(echo_url, max_message_size=None) as ws:
        await ws.send(big)
        assert await ws.recv() == big

        async def parts() -> AsyncIterator[str]:
            for part in ("a", "b", "c"):
                yield part

        await ws.send(parts())
        assert await ws.recv() == "abc"
        await ws.send([b"x", b"y"])
        assert await ws.recv() == b"xy"
        await ws.send([])  # nothing to send
        with pytest.raises(TypeError):
            await ws.send([1])  # type: ignore[list-item]
    async with AsyncWebSocket(echo_url) as ws:
        with pytest.raises(TypeError):
            await ws.send({"a": 1})


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


async def test_fragment_source_failing_midway_fails_connection(echo_url: str) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"1"
        yield b"2"
        raise ValueError("source broke")

    async with AsyncWebSocket(echo_url, compression=None) as ws:
        with pytest.raises(ValueError, match="source broke"):
            await ws.send(broken())
        with pytest.raises(ConnectionClosedError) as info:
            await ws.send(b"x")
        assert info.value.code == 1011


async def test_recv_timeout(echo_url: str) -> None:
    async with AsyncWebSocket(echo_url) as ws:
        with pytest.raises(ReadTimeout):
            await ws.recv(timeout=0.05)
        with pytest.raises(TimeoutError):
            await ws.recv(timeout=0)
        await ws.send("still fine")
        assert await ws.recv(timeout=5) == "still fine"


async def test_server_close_codes() -> None:
    async with ws_server() as url, AsyncWebSocket(url) as ws:
        await ws.send("close:4000")
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert (info.value.code, info.value.reason) == (4000, "asked to")
        with pytest.raises(ConnectionClosedError):
            async for _ in ws:
                pass  # pragma: no cover


async def test_message_too_big_closes_with_1009() -> None:
    seen: list[int | None] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(b"x" * 2000)
        await ws.wait_closed()
        seen.append(ws.close_code)

    async with ws_server(handler) as url, AsyncWebSocket(url, max_message_size=1000) as ws:
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert info.value.code == 1009
        assert "max_message_size" in str(info.value.__cause__)
        await asyncio.sleep(0.1)
    assert seen == [1009]


async def test_messages_before_a_close_are_delivered_and_answerable() -> None:
    echoed: list[object] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        await ws.send("two")
        await ws.close(1001, "bye")
        echoed.append(ws.close_code)

    async with ws_server(handler) as url, AsyncWebSocket(url) as ws:
        await asyncio.sleep(0.1)
        assert await ws.recv() == "one"
        await ws.send("echo")  # allowed: our close answer waits until we read on
        assert await ws.recv() == "two"
        with pytest.raises(ConnectionClosedOK) as info:
            await ws.recv()
        assert info.value.code == 1001
    assert echoed == [1001]


async def test_ping_pong_and_unsolicited_pong(echo_url: str) -> None:
    async with AsyncWebSocket(echo_url) as ws:
        waiter = await ws.ping()
        assert await waiter >= 0
        first = await ws.ping(b"a")
        second = await ws.ping("b")
        assert await second >= 0
        assert asyncio.ensure_future(first).done()
        await ws.ping(b"c")
        with pytest.raises(ValueError, match="already waiting"):
            await ws.ping(b"c")
        await ws.pong(b"hi")
        await ws.pong("text")
        with pytest.raises(LocalProtocolError):
            await ws.ping(b"x" * 200)
    with pytest.raises(ConnectionClosedOK):
        await ws.ping()
    with pytest.raises(ConnectionClosedOK):
        await ws.pong()


async def test_pending_ping_fails_when_the_connection_drops() -> None:
    async def handler(ws: ServerConnection) -> None:
        ws.transport.pause_reading()
        await asyncio.sleep(0.1)
        ws.transport.abort()

    async with ws_server(handler, ping_interval=None) as url:
        ws = await AsyncWebSocket(url, ping_interval=None).connect()
        waiter = await ws.ping()
        with pytest.raises(ConnectionClosedError) as info:
            await waiter
        assert info.value.code == 1006
        await ws.close()


async def test_keepalive_pings_and_timeout() -> None:
    async with ws_server() as url, AsyncWebSocket(url, ping_interval=0.02) as ws:
        await asyncio.sleep(0.1)
        await ws.send("alive")
        assert await ws.recv() == "alive"

    async with ws_server() as url:
        ws = await AsyncWebSocket(url, ping_interval=0.02, ping_timeout=0.05).connect()
        # Swallow the server's pongs: pretend the network went silent.
        protocol = ws._p
        assert protocol is not None
        protocol._pong = lambda payload: None  # type: ignore[method-assign]
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv(timeout=2)
        assert info.value.code == 1011 and "keepalive" in info.value.reason
        await ws.close()


async def test_close_with_code_and_invalid_code(echo_url: str) -> None:
    async with AsyncWebSocket(echo_url) as ws:
        with pytest.raises(LocalProtocolError):
            await ws.close(1005)
        await ws.close(4001, "done")
        with pytest.raises(ConnectionClosed) as info:
            await ws.send("x")
        assert info.value.code == 4001


async def test_close_timeout_when_the_server_never_answers() -> None:
    async def handler(ws: ServerConnection) -> None:
        ws.transport.pause_reading()
        await asyncio.sleep(1)

    async with ws_server(handler, close_timeout=0.2) as url:
        ws = await AsyncWebSocket(url, close_timeout=0.1).connect()
        await ws.close()
        assert ws.close_code == 1006


async def test_backpressure_pauses_reading() -> None:
    async def handler(ws: ServerConnection) -> None:
        for i in range(50):
            await ws.send(str(i))
        await ws.recv()

    async with ws_server(handler) as url, AsyncWebSocket(url, max_queue=8) as ws:
        await asyncio.sleep(0.2)
        protocol = ws._p
        assert protocol is not None and protocol.read_paused
        assert len(protocol.queue) < 50
        got = [await ws.recv() for _ in range(50)]
        assert got == [str(i) for i in range(50)]
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
        assert not protocol.write_paused


async def test_subprotocols_and_headers() -> None:
    seen: dict[str, str | None] = {}

    async def handler(ws: ServerConnection) -> None:
        seen["x-token"] = ws.request.headers.get("X-Token")  # type: ignore[union-attr]
        seen["cookie"] = ws.request.headers.get("Cookie")  # type: ignore[union-attr]
        seen["authorization"] = ws.request.headers.get("Authorization")  # type: ignore[union-attr]
        await ws.send(ws.subprotocol or "")

    async with ws_server(handler, subprotocols=["chat.v2"]) as url:
        async with AsyncWebSocket(
            url, subprotocols=["chat.v1", "chat.v2"], headers={"X-Token": "t"}
        ) as ws:
            assert ws.subprotocol == "chat.v2"
            assert await ws.recv() == "chat.v2"
        async with AsyncSession(
            headers={"X-Token": "s"}, cookies={"sid": "42"}, auth=("u", "p")
        ) as session:
            async with AsyncWebSocket(url, session=session, subprotocols=["chat.v2"]) as ws:
                assert await ws.recv() == "chat.v2"
    assert seen["x-token"] == "s" and seen["cookie"] == "sid=42"
    assert (seen["authorization"] or "").startswith("Basic ")


async def test_handshake_refused_carries_the_response() -> None:
    from websockets.datastructures import Headers as WsHeaders
    from websockets.http11 import Response as WsResponse

    def refuse(connection: ServerConnection, request: object) -> WsResponse:
        return WsResponse(403, "Forbidden", WsHeaders([("Content-Length", "4")]), b"nope")

    async with ws_server(process_request=refuse) as url:
        with pytest.raises(HandshakeError) as info:
            await AsyncWebSocket(url).connect()
    response = info.value.response
    assert response.status_code == 403 and response.content == b"nope"
    assert "403" in str(info.value)


async def test_redirect_is_followed() -> None:
    from websockets.datastructures import Headers as WsHeaders
    from websockets.http11 import Response as WsResponse

    def redirect(connection: ServerConnection, request: object) -> WsResponse | None:
        if connection.request.path == "/old":  # type: ignore[union-attr]
            headers = WsHeaders([("Location", "/new"), ("Content-Length", "0")])
            return WsResponse(302, "Found", headers, b"")
        return None

    async with ws_server(process_request=redirect) as url:
        async with AsyncWebSocket(url + "old") as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"


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
