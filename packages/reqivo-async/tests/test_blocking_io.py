"""Blocking I/O under the pool (``AsyncConnectionPool(blocking=True)``, ADR-015).

The session and the pool are driven without an event loop, as reqivo-sync's ``Session``
drives them: ``drive`` sends ``None`` into the coroutine once and fails if it suspends.
Every test here is a plain (not async) test: no loop exists while it runs.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

import pytest

from reqivo_async import (
    AsyncConnectionPool,
    AsyncSession,
    ConnectError,
    ConnectTimeout,
    Limits,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    Retry,
    Timeout,
    TlsError,
    TotalTimeout,
    WriteTimeout,
)
from reqivo_async._blocking_io import (
    BlockingHTTP11Protocol,
    BlockingTransport,
    Deadline,
    DeadlinePassed,
    Resolved,
    ThreadWaiter,
    sleep,
    start_tls,
)
from reqivo_async._pool import REFRESH_AFTER
from servers.models import ProxyServer, Server, TLSServer, UnixServer
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

T = TypeVar("T")


def drive(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to its end without a loop; it must not suspend."""
    coroutine = awaitable.__await__()
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    raise AssertionError("the coroutine suspended: blocking I/O must not")


def _session(**options: Any) -> AsyncSession:
    pool_options = {
        k: options.pop(k) for k in ("verify", "cert", "limits", "proxy", "uds") if k in options
    }
    pool = AsyncConnectionPool(blocking=True, trust_env=False, **pool_options)
    return AsyncSession(transport=pool, timeout=options.pop("timeout", 5.0), **options)


@pytest.fixture
def session() -> Iterator[AsyncSession]:
    made = _session()
    yield made
    drive(made.aclose())


def test_requests_bodies_and_reuse(session: AsyncSession, uvicorn_h11_server: Server) -> None:
    response = drive(session.get(uvicorn_h11_server.join("/echo?x=1")))
    assert response.json()["query"] == "x=1"
    posted = drive(session.post(uvicorn_h11_server.join("/echo"), json={"a": 1}))
    assert posted.status_code == 200
    big = bytes(range(256)) * 65536  # 16 MiB: the write buffer fills and drains
    uploaded = drive(session.post(uvicorn_h11_server.join("/upload"), content=big))
    assert uploaded.status_code == 200

    async def stream() -> int:
        async with session.stream("GET", uvicorn_h11_server.join("/bytes/3000000")) as streamed:
            return sum([len(chunk) async for chunk in streamed.aiter_raw()])

    assert drive(stream()) == 3_000_000
    pool = session.transport
    assert isinstance(pool, AsyncConnectionPool) and pool.blocking
    assert [info.requests for info in pool.connections] == [4]


def test_expect_continue_and_redirects(session: AsyncSession, uvicorn_h11_server: Server) -> None:
    response = drive(
        session.post(
            uvicorn_h11_server.join("/echo"),
            content=b"x" * 100_000,
            headers={"Expect": "100-continue"},
        )
    )
    assert response.status_code == 200
    redirected = drive(session.get(uvicorn_h11_server.join("/redirect/2")))
    assert redirected.status_code == 200 and len(redirected.history) == 2


def test_threads_share_connections_within_the_limit(uvicorn_h11_server: Server) -> None:
    session = _session(limits=Limits(max_connections=3))
    pool = session.transport
    assert isinstance(pool, AsyncConnectionPool)
    peak = 0
    errors: list[BaseException] = []

    def work() -> None:
        nonlocal peak
        try:
            for _ in range(20):
                drive(session.get(uvicorn_h11_server.join("/health")))
                peak = max(peak, len(pool.connections))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drive(session.aclose())
    assert not errors
    assert 1 <= peak <= 3


def test_a_waiting_thread_times_out_then_one_gets_the_released_connection(
    uvicorn_h11_server: Server,
) -> None:
    session = _session(limits=Limits(max_connections=1), timeout=Timeout(5.0, pool=0.2))
    url = uvicorn_h11_server.join("/bytes/10")
    held = drive(session.send(session.build_request("GET", url), stream=True))
    with pytest.raises(PoolTimeout):
        drive(session.get(url))
    got: list[int] = []
    waiter = threading.Thread(
        target=lambda: got.append(drive(session.get(url, timeout=Timeout(5.0))).status_code)
    )
    waiter.start()
    time.sleep(0.1)  # the thread waits for the one connection
    drive(held.aclose())
    waiter.join(5)
    assert got == [200]
    drive(session.aclose())


