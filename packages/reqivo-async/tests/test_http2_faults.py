"""HTTP/2 edge cases: nghttpd's options (tiny windows, one stream at a time, padding,
trailers, no HPACK table, push offers) and a scripted peer (GOAWAY, RST_STREAM,
CONTINUATION, stalls)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hyperframe.frame import PingFrame, RstStreamFrame

from reqivo_async import AsyncSession, Limits, Timeout
from reqivo_protocol import ReadError, ReadTimeout, RemoteProtocolError
from servers.fixtures import H2RawServerFactory, NghttpdFactory
from servers.h2raw import (
    CANCEL,
    Close,
    GoAway,
    Handshake,
    Ping,
    ReadFrame,
    ReadRequest,
    Repeat,
    Respond,
    RstStream,
    Sleep,
)
from servers.models import Server, TLSServer
from servers.nginx import TRAILERS, file_bytes

INTERNAL_ERROR = 0x2


def tls_session(server: Server, **options: Any) -> AsyncSession:
    assert isinstance(server, TLSServer)
    return AsyncSession(http2=True, verify=server.ca_bundle, base_url=server.url, **options)


def h2c_session(server: Any, **options: Any) -> AsyncSession:
    return AsyncSession(http1=False, http2=True, base_url=server.url, **options)


# -- nghttpd ------------------------------------------------------------------------------


async def test_one_stream_at_a_time_queues_on_one_connection(
    nghttpd_server: NghttpdFactory,
) -> None:
    server = nghttpd_server(max_concurrent_streams=1)
    async with tls_session(server) as session:
        responses = await asyncio.gather(*[session.get("/1k") for _ in range(20)])
        connections = session._transport.connections  # type: ignore[attr-defined]
    assert all(r.content == file_bytes(1024) for r in responses)
    assert [c.requests for c in connections] == [20]


async def test_a_second_connection_when_limits_allow(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(max_concurrent_streams=1)
    limits = Limits(http2_max_connections_per_host=2)
    async with tls_session(server, limits=limits) as session:
        await session.get("/1k")  # the server's SETTINGS are known from here on
        responses = await asyncio.gather(*[session.get("/1k") for _ in range(10)])
        connections = session._transport.connections  # type: ignore[attr-defined]
    assert {r.status_code for r in responses} == {200}
    assert len(connections) == 2
    assert sum(c.requests for c in connections) == 11


async def test_upload_through_tiny_windows(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(window_bits=10, connection_window_bits=12, echo_upload=True)
    body = bytes(range(256)) * 400  # 100 KiB through 1 KiB stream windows
    async with tls_session(server) as session:
        response = await session.post("/1k", content=body)
    assert response.status_code == 200
    assert response.content == body


async def test_padding_and_large_download(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(tls=False, padding=32)
    async with h2c_session(server) as session:
        response = await session.get("/1m")
    assert response.http_version == "HTTP/2"
    assert response.content == file_bytes(1024 * 1024)


async def test_trailers_on_the_response(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(trailers=(("x-checksum", "abc"),))
    async with tls_session(server) as session:
        response = await session.get("/1k")
        async with session.stream("GET", "/1k") as streamed:
            assert "trailers" not in streamed.extensions
            await streamed.aread()
    assert response.extensions["trailers"]["x-checksum"] == "abc"
    assert streamed.extensions["trailers"]["x-checksum"] == "abc"


async def test_header_table_size_zero(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(header_table_size=0)
    async with tls_session(server) as session:
        for _ in range(3):
            response = await session.get("/1k", headers={"X-Same": "value" * 10})
            assert response.content == file_bytes(1024)


async def test_push_is_never_received(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(push=(("/1k", ("/push.txt",)),))
    async with tls_session(server) as session:
        responses = [await session.get("/1k") for _ in range(3)]
    assert all(r.content == file_bytes(1024) for r in responses)


async def test_nginx_trailers(nginx_h2_server: TLSServer) -> None:
    async with tls_session(nginx_h2_server) as session:
        response = await session.get("/trailers")
    assert response.http_version == "HTTP/2"
    assert list(response.extensions["trailers"].items()) == list(TRAILERS)


# -- the scripted peer ----------------------------------------------------------------------

SERVE_ON = Repeat((ReadRequest(), Respond(body=b"again")))


async def test_goaway_resends_unprocessed_streams_on_a_new_connection(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [Handshake(), ReadRequest(2), Respond(body=b"first", stream_id=1), GoAway(1), Sleep(1)],
        [Handshake(), SERVE_ON],
    )
    async with h2c_session(server) as session:
        responses = await asyncio.gather(session.post("/a", content=b"x"), session.get("/b"))
        later = await session.get("/c")
    assert [r.content for r in responses] == [b"first", b"again"]
    assert later.content == b"again"
    assert server.connections == 2
    assert [r.path for r in server.h2_requests] == ["/a", "/b", "/b", "/c"]


async def test_rst_stream_fails_that_request_alone(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [
            Handshake(),
            ReadRequest(2),
            RstStream(stream_id=1, error_code=INTERNAL_ERROR),
            Respond(body=b"second", stream_id=3),
            SERVE_ON,
        ]
    )
    async with h2c_session(server) as session:
        results = await asyncio.gather(session.get("/a"), session.get("/b"), return_exceptions=True)
        later = await session.get("/c")
    assert isinstance(results[0], RemoteProtocolError)
    assert "INTERNAL_ERROR" in str(results[0])
    assert results[1].content == b"second"  # type: ignore[union-attr]
    assert later.content == b"again"
    assert server.connections == 1


async def test_continuation_frames(h2_raw_server: H2RawServerFactory) -> None:
    big = "v" * 20000
    server = h2_raw_server(
        [
            Handshake(),
            ReadRequest(),
            Respond(headers=(("x-big", big),), body=b"ok", continuation=1000),
            SERVE_ON,  # read on until our EOF: closing with unread bytes would reset
        ]
    )
    async with h2c_session(server) as session:
        response = await session.get("/")
    assert response.headers["x-big"] == big
    assert response.content == b"ok"


async def test_stalled_stream_times_out_and_is_reset_alone(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), ReadFrame(RstStreamFrame), SERVE_ON])
    async with h2c_session(server) as session:
        with pytest.raises(ReadTimeout):
            await session.get("/stalled", timeout=Timeout(5, read=0.2))
        later = await session.get("/after")
    assert later.content == b"again"
    assert server.connections == 1
    assert server.h2_requests[0].reset == CANCEL


async def test_closing_a_stream_early_resets_it(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"x" * 100_000), SERVE_ON])
    async with h2c_session(server) as session:
        async with session.stream("GET", "/big") as response:
            await response.aiter_bytes().__anext__()
        later = await session.get("/after")
    assert later.content == b"again"
    assert server.connections == 1


async def test_connection_loss_fails_each_stream_with_its_own_error(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(2), Close()])
    async with h2c_session(server) as session:
        results = await asyncio.gather(session.get("/a"), session.get("/b"), return_exceptions=True)
    first, second = results
    assert isinstance(first, ReadError) and isinstance(second, ReadError)
    assert first is not second
    assert {first.request.url.path, second.request.url.path} == {"/a", "/b"}


async def test_pings_from_the_server_are_answered_mid_response(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [
            Handshake(),
            ReadRequest(),
            Ping(b"12345678"),
            ReadFrame(PingFrame),
            Respond(body=b"pong"),
            SERVE_ON,
        ]
    )
    async with h2c_session(server) as session:
        response = await session.get("/")
    assert response.content == b"pong"
    acks = [f for f in server.frames_of(PingFrame) if isinstance(f, PingFrame) and "ACK" in f.flags]
    assert [f.opaque_data for f in acks] == [b"12345678"]
