"""HTTP/2 in reqivo-async against real servers: nginx (TLS with ALPN, and h2c),
hypercorn (the ASGI test app) and nghttpd."""

from __future__ import annotations

import asyncio

from reqivo_async import AsyncSession
from servers.models import Server, TLSServer
from servers.nginx import file_bytes


async def test_alpn_h2_get(nginx_h2_server: TLSServer) -> None:
    async with AsyncSession(http2=True, verify=nginx_h2_server.ca_bundle) as session:
        response = await session.get(nginx_h2_server.url + "/1k")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    assert response.content == file_bytes(1024)


async def test_default_stays_http11(nginx_h2_server: TLSServer) -> None:
    async with AsyncSession(verify=nginx_h2_server.ca_bundle) as session:
        response = await session.get(nginx_h2_server.url + "/1k")
    assert response.http_version == "HTTP/1.1"


async def test_prior_knowledge_h2c(nginx_h2c_server: Server) -> None:
    async with AsyncSession(http1=False, http2=True) as session:
        response = await session.get(nginx_h2c_server.url + "/1k")
    assert response.http_version == "HTTP/2"
    assert response.content == file_bytes(1024)


async def test_concurrent_requests_share_one_connection(nginx_h2_server: TLSServer) -> None:
    async with AsyncSession(http2=True, verify=nginx_h2_server.ca_bundle) as session:
        responses = await asyncio.gather(
            *[session.get(nginx_h2_server.url + "/1k") for _ in range(200)]
        )
        connections = session._transport.connections  # type: ignore[attr-defined]
    assert {r.status_code for r in responses} == {200}
    assert {r.http_version for r in responses} == {"HTTP/2"}
    assert len(connections) == 1
    assert connections[0].http_version == "HTTP/2"
    assert connections[0].requests == 200