def test_read_timeout_closes_the_connection(session: AsyncSession, raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Sleep(1.0), Close()])
    with pytest.raises(ReadTimeout):
        drive(session.get(server.url + "/", timeout=Timeout(5.0, read=0.2)))
    pool = session.transport
    assert isinstance(pool, AsyncConnectionPool)
    assert pool.connections == []


def test_total_timeout_bounds_every_wait(session: AsyncSession, raw_server: Any) -> None:
    server = raw_server([ReadRequest(), Sleep(1.0), Close()])
    started = time.monotonic()
    with pytest.raises(TotalTimeout):
        drive(session.get(server.url + "/", timeout=Timeout(5.0, total=0.3)))
    assert time.monotonic() - started < 0.9
    # A retry's back-off is bounded by it too.
    answer = http_response(503, b"", headers=[("Retry-After", "5")])
    retried = raw_server([Repeat((ReadRequest(), Send(answer)))])
    with pytest.raises(TotalTimeout):
        drive(session.get(retried.url + "/", retries=Retry(3), timeout=Timeout(5.0, total=0.5)))


def test_the_pool_wait_is_bounded_by_the_total_timeout(uvicorn_h11_server: Server) -> None:
    session = _session(limits=Limits(max_connections=1))
    url = uvicorn_h11_server.join("/bytes/10")
    held = drive(session.send(session.build_request("GET", url), stream=True))
    with pytest.raises(TotalTimeout):
        drive(session.get(url, timeout=Timeout(5.0, total=0.2)))
    drive(held.aclose())
    assert drive(session.get(url)).status_code == 200  # the abandoned wait left no trace
    drive(session.aclose())


def test_retry_back_off_sleeps_in_the_caller(session: AsyncSession, raw_server: Any) -> None:
    busy = http_response(503, b"", headers=[("Retry-After", "0")])
    ok = http_response(200, b"ok")
    server = raw_server([ReadRequest(), Send(busy), Repeat((ReadRequest(), Send(ok)))])
    response = drive(session.get(server.url + "/", retries=Retry(2, backoff_factor=0.05)))
    assert response.status_code == 200


def test_connect_errors(session: AsyncSession) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ConnectError, match="connection refused"):
        drive(session.get(f"http://127.0.0.1:{port}/"))


def test_a_tls_handshake_that_never_comes_is_a_connect_timeout(
    session: AsyncSession, raw_server: Any
) -> None:
    server = raw_server([Sleep(2.0)])
    https = server.url.replace("http://", "https://")
    with pytest.raises(ConnectTimeout):
        drive(session.get(https + "/", timeout=Timeout(5.0, connect=0.3)))
    with pytest.raises(TotalTimeout):
        drive(session.get(https + "/", timeout=Timeout(5.0, total=0.3)))


def test_tls_alpn_and_client_certificates(https_server: TLSServer, mtls_server: TLSServer) -> None:
    session = _session(verify=https_server.ca_bundle)
    response = drive(session.get(https_server.join("/echo")))
    assert response.json()["scheme"] == "https"
    assert response.http_version == "HTTP/1.1"
    drive(session.aclose())
    mutual = _session(verify=mtls_server.ca_bundle, cert=mtls_server.client_cert)
    assert drive(mutual.get(mtls_server.join("/health"))).status_code == 200
    drive(mutual.aclose())
    refused = _session()  # the test CA is not trusted
    with pytest.raises(TlsError):
        drive(refused.get(https_server.join("/health")))
    drive(refused.aclose())


