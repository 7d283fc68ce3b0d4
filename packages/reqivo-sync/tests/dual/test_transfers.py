"""Streaming, content decoding, timeouts, faults, TLS, proxies, retries, hooks, reuse."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reqivo_protocol.content import supported_encodings
from reqivo_sync import (
    ConnectTimeout,
    HTTPStatusError,
    Limits,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Retry,
    StreamConsumed,
    Timeout,
    TimeoutException,
    TlsError,
    TotalTimeout,
    WriteTimeout,
)
from servers.app import SAMPLE_JSON, compressed_payload, pattern
from servers.models import ProxyServer, Server, TLSServer
from servers.raw import Close, ReadRequest, Repeat, Reset, Send, http_response

# -- streaming ---------------------------------------------------------------------------


def test_iter_bytes_with_chunk_size(client: Any, hypercorn_server: Server) -> None:
    with client.stream("GET", hypercorn_server.join("/stream/100000?chunk=3000")) as response:
        assert response.status_code == 200
        chunks = list(client.iter_bytes(response, 4096))
    assert b"".join(chunks) == pattern(100_000)
    assert {len(chunk) for chunk in chunks[:-1]} == {4096}
    assert response.is_closed


def test_iter_text_and_lines(client: Any, uvicorn_h11_server: Server) -> None:
    url = uvicorn_h11_server.join("/charset/utf-8")
    with client.stream("GET", url, params={"text": "héllo\nwörld\r\nlast"}) as response:
        assert "".join(client.iter_text(response)) == "héllo\nwörld\r\nlast"
    with client.stream("GET", url, params={"text": "héllo\nwörld\r\nlast"}) as response:
        assert list(client.iter_lines(response)) == ["héllo", "wörld", "last"]


def test_iter_raw_keeps_the_content_coding(client: Any, uvicorn_h11_server: Server) -> None:
    with client.stream("GET", uvicorn_h11_server.join("/gzip")) as response:
        raw = b"".join(client.iter_raw(response))
        with pytest.raises(StreamConsumed):
            client.read(response)
    assert raw[:2] == b"\x1f\x8b"


def test_read_inside_stream_and_early_exit(client: Any, uvicorn_h11_server: Server) -> None:
    with client.stream("GET", uvicorn_h11_server.join("/bytes/300000")) as response:
        assert client.read(response) == pattern(300_000)
        assert response.content == pattern(300_000)
    with client.stream("GET", uvicorn_h11_server.join("/bytes/3000000")) as response:
        for _chunk in client.iter_bytes(response):
            break  # the rest is discarded when the block ends
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"


def test_iterating_a_read_response(client: Any, uvicorn_h11_server: Server) -> None:
    response = client.get(uvicorn_h11_server.join("/bytes/10000"))
    assert b"".join(client.iter_bytes(response, 1000)) == pattern(10_000)
    assert len(list(client.iter_bytes(response, 1000))) == 10


# -- decoding ----------------------------------------------------------------------------

_ENCODINGS = {"gzip": "gzip", "deflate": "deflate", "brotli": "br", "zstd": "zstd"}


@pytest.mark.parametrize("route", list(_ENCODINGS))
@pytest.mark.parametrize("chunked", [False, True])
def test_decoding(client: Any, uvicorn_h11_server: Server, route: str, chunked: bool) -> None:
    if _ENCODINGS[route] not in supported_encodings():
        pytest.skip(f"no {route} decoder installed")
    url = uvicorn_h11_server.join(f"/{route}?chunked={int(chunked)}")
    response = client.get(url)
    if response.status_code == 501:
        pytest.skip(f"the server has no {route} encoder")
    assert response.headers["content-encoding"] == _ENCODINGS[route]
    assert response.content == compressed_payload(route)
    assert response.json()["data"] == SAMPLE_JSON
    with client.stream("GET", url) as streamed:
        assert b"".join(client.iter_bytes(streamed)) == compressed_payload(route)


def test_raw_deflate(client: Any, uvicorn_h11_server: Server) -> None:
    response = client.get(uvicorn_h11_server.join("/deflate?raw=1"))
    assert json.loads(response.content)["encoding"] == "deflate"


# -- raise_for_status --------------------------------------------------------------------


def test_raise_for_status(client: Any, uvicorn_h11_server: Server) -> None:
    ok = client.get(uvicorn_h11_server.join("/status/200"))
    assert ok.raise_for_status() is ok
    for code in (404, 503):
        response = client.get(uvicorn_h11_server.join(f"/status/{code}"))
        with pytest.raises(HTTPStatusError, match=str(code)) as info:
            response.raise_for_status()
        assert info.value.response is response
        assert info.value.request is response.request


# -- timeouts ----------------------------------------------------------------------------


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener that never accepts, its backlog filled: new connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
        fillers.append(filler)
    yield int(listener.getsockname()[1])
    for filler in fillers:
        filler.close()
    listener.close()


def _only(error: BaseException, kind: type[TimeoutException]) -> None:
    kinds = (ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout, TotalTimeout)
    assert [type(error) is k or k is kind for k in kinds if isinstance(error, k)] == [True]
    assert isinstance(error, TimeoutError)


def test_connect_timeout(client: Any, full_backlog: int) -> None:
    with pytest.raises(ConnectTimeout) as info:
        client.get(f"http://127.0.0.1:{full_backlog}/", timeout=Timeout(5.0, connect=0.2))
    _only(info.value, ConnectTimeout)


def test_read_timeout(client: Any, uvicorn_h11_server: Server) -> None:
    with pytest.raises(ReadTimeout) as info:
        client.get(uvicorn_h11_server.join("/delay/2"), timeout=Timeout(5.0, read=0.2))
    _only(info.value, ReadTimeout)
    assert info.value.request is not None
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"  # the client goes on


@pytest.mark.http1_only(reason="holds the one HTTP/1.1 connection; HTTP/2 would multiplex")
def test_pool_timeout(make_client: Any, raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    client = make_client(limits=Limits(max_connections=1))
    with client.stream("GET", server.url) as held:
        with pytest.raises(PoolTimeout) as info:
            client.get(server.url, timeout=Timeout(5.0, pool=0.1))
        _only(info.value, PoolTimeout)
        assert client.read(held) == b"ok"
    assert client.get(server.url).content == b"ok"


def test_total_timeout(client: Any, uvicorn_h11_server: Server) -> None:
    url = uvicorn_h11_server.join("/slow-body?chunks=20&interval=0.05&size=10")
    with pytest.raises(TotalTimeout) as info:
        client.get(url, timeout=Timeout(5.0, total=0.3))
    _only(info.value, TotalTimeout)
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"


@pytest.mark.parametrize(
    ("timeout", "error"),
    [(Timeout(5.0, write=0.2), WriteTimeout), (Timeout(5.0, total=0.2), TotalTimeout)],
    ids=["write", "total"],
)
def test_upload_timeouts(
    client: Any, uvicorn_h11_server: Server, timeout: Timeout, error: type[TimeoutException]
) -> None:
    # The server reads nothing for 1 s: socket buffers fill up (HTTP/1.1), or the
    # flow-control window stays shut (HTTP/2; hypercorn then reads nothing more on that
    # connection until the app wakes, so no other request is tried here).
    url = uvicorn_h11_server.join("/delay/1")
    with pytest.raises(error) as info:
        client.post(url, content=b"x" * 20_000_000, timeout=timeout)
    _only(info.value, error)


# -- faults from the raw server ----------------------------------------------------------

#: The raw server is a scripted HTTP/1.1 peer (HTTP/2 faults: reqivo-async's test_http2_*).
_SCRIPTED_HTTP1 = pytest.mark.http1_only(reason="a scripted HTTP/1.1 peer and its framing")


@_SCRIPTED_HTTP1
def test_reset_mid_body(client: Any, raw_server: Any) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"
    server = raw_server([ReadRequest(), Send(head), Reset()])
    with pytest.raises(ReadError) as info:
        client.get(server.url)
    assert info.value.request is not None


@_SCRIPTED_HTTP1
@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
    ],
    ids=["chunked", "content-length"],
)
def test_truncated(client: Any, raw_server: Any, reply: bytes) -> None:
    server = raw_server([ReadRequest(), Send(reply), Close()])
    with pytest.raises(RemoteProtocolError, match="peer closed"):
        client.get(server.url)


@_SCRIPTED_HTTP1
@pytest.mark.parametrize("reply", [b"garbage\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n"])
def test_garbage(client: Any, raw_server: Any, reply: bytes) -> None:
    server = raw_server([ReadRequest(), Send(reply), Close()])
    with pytest.raises(RemoteProtocolError):
        client.get(server.url)


def test_stall_in_streamed_body(client: Any, uvicorn_h11_server: Server) -> None:
    # 3 of 9 bytes (Content-Length), then nothing for 1 s.
    url = uvicorn_h11_server.join("/slow-body?chunks=3&size=3&interval=1&length=1")
    with (
        client.stream("GET", url, timeout=Timeout(5.0, read=0.1)) as response,
        pytest.raises(ReadTimeout),
    ):
        client.read(response)
    assert client.get(uvicorn_h11_server.join("/health")).text == "ok"


# -- connection reuse --------------------------------------------------------------------


@pytest.mark.http1_only(reason="counts the connections of a scripted HTTP/1.1 peer")
def test_connection_reuse(client: Any, raw_server: Any) -> None:
    server = raw_server([Repeat((ReadRequest(), Send(http_response(body=b"ok"))))])
    for _ in range(5):
        assert client.get(server.url).content == b"ok"
    with client.stream("GET", server.url) as response:
        assert client.read(response) == b"ok"
    assert server.connections == 1
    assert server.request_count == 6


def test_keepalive_expiry(make_client: Any, uvicorn_h11_server: Server) -> None:
    opened: list[str] = []

    def on_event(event: str, info: Any) -> None:
        if event in ("connection.connect.started", "connection.reused"):
            opened.append(event.split(".")[1])

    client = make_client(limits=Limits(keepalive_expiry=0.3), trace=on_event)
    url = uvicorn_h11_server.join("/health")
    client.get(url)
    client.get(url)
    time.sleep(0.45)  # idle past the expiry: the next request opens a new connection
    client.get(url)
    assert opened == ["connect", "reused", "connect"]


# -- TLS ---------------------------------------------------------------------------------


def test_tls_verify_with_ca(make_client: Any, https_server: TLSServer) -> None:
    client = make_client(verify=https_server.ca_bundle)
    response = client.get(https_server.join("/echo"))
    assert response.json()["scheme"] == "https"
    with pytest.raises(TlsError, match="certificate verify failed"):
        make_client().get(https_server.join("/echo"))


def test_tls_wrong_host(make_client: Any, https_wrong_host_server: TLSServer) -> None:
    client = make_client(verify=https_wrong_host_server.ca_bundle)
    with pytest.raises(TlsError, match="mismatch"):
        client.get(https_wrong_host_server.join("/echo"))
    assert make_client(verify=False).get(https_wrong_host_server.join("/health")).text == "ok"


def test_mutual_tls(make_client: Any, mtls_server: TLSServer) -> None:
    assert mtls_server.client_cert is not None
    client = make_client(verify=mtls_server.ca_bundle, cert=mtls_server.client_cert)
    assert client.get(mtls_server.join("/health")).text == "ok"
    # TLS 1.3 refuses a missing client certificate after the handshake: the server drops
    # the connection unanswered, on HTTP/1.1 and HTTP/2 alike (never a bare ReadError).
    with pytest.raises(TlsError, match="client certificate required"):
        make_client(verify=mtls_server.ca_bundle).get(mtls_server.join("/health"))


# -- proxies -----------------------------------------------------------------------------


@pytest.mark.http1_only(reason="a forwarding proxy carries HTTP/1.1 (ADR-011)")
def test_http_proxy(make_client: Any, proxy_server: ProxyServer, hypercorn_server: Server) -> None:
    client = make_client(proxy=proxy_server.url)
    response = client.get(hypercorn_server.join("/echo?via=proxy"))
    assert response.json()["query"] == "via=proxy"
    assert "via" in {name.lower() for name, _ in response.json()["headers"]}


def test_connect_tunnel(
    make_client: Any, proxy_server: ProxyServer, https_server: TLSServer
) -> None:
    client = make_client(proxy=proxy_server.url, verify=https_server.ca_bundle)
    for _ in range(2):
        assert client.get(https_server.join("/echo")).json()["scheme"] == "https"


# -- retries and hooks -------------------------------------------------------------------


def test_retries(make_client: Any, uvicorn_h11_server: Server, mode: str) -> None:
    client = make_client(retries=Retry(total=3, backoff_factor=0))
    key = f"dual-{mode}"
    url = uvicorn_h11_server.join(f"/retry-after?key={key}&failures=2&seconds=0")
    assert client.get(url).status_code == 200
    counted = client.get(uvicorn_h11_server.join(f"/counter/{key}?peek=1")).json()
    assert counted is not None
    no_retry = make_client()
    assert no_retry.get(url.replace(key, key + "-none")).status_code == 503


def test_hooks(make_client: Any, uvicorn_h11_server: Server) -> None:
    seen: list[str] = []

    def on_request(request: Any) -> None:
        seen.append(f"request {request.method} {request.url.path}")

    def on_response(response: Any) -> None:
        seen.append(f"response {response.status_code}")
        response.raise_for_status()

    client = make_client(event_hooks={"request": [on_request], "response": [on_response]})
    client.get(uvicorn_h11_server.join("/redirect/1"))
    assert seen == [
        "request GET /redirect/1",
        "response 302",
        "request GET /redirect/0",
        "response 200",
    ]
    with pytest.raises(HTTPStatusError):
        client.get(uvicorn_h11_server.join("/status/500"))


# -- tracing -----------------------------------------------------------------------------


def test_trace_events(make_client: Any, uvicorn_h11_server: Server, http_version: str) -> None:
    events: list[str] = []
    client = make_client(trace=lambda event, info: events.append(event))
    url = uvicorn_h11_server.join("/bytes/100")
    protocol = {"http1": "http11", "http2": "http2"}[http_version]
    exchange = [
        f"{protocol}.send_request.started",
        f"{protocol}.send_request.complete",
        f"{protocol}.receive_response_head.started",
        f"{protocol}.receive_response_head.complete",
        f"{protocol}.response_body.complete",
    ]
    assert client.get(url).content == pattern(100)
    assert events == ["connection.connect.started", "connection.connect.complete", *exchange]
    events.clear()
    assert client.get(url).content == pattern(100)
    assert events == ["connection.reused", *exchange]
