"""Faults around connections rather than one response: refused, connect and pool
timeouts, and keep-alive connections the server closes between requests."""

from __future__ import annotations

import socket
from functools import partial

import pytest

from faults.conftest import TIMING_ATTEMPTS, Faults, assert_fires_at, on_time
from faults.test_matrix import GOOD, OK
from reqivo_async import Limits, Timeout
from reqivo_protocol._exceptions import (
    ConnectError,
    ConnectTimeout,
    NetworkError,
    PoolTimeout,
    ReadError,
    RemoteProtocolError,
    TimeoutException,
    TransportError,
)
from servers.raw import Close, ReadRequest, Reset, Send, Sleep, Stall, Step


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused(faults: Faults) -> None:
    good = faults.serve(GOOD)
    client = faults.client()
    faults.raises(
        ConnectError, NetworkError, lambda: client.get(f"http://127.0.0.1:{_refused_port()}/")
    )
    faults.assert_pool(client, idle=0)
    assert client.get(good.url).content == b"ok"
    faults.assert_pool(client, idle=1)
    faults.finish()


def test_connect_timeout_server_never_answers_tls(faults: Faults) -> None:
    # TCP is accepted, the TLS ClientHello is never answered.
    stalled = faults.serve([Stall()])
    good = faults.serve(GOOD)
    url = stalled.url.replace("http:", "https:")
    for attempt in range(1, TIMING_ATTEMPTS + 1):
        client = faults.client(timeout=Timeout(2.0, connect=0.3))
        _, elapsed = faults.raises(ConnectTimeout, TimeoutException, partial(client.get, url))
        if on_time(elapsed, 0.3):
            break
        if attempt == TIMING_ATTEMPTS:
            assert_fires_at(elapsed, 0.3)
        client.close()
    faults.assert_pool(client, idle=0)
    assert client.get(good.url).content == b"ok"
    faults.assert_pool(client, idle=1)
    faults.finish()


def test_pool_timeout_one_connection_held(faults: Faults) -> None:
    server = faults.serve(GOOD)
    client = faults.client(limits=Limits(max_connections=1), timeout=Timeout(2.0, pool=0.3))
    with client.stream("GET", server.url + "/held") as held:
        assert faults.pool(client).active == 1
        for attempt in range(1, TIMING_ATTEMPTS + 1):
            _, elapsed = faults.raises(
                PoolTimeout, TimeoutException, lambda: client.get(server.url + "/waiting")
            )
            if on_time(elapsed, 0.3):
                break
            if attempt == TIMING_ATTEMPTS:
                assert_fires_at(elapsed, 0.3)
        assert faults.pool(client).active == 1
        assert client.read(held) == b"ok"
    faults.assert_pool(client, idle=1)
    assert client.get(server.url + "/after").content == b"ok"
    faults.assert_pool(client, idle=1)
    # The waiting request was never sent; the held connection served the next one.
    assert [(r.connection, r.target) for r in server.requests] == [(0, "/held"), (0, "/after")]
    faults.finish()


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_keepalive_closed_while_idle(faults: Faults, method: str) -> None:
    """The server closes the idle connection 0.1 s after answering (its keep-alive
    timeout), well before the next request: the pool must notice and use a new
    connection, for every method, nothing sent twice. In sync mode the FIN arrives while
    no event loop runs (the bridge catches up before the next call: ADR-006)."""
    server = faults.serve([ReadRequest(), Send(OK), Sleep(0.1), Close()], GOOD)
    client = faults.client()
    assert client.get(server.url + "/first").content == b"ok"
    faults.idle(0.3)
    assert server.wait_idle()
    response = client.request(method, server.url + "/second", content=b"payload")
    assert response.content == b"ok"
    faults.assert_pool(client, idle=1)
    assert [(r.connection, r.method, r.target) for r in server.requests] == [
        (0, "GET", "/first"),
        (1, method, "/second"),
    ]
    faults.finish()


CLOSES: dict[str, Step] = {"close": Close(), "reset": Reset()}


@pytest.mark.parametrize("how", CLOSES.keys())
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_keepalive_closed_as_request_arrives_idempotent(
    faults: Faults, method: str, how: str
) -> None:
    """The keep-alive race: the server reads the next request, then closes without a
    byte of response. An idempotent request is resent once, transparently."""
    first: list[Step] = [ReadRequest(), Send(OK), ReadRequest(), CLOSES[how]]
    server = faults.serve(first, GOOD)
    client = faults.client()
    assert client.get(server.url + "/first").content == b"ok"
    assert client.request(method, server.url + "/raced", content=b"p").content == b"ok"
    faults.assert_pool(client, idle=1)
    assert [(r.connection, r.method, r.target) for r in server.requests] == [
        (0, "GET", "/first"),
        (0, method, "/raced"),
        (1, method, "/raced"),
    ]
    faults.finish()


@pytest.mark.parametrize(
    ("how", "expected"), [("close", RemoteProtocolError), ("reset", ReadError)]
)
def test_keepalive_closed_as_post_arrives_is_not_resent(
    faults: Faults, how: str, expected: type[TransportError]
) -> None:
    """The same race with a POST: it may have been applied, so it is never resent."""
    server = faults.serve([ReadRequest(), Send(OK), ReadRequest(), CLOSES[how]], GOOD)
    client = faults.client()
    assert client.get(server.url + "/first").content == b"ok"
    faults.raises(
        expected,
        TransportError,
        lambda: client.post(server.url + "/order", content=b"buy 1"),
    )
    faults.assert_pool(client, idle=0)
    assert client.get(server.url + "/after").content == b"ok"
    assert [(r.connection, r.method, r.target) for r in server.requests] == [
        (0, "GET", "/first"),
        (0, "POST", "/order"),
        (1, "GET", "/after"),
    ]
    faults.finish()


def test_keepalive_race_post_with_idempotency_key_is_resent(faults: Faults) -> None:
    server = faults.serve([ReadRequest(), Send(OK), ReadRequest(), Close()], GOOD)
    client = faults.client()
    assert client.get(server.url + "/first").content == b"ok"
    response = client.post(
        server.url + "/order", content=b"buy 1", headers={"Idempotency-Key": "k1"}
    )
    assert response.content == b"ok"
    assert [(r.connection, r.method, r.body) for r in server.requests] == [
        (0, "GET", b""),
        (0, "POST", b"buy 1"),
        (1, "POST", b"buy 1"),
    ]
    faults.finish()
