"""HTTP/2 edge cases of the connection glue and the pool, against the scripted peer:
uploads meeting closed windows, resets and early answers, bodies cut short, GOAWAY
reaching requests that queue for a stream, connection errors, closing in every state."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hyperframe.frame import GoAwayFrame, HeadersFrame, RstStreamFrame

from reqivo_async import AsyncSession, Limits, Timeout
from reqivo_protocol import (
    ConnectTimeout,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    WriteError,
    WriteTimeout,
)
from servers.fixtures import H2RawServerFactory
from servers.h2raw import (
    CANCEL,
    NO_ERROR,
    Close,
    GoAway,
    H2Step,
    Handshake,
    ReadFrame,
    ReadRequest,
    ReadUntilEOF,
    Repeat,
    Respond,
    RstStream,
    Send,
    SendData,
    SendHeaders,
    Sleep,
    Stall,
    WindowUpdate,
)
from servers.models import TLSServer

INTERNAL_ERROR = 0x2
MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE = 0x3, 0x4
#: The peer's SETTINGS that give the client no room to send DATA until a WINDOW_UPDATE.
NO_WINDOW = Handshake(settings=((INITIAL_WINDOW_SIZE, 0),))
ONE_STREAM = Handshake(settings=((MAX_CONCURRENT_STREAMS, 1),))
SERVE_ON = Repeat((ReadRequest(), Respond(body=b"again")))


def h2c_session(server: Any, **options: Any) -> AsyncSession:
    return AsyncSession(http1=False, http2=True, base_url=server.url, **options)


async def chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def collect(source: AsyncIterator[bytes], into: list[bytes]) -> None:
    async for chunk in source:
        into.append(chunk)


# -- uploads --------------------------------------------------------------------------------


async def test_upload_waits_for_window_updates(h2_raw_server: H2RawServerFactory) -> None:
    # The peer opens the stream window 1000 bytes at a time (it credits what it reads).
    server = h2_raw_server(
        [NO_WINDOW, ReadFrame(HeadersFrame), WindowUpdate(1000, stream_id=1), SERVE_ON]
    )
    body = bytes(range(250)) * 20
    async with h2c_session(server) as session:
        response = await session.post("/up", content=body)
    assert response.content == b"again"
    assert bytes(server.h2_requests[0].body) == body


async def test_rst_stream_during_upload(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [
            NO_WINDOW,
            ReadFrame(HeadersFrame),
            RstStream(stream_id=1, error_code=INTERNAL_ERROR),
            SERVE_ON,
        ]
    )
    async with h2c_session(server) as session:
        with pytest.raises(RemoteProtocolError, match="INTERNAL_ERROR") as caught:
            await session.post("/up", content=b"x" * 1000)
        later = await session.get("/after")
    assert caught.value.request is not None
    assert later.content == b"again"
    assert server.connections == 1


async def test_upload_times_out_on_a_closed_window(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [NO_WINDOW, ReadFrame(HeadersFrame), ReadFrame(RstStreamFrame), SERVE_ON]
    )
    async with h2c_session(server) as session:
        with pytest.raises(WriteTimeout):
            await session.post("/up", content=b"x" * 1000, timeout=Timeout(5, write=0.1))
        later = await session.get("/after")
    assert later.content == b"again"
    assert server.h2_requests[0].reset == CANCEL


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "generator"])
async def test_an_early_answer_stops_the_upload(
    h2_raw_server: H2RawServerFactory, streamed: bool
) -> None:
    # The server answers while the upload waits for a window, then stops it with
    # RST_STREAM NO_ERROR: the response stands, the rest of the body is not sent.
    server = h2_raw_server(
        [
            NO_WINDOW,
            ReadFrame(HeadersFrame),
            Respond(status=413, body=b"too big", stream_id=1),
            RstStream(stream_id=1, error_code=NO_ERROR),
            SERVE_ON,
        ]
    )
    content: Any = chunks(b"a" * 100, b"b" * 100) if streamed else b"x" * 1000
    async with h2c_session(server) as session:
        response = await session.post("/up", content=content)
        later = await session.get("/after")
    assert response.status_code == 413
    assert response.content == b"too big"
    assert later.content == b"again"
    assert bytes(server.h2_requests[0].body) == b""


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "generator"])
async def test_an_early_answer_without_a_reset_closes_our_side(
    h2_raw_server: H2RawServerFactory, streamed: bool
) -> None:
    # The server answers while the upload waits for a window, and sends nothing more: the
    # client ends its half of the stream with RST_STREAM NO_ERROR. Left half-closed, that
    # stream would hold the server's only concurrent stream: the next request would wait.
    server = h2_raw_server(
        [
            Handshake(settings=((INITIAL_WINDOW_SIZE, 0), (MAX_CONCURRENT_STREAMS, 1))),
            ReadFrame(HeadersFrame),
            Respond(status=413, body=b"too big", stream_id=1),
            SERVE_ON,
        ]
    )
    content: Any = chunks(b"a" * 100, b"b" * 100) if streamed else b"x" * 1000
    async with h2c_session(server, timeout=Timeout(5, pool=1)) as session:
        response = await session.post("/up", content=content)
        later = await session.get("/after")
    assert response.content == b"too big"
    assert later.content == b"again"
    assert server.h2_requests[0].reset == NO_ERROR


async def test_a_refused_stream_with_a_one_shot_body_is_not_resent(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [
            Handshake(),
            ReadFrame(HeadersFrame),
            RstStream(stream_id=1, error_code=0x7),  # REFUSED_STREAM
            ReadUntilEOF(),
        ]
    )
    async with h2c_session(server) as session:
        with pytest.raises(RemoteProtocolError, match="refused"):
            await session.post("/up", content=chunks(b"one", b"shot"))
    assert server.connections == 1


# -- responses --------------------------------------------------------------------------------


async def test_trailers_from_the_scripted_peer(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [Handshake(), ReadRequest(), Respond(body=b"body", trailers=(("x-sum", "42"),)), SERVE_ON]
    )
    async with h2c_session(server) as session:
        response = await session.get("/")
    assert response.content == b"body"
    assert response.extensions["trailers"]["x-sum"] == "42"


CUT_SHORT: list[H2Step] = [
    Handshake(),
    ReadRequest(),
    SendHeaders(((":status", "200"), ("content-length", "100"))),
    SendData(b"part"),
    Close(),
]


async def test_connection_lost_mid_body_while_iterating(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(CUT_SHORT)
    async with h2c_session(server) as session:
        async with session.stream("GET", "/cut") as response:
            received: list[bytes] = []
            with pytest.raises(ReadError) as caught:
                await collect(response.aiter_bytes(), received)
            assert b"".join(received) == b"part"
    assert caught.value.request is not None
    assert caught.value.request.url.path == "/cut"


async def test_connection_lost_mid_body_while_reading_it_all(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(CUT_SHORT, [Handshake(), SERVE_ON])
    async with h2c_session(server) as session:
        with pytest.raises(ReadError):
            await session.get("/cut")
        later = await session.get("/after")
    assert later.content == b"again"
    assert server.connections == 2


async def test_closing_a_response_after_its_end(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"done"), SERVE_ON])
    async with h2c_session(server) as session:
        async with session.stream("GET", "/") as response:
            assert await response.aread() == b"done"
            assert await response.aread() == b"done"
            body: Any = response._stream  # ended: it gives nothing more
            assert await body.aread_all() == b""
            with pytest.raises(StopAsyncIteration):
                await body.__anext__()
        later = await session.get("/after")
    assert later.content == b"again"
    assert server.h2_requests[0].reset is None


async def test_a_connection_error_fails_every_stream(h2_raw_server: H2RawServerFactory) -> None:
    # A PING of 4 bytes (they have 8): FRAME_SIZE_ERROR, a connection error.
    bad_ping = b"\x00\x00\x04\x06\x00\x00\x00\x00\x00" + b"1234"
    server = h2_raw_server(
        [Handshake(), ReadRequest(2), Send(bad_ping), ReadUntilEOF()], [Handshake(), SERVE_ON]
    )
    async with h2c_session(server) as session:
        results = await asyncio.gather(session.get("/a"), session.get("/b"), return_exceptions=True)
        later = await session.get("/after")
    assert all(isinstance(r, RemoteProtocolError) for r in results), results
    assert results[0] is not results[1]
    assert later.content == b"again"
    goaways = server.frames_of(GoAwayFrame)
    assert goaways and isinstance(goaways[0], GoAwayFrame) and goaways[0].error_code != 0


# -- queueing for a stream ------------------------------------------------------------------------


async def test_goaway_refuses_the_requests_queued_for_a_stream(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [ONE_STREAM, ReadRequest(), GoAway(1), Respond(body=b"first"), ReadUntilEOF()],
        [Handshake(), SERVE_ON],
    )
    async with h2c_session(server) as session:
        responses = await asyncio.gather(*[session.get(f"/{i}") for i in range(3)])
    assert [r.content for r in responses] == [b"first", b"again", b"again"]
    assert server.connections == 2


async def test_a_queued_request_times_out_or_is_cancelled(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [
            ONE_STREAM,
            ReadRequest(),
            SendHeaders(((":status", "200"),)),
            ReadFrame(RstStreamFrame),
            SERVE_ON,
        ],
    )
    async with h2c_session(server) as session:
        async with session.stream("GET", "/open") as response:
            assert response.status_code == 200
            # The one stream the server allows is taken: the next requests queue.
            with pytest.raises(PoolTimeout):
                await session.get("/queued", timeout=Timeout(5, pool=0.05))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(session.get("/cancelled"), 0.05)
        later = await session.get("/after")
    assert later.content == b"again"
    assert [r.path for r in server.h2_requests] == ["/open", "/after"]
    assert server.h2_requests[0].reset == CANCEL


# -- the pool ----------------------------------------------------------------------------------


def test_http1_and_http2_both_off_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        AsyncSession(http1=False, http2=False)


async def test_closing_the_pool_with_active_and_idle_h2_connections(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"one"), ReadUntilEOF()])
    session = h2c_session(server, limits=Limits(http2_max_connections_per_host=2))
    response = await session.get("/")
    assert response.content == b"one"
    pool: Any = session._transport
    assert "idle" in repr(pool)
    assert pool.connections
    await session.aclose()
    assert pool.connections == []


async def test_alpn_falls_back_to_http11(https_server: TLSServer) -> None:
    async with AsyncSession(http2=True, verify=https_server.ca_bundle) as session:
        # The first request opens the connection; the second waits to learn its protocol.
        responses = await asyncio.gather(
            session.get(https_server.join("/health")), session.get(https_server.join("/health"))
        )
        again = await session.get(https_server.join("/health"))
    assert [r.http_version for r in [*responses, again]] == ["HTTP/1.1"] * 3
    assert {r.status_code for r in [*responses, again]} == {200}


async def h2_connection(session: AsyncSession) -> Any:
    """The pool's one HTTP/2 connection (the session sent a request on it)."""
    pool: Any = session._transport
    (connections,) = pool._h2.values()
    (connection,) = connections
    return connection._http


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param([Close()], id="lost"),
        pytest.param([GoAway(), ReadUntilEOF()], id="goaway"),
    ],
)
async def test_an_idle_connection_lost_or_sent_away_is_replaced(
    h2_raw_server: H2RawServerFactory, ending: list[Any]
) -> None:
    # (The pause lets the response end first, as with a server's idle timeout.)
    server = h2_raw_server(
        [Handshake(), ReadRequest(), Respond(body=b"one"), Sleep(0.1), *ending],
        [Handshake(), SERVE_ON],
    )
    async with h2c_session(server) as session:
        async with session.stream("GET", "/") as response:
            http = await h2_connection(session)
            assert await response.aread() == b"one"
        assert await http.protocol.wait_lost(5)
        later = await session.get("/after")
    assert later.content == b"again"
    assert server.connections == 2


