"""HTTP/2 in reqivo-async against real servers: nginx (TLS with ALPN, and h2c),
hypercorn (the ASGI test app) and nghttpd."""

from __future__ import annotations

import asyncio

from reqivo_async import AsyncSession, Limits
from servers.models import ProxyServer, Server, TLSServer
from servers.nginx import NginxServer, file_bytes


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


async def test_h2_through_a_connect_tunnel(
    proxy_server: ProxyServer, nginx_h2_server: TLSServer, nginx_server: NginxServer
) -> None:
    async with AsyncSession(
        http2=True, proxy=proxy_server.url, verify=nginx_h2_server.ca_bundle
    ) as session:
        responses = await asyncio.gather(
            *[session.get(nginx_h2_server.url + "/1k") for _ in range(10)]
        )
        forwarded = await session.get(nginx_server.http.url + "/1k")  # absolute form: HTTP/1.1
        connections = session._transport.connections  # type: ignore[attr-defined]
    assert {r.http_version for r in responses} == {"HTTP/2"}
    assert forwarded.http_version == "HTTP/1.1"
    assert sorted(c.http_version for c in connections) == ["HTTP/1.1", "HTTP/2"]


async def test_idle_h2_connection_expires(nginx_h2c_server: Server) -> None:
    limits = Limits(keepalive_expiry=0.1)
    async with AsyncSession(http1=False, http2=True, limits=limits) as session:
        await session.get(nginx_h2c_server.url + "/1k")
        first = session._transport.connections  # type: ignore[attr-defined]
        await asyncio.sleep(1.2)  # past the expiry and the pool's sweep interval
        await session.get(nginx_h2c_server.url + "/1k")
        second = session._transport.connections  # type: ignore[attr-defined]
    assert [c.requests for c in first] == [1]
    assert [c.requests for c in second] == [1]  # a new connection: the idle one was closed


async def test_upgrade_requests_get_an_http11_connection(nginx_h2_server: TLSServer) -> None:
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    async with AsyncSession(http2=True, verify=nginx_h2_server.ca_bundle) as session:
        plain = await session.get(nginx_h2_server.url + "/1k")
        upgraded = await session.get(nginx_h2_server.url + "/1k", headers=upgrade)
    assert plain.http_version == "HTTP/2"
    assert upgraded.http_version == "HTTP/1.1"
