"""The HTTP/2 test servers do what their fixtures promise, seen by reference clients.

Reference clients: httpx with ``http2=True`` (the h2 package under httpcore) for plain
exchanges, and :func:`servers.h2client.h2_exchange` (h2 over a socket) where the frames
matter (trailers, padding, pushes, SETTINGS, resets). Nothing of reqivo is used here: these
tests prove the yardsticks that reqivo's HTTP/2 tests will be measured with.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from hyperframe.frame import PingFrame

from servers import Server, TLSServer
from servers.fixtures import H2RawServerFactory, NghttpdFactory
from servers.h2client import H2Exchange, H2Request, h2_context, h2_exchange
from servers.h2raw import (
    PROTOCOL_ERROR,
    REFUSED_STREAM,
    Close,
    GoAway,
    Handshake,
    Ping,
    ReadFrame,
    ReadRequest,
    Repeat,
    Respond,
    RstStream,
    Stall,
)
from servers.nginx import RESPONSE_HEADERS, TRAILERS, NginxServer, file_bytes
from servers.tls import TLSCertificates

# SETTINGS codes (RFC 9113 section 6.5.2)
HEADER_TABLE_SIZE, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE = 0x1, 0x3, 0x4


def _exchange(
    server: Server,
    *requests: H2Request,
    enable_push: bool = False,
    wait_for_settings: bool = True,
) -> H2Exchange:
    context = h2_context(server.ca_bundle) if isinstance(server, TLSServer) else None
    return h2_exchange(
        server.host,
        server.port,
        list(requests),
        ssl_context=context,
        enable_push=enable_push,
        wait_for_settings=wait_for_settings,
    )


# --- nginx -----------------------------------------------------------------------------------


async def test_nginx_offers_h2_and_http11_by_alpn(nginx_h2_server: TLSServer) -> None:
    async with httpx.AsyncClient(http2=True, verify=nginx_h2_server.context) as client:
        response = await client.get(nginx_h2_server.join("/1k"))
    assert response.http_version == "HTTP/2"
    assert response.content == file_bytes(1024)
    async with httpx.AsyncClient(verify=nginx_h2_server.context) as client:
        response = await client.get(nginx_h2_server.join("/1k"))
    assert response.http_version == "HTTP/1.1"


async def test_nginx_h2c_speaks_prior_knowledge(nginx_h2c_server: Server) -> None:
    async with httpx.AsyncClient(http1=False, http2=True) as client:
        response = await client.get(nginx_h2c_server.join("/1m"))
    assert response.http_version == "HTTP/2"
    assert response.content == file_bytes(1024 * 1024)


def test_nginx_routes_over_h2(nginx_server: NginxServer) -> None:
    assert nginx_server.https is not None
    requests = [
        H2Request("/trailers"),
        H2Request("/headers"),
        H2Request("/redirect"),
        H2Request("/64m", method="HEAD"),
    ]
    if nginx_server.echo:
        requests.append(H2Request("/echo", method="POST", body=file_bytes(200_000)))
    exchange = _exchange(nginx_server.https, *requests)
    assert exchange.alpn == "h2"
    trailers, headers, redirect, big, *echo = exchange.responses
    assert trailers.body == file_bytes(1024)
    assert trailers.trailers == [(k.encode(), v.encode()) for k, v in TRAILERS]
    got = [(k.decode(), v.decode()) for k, v in headers.headers if k.startswith(b"x-reqivo")]
    assert got == list(RESPONSE_HEADERS)
    assert redirect.status == 302
    assert (redirect.header("location") or "").endswith(f":{nginx_server.https.port}/1k")
    assert big.header("content-length") == str(64 * 1024 * 1024)
    if echo:  # a body larger than nginx's 64 KiB window: the upload followed WINDOW_UPDATEs
        assert echo[0].body == file_bytes(200_000)


# --- hypercorn -------------------------------------------------------------------------------


async def test_hypercorn_serves_the_app_over_h2_with_tls(hypercorn_h2_server: TLSServer) -> None:
    async with httpx.AsyncClient(http2=True, verify=hypercorn_h2_server.context) as client:
        response = await client.post(hypercorn_h2_server.join("/echo"), content=b"hi")
    assert response.http_version == "HTTP/2"
    echoed = json.loads(response.content)
    assert (echoed["http_version"], echoed["scheme"], echoed["body_length"]) == ("2", "https", 2)


async def test_hypercorn_h2c_prior_knowledge(hypercorn_h2c_server: Server) -> None:
    async with httpx.AsyncClient(http1=False, http2=True) as client:
        response = await client.get(hypercorn_h2c_server.join("/echo"))
    assert response.http_version == "HTTP/2"
    assert json.loads(response.content)["http_version"] == "2"


# --- nghttpd ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "h2c"])
def test_nghttpd_serves_files(nghttpd_server: NghttpdFactory, tls: bool) -> None:
    server: Server = nghttpd_server(tls=tls)
    exchange = _exchange(server, H2Request("/1k"), H2Request("/1m"))
    assert exchange.alpn == ("h2" if tls else None)
    assert [r.body for r in exchange.responses] == [file_bytes(1024), file_bytes(1024 * 1024)]


def test_nghttpd_tiny_windows(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(window_bits=10, connection_window_bits=10, echo_upload=True)
    body = file_bytes(50_000)
    exchange = _exchange(server, H2Request("/echo", method="POST", body=body))
    assert exchange.remote_settings[INITIAL_WINDOW_SIZE] == 1023
    assert exchange.responses[0].body == body  # sent 1023 bytes at a time, window by window


def test_nghttpd_max_concurrent_streams_one(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(max_concurrent_streams=1)
    # Three streams at once, before its SETTINGS arrived: it serves one and refuses two.
    exchange = _exchange(server, *[H2Request("/1k")] * 3, wait_for_settings=False)
    assert exchange.remote_settings[MAX_CONCURRENT_STREAMS] == 1
    assert [(r.status, r.reset) for r in exchange.responses] == [
        (200, None),
        (0, REFUSED_STREAM),
        (0, REFUSED_STREAM),
    ]


async def test_nghttpd_max_concurrent_streams_one_queued_by_httpx(
    nghttpd_server: NghttpdFactory,
) -> None:
    server = nghttpd_server(max_concurrent_streams=1)
    async with httpx.AsyncClient(http2=True, verify=server.context) as client:
        responses = await asyncio.gather(*[client.get(server.join("/1k")) for _ in range(4)])
    assert [(r.http_version, r.status_code) for r in responses] == [("HTTP/2", 200)] * 4


def test_nghttpd_padding_and_trailers(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(tls=False, padding=64, trailers=(("x-checksum", "abc"),))
    response = _exchange(server, H2Request("/1k")).responses[0]
    assert response.body == file_bytes(1024)
    assert response.padding > 0
    assert response.trailers == [(b"x-checksum", b"abc")]


def test_nghttpd_header_table_size_zero(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(header_table_size=0, encoder_header_table_size=0)
    exchange = _exchange(server, H2Request("/1k", headers=(("x-a", "1"),)), H2Request("/1k"))
    assert exchange.remote_settings[HEADER_TABLE_SIZE] == 0
    assert [r.status for r in exchange.responses] == [200, 200]


def test_nghttpd_push_offers(nghttpd_server: NghttpdFactory) -> None:
    server = nghttpd_server(push=(("/1k", ("/push.txt",)),))
    exchange = _exchange(server, H2Request("/1k"), enable_push=True)
    [(promised, headers, pushed)] = exchange.pushes
    assert promised % 2 == 0 and (b":path", b"/push.txt") in headers
    assert pushed.body == file_bytes(64)
    assert _exchange(server, H2Request("/1k")).pushes == []  # ENABLE_PUSH=0 is honoured


# --- the scripted peer -----------------------------------------------------------------------


async def test_h2_raw_answers_prior_knowledge_clients(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server([Handshake(), Repeat((ReadRequest(), Respond(body=b"hi")))])
    async with httpx.AsyncClient(http1=False, http2=True) as client:
        responses = [await client.get(server.url + f"/{i}") for i in range(3)]
    assert [(r.http_version, r.content) for r in responses] == [("HTTP/2", b"hi")] * 3
    assert server.connections == 1
    assert [r.path for r in server.h2_requests] == ["/0", "/1", "/2"]


def test_h2_raw_over_tls_negotiates_h2(
    h2_raw_server: H2RawServerFactory, tls_certs: TLSCertificates
) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"tls")], tls=True)
    assert server.url.startswith("https://")
    context = h2_context(str(tls_certs.ca_bundle))
    exchange = h2_exchange(server.host, server.port, [H2Request("/")], ssl_context=context)
    assert exchange.alpn == "h2"
    assert exchange.responses[0].body == b"tls"


def test_h2_raw_graceful_and_abrupt_goaway(h2_raw_server: H2RawServerFactory) -> None:
    graceful = h2_raw_server([Handshake(), ReadRequest(), Respond(body=b"1"), GoAway(), Close()])
    exchange = h2_exchange(graceful.host, graceful.port, [H2Request("/")], read_until_close=True)
    assert exchange.responses[0].body == b"1"
    assert exchange.goaway == (0, 1)
    abrupt = h2_raw_server([Handshake(), ReadRequest(), GoAway(0, PROTOCOL_ERROR), Close()])
    exchange = h2_exchange(abrupt.host, abrupt.port, [H2Request("/")])
    assert exchange.goaway == (PROTOCOL_ERROR, 0)
    assert exchange.responses[0].status == 0


def test_h2_raw_resets_one_stream(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server(
        [Handshake(), ReadRequest(2), RstStream(error_code=REFUSED_STREAM), Respond(body=b"b")]
    )
    exchange = h2_exchange(server.host, server.port, [H2Request("/a"), H2Request("/b")])
    assert [(r.status, r.reset, bytes(r.body)) for r in exchange.responses] == [
        (0, REFUSED_STREAM, b""),
        (200, None, b"b"),
    ]


def test_h2_raw_ping_continuation_and_trailers(h2_raw_server: H2RawServerFactory) -> None:
    long_header = ("x-long", "v" * 300)
    server = h2_raw_server(
        [
            Handshake(),
            Ping(b"12345678"),
            ReadFrame(PingFrame),
            ReadRequest(),
            Respond(headers=[long_header], body=b"x", trailers=[("x-t", "1")], continuation=50),
        ]
    )
    response = h2_exchange(server.host, server.port, [H2Request("/")]).responses[0]
    assert response.header("x-long") == long_header[1]  # across HEADERS + 6 CONTINUATION frames
    assert response.trailers == [(b"x-t", b"1")]
    acks = [f for f in server.frames_of(PingFrame) if "ACK" in f.flags]
    assert [f.opaque_data for f in acks if isinstance(f, PingFrame)] == [b"12345678"]


def test_h2_raw_stall(h2_raw_server: H2RawServerFactory) -> None:
    server = h2_raw_server([Handshake(), ReadRequest(), Stall()])
    with pytest.raises(TimeoutError):
        h2_exchange(server.host, server.port, [H2Request("/")], timeout=0.3)
    assert server.h2_requests[0].ended