async def test_closing_the_pool_after_the_server_closed_an_idle_connection(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"one"), Close()])
    session = h2c_session(server)
    assert (await session.get("/")).content == b"one"
    http = await h2_connection(session)
    assert await http.protocol.wait_lost(5)
    await session.aclose()
    http.close()  # closing twice does nothing
    assert http.closed


async def test_goaway_refuses_the_streams_above_its_last_id(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [
            Handshake(),
            ReadRequest(3),
            GoAway(1),
            Respond(body=b"first", stream_id=1),
            ReadUntilEOF(),
        ],
        [Handshake(), SERVE_ON],
    )
    async with h2c_session(server) as session:
        responses = await asyncio.gather(*[session.get(f"/{i}") for i in range(3)])
    assert [r.content for r in responses] == [b"first", b"again", b"again"]
    assert server.connections == 2


async def test_unread_data_is_given_back_when_a_response_closes(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"x" * 1000), SERVE_ON])
    async with h2c_session(server) as session:
        async with session.stream("GET", "/") as response:
            assert response.status_code == 200
        later = await session.get("/after")
    assert later.content == b"again"


async def test_empty_data_frames_and_trailers(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [
            Handshake(),
            ReadRequest(),
            SendHeaders(((":status", "200"),)),
            SendData(b""),
            SendData(b"body"),
            SendHeaders((("x-sum", "1"),), end_stream=True),
            ReadUntilEOF(),
        ]
    )
    async with h2c_session(server) as session:
        async with session.stream("GET", "/") as response:
            received: list[bytes] = []
            await collect(response.aiter_bytes(), received)
    assert b"".join(received) == b"body"
    assert response.extensions["trailers"]["x-sum"] == "1"


