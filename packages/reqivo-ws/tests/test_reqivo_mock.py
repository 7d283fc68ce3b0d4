"""``AsyncWebSocket`` under ``reqivo_async.testing.ReqivoMock``: its own session is routed."""

from __future__ import annotations

import re

import pytest

from reqivo_async import TransportError
from reqivo_async.testing import ReqivoMock
from reqivo_ws import AsyncWebSocket

from .conftest import ws_server


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
