"""Closing in both modes: codes and reasons, the two ConnectionClosed kinds, timeouts,
keepalive."""

from __future__ import annotations

import time

import pytest
from aiohttp import WSMsgType, web
from websockets.asyncio.server import ServerConnection

from reqivo_ws import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    LocalProtocolError,
)

from .conftest import Connect, Idle
from .servers import Servers, echo


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1000, ConnectionClosedOK),
        (1001, ConnectionClosedOK),
        (1011, ConnectionClosedError),
        (4000, ConnectionClosedError),
    ],
)
def test_server_close_codes(
    connect: Connect, servers: Servers, code: int, expected: type[ConnectionClosed]
) -> None:
    ws = connect(servers.websockets())
    ws.send(f"close:{code}")
    with pytest.raises(ConnectionClosed) as info:
        ws.recv()
    assert type(info.value) is expected
    assert (info.value.code, info.value.reason) == (code, "asked to")
    assert ws.closed and (ws.close_code, ws.close_reason) == (code, "asked to")
    if expected is ConnectionClosedOK:
        assert list(ws) == []
    else:
        with pytest.raises(ConnectionClosedError):
            list(ws)
    with pytest.raises(expected):
        ws.send("late")


def test_aiohttp_server_closes_with_a_code(connect: Connect, servers: Servers) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        conn = web.WebSocketResponse()
        await conn.prepare(request)
        async for msg in conn:
            if msg.type is WSMsgType.TEXT:
                await conn.close(code=4002, message=b"bye")
        return conn

    ws = connect(servers.aiohttp(handler))
    ws.send("close")
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv()
    assert (info.value.code, info.value.reason) == (4002, "bye")


def test_client_close_with_a_code_and_a_reason(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    seen: list[tuple[int | None, str | None]] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.wait_closed()
        seen.append((conn.close_code, conn.close_reason))

    ws = connect(servers.websockets(handler))
    with pytest.raises(LocalProtocolError):
        ws.close(1005)  # a code that may not be sent: the connection stays open
    with pytest.raises(LocalProtocolError):
        ws.close(1000, "x" * 124)  # the reason does not fit a control frame
    assert not ws.closed
    ws.send("still")
    assert ws.ping() >= 0
    ws.close(4001, "done")
    ws.close()  # idempotent: the first close stands
    assert ws.closed and (ws.close_code, ws.close_reason) == (4001, "done")
    with pytest.raises(ConnectionClosed) as info:
        ws.send("x")
    assert info.value.code == 4001
    idle.until(lambda: seen)
    assert seen == [(4001, "done")]


def test_close_answers_a_close_waiting_behind_unread_messages(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    took: list[float] = []
    answered: list[int | None] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.send("unread")
        started = time.monotonic()
        await conn.close(1001, "bye")  # waits for our answer (at most close_timeout: 1 s)
        took.append(time.monotonic() - started)
        received = conn.protocol.close_rcvd  # our answer, a close frame echoing the code
        answered.append(None if received is None else received.code)

    ws = connect(servers.websockets(handler))
    idle(0.2)  # the message and the close frame are in; the answer waits for a read
    assert not ws.closed
    ws.close()  # the application is done: the answer goes out now
    assert (ws.close_code, ws.close_reason) == (1001, "bye")
    idle.until(lambda: took)
    assert took[0] < 0.9 and answered == [1001]  # answered, not timed out nor dropped
    with pytest.raises(ConnectionClosedOK):
        ws.recv()  # unread messages are dropped by close()


def test_the_connection_dropping_is_1006(connect: Connect, servers: Servers) -> None:
    async def handler(conn: ServerConnection) -> None:
        await conn.send("last words")
        conn.transport.abort()  # no close frame

    ws = connect(servers.websockets(handler))
    assert ws.recv() == "last words"  # messages that arrived first are still delivered
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv()
    assert info.value.code == 1006
    assert ws.closed and ws.close_code == 1006


def test_close_timeout_when_the_server_never_answers(connect: Connect, servers: Servers) -> None:
    async def handler(conn: ServerConnection) -> None:
        conn.transport.pause_reading()  # never sees our close frame
        await conn.wait_closed()

    ws = connect(servers.websockets(handler, close_timeout=0.2), close_timeout=0.2)
    started = time.monotonic()
    ws.close()
    assert 0.15 < time.monotonic() - started < 2.0
    assert ws.closed and ws.close_code == 1006


def test_keepalive_pings_keep_an_idle_connection(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    ws = connect(servers.websockets(), ping_interval=0.02, ping_timeout=0.5)
    idle(0.2)
    ws.send("alive")
    assert ws.recv() == "alive"
    assert not ws.closed


def test_keepalive_timeout_closes_with_1011(connect: Connect, servers: Servers) -> None:
    async def handler(conn: ServerConnection) -> None:
        conn.transport.pause_reading()  # the network goes silent: our pings get no pong
        await conn.wait_closed()

    url = servers.websockets(handler, close_timeout=0.2)
    ws = connect(url, ping_interval=0.05, ping_timeout=0.1, close_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv(timeout=5)
    assert 0.1 < time.monotonic() - started < 3.0
    assert info.value.code == 1011 and "keepalive" in info.value.reason


def test_keepalive_waits_while_reading_is_paused(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    async def flood(conn: ServerConnection) -> None:
        for index in range(40):
            await conn.send(f"{index:03}" + "x" * 4000)
        await echo(conn)

    # Our queue fills at once: reading pauses, so the pongs wait in the socket behind
    # the messages. The keepalive must not take that for a dead connection.
    ws = connect(
        servers.websockets(flood, compression=None),
        max_queue=1,
        ping_interval=0.03,
        ping_timeout=0.05,
        compression=None,
    )
    idle(0.4)
    assert not ws.closed
    received = [ws.recv(timeout=5) for _ in range(40)]
    assert [str(message)[:3] for message in received] == [f"{i:03}" for i in range(40)]
    idle(0.2)  # pings and pongs flow again
    ws.send("alive")
    assert ws.recv(timeout=5) == "alive"