async def test_trace_events_of_failed_streams(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [
            Handshake(),
            ReadRequest(),
            SendHeaders(((":status", "200"),)),
            ReadFrame(RstStreamFrame),
            ReadRequest(),
            RstStream(error_code=INTERNAL_ERROR),
            SERVE_ON,
        ]
    )
    events: list[str] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        events.append(event)

    async with h2c_session(server) as session:
        extensions = {"trace": trace}
        with pytest.raises(ReadTimeout):
            await session.get("/stalled", extensions=extensions, timeout=Timeout(5, read=0.1))
        assert events[-1] == "http2.response_body.failed"
        with pytest.raises(RemoteProtocolError):
            await session.get("/reset", extensions=extensions)
        assert events[-1] == "http2.receive_response_head.failed"
        later = await session.get("/after", extensions=extensions)
    assert later.content == b"again"
    assert events[-1] == "http2.response_body.complete"


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition`` holds (no I/O is needed for it)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_requests_waiting_for_a_connection_that_opens(tls_certs: Any) -> None:
    # A listener that never accepts: the TLS handshake of the first request hangs, the
    # others wait to learn whether the connection will speak HTTP/2.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/"
        session = AsyncSession(http2=True, verify=str(tls_certs.ca_bundle))
        pool: Any = session._transport
        first = asyncio.ensure_future(session.get(url, timeout=Timeout(0.5)))
        await until(lambda: bool(pool._h2_opening))
        with pytest.raises(PoolTimeout):
            await session.get(url, timeout=Timeout(5, pool=0.05))
        waiting = asyncio.ensure_future(session.get(url))
        await until(lambda: any(pool._h2_opening.values()))
        await session.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await waiting
        # Closing the pool does not cut a handshake short: it ends at its timeout.
        with pytest.raises(ConnectTimeout):
            await first


