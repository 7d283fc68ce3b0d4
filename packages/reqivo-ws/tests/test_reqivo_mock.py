"""WebSockets under ``reqivo_async.testing.ReqivoMock``: their handshakes are routed.

``AsyncWebSocket`` builds its own session; the blocking ``WebSocket`` given a ``Session``
builds one with ``Session.new_async_session()``: both get the mock as their transport.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from websockets.sync.server import ServerConnection, serve

from reqivo_async import TransportError
from reqivo_async.testing import ReqivoMock
from reqivo_sync import Session
from reqivo_ws import AsyncWebSocket, WebSocket

from .conftest import ws_server


def _echo(conn: ServerConnection) -> None:
    for message in conn:
        conn.send(message)


@pytest.fixture
def sync_url() -> Iterator[str]:
    """A websockets echo server in a thread (for the blocking client)."""
    with serve(_echo, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        server.shutdown()
        thread.join()


async def test_a_pass_through_route_reaches_a_real_websocket_server() -> None:
    async with ws_server() as url:
        handshake_url = url.replace("ws://", "http://")
        with ReqivoMock() as mock:
            route = mock.add_pass_through(method="GET", url=re.compile(re.escape(handshake_url)))
            async with AsyncWebSocket(url) as ws:
                await ws.send("hi")
                assert await ws.recv() == "hi"
        assert route.call_count == 1


async def test_an_unrouted_handshake_fails() -> None:
    async with ws_server() as url:
        with ReqivoMock() as mock:
            with pytest.raises(TransportError, match=r"no route matches GET http://127\.0\.0\.1"):
                await AsyncWebSocket(url).__aenter__()
            assert len(mock.unmatched) == 1
            mock.unmatched.clear()


def test_the_blocking_websocket_of_a_session_is_routed(sync_url: str) -> None:
    handshake_url = re.compile(re.escape(sync_url.replace("ws://", "http://")))
    with ReqivoMock() as mock, Session() as session:
        with pytest.raises(TransportError, match="no route matches GET"):
            WebSocket(sync_url, session=session).connect()
        mock.unmatched.clear()
        route = mock.add_pass_through(url=handshake_url)
        with WebSocket(sync_url, session=session) as ws:
            ws.send("hi")
            assert ws.recv() == "hi"
    assert route.call_count == 1
