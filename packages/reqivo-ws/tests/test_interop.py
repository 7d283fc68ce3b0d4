"""Interoperability on loopback with uvicorn's three WebSocket implementations (run in the
test's own loop), and the reconnect policy's arithmetic.

aiohttp's and websockets' servers, wss, proxy tunnels and auto-reconnect are tested in
both modes by the dual suite (``dual/``)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from reqivo_ws import AsyncWebSocket, ConnectionClosedError, Reconnect


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
    while not server.started:
        if task.done():  # it failed to start: say why rather than wait forever
            task.result()
            raise AssertionError("uvicorn stopped before it started")
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


# uvicorn's legacy ``--ws websockets`` (``websockets_impl``, on websockets' deprecated
# ``websockets.legacy`` API) warns three times: uvicorn's deprecation of it and websockets'
# deprecation of ``websockets.legacy`` when the module is imported (inside
# ``server.serve()``), and "remove second argument of ws_handler" per connection. Under
# ``filterwarnings = error`` these became exceptions in the server task, which died before
# ``started``: that was the hang (the loop above waited for it). Nothing was wrong on our
# side; with exactly these warnings ignored the implementation interoperates.
_LEGACY_WARNINGS = [
    pytest.mark.filterwarnings(
        "ignore:The `websockets` implementation is deprecated"
        ":uvicorn.config.UvicornDeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:remove second argument of ws_handler:DeprecationWarning"),
]


@pytest.mark.parametrize(
    "implementation",
    ["wsproto", "websockets-sansio", pytest.param("websockets", marks=_LEGACY_WARNINGS)],
)
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
