"""``ConnectionPool`` and ``Connection``: the blocking wrappers of the async transports."""

from __future__ import annotations

import gc
import ssl
import threading
from typing import Any

import pytest

from reqivo_async._tls import create_ssl_context
from reqivo_sync import Connection, ConnectionPool, Limits, PoolTimeout, Request, Timeout
from servers.models import Server
from servers.raw import ReadRequest, Repeat, Send, http_response

SERVE_FOREVER = [Repeat((ReadRequest(), Send(http_response(body=b"ok"))))]


def _request(url: str, **timeouts: float) -> Request:
    return Request("GET", url, extensions={"timeout": Timeout(5.0, **timeouts)})


def test_pool_streams_and_reuses(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    with ConnectionPool(limits=Limits(max_connections=1)) as pool:
        with pool.handle_request(_request(server.url)) as response:
            assert pool.active_connections == 1
            assert b"".join(response.iter_bytes()) == b"ok"
        assert pool.idle_connections == 1
        assert pool.connections[0].state == "idle"
        held = pool.handle_request(_request(server.url))
        with pytest.raises(PoolTimeout):
            pool.handle_request(_request(server.url, pool=0.05))
        assert held.read() == b"ok"
        assert pool.handle_request(_request(server.url)).read() == b"ok"
        assert "open" in repr(pool)
    assert "closed" in repr(pool)
    assert server.connections == 1


def test_one_pool_for_every_thread(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    with ConnectionPool() as pool:
        assert pool.handle_request(_request(server.url)).read() == b"ok"
        worker = threading.Thread(target=lambda: pool.handle_request(_request(server.url)).read())
        worker.start()
        worker.join()
        assert pool.idle_connections == 1  # the worker reused this thread's connection
        held = pool.handle_request(_request(server.url))  # streamed: read in another thread
        reader = threading.Thread(target=held.read)
        reader.start()
        reader.join()
        assert held.content == b"ok"
        held.close()
    assert server.connections == 1


def test_pool_ssl_context(tls_certs: Any) -> None:
    ca = str(tls_certs.ca_bundle)
    with ConnectionPool(verify=ca) as pool:
        assert pool.ssl_context is create_ssl_context(ca)
        seen: list[ssl.SSLContext] = []
        worker = threading.Thread(target=lambda: seen.append(pool.ssl_context))
        worker.start()
        worker.join()
        assert seen == [pool.ssl_context]  # another thread's pool: the same settings


def test_bad_options_fail_in_the_constructor() -> None:
    with pytest.raises(ValueError, match="no such CA bundle"):
        ConnectionPool(verify="/no/such/ca.pem")


def test_connection(uvicorn_h11_server: Server) -> None:
    with Connection(uvicorn_h11_server.url) as connection:
        assert connection.is_available()
        assert str(connection.origin) == uvicorn_h11_server.url
        response = connection.request("GET", uvicorn_h11_server.join("/echo"), headers={"X": "1"})
        assert response.json()["method"] == "GET"
        assert connection.is_idle()
        assert not connection.is_closed()
        assert connection.info().requests == 1
        streamed = connection.handle_request(_request(uvicorn_h11_server.join("/bytes/5")))
        assert streamed.read() == bytes(range(5))
        assert connection.info().requests == 2
        assert "open" in repr(connection)
    assert connection.is_closed()


def test_unclosed_pool_warns(raw_server: Any) -> None:
    server = raw_server(SERVE_FOREVER)
    pool = ConnectionPool()
    pool.handle_request(_request(server.url)).read()
    with pytest.warns(ResourceWarning, match="unclosed <ConnectionPool"):  # noqa: PT031
        del pool
        gc.collect()
