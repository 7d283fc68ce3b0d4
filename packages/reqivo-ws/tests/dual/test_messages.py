"""Messages in both modes: echo, fragments, iteration, timeouts, size limits, ping/pong."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator

import pytest
from aiohttp import WSMsgType, web
from websockets.asyncio.server import ServerConnection

from reqivo_ws import (
    ConnectionClosedError,
    ConnectionClosedOK,
    LocalProtocolError,
    ReadTimeout,
)

from .conftest import Connect, Idle
from .servers import Servers, frame, read_handshake, switching_protocols


def test_echo_text_bytes_and_iteration_to_a_normal_close(
    connect: Connect, servers: Servers
) -> None:
    ws = connect(servers.websockets())
    assert ws.response.status_code == 101 and ws.subprotocol is None
    assert ws.get_extra_info("peername")[0] == "127.0.0.1"
    ws.send("héllo")
    assert ws.recv() == "héllo"
    ws.send(b"\x00\x01")
    assert ws.recv() == b"\x00\x01"
    ws.send(bytearray(b"ba"))
    assert ws.recv() == b"ba"
    ws.send(memoryview(b"mv"))
    assert ws.recv() == b"mv"
    ws.send("a")
    ws.send(b"b")
    ws.send("close:1000")
    assert list(ws) == ["a", b"b"]  # the iteration ends quietly on the normal close
    assert ws.closed and ws.close_code == 1000 and ws.close_reason == "asked to"
    with pytest.raises(ConnectionClosedOK):
        ws.recv()
    with pytest.raises(ConnectionClosedOK):
        ws.send("late")
    assert list(ws) == []


def test_large_messages(connect: Connect, servers: Servers) -> None:
    big = os.urandom(3 * 2**20)
    ws = connect(servers.websockets(), max_message_size=None)
    ws.send(big)
    assert ws.recv() == big
    text = "é" * 2**20  # 2 MiB of UTF-8, compressed on the way
    ws.send(text)
    assert ws.recv() == text


def test_fragmented_send_from_an_iterable(connect: Connect, servers: Servers) -> None:
    ws = connect(servers.websockets(), compression=None)

    def parts() -> Iterator[str]:
        yield from ("frag", "men", "ted")

    ws.send(parts())
    assert ws.recv() == "fragmented"
    ws.send([b"x", bytearray(b"y"), b"z"])
    assert ws.recv() == b"xyz"
    ws.send(["one"])  # a single item: one final frame
    assert ws.recv() == "one"
    ws.send([])  # nothing to send
    with pytest.raises(TypeError):
        ws.send([1])
    with pytest.raises(TypeError):
        ws.send({"a": 1})
    with pytest.raises(LocalProtocolError, match="Unicode"):
        ws.send("\ud800")  # a lone surrogate cannot be sent as text; nothing went out
    ws.send("still open")
    assert ws.recv() == "still open"
    with pytest.raises(LocalProtocolError, match="all be str or all bytes"):
        ws.send(["text", b"bytes"])  # the first fragment went out: the message is broken
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv()
    assert info.value.code == 1011


def test_fragment_source_failing_midway_fails_the_connection(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    closed: list[int | None] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.wait_closed()
        closed.append(conn.close_code)

    def broken() -> Iterator[bytes]:
        yield b"1"
        yield b"2"
        raise ValueError("source broke")

    ws = connect(servers.websockets(handler), compression=None)
    with pytest.raises(ValueError, match="source broke"):
        ws.send(broken())
    with pytest.raises(ConnectionClosedError) as info:
        ws.send(b"x")
    assert info.value.code == 1011
    ws.close()
    assert ws.close_code == 1011
    idle.until(lambda: closed)
    assert closed == [1011]


def test_recv_timeout(connect: Connect, servers: Servers) -> None:
    async def silent(conn: ServerConnection) -> None:
        async for message in conn:
            if message != "silent":
                await conn.send(message)

    ws = connect(servers.websockets(silent))
    ws.send("silent")
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        ws.recv(timeout=0.05)
    assert time.monotonic() - started < 1.0
    with pytest.raises(TimeoutError):  # ReadTimeout is also a TimeoutError
        ws.recv(timeout=0)
    ws.send("still fine")
    assert ws.recv(timeout=5) == "still fine"


def test_message_too_big_closes_with_1009(connect: Connect, servers: Servers, idle: Idle) -> None:
    seen: list[int | None] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.send(b"x" * 999)
        await conn.send(b"x" * 2000)
        await conn.wait_closed()
        seen.append(conn.close_code)

    ws = connect(servers.websockets(handler), max_message_size=1000)
    assert ws.recv() == b"x" * 999
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv()
    assert info.value.code == 1009
    assert "max_message_size" in str(info.value.__cause__)
    idle.until(lambda: seen)
    assert seen == [1009]


def test_messages_before_a_close_are_delivered_and_answerable(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    received: list[object] = []

    async def handler(conn: ServerConnection) -> None:
        await conn.send("one")
        await conn.send("two")
        await conn.close(1001, "bye")
        received.append(conn.close_code)

    ws = connect(servers.websockets(handler))
    idle(0.1)
    assert ws.recv() == "one"
    ws.send("echo")  # allowed: our close answer waits until we read on
    assert ws.recv() == "two"
    with pytest.raises(ConnectionClosedOK) as info:
        ws.recv()
    assert (info.value.code, info.value.reason) == (1001, "bye")
    idle.until(lambda: received)
    assert received == [1001]


def test_a_message_and_the_end_in_the_same_packet_as_the_101(
    connect: Connect, servers: Servers
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        key = await read_handshake(reader)
        writer.write(switching_protocols(key) + frame(0x1, b"hi") + frame(0x2, b"\x00"))
        await writer.drain()  # then the connection ends, without a close frame

    ws = connect(servers.tcp(handler), compression=None)
    assert ws.recv(timeout=5) == "hi"
    assert ws.recv(timeout=5) == b"\x00"
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv(timeout=5)
    assert info.value.code == 1006


def test_ping_pong(connect: Connect, servers: Servers) -> None:
    async def handler(conn: ServerConnection) -> None:
        async for message in conn:
            if message == "ping me":
                rtt = await (await conn.ping(b"srv"))
                await conn.send(f"pong after {rtt >= 0}")
            else:
                await conn.send(message)

    ws = connect(servers.websockets(handler))
    assert 0 <= ws.ping() < 5.0
    assert ws.ping(b"abc") >= 0
    assert ws.ping("text") >= 0
    ws.pong("unsolicited")  # a one-way heartbeat: no answer expected
    ws.pong(b"")
    ws.send("ping me")  # the server pings us: we answer on our own
    assert ws.recv(timeout=5) == "pong after True"
    with pytest.raises(LocalProtocolError):
        ws.ping(b"x" * 126)  # a control frame's payload is at most 125 bytes
    with pytest.raises(LocalProtocolError):
        ws.pong(b"x" * 126)
    ws.send("after")
    assert ws.recv() == "after"
    ws.close()
    with pytest.raises(ConnectionClosedOK):
        ws.ping()
    with pytest.raises(ConnectionClosedOK):
        ws.pong()


def test_a_pending_ping_fails_when_the_connection_drops(connect: Connect, servers: Servers) -> None:
    async def handler(conn: ServerConnection) -> None:
        conn.transport.pause_reading()  # never reads our ping, so never answers it
        await asyncio.sleep(0.2)
        conn.transport.abort()

    ws = connect(servers.websockets(handler, ping_interval=None), ping_interval=None)
    with pytest.raises(ConnectionClosedError) as info:
        ws.ping()
    assert info.value.code == 1006
    assert ws.closed and ws.close_code == 1006


@pytest.mark.parametrize("compression", ["deflate", None])
def test_aiohttp_server(connect: Connect, servers: Servers, compression: str | None) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        conn = web.WebSocketResponse(max_msg_size=0)
        await conn.prepare(request)
        async for msg in conn:
            if msg.type is WSMsgType.TEXT:
                await conn.send_str(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await conn.send_bytes(msg.data)
        return conn

    ws = connect(servers.aiohttp(handler), compression=compression)
    assert (ws.compression is not None) == (compression is not None)
    ws.send("text")
    assert ws.recv() == "text"
    ws.send(b"\x00" * 300_000)
    assert ws.recv() == b"\x00" * 300_000
    ws.send(["frag", "mented"])
    assert ws.recv() == "fragmented"
    assert ws.ping() >= 0


@pytest.mark.sync_only
def test_threads_send_concurrently(connect: Connect, servers: Servers) -> None:
    threads_count, per_thread, size = 8, 40, 20_000
    ws = connect(servers.websockets(), compression=None, max_queue=None)
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def sender(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                head = f"{n}:{i}:"
                ws.send(head + chr(ord("a") + n) * (size - len(head)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    received = [ws.recv(timeout=10.0) for _ in range(threads_count * per_thread)]
    for thread in threads:
        thread.join()
    assert not errors
    seen: dict[int, list[int]] = {n: [] for n in range(threads_count)}
    for message in received:
        assert isinstance(message, str) and len(message) == size
        n, i, body = message.split(":")
        assert body == chr(ord("a") + int(n)) * len(body)  # never interleaved
        seen[int(n)].append(int(i))
    assert all(indexes == list(range(per_thread)) for indexes in seen.values())


def test_a_message_read_just_before_a_failure_is_answered_first(
    connect: Connect, servers: Servers, idle: Idle
) -> None:
    # Autobahn 3.x/4.x: a message, then an invalid frame. An echo client answers the
    # message before our close frame (1002) goes out, even when it answers slowly (the
    # blocking twin's loop thread sees the bad frame while the caller still holds it).
    seen: list[tuple[int, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        key = await read_handshake(reader)
        writer.write(switching_protocols(key) + frame(0x1, b"first"))
        await writer.drain()
        await asyncio.sleep(0.1)  # the client has read it by now
        writer.write(frame(0x3, b""))  # reserved opcode
        await writer.drain()
        while len(seen) < 2:
            head = await reader.readexactly(2)
            mask = await reader.readexactly(4)
            data = await reader.readexactly(head[1] & 0x7F)
            seen.append((head[0] & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))))

    ws = connect(servers.tcp(handler), compression=None)
    message = ws.recv(timeout=5)
    idle(0.3)  # the invalid frame arrives while we "work" on the message
    ws.send(message)
    with pytest.raises(ConnectionClosedError) as info:
        ws.recv(timeout=5)
    assert info.value.code == 1002
    idle.until(lambda: len(seen) == 2)
    assert seen == [(0x1, b"first"), (0x8, seen[1][1])]
    assert int.from_bytes(seen[1][1][:2], "big") == 1002
