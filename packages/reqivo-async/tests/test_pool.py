"""``AsyncConnectionPool``: reuse, limits, expiry, staleness, the retry, cancellation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import reqivo_async._pool as pool_module
from reqivo_async._config import Limits, Timeout
from reqivo_async._models import AsyncRequest, Response
from reqivo_async._pool import AsyncConnectionPool
from reqivo_async._session import AsyncSession
from reqivo_protocol._exceptions import (
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
)
from servers.models import Server
from servers.nginx import NginxServer, running_nginx
from servers.raw import (
    Close,
    ReadHead,
    ReadRequest,
    Repeat,
    Reset,
    Send,
    Sleep,
    Stall,
    http_response,
)

OK = http_response(200, b"ok")
SERVE_FOREVER = [Repeat((ReadRequest(), Send(OK)))]


def _request(url: str, method: str = "GET", **kwargs: Any) -> AsyncRequest:
    timeout = kwargs.pop("timeout", Timeout(5.0))
    return AsyncRequest(method, url, extensions={"timeout": timeout}, **kwargs)


async def _get(pool: AsyncConnectionPool, url: str, **kwargs: Any) -> Response:
    response = await pool.handle_async_request(_request(url, **kwargs))
    await response.aread()
    return response


def _assert_clean(pool: AsyncConnectionPool, idle: int = 0) -> None:
    assert pool.active_connections == 0
    assert pool.idle_connections == idle
    assert len(pool.connections) == idle


async def test_reuse_counters_and_info(http_server: Server) -> None:
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(http_server.join("/bytes/100")))
        assert pool.active_connections == 1
        assert pool.idle_connections == 0
        assert pool.connections[0].state == "active"
        assert len(await response.aread()) == 100
        for _ in range(3):
            await _get(pool, http_server.join("/echo"))
        _assert_clean(pool, idle=1)
        info = pool.connections[0]
        assert (info.state, info.requests, info.http_version) == ("idle", 4, "HTTP/1.1")
        assert "idle: 1" in repr(pool)
    _assert_clean(pool)
    with pytest.raises(RuntimeError):
        await pool.handle_async_request(_request(http_server.join("/echo")))


async def test_lifo_per_origin(uvicorn_h11_server: Server, hypercorn_server: Server) -> None:
    async with AsyncConnectionPool() as pool:
        first = await pool.handle_async_request(_request(uvicorn_h11_server.join("/echo")))
        second = await pool.handle_async_request(_request(uvicorn_h11_server.join("/echo")))
        await first.aread()
        await second.aread()  # released last: taken first
        last = pool._idle[first.request.url.origin][-1]
        await _get(pool, uvicorn_h11_server.join("/echo"))
        assert pool._idle[first.request.url.origin][-1] is last
        await _get(pool, hypercorn_server.join("/echo"))
        _assert_clean(pool, idle=3)


async def test_max_connections_waits_then_pool_timeout(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    async with AsyncConnectionPool(limits=Limits(max_connections=1)) as pool:
        held = await pool.handle_async_request(_request(server.url))
        with pytest.raises(PoolTimeout) as info:
            await pool.handle_async_request(_request(server.url, timeout=Timeout(5.0, pool=0.05)))
        assert info.value.request is not None
        waiting = asyncio.ensure_future(_get(pool, server.url))
        await asyncio.sleep(0.02)
        assert not waiting.done()
        await held.aread()
        assert (await waiting).content == b"ok"
        _assert_clean(pool, idle=1)
    assert server.connections == 1


async def test_max_connections_per_host(raw_server: Any) -> None:
    first, second = raw_server(SERVE_FOREVER), raw_server(SERVE_FOREVER)
    limits = Limits(max_connections=10, max_connections_per_host=1)
    async with AsyncConnectionPool(limits=limits) as pool:
        held = await pool.handle_async_request(_request(first.url))
        other = await _get(pool, second.url)  # another host is not blocked
        assert other.content == b"ok"
        with pytest.raises(PoolTimeout):
            await _get(pool, first.url, timeout=Timeout(5.0, pool=0.05))
        await held.aclose()
        assert (await _get(pool, first.url)).content == b"ok"
        _assert_clean(pool, idle=2)


async def test_evicts_idle_connection_of_another_origin(raw_server: Any) -> None:
    first, second = raw_server(SERVE_FOREVER), raw_server(SERVE_FOREVER)
    async with AsyncConnectionPool(limits=Limits(max_connections=1)) as pool:
        await _get(pool, first.url)
        await _get(pool, second.url)
        _assert_clean(pool, idle=1)
        assert pool.connections[0].origin.endswith(str(second.port))


async def test_max_keepalive_connections(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    async with AsyncConnectionPool(limits=Limits(max_keepalive_connections=1)) as pool:
        responses = [await pool.handle_async_request(_request(server.url)) for _ in range(3)]
        assert pool.active_connections == 3
        for response in responses:
            await response.aread()
        _assert_clean(pool, idle=1)


async def test_keepalive_expiry(raw_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = raw_server(SERVE_FOREVER)
    async with AsyncConnectionPool(limits=Limits(keepalive_expiry=0.05)) as pool:
        await _get(pool, server.url)
        await asyncio.sleep(0.1)
        await _get(pool, server.url)  # the expired connection is closed when taken
        assert server.connections == 2
        monkeypatch.setattr(pool_module, "SWEEP_INTERVAL", 0.0)
        await _get(pool, server.url)
        await asyncio.sleep(0.1)
        pool._sweep(pool._next_sweep + 1)  # the periodic sweep closes it too
        _assert_clean(pool)


async def test_stale_connection_detected_before_reuse(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(OK), Close()], SERVE_FOREVER)
    async with AsyncConnectionPool() as pool:
        await _get(pool, server.url)
        await asyncio.sleep(0.05)  # the server's FIN arrives while idle
        assert (await _get(pool, server.url)).content == b"ok"
        assert server.connections == 2
        assert server.request_count == 2
        _assert_clean(pool, idle=1)


async def test_unsolicited_bytes_make_idle_connection_stale(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(OK + b"HTTP/1.1 408 Timeout\r\n\r\n")], SERVE_FOREVER)
    async with AsyncConnectionPool() as pool:
        await _get(pool, server.url)
        await asyncio.sleep(0.05)
        await _get(pool, server.url)
        assert server.connections == 2


@pytest.mark.parametrize("failure", [Close(), Reset()], ids=["close", "reset"])
async def test_stale_retry_once(raw_server: Any, failure: Any) -> None:
    # The keep-alive race: the server drops the idle connection as our request arrives.
    server = raw_server([ReadRequest(), Send(OK), ReadRequest(), failure], SERVE_FOREVER)
    async with AsyncConnectionPool() as pool:
        await _get(pool, server.url)
        response = await _get(pool, server.url + "/again")
        assert response.content == b"ok"
        _assert_clean(pool, idle=1)
    assert server.connections == 2
    answered = [r.target for r in server.requests if r.connection == 1]
    assert answered == ["/again"]


async def test_no_retry_for_post_without_idempotency_key(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(OK), ReadRequest(), Close()], SERVE_FOREVER)
    async with AsyncConnectionPool() as pool:
        await _get(pool, server.url)
        with pytest.raises(RemoteProtocolError):
            await _get(pool, server.url, method="POST", content=b"data")
        _assert_clean(pool)
        await _get(pool, server.url)
        assert server.connections == 2
        server2 = raw_server([ReadRequest(), Send(OK), ReadRequest(), Close()], SERVE_FOREVER)
        await _get(pool, server2.url)
        response = await _get(
            pool, server2.url, method="POST", content=b"d", headers={"Idempotency-Key": "k1"}
        )
        assert response.content == b"ok"


async def test_no_retry_for_unreplayable_body(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(OK), ReadRequest(), Reset()], SERVE_FOREVER)

    async def body() -> Any:
        yield b"once"

    async with AsyncConnectionPool() as pool:
        await _get(pool, server.url)
        with pytest.raises(ReadError):
            await _get(pool, server.url, method="PUT", content=body())


async def test_no_retry_after_a_response_byte(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(OK), ReadRequest(), Send(b"HTTP/1.1 2"), Close()], SERVE_FOREVER
    )
    async with AsyncConnectionPool() as pool:
        await _get(pool, server.url)
        with pytest.raises(RemoteProtocolError):
            await _get(pool, server.url)
        _assert_clean(pool)
    assert server.connections == 1


async def test_no_retry_on_fresh_connection(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Close()])
    async with AsyncConnectionPool() as pool:
        with pytest.raises(RemoteProtocolError):
            await _get(pool, server.url)
    assert server.connections == 1


async def test_response_closed_early_closes_connection(raw_server: Any) -> None:
    big = http_response(200, b"x" * 100_000)
    server = raw_server([Repeat((ReadRequest(), Send(big)))])
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(_request(server.url))
        await response.aclose()
        _assert_clean(pool)
        await _get(pool, server.url)
        assert server.connections == 2


async def test_connection_close_response_is_not_pooled(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Send(http_response(200, b"c", [("Connection", "close")]))])
    async with AsyncConnectionPool() as pool:
        assert (await _get(pool, server.url)).content == b"c"
        _assert_clean(pool)


async def test_switching_protocols_leaves_the_pool(raw_server: Any) -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
    server = raw_server([ReadHead(), Send(head), Sleep(0.2)])
    async with AsyncConnectionPool() as pool:
        response = await pool.handle_async_request(
            _request(server.url, headers={"Upgrade": "x", "Connection": "Upgrade"})
        )
        assert response.status_code == 101
        _assert_clean(pool)
        await response.extensions["network_stream"].aclose()


async def test_aclose_fails_waiters_and_active(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Stall()])
    pool = AsyncConnectionPool(limits=Limits(max_connections=1))
    active = asyncio.ensure_future(_get(pool, server.url))
    await asyncio.sleep(0.05)
    waiting = asyncio.ensure_future(_get(pool, server.url))
    await asyncio.sleep(0.01)
    await pool.aclose()
    with pytest.raises(RuntimeError):
        await waiting
    with pytest.raises(ReadError):
        await active
    _assert_clean(pool)


# -- cancellation and timeouts at every stage leave the pool clean ------------------------


async def _cancel_after(coro: Awaitable[Any], delay: float) -> None:
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(delay)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancel_while_connecting(raw_server: Any) -> None:
    server = raw_server([Stall()])  # never answers the TLS handshake
    async with AsyncConnectionPool() as pool:
        await _cancel_after(_get(pool, server.url.replace("http:", "https:")), 0.1)
        _assert_clean(pool)


async def test_cancel_while_sending(raw_server: Any) -> None:
    server = raw_server([ReadHead(), Stall()])
    async with AsyncConnectionPool() as pool:
        await _cancel_after(_get(pool, server.url, method="POST", content=b"s" * 32_000_000), 0.2)
        _assert_clean(pool)


async def test_cancel_while_waiting_for_head(raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Stall()])
    async with AsyncConnectionPool() as pool:
        await _cancel_after(_get(pool, server.url), 0.05)
        _assert_clean(pool)


async def test_cancel_while_reading_body(raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), Stall()]
    )
    async with AsyncConnectionPool() as pool:
        await _cancel_after(_get(pool, server.url), 0.05)
        _assert_clean(pool)


async def test_cancel_while_waiting_for_the_pool(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    async with AsyncConnectionPool(limits=Limits(max_connections=1)) as pool:
        held = await pool.handle_async_request(_request(server.url))
        await _cancel_after(_get(pool, server.url), 0.02)
        assert not pool._waiters
        await held.aread()
        _assert_clean(pool, idle=1)


async def test_cancelled_waiter_passes_its_wakeup_on(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    async with AsyncConnectionPool(limits=Limits(max_connections=1)) as pool:
        held = await pool.handle_async_request(_request(server.url))
        first = asyncio.ensure_future(_get(pool, server.url))
        second = asyncio.ensure_future(_get(pool, server.url))
        await asyncio.sleep(0.01)
        await held.aread()  # wakes `first`...
        first.cancel()  # ...which is cancelled before it runs: `second` must get the turn
        assert (await second).content == b"ok"
        with pytest.raises(asyncio.CancelledError):
            await first
        _assert_clean(pool, idle=1)


@pytest.mark.parametrize(
    ("script", "expected"),
    [([ReadRequest(), Stall()], ReadTimeout), ([Stall()], Exception)],
    ids=["head", "connect"],
)
async def test_timeouts_leave_pool_clean(
    raw_server: Any, script: list[Any], expected: type[Exception]
) -> None:
    server = raw_server(script)
    url = server.url if expected is ReadTimeout else server.url.replace("http:", "https:")
    async with AsyncConnectionPool() as pool:
        with pytest.raises(expected):
            await _get(pool, url, timeout=Timeout(5.0, read=0.05, connect=0.05))
        _assert_clean(pool)


async def test_many_concurrent_requests(http_server: Server) -> None:
    async with AsyncConnectionPool(limits=Limits(max_connections=8)) as pool:
        get: Callable[[], Awaitable[Response]] = lambda: _get(pool, http_server.join("/bytes/2000"))  # noqa: E731
        responses = await asyncio.gather(*[get() for _ in range(64)])
        assert all(len(r.content) == 2000 for r in responses)
        assert pool.active_connections == 0
        assert 1 <= pool.idle_connections <= 8


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
@pytest.mark.parametrize("http2", [True, False], ids=["h2", "http/1.1"])
async def test_aclose_waits_for_the_connections_the_pool_closed(
    nginx_server: NginxServer, tls_certs: Any, tmp_path: Path, http2: bool
) -> None:
    """A connection the pool closed itself (here: nginx's ``keepalive_requests`` ended it,
    by GOAWAY on h2, ``Connection: close`` on HTTP/1.1) may still be closing (TLS
    close_notify) when its last request returns: ``aclose`` waits for it too, so that no
    socket outlives the session (the h2 soak found one still open)."""
    del nginx_server  # only there to skip (or fail) where nginx is not installed
    certificate = (tls_certs.server_cert, tls_certs.server_key)
    with running_nginx(
        tmp_path, tls=certificate, ca_bundle=tls_certs.ca_bundle, keepalive_requests=2
    ) as nginx:
        assert nginx.https is not None
        url = nginx.https.url + "/1k"
        async with AsyncSession(verify=str(tls_certs.ca_bundle)) as warm_up:
            await warm_up.get(url)  # the loop's own descriptors (uvloop: its first connection)
        before = len(os.listdir("/proc/self/fd"))
        async with AsyncSession(http2=http2, verify=str(tls_certs.ca_bundle)) as session:
            for _ in range(4):  # two connections, each ended by the server after 2 requests
                response = await session.get(url)
                assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
        assert len(os.listdir("/proc/self/fd")) == before
