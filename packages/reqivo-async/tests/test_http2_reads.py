"""How HTTP/2 connections read: a buffered protocol (the transport, or asyncio's TLS
layer, reads into the connection's one buffer), so a download makes one body chunk per
read and nothing else; bytes handed over by ``data_received`` are taken as well. Read
timeouts share one timer, moved lazily (it must still fire at each deadline). A connection
idle for ``PING_AFTER_IDLE`` is PINGed before its next request, and replaced if it does not
answer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hyperframe.frame import PingFrame

from reqivo_async import AsyncSession, Timeout
from reqivo_async._http2 import PING_AFTER_IDLE, HTTP2Protocol
from reqivo_protocol import ReadTimeout
from reqivo_protocol.http2 import DataFrame, GoAwayFrame
from servers.fixtures import H2RawServerFactory
from servers.h2raw import (
    Close,
    H2Step,
    Handshake,
    ReadFrame,
    ReadRequest,
    Respond,
    SendHeaders,
    Stall,
)
from servers.models import Server, TLSServer
from servers.nginx import file_bytes


async def _download(session: AsyncSession, url: str) -> tuple[int, int, bool]:
    chunks = received = 0
    async with session.stream("GET", url) as response:
        assert response.http_version == "HTTP/2"
        async for chunk in response.aiter_bytes():
            assert type(chunk) is bytes
            chunks += 1
            received += len(chunk)
    pool: Any = session._transport
    (connections,) = pool._h2.values()
    protocol = connections[0]._http.protocol
    return received, chunks, isinstance(protocol, asyncio.BufferedProtocol)


async def test_download_over_tls(nginx_h2_server: TLSServer) -> None:
    async with AsyncSession(http2=True, verify=nginx_h2_server.ca_bundle) as session:
        received, chunks, buffered = await _download(session, nginx_h2_server.url + "/64m")
        body = await session.get(nginx_h2_server.url + "/1m")
    assert received == 64 * 1024 * 1024 and buffered
    assert chunks < received // 16384  # DATA frames received together are one chunk
    assert body.content == file_bytes(1024 * 1024)


async def test_download_over_h2c(nginx_h2c_server: Server) -> None:
    async with AsyncSession(http1=False, http2=True) as session:
        received, _, buffered = await _download(session, nginx_h2c_server.url + "/64m")
        body = await session.get(nginx_h2c_server.url + "/1m")
    assert received == 64 * 1024 * 1024 and buffered
    assert body.content == file_bytes(1024 * 1024)


async def test_bytes_from_data_received_are_taken(nginx_h2c_server: Server) -> None:
    async with AsyncSession(http1=False, http2=True) as session:
        await session.get(nginx_h2c_server.url + "/1k")
        pool: Any = session._transport
        (connections,) = pool._h2.values()
        http = connections[0]._http
        protocol: HTTP2Protocol = http.protocol
        protocol.data_received(GoAwayFrame(0, 0).serialize())
        assert http.goaway
        response = await session.get(nginx_h2c_server.url + "/1k")  # on a new connection
    assert response.content == file_bytes(1024)


async def test_each_stream_times_out_at_its_own_deadline(hypercorn_h2_server: TLSServer) -> None:
    async def timed(path: str, read: float) -> tuple[str, float]:
        started = time.monotonic()
        try:
            response = await session.get(path, timeout=Timeout(5, read=read))
        except ReadTimeout:
            return "timeout", time.monotonic() - started
        assert response.status_code == 200
        return "ok", time.monotonic() - started

    async with AsyncSession(
        http2=True, verify=hypercorn_h2_server.ca_bundle, base_url=hypercorn_h2_server.url
    ) as session:
        await session.get("/echo")
        # The long timeout sets the timer first; the short one must move it earlier.
        results = await asyncio.gather(
            timed("/delay/3", 1.2), timed("/delay/3", 0.2), timed("/delay/0.1", 2.0)
        )
        again = await timed("/delay/3", 0.3)  # the timer is set again after it fired
    (long_, long_took), (short, short_took), (fine, _) = results
    assert (long_, short, fine, again[0]) == ("timeout", "timeout", "ok", "timeout")
    assert 0.2 <= short_took < 1.0 and 1.2 <= long_took < 2.5 and 0.3 <= again[1] < 2.0


# -- a PING before reusing an idle connection -------------------------------------------------


def _h2(session: AsyncSession) -> Any:
    """The pool's one HTTP/2 connection."""
    pool: Any = session._transport
    (connections,) = pool._h2.values()
    (connection,) = connections
    return connection._http


