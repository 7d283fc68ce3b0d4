"""Auto-reconnect in both modes: when it happens, its attempts and callback, what happens
to messages sent and unread while disconnected, giving up."""

from __future__ import annotations

import pytest
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers as WsHeaders
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from reqivo_ws import ConnectionClosedError, ConnectionClosedOK, Reconnect

from .conftest import Connect, Idle
from .servers import Servers, echo

FAST = Reconnect(initial_delay=0.01, max_attempts=3, jitter=0.0)


def test_reconnect_after_an_abnormal_close(connect: Connect, servers: Servers, idle: Idle) -> None:
    connections: list[int] = []

    async def flaky(conn: ServerConnection) -> None:
        connections.append(len(connections) + 1)
        if len(connections) == 1:
            await conn.send("first")
            conn.transport.abort()  # no close frame: 1006
            return
        await echo(conn)

    reconnected: list[int] = []
    ws = connect(
        servers.websockets(flaky),
        reconnect=FAST,
        on_reconnect=lambda sock: reconnected.append(sock.reconnects),
    )
    assert ws.recv() == "first"
    idle.until(lambda: ws.closed)  # the first connection is gone (1006)...
    assert ws.close_code == 1006 and ws.reconnects == 0
    ws.send("second")  # ...so this waits for the new connection, then goes out there
    assert ws.recv() == "second"
    assert reconnected == [1] and connections == [1, 2]
    assert ws.reconnects == 1 and not ws.closed
    ws.close()
    with pytest.raises(ConnectionClosedOK):
        ws.recv()  # closed by us: no reconnect
    assert connections == [1, 2]


def test_messages_unread_on_the_old_connection_come_first(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    connections: list[int] = []

    async def flaky(conn: ServerConnection) -> None:
        connections.append(len(connections) + 1)
        if len(connections) == 1:
            await conn.send("a")
            await conn.send("b")
            await conn.close(1012, "restarting")  # service restart: transient
            return
        await echo(conn)

    # The server waits close_timeout for our answer, which waits until "a" and "b" are
    # read (they come before the close): then it drops the connection.
    ws = connect(servers.websockets(flaky, close_timeout=0.1), reconnect=FAST)
    idle.until(lambda: ws.closed)
    assert ws.close_code == 1012
    ws.send("c")  # reconnects first; "a" and "b" stay queued for us
    assert [ws.recv(timeout=5) for _ in range(3)] == ["a", "b", "c"]
    assert ws.reconnects == 1


def test_reconnect_retries_a_refused_handshake(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    handshakes: list[str] = []

    def refuse_twice(conn: ServerConnection, request: WsRequest) -> WsResponse | None:
        handshakes.append(request.path)
        if 2 <= len(handshakes) <= 3:  # the first reconnection attempts are refused
            headers = WsHeaders([("Content-Length", "0")])
            return WsResponse(503, "Service Unavailable", headers, b"")
        return None

    async def handler(conn: ServerConnection) -> None:
        if len(handshakes) == 1:
            await conn.close(1013, "try again later")
            return
        await echo(conn)

    calls: list[int] = []
    ws = connect(
        servers.websockets(handler, process_request=refuse_twice),
        reconnect=Reconnect(initial_delay=0.01, max_attempts=5, jitter=0.0),
        on_reconnect=lambda sock: calls.append(sock.reconnects),
    )
    idle.until(lambda: ws.closed)
    assert ws.close_code == 1013 and handshakes == ["/"]
    ws.send("again")
    assert ws.recv(timeout=5) == "again"
    assert len(handshakes) == 4  # the first, two refused attempts, the one that worked
    assert ws.reconnects == 1 and calls == [1]


def test_a_normal_close_is_not_reconnected(connect: Connect, servers: Servers) -> None:
    ws = connect(servers.websockets(), reconnect=FAST)
    ws.send("close:1000")
    with pytest.raises(ConnectionClosedOK):
        ws.recv()
    with pytest.raises(ConnectionClosedOK):
        ws.send("late")
    assert ws.reconnects == 0


def test_reconnect_gives_up(connect: Connect, servers: Servers) -> None:
    url = servers.websockets(close_timeout=0.2)
    ws = connect(url, reconnect=Reconnect(initial_delay=0.0, max_attempts=2, jitter=0.0))
    servers.stop(url)  # going away (1001), and nothing listens any more
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv(timeout=5)
    assert info.value.code == 1001
    assert "reconnecting failed after 2 attempts" in info.value.reason
    assert ws.reconnects == 0
    with pytest.raises(ConnectionClosedError):
        ws.send("x")  # no more attempts
