"""Interoperability on loopback: aiohttp's and uvicorn's servers, wss, a proxy tunnel,
and auto-reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from aiohttp import WSMsgType, web
from websockets.asyncio.server import ServerConnection

from reqivo_async import AsyncSession
from reqivo_ws import AsyncWebSocket, ConnectionClosedError, ConnectionClosedOK, Reconnect

from .conftest import echo, ws_server


async def _aiohttp_echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("chat",), max_msg_size=0)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close(code=4002, message=b"bye")
            else:
                await ws.send_str(msg.data)
        elif msg.type is WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


@contextlib.asynccontextmanager
async def aiohttp_server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/ws", _aiohttp_echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        await runner.cleanup()


async def asgi_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        if event.get("text") == "close":
            await send({"type": "websocket.close", "code": 4003})
            return
        reply = {"type": "websocket.send"}
        reply.update({k: v for k, v in event.items() if k in ("text", "bytes") and v is not None})
        await send(reply)


@contextlib.asynccontextmanager
async def uvicorn_server(ws: str) -> AsyncIterator[str]:
    config = uvicorn.Config(
        asgi_echo, host="127.0.0.1", port=0, ws=ws, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task


async def _exchange(url: str, **options: Any) -> AsyncWebSocket:
    ws = await AsyncWebSocket(url, **options).connect()
    await ws.send("text")
    assert await ws.recv() == "text"
    await ws.send(b"\x00" * 300_000)
    assert await ws.recv() == b"\x00" * 300_000
    await ws.send(["frag", "mented"])
    assert await ws.recv() == "fragmented"
    assert await (await ws.ping()) >= 0
    return ws


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_aiohttp_server(compression: Any) -> None:
    async with aiohttp_server() as url:
        ws = await _exchange(url, compression=compression, subprotocols=["chat"])
        assert ws.subprotocol == "chat"
        assert (ws.compression is not None) == (compression is not None)
        await ws.send("close")
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert (info.value.code, info.value.reason) == (4002, "bye")
        await ws.close()


@pytest.mark.parametrize("implementation", ["wsproto", "websockets-sansio"])
async def test_uvicorn_servers(implementation: str) -> None:
    async with uvicorn_server(implementation) as url:
        ws = await _exchange(url)
        await ws.close()
        assert ws.close_code == 1000
        ws = await _exchange(url, compression=None)
        await ws.send("close")
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert info.value.code == 4003
        await ws.close()


async def test_wss_with_a_test_ca(tls_certs: Any) -> None:
    context = tls_certs.server_context()
    async with ws_server(ssl=context) as url:
        ws = await _exchange(url, verify=str(tls_certs.ca_bundle))
        assert ws.get_extra_info("ssl_object") is not None
        await ws.close()
        async with AsyncSession(verify=tls_certs.client_context()) as session:
            await (await _exchange(url, session=session)).close()
        from reqivo_ws import TlsError

        with pytest.raises(TlsError):
            await AsyncWebSocket(url).connect()  # the system CAs do not know ours


async def test_through_a_proxy_tunnel(proxy_server: Any, tls_certs: Any) -> None:
    async with ws_server() as url:
        ws = await _exchange(url, proxy=proxy_server.url)
        await ws.close()
        async with AsyncSession(proxy=proxy_server.url) as session:
            await (await _exchange(url, session=session)).close()
    async with ws_server(ssl=tls_certs.server_context()) as url:
        ws = await _exchange(url, proxy=proxy_server.url, verify=str(tls_certs.ca_bundle))
        await ws.close()


async def test_reconnect_after_an_abnormal_close() -> None:
    connections = 0

    async def flaky(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await ws.send("first")
            ws.transport.abort()  # no close frame: 1006
            return
        await echo(ws)

    reconnected: list[int] = []

    async def on_reconnect(ws: AsyncWebSocket) -> None:
        reconnected.append(ws.reconnects)

    policy = Reconnect(initial_delay=0.01, max_attempts=3)
    async with ws_server(flaky) as url:
        async with AsyncWebSocket(url, reconnect=policy, on_reconnect=on_reconnect) as ws:
            assert await ws.recv() == "first"
            await asyncio.sleep(0.05)
            await ws.send("second")  # waits for the new connection, then goes out there
            assert await ws.recv() == "second"
            assert reconnected == [1] and connections == 2
        with pytest.raises(ConnectionClosedOK):
            await ws.recv()  # closed by us: no reconnect


async def test_reconnect_gives_up() -> None:
    async def once(ws: ServerConnection) -> None:
        await asyncio.sleep(0.2)
        await ws.close(1012, "restart")

    policy = Reconnect(initial_delay=0.0, max_attempts=2, jitter=0.0)
    async with ws_server(once, close_timeout=0.5) as url:
        ws = await AsyncWebSocket(url, reconnect=policy).connect()
    # The server is gone: both attempts fail and the close error says so.
    with pytest.raises(ConnectionClosedError) as info:
        await ws.recv()
    assert info.value.code == 1001 and "2 attempts" in info.value.reason  # server shutdown
    assert ws.reconnects == 0
    await ws.close()


def test_reconnect_policy() -> None:
    policy = Reconnect(initial_delay=1.0, factor=2.0, max_delay=5.0, jitter=0.5)
    assert policy.delay(0, 0.0) == 1.0 and policy.delay(3, 0.0) == 5.0
    assert policy.delay(1, 1.0) == 1.0
    assert 0.5 <= policy.delay(0) <= 1.0
    for bad in ({"max_attempts": 0}, {"factor": 0.5}, {"jitter": 2.0}):
        with pytest.raises(ValueError, match="must"):
            Reconnect(**bad)


def test_ssl_module_available() -> None:
    assert ssl.HAS_SNI