def _idle(session: AsyncSession) -> Any:
    """The pool's one HTTP/2 connection, made to look idle for longer than the limit."""
    http = _h2(session)
    http.idle_since -= PING_AFTER_IDLE + 1
    return http


async def test_an_idle_connection_that_answers_a_ping_is_reused(
    h2_raw_server: H2RawServerFactory,
) -> None:
    answer: list[H2Step] = [ReadRequest(), Respond(body=b"ok")]
    server = h2_raw_server([Handshake(), *answer * 3])
    async with AsyncSession(http1=False, http2=True, base_url=server.url) as session:
        await session.get("/a")
        _idle(session)
        results = await asyncio.gather(session.get("/b"), session.get("/c"))  # one PING
    assert [r.content for r in results] == [b"ok", b"ok"]
    assert server.connections == 1
    pings = [f for _, f in server.frames if isinstance(f, PingFrame)]
    assert len(pings) == 1 and "ACK" not in pings[0].flags


async def test_an_idle_connection_that_does_not_answer_is_replaced(
    h2_raw_server: H2RawServerFactory,
) -> None:
    silent: list[H2Step] = [
        Handshake(auto_ping_ack=False),
        ReadRequest(),
        Respond(body=b"one"),
        Stall(),
    ]
    server = h2_raw_server(silent, [Handshake(), ReadRequest(), Respond(body=b"two")])
    async with AsyncSession(http1=False, http2=True, base_url=server.url) as session:
        await session.get("/a")
        http = _idle(session)
        started = time.monotonic()
        response = await session.get("/b", timeout=Timeout(5, read=0.3))
        took = time.monotonic() - started
    assert response.content == b"two" and http.closed
    assert server.connections == 2 and 0.3 <= took < 3
    assert [r.path for r in server.h2_requests] == ["/a", "/b"]


async def test_a_connection_lost_during_the_ping_is_replaced(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [Handshake(auto_ping_ack=False), ReadRequest(), Respond(body=b"one"), ReadFrame(PingFrame),
         Close()],
        [Handshake(), ReadRequest(), Respond(body=b"two")],
    )  # fmt: skip
    async with AsyncSession(http1=False, http2=True, base_url=server.url) as session:
        await session.get("/a")
        _idle(session)
        response = await session.get("/b")
    assert response.content == b"two" and server.connections == 2


async def test_small_chunks_are_joined_large_ones_come_alone(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [Handshake(), ReadRequest(), SendHeaders(((":status", "200"),)), Stall()]
    )
    big = [DataFrame(1, b"r" * 16384) for _ in range(6)]  # a run: one chunk of 96 KiB
    reads = [
        [DataFrame(1, b"a" * 1000, padding=3), DataFrame(1, b"b" * 1000, padding=3)],
        big,
        [DataFrame(1, b"c" * 10, padding=3, end_stream=True)],
    ]
    async with AsyncSession(http1=False, http2=True, base_url=server.url) as session:
        async with session.stream("GET", "/") as response:
            http = _h2(session)
            for frames in reads:  # as three reads of the socket would bring them
                http.receive(b"".join(frame.serialize() for frame in frames))
            chunks = [chunk async for chunk in response.aiter_bytes()]
    assert chunks == [b"a" * 1000 + b"b" * 1000, b"r" * 16384 * 6, b"c" * 10]