def test_a_server_that_does_not_speak_tls(session: AsyncSession, raw_server: Any) -> None:
    server = raw_server([Send(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Close()])
    with pytest.raises(TlsError):
        drive(session.get(server.url.replace("http://", "https://") + "/"))


def test_unix_socket(unix_server: UnixServer) -> None:
    session = _session(uds=unix_server.path)
    assert drive(session.get("http://localhost/health")).status_code == 200
    drive(session.aclose())


def test_forward_proxy_and_connect_tunnel(
    proxy_server: ProxyServer, uvicorn_h11_server: Server, https_server: TLSServer
) -> None:
    session = _session(proxy=proxy_server.url, verify=https_server.ca_bundle)
    forwarded = drive(session.get(uvicorn_h11_server.join("/echo?via=proxy")))
    assert forwarded.json()["query"] == "via=proxy"
    tunneled = drive(session.get(https_server.join("/echo")))
    assert tunneled.json()["scheme"] == "https"
    drive(session.aclose())


def test_what_blocking_io_cannot_do() -> None:
    with pytest.raises(ValueError, match=r"HTTP/1\.1 only"):
        AsyncConnectionPool(blocking=True, http2=True)
    with pytest.raises(ValueError, match="https:// proxy"):
        AsyncConnectionPool(blocking=True, proxy="https://proxy.example:3128")


def test_an_idle_connection_closed_by_the_server_is_not_reused(
    session: AsyncSession, raw_server: Any
) -> None:
    ok = http_response(200, b"ok")
    server = raw_server([ReadRequest(), Send(ok), Sleep(0.05), Close()])
    url = server.url + "/"
    assert drive(session.get(url)).content == b"ok"
    time.sleep(REFRESH_AFTER + 0.1)  # the server closed it meanwhile: seen before reuse
    assert drive(session.get(url)).content == b"ok"
    # Reused at once, the close is found by sending: a GET is resent on a new connection.
    assert drive(session.get(url)).content == b"ok"
    time.sleep(0.1)
    assert drive(session.get(url)).content == b"ok"


def test_an_early_answer_to_expect_continue_is_the_response(
    session: AsyncSession, uvicorn_h11_server: Server
) -> None:
    response = drive(
        session.post(
            uvicorn_h11_server.join("/expect?reject=417"),
            headers={"Expect": "100-continue"},
            content=b"e" * 1000,
        )
    )
    assert response.status_code == 417


def test_an_upload_the_server_never_reads_hits_its_write_timeout(
    session: AsyncSession, raw_server: Any
) -> None:
    server = raw_server([ReadHead(), Stall()])
    started = time.monotonic()
    with pytest.raises(WriteTimeout):
        drive(
            session.post(
                server.url + "/", content=b"u" * (32 << 20), timeout=Timeout(5.0, write=0.3)
            )
        )
    assert time.monotonic() - started < 3.0
    pool = session.transport
    assert isinstance(pool, AsyncConnectionPool) and pool.connections == []


def test_a_reset_while_reading_is_a_read_error(session: AsyncSession, raw_server: Any) -> None:
    server = raw_server(
        [ReadRequest(), Send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"), Reset()]
    )
    with pytest.raises(ReadError):
        drive(session.get(server.url + "/"))


def test_tls_inside_tls_is_refused(https_server: TLSServer) -> None:
    context = ssl.create_default_context(cafile=https_server.ca_bundle)
    raw = socket.create_connection((https_server.host, https_server.port))
    tls = context.wrap_socket(raw, server_hostname=https_server.host)
    tls.setblocking(False)  # as start_tls leaves the sockets it wraps
    protocol = BlockingHTTP11Protocol()
    transport = BlockingTransport(tls, protocol)
    protocol.connection_made(transport)
    with pytest.raises(TlsError, match="TLS inside TLS"):
        drive(start_tls(transport, protocol, context, https_server.host, seconds=1.0))
    assert transport.is_closing()


def test_deadline_and_sleep_helpers() -> None:
    sleep(0.01)
    with Deadline(0.05), pytest.raises(DeadlinePassed):
        sleep(1.0)
    waiter = ThreadWaiter()
    assert not waiter.done() and not waiter.cancelled()
    assert waiter.wait(0.01) is False
    waiter.set_result(True)
    assert waiter.wait(None) is True and waiter.result() is True
    assert drive(Resolved(7)) == 7


def test_the_transport_interface(uvicorn_h11_server: Server) -> None:
    class Sink:
        lost: BaseException | bool | None = False

        def connection_made(self, transport: Any) -> None: ...
        def data_received(self, data: bytes) -> None: ...
        def eof_received(self) -> bool:
            return False

        def pause_writing(self) -> None: ...
        def resume_writing(self) -> None: ...
        def connection_lost(self, exc: BaseException | None) -> None:
            self.lost = exc

    sock = socket.create_connection((uvicorn_h11_server.host, uvicorn_h11_server.port))
    sock.setblocking(False)
    protocol = Sink()
    transport = BlockingTransport(sock, protocol)  # type: ignore[arg-type]
    got: object = transport.get_protocol()
    assert got is protocol
    assert transport.get_extra_info("peername")[1] == uvicorn_h11_server.port
    assert transport.get_extra_info("ssl_object") is None
    assert transport.is_reading() and not transport.can_write_eof()
    transport.set_write_buffer_limits(low=10)
    assert transport.get_write_buffer_limits() == (10, 40)
    transport.set_write_buffer_limits()
    transport.pause_reading()
    assert not transport.pump(0.01)  # nothing to read or write
    transport.resume_reading()
    transport.writelines([b"GET /health HTTP/1.1\r\n", b"Host: x\r\n\r\n"])
    assert transport.get_write_buffer_size() == 0
    while transport.pump(1.0) and protocol.lost is False:
        pass  # the response, then (keep-alive) nothing: pump returns False after 1 s
    transport.abort()
    assert transport.is_closing() and protocol.lost is None
    transport.write(b"ignored after close")
    assert transport.pump(0.01)