async def test_an_upload_the_peer_stops_reading(h2_raw_server: H2RawServerFactory) -> None:
    # Windows wide open, then the peer reads nothing: the socket's buffers fill, the
    # upload times out, and closing cannot flush what is buffered, so it aborts.
    server = h2_raw_server(
        [
            Handshake(settings=((INITIAL_WINDOW_SIZE, 2**31 - 1),)),
            WindowUpdate(2**31 - 1 - 65535),
            ReadFrame(HeadersFrame),
            Stall(),
        ]
    )
    session = h2c_session(server)
    with pytest.raises(WriteTimeout):
        await session.post("/up", content=b"x" * (32 * 1024 * 1024), timeout=Timeout(5, write=0.2))
    http = await h2_connection(session)
    await session.aclose()
    assert http.closed
    assert http.protocol.transport.is_closing()


async def test_request_fields_hop_by_hop_and_te(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server([Handshake(), SERVE_ON])
    async with h2c_session(server) as session:
        await session.post(
            "/a",
            content=b"abc",
            headers={"Host": "example.test", "TE": "gzip", "Content-Length": "3"},
        )
        await session.get("/b", headers={"TE": "trailers", "Connection": "keep-alive"})
    first, second = server.h2_requests
    assert first.header(":authority") == "example.test"
    assert first.header("host") is None
    assert first.header("te") is None
    assert [v for k, v in first.headers if k == b"content-length"] == [b"3"]
    assert bytes(first.body) == b"abc"
    assert second.header("te") == "trailers"
    assert second.header("connection") is None


async def test_a_second_connection_takes_requests_while_the_first_is_full(
    h2_raw_server: H2RawServerFactory,
) -> None:
    server = h2_raw_server(
        [
            ONE_STREAM,
            ReadRequest(),
            SendHeaders(((":status", "200"),)),
            ReadFrame(RstStreamFrame),
            ReadUntilEOF(),
        ],
        [ONE_STREAM, SERVE_ON],
    )
    limits = Limits(http2_max_connections_per_host=2)
    async with h2c_session(server, limits=limits) as session:
        async with session.stream("GET", "/held") as held:
            assert held.status_code == 200
            second = await session.get("/2")
            third = await session.get("/3")
    assert second.content == third.content == b"again"
    assert server.connections == 2
    assert [(r.connection, r.path) for r in server.h2_requests] == [
        (0, "/held"),
        (1, "/2"),
        (1, "/3"),
    ]


async def test_a_failing_body_source_resets_its_stream_alone(
    h2_raw_server: H2RawServerFactory,
) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"a"
        raise OSError("the source broke")

    server = h2_raw_server(
        [Handshake(), ReadFrame(HeadersFrame), ReadFrame(RstStreamFrame), SERVE_ON]
    )
    async with h2c_session(server) as session:
        with pytest.raises(WriteError, match="the source broke") as caught:
            await session.post("/up", content=failing())
        later = await session.get("/after")
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.request is not None
    assert later.content == b"again"
    assert server.h2_requests[0].reset == CANCEL
